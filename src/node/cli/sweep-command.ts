// `npm run experiments -- sweep`: a grid or random search over training settings, as a queue of
// ordinary run folders that survives a stop (src/node/experiments/sweep.ts, src/common/sweep.ts).

import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PRESETS, presetNames } from '../../engine/presets';
import { LIMITS } from '../../engine/train-config';
import { DEFAULT_SEED } from '../../common/settings';
import { checkNewFolder } from '../files';
import { loadMnist } from '../datasets';
import { loadKernels } from '../load-kernels';
import { defaultThreads } from '../parallel/gradients';
import { RunFolderError } from '../runs/layout';
import { SWEEP_AXES, SweepError, configLabel, parseAxis, summarizeSweep, type SweepAxis, type SweepFile } from '../../common/sweep';
import { runSweep } from '../experiments/sweep';
import { newSweep, readSweep, writeSweep } from '../runs/sweep-file';
import {
  CliError,
  RUN_SETTINGS_OPTIONS,
  ProgressBar,
  UsageError,
  augmentFromFlags,
  bar,
  dataFlag,
  intFlag,
  parseFlags,
  pct,
  rangeFlag,
  settingsFromFlags,
  thousands,
} from './common';

export const SWEEP_HELP = `Usage: npm run experiments -- sweep --preset P --grid NAME=A,B [NAME=C,D …] [--seeds S] --out DIR [train options] [--json]
       npm run experiments -- sweep --preset P --random N NAME=A,B|LO..HI … [--seeds S] --out DIR [train options] [--json]
       npm run experiments -- sweep --resume DIR [--threads N] [--data DIR] [--json]

Trains every combination of the listed values (--grid), or N configurations drawn at random from
them (--random N: a value from each list, or from each range LO..HI, on a log scale for lr and
decay, whole numbers for batch and epochs), each with S seeds (--seed, --seed + 1, …), one run
after another on all cores, into run folders under --out. NAME is one of
${SWEEP_AXES.join(', ')}
(preset and schedule take names: preset=lenet5-relu-ce,lenet5-relu-ce-bn, schedule=cosine,step:5:0.5;
shift, rotate, scale and elastic are distortion strengths, as train's flags of those names). The
settings not swept are the preset's defaults under the train options given (--epochs, --batch,
--lr, --momentum, --decay, --schedule, --limit, --validation, --augment, --shift, --rotate, --scale,
--elastic, --no-augment; a preset's own distortions apply unless these change them).

The queue is --out/sweep.json, rewritten as each run starts and ends. Stop a sweep at any time:
Ctrl-C checkpoints the current run at its next batch and exits with status 130 (a crash leaves its
last finished epoch). sweep --resume DIR continues it: finished runs stay, the stopped run
continues from its checkpoint, the others follow. At the end it prints each configuration's mean
final test error and, per swept setting, its rank correlation with the error (Spearman's ρ; η for
named values) and its permutation importance: how much worse a nearest-neighbour model predicts
the runs' error, left out one at a time, when that setting's values are shuffled across the runs.
With a few runs both are rough. --json prints {"sweep": sweep.json's contents, "summary":
{"configs", "done", "total", "importance", "best"}} on stdout. Open --out in the app (File →
Open Runs…) to compare the runs.

Example: npm run experiments -- sweep --preset lenet5-relu-ce-bn --grid lr=0.02,0.05 momentum=0.9,0.95 --seeds 2 --epochs 5 --out runs/sweep-lr
`;

export async function sweep(argv: string[]): Promise<void> {
  const { values: f, positionals } = parseFlags(
    argv,
    {
      preset: { type: 'string' },
      grid: { type: 'string', multiple: true },
      random: { type: 'string' },
      seeds: { type: 'string' },
      resume: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      ...RUN_SETTINGS_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (f.help) {
    process.stdout.write(SWEEP_HELP);
    return;
  }
  const threadsFlag = intFlag(f.threads, '--threads', 1, 64);
  await dataFlag(f.data);
  let dir: string;
  let plan: SweepFile;
  if (f.resume !== undefined) {
    const others = Object.keys(f).filter((k) => !['resume', 'threads', 'data', 'json'].includes(k));
    if (others.length || positionals.length)
      throw new UsageError(
        `sweep --resume takes only --threads, --data and --json (the sweep keeps its settings), not ${others.length ? `--${others[0]}` : positionals[0]}`,
      );
    dir = resolve(f.resume);
    try {
      plan = await readSweep(dir);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  } else {
    if (f.preset === undefined) throw new UsageError(`sweep needs --preset; choose from ${presetNames().join(', ')}`);
    if (!Object.hasOwn(PRESETS, f.preset)) throw new UsageError(`unknown preset "${f.preset}"; choose from ${presetNames().join(', ')}`);
    const texts = [...(f.grid ?? []), ...positionals];
    if (f.grid === undefined && f.random === undefined) throw new UsageError('sweep needs --grid NAME=A,B … or --random N NAME=… (see --help)');
    if (texts.length === 0) throw new UsageError('sweep needs at least one setting to vary, NAME=A,B');
    let axes: SweepAxis[];
    try {
      axes = texts.map(parseAxis);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const random = intFlag(f.random, '--random', 1, 1000) ?? null;
    const seeds = intFlag(f.seeds, '--seeds', 1, 100) ?? 1;
    if (f.out === undefined) throw new UsageError('sweep needs --out DIR, a new or empty folder for the runs');
    const firstSeed = rangeFlag(f.seed, '--seed', LIMITS.seed) ?? DEFAULT_SEED;
    if (firstSeed + seeds - 1 > LIMITS.seed.max)
      throw new UsageError(`--seed ${firstSeed} with --seeds ${seeds} goes past the largest seed, ${LIMITS.seed.max}`);
    const limit = rangeFlag(f.limit, '--limit', LIMITS.limit);
    const validation = rangeFlag(f.validation, '--validation', LIMITS.validation);
    const augmentFor = (preset: string) => augmentFromFlags(f, PRESETS[preset].defaults.augment ?? null);
    augmentFor(f.preset); // a bad distortion flag fails before the plan
    const baseFor = (preset: string) => {
      const s = settingsFromFlags(f, PRESETS[preset].defaults);
      s.shuffle = true;
      if (limit !== undefined) s.limit = limit;
      if (validation !== undefined) s.validation = validation;
      const augment = augmentFor(preset);
      if (augment) s.augment = augment;
      return s;
    };
    try {
      plan = newSweep({
        axes,
        random,
        seeds: Array.from({ length: seeds }, (_, i) => firstSeed + i),
        threads: threadsFlag ?? 0,
        dataPath: f.data ?? null,
        basePreset: f.preset,
        baseFor,
      });
    } catch (e) {
      if (e instanceof SweepError) throw new UsageError(e.message);
      throw e;
    }
    await checkNewFolder(f.out, 'the sweep folder (--out)');
    dir = resolve(f.out);
    await mkdir(dir, { recursive: true });
    await writeSweep(dir, plan);
  }

  const threads = threadsFlag ?? (plan.threads || defaultThreads());
  const kernels = loadKernels();
  const data = await loadMnist(f.data ?? plan.dataPath ?? undefined);
  const err = (line: string): void => void process.stderr.write(`${line}\n`);
  const runs = plan.configs.flatMap((c) => c.runs);
  const left = runs.filter((r) => r.status === 'pending' || r.status === 'running').length;
  err(
    `sweep: ${plan.configs.length} configuration${plan.configs.length > 1 ? 's' : ''} × ${plan.seeds.length} seed${plan.seeds.length > 1 ? 's' : ''} (${runs.length} runs, ${left} to train) → ${dir}; kernels ${kernels.name}, ${threads} thread${threads > 1 ? 's' : ''} per run`,
  );
  // Looked up when a run starts: runSweep renames a run that must start again in `plan` itself.
  const name = (id: string): string => {
    for (const [ci, c] of plan.configs.entries())
      for (const r of c.runs) if (r.runId === id) return `config ${ci + 1} (${configLabel(c.values)}) seed ${r.seed}`;
    return id;
  };
  const progressBar = new ProgressBar();
  // Ctrl+C stops the sweep: the current run checkpoints at its next batch and --resume continues
  // it there. Repeats (a terminal signals the process group, npm forwards it again) only wait.
  const stop = new AbortController();
  const onSigint = (): void => {
    progressBar.clear();
    err(stop.signal.aborted ? 'sweep: saving the checkpoint, one moment' : 'sweep: stopping after the current run saves its checkpoint');
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  let stopped = false;
  try {
    ({ stopped } = await runSweep(
      dir,
      plan,
      { data, kernels: kernels.kernels, threads },
      {
        runStart(i, n, run) {
          err(`[${i + 1}/${n}] ${name(run.id)}`);
        },
        progress(i, n, run, p) {
          progressBar.update(() => {
            const fr = p.epochSeen / p.epochImages;
            return `[${i + 1}/${n}] epoch ${p.epoch}/${run.settings.epochs} ${bar(fr)} ${pct(fr, 0)} ${thousands(p.imagesPerSecond)} img/s loss ${p.epochLoss.toFixed(4)}`;
          });
        },
        epoch(i, n, run, m) {
          progressBar.clear();
          err(
            `[${i + 1}/${n}] epoch ${m.epoch}/${run.settings.epochs}  loss ${m.trainLoss.toFixed(4)}  test err ${pct(1 - m.testAccuracy)}  ${m.seconds.toFixed(1)} s`,
          );
        },
        notice(i, n, run, message) {
          progressBar.clear();
          err(`[${i + 1}/${n}] ${message}`);
        },
        runEnd(i, n, r) {
          progressBar.clear();
          if (!stop.signal.aborted)
            err(`[${i + 1}/${n}] ${r.status}${r.reason ? `: ${r.reason}` : ''}; final test error ${r.finalTestError === null ? '—' : pct(r.finalTestError)}`);
        },
      },
      stop.signal,
    ));
  } catch (e) {
    if (e instanceof RunFolderError || e instanceof SweepError) throw new CliError(e.message);
    throw e;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  if (stopped) {
    err(`sweep: stopped; continue with: npm run experiments -- sweep --resume ${dir}`);
    process.exitCode = 130;
    return;
  }
  // Runs renamed on resume carry their new names in the queue; re-read what was written.
  const final = await readSweep(dir);
  const summary = summarizeSweep(final);
  if (f.json) {
    process.stdout.write(`${JSON.stringify({ sweep: final, summary })}\n`);
  } else {
    const axes = final.axes.map((a) => a.name);
    const lines = [
      `${final.mode === 'grid' ? 'Grid' : 'Random'} sweep, ${summary.done} of ${summary.total} runs finished (${dir}):`,
      `  #  ${axes.map((a) => a.padEnd(12)).join(' ')} runs  mean final test error`,
      ...summary.configs.map(
        (c, i) =>
          `${String(i + 1).padStart(3)}  ${axes.map((a) => String(c.values[a]).padEnd(12)).join(' ')} ${String(c.done).padStart(4)}  ${c.meanFinalTestError === null ? '—' : pct(c.meanFinalTestError)}${i === summary.best ? '  ← best' : ''}`,
      ),
      '',
      `What matters, over ${summary.configs.reduce((a, c) => a + c.done, 0)} finished runs (ρ: rank correlation with the test error; η for named values; permutation: rise in squared error, ×10⁻⁶):`,
      ...summary.importance.map(
        (m) =>
          `  ${m.axis.padEnd(10)} ${m.kind === 'eta' ? 'η' : 'ρ'} ${m.correlation === null ? '—' : m.correlation.toFixed(2).padStart(5)}   permutation ${m.permutation === null ? '— (needs 3 runs)' : (m.permutation * 1e6).toFixed(2)}`,
      ),
      `Runs: ${dir} (File → Open Runs… in the app)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (final.configs.some((c) => c.runs.some((r) => r.status === 'diverged' || r.status === 'error'))) process.exitCode = 1;
}
