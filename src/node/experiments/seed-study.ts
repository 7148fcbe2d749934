// The seed study: the six LeNet-5 variants and the 784-500-150-10 MLP trained with one seed,
// side by side. Every run is an ordinary run folder (the app's Compare view opens the study
// folder through File → Open Runs…); the study adds results.json, report.md and two SVG charts.
// The best epoch is chosen on a validation split held out of the training images, never on test.

import { execFileSync } from 'node:child_process';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeAugment, type AugmentConfig } from '../../engine/augment';
import { evaluate } from '../../engine/evaluate';
import type { Kernels } from '../../engine/kernels/types';
import { PRESETS } from '../../engine/presets';
import { formatSchedule, type Schedule } from '../../engine/schedule';
import { bestEpoch, type EpochMetrics } from '../../common/records';
import { TARGET_ACCURACY } from '../../common/sweep';
import type { TrainSettings } from '../../common/settings';
import { describeDataset, type MnistData } from '../datasets';
import { removeStaleTempFiles, writeFileAtomic } from '../files';
import { threadsFor } from '../parallel/gradients';
import { buildRunConfig } from '../runs/config';
import { newRunId, openNewRun } from '../runs/folder';
import { lockRun } from '../runs/lock';
import type { RunConfig } from '../runs/layout';
import { EVAL_BATCH, TrainingSession, threadedGradients, type ProgressInfo } from '../trainer/session';
import { renderLineChart, type Series } from './svg';

/** In the seed's order: its variants (1)–(6), then the MLP. */
export const STUDY_PRESETS = [
  'lenet5-tanh-mse',
  'lenet5-tanh-mse-l2',
  'lenet5-relu-ce',
  'lenet5-relu-ce-l2',
  'lenet5-tanh-mse-bn',
  'lenet5-relu-ce-bn',
  'mlp-500-150',
] as const;

/**
 * Each run's epochs: the preset's documented default (20 for the tanh variants, as the seed trained
 * every LeNet-5; 10 for the ReLU ones, where they have long converged; 30 for the MLP, the seed's).
 */
export function studyEpochs(preset: string): number {
  return PRESETS[preset]?.defaults.epochs ?? 20;
}

export interface StudyOptions {
  presets: string[];
  /** Every run's epochs; undefined: studyEpochs(preset). */
  epochs?: number;
  limit?: number;
  /** Validation hold-out; undefined: the run folder default (5,000, at most a twelfth). */
  validation?: number;
  seed: number;
  threads: number;
  schedule?: Schedule;
  augment: AugmentConfig | null;
  out: string;
  data: MnistData;
  /** Folder the data came from (null: the bundled MNIST). */
  dataPath: string | null;
  /** The kernels every run's model is built on. */
  kernels: Kernels;
}

export interface StudyHooks {
  runStart?(index: number, total: number, run: RunConfig, dir: string): void;
  progress?(index: number, total: number, run: RunConfig, p: ProgressInfo): void;
  epoch?(index: number, total: number, run: RunConfig, m: EpochMetrics): void;
  /** A note that does not stop the run (its worker threads failed: it trains on one thread). */
  notice?(index: number, total: number, run: RunConfig, message: string): void;
  runEnd?(index: number, total: number, result: RunResult): void;
}

export interface RunResult {
  preset: string;
  runId: string;
  status: 'done' | 'diverged' | 'error';
  reason?: string;
  settings: TrainSettings;
  augment: AugmentConfig | null;
  trainCount: number;
  validationCount: number;
  history: EpochMetrics[];
  /** The final model evaluated on the training split in inference mode. */
  finalTrainError: number | null;
  finalTestError: number | null;
  /** Epoch with the best validation accuracy (first of ties), its validation and test error. */
  bestEpoch: number | null;
  bestValidationError: number | null;
  testErrorAtBest: number | null;
  /** First epoch whose test accuracy reaches TARGET_ACCURACY, and training seconds until then. */
  epochsTo99: number | null;
  secondsTo99: number | null;
  secondsPerEpoch: number | null;
  imagesPerSecond: number | null;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  kernels: string;
  loadAverage: { start: number[]; end: number[] };
}

export interface StudyResult {
  title: string;
  command: string;
  commit: string;
  startedAt: string;
  wallSeconds: number;
  machine: Machine;
  options: { seed: number; threads: number; limit: number | null; validation: number | null; augment: AugmentConfig | null; schedule: string | null };
  dataset: { name: string; trainCount: number; testCount: number; fingerprint: string };
  runs: RunResult[];
}

/** The settings a study run uses: the preset's defaults (our documented best, distortions included), the study's epochs and seed. */
export function studySettings(preset: string, o: Pick<StudyOptions, 'epochs' | 'limit' | 'validation' | 'seed' | 'schedule'>): TrainSettings {
  const p = PRESETS[preset];
  const d = p.defaults;
  const s: TrainSettings = {
    epochs: o.epochs ?? studyEpochs(preset),
    batchSize: d.batchSize,
    lr: d.lr,
    momentum: d.momentum,
    decay: d.decay,
    schedule: o.schedule ?? d.schedule,
    seed: o.seed,
    shuffle: true,
  };
  if (o.limit !== undefined) s.limit = o.limit;
  if (o.validation !== undefined) s.validation = o.validation;
  if (d.augment) s.augment = { ...d.augment };
  return s;
}

/** Reduces a run's per-epoch metrics to the report's row. */
export function summarise(
  run: Pick<RunResult, 'preset' | 'runId' | 'settings' | 'augment' | 'trainCount' | 'validationCount'>,
  history: EpochMetrics[],
  outcome: { status: RunResult['status']; reason?: string; finalTrainError: number | null },
): RunResult {
  const last = history.length ? history[history.length - 1] : null;
  const b = bestEpoch(history);
  const best = b ? history.find((m) => m.epoch === b.epoch)! : null;
  let seconds = 0;
  let epochsTo99: number | null = null;
  let secondsTo99: number | null = null;
  for (const m of history) {
    seconds += m.seconds;
    if (m.testAccuracy >= TARGET_ACCURACY) {
      epochsTo99 = m.epoch;
      secondsTo99 = seconds;
      break;
    }
  }
  const totalSeconds = history.reduce((a, m) => a + m.seconds, 0);
  const images = history.reduce((a, m) => a + m.imagesPerSecond * m.seconds, 0);
  const r: RunResult = {
    ...run,
    status: outcome.status,
    history,
    finalTrainError: outcome.finalTrainError,
    finalTestError: last ? 1 - last.testAccuracy : null,
    bestEpoch: best?.epoch ?? null,
    bestValidationError: best?.validationAccuracy !== undefined ? 1 - best.validationAccuracy : null,
    testErrorAtBest: best ? 1 - best.testAccuracy : null,
    epochsTo99,
    secondsTo99,
    secondsPerEpoch: history.length ? totalSeconds / history.length : null,
    imagesPerSecond: totalSeconds > 0 ? images / totalSeconds : null,
  };
  if (outcome.reason !== undefined) r.reason = outcome.reason;
  return r;
}

/**
 * Every run's RunConfig, built before anything is trained or written: an impossible split (more
 * validation images than --limit leaves) fails here, for the first preset it breaks, with no
 * folder created.
 */
export function planStudy(o: StudyOptions): RunConfig[] {
  const dataset = describeDataset(o.data, o.dataPath);
  return o.presets.map((name) => {
    const settings = studySettings(name, o);
    if (o.augment) settings.augment = { ...o.augment };
    return buildRunConfig({ id: newRunId(name), preset: { name, spec: PRESETS[name].spec }, settings, dataset });
  });
}

/** Trains every preset in turn, each into its own run folder under `o.out`. */
export async function runStudy(o: StudyOptions, hooks: StudyHooks = {}): Promise<RunResult[]> {
  return trainPlannedRuns(planStudy(o), o, hooks);
}

/** Trains planned runs one after another, each into its own run folder under `o.out` (the seed study, a seed group). */
export async function trainPlannedRuns(
  plans: RunConfig[],
  o: Pick<StudyOptions, 'out' | 'data' | 'kernels' | 'threads' | 'augment'>,
  hooks: StudyHooks = {},
): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const [i, run] of plans.entries()) results.push(await trainRun(run, i, plans.length, o, hooks));
  return results;
}

/**
 * Trains one planned run in its folder under `o.out` (a new folder, or with `resume` one whose
 * run stopped: it continues from its checkpoint) and summarises it. When `signal` aborts, the
 * run stops at the next batch with its checkpoint saved, to be resumed.
 */
export async function trainRun(
  run: RunConfig,
  index: number,
  total: number,
  o: Pick<StudyOptions, 'out' | 'data' | 'kernels' | 'threads' | 'augment'>,
  hooks: StudyHooks = {},
  resume = false,
  signal?: AbortSignal,
): Promise<RunResult> {
  const settings = run.settings;
  const dir = join(o.out, run.id);
  const lock = resume ? lockRun(dir) : await openNewRun(dir, run);
  if (resume) await removeStaleTempFiles(dir); // left by a process killed mid-save
  hooks.runStart?.(index, total, run, dir);
  const shards = threadsFor(run.settings.batchSize, o.threads);
  const session = await TrainingSession.open({
    run,
    data: o.data,
    dir,
    lock,
    resume,
    kernels: o.kernels,
    // The session closes the workers when the run ends.
    gradients: shards > 1 ? threadedGradients(shards, run.settings.batchSize) : undefined,
    hooks: {
      progress: (p) => hooks.progress?.(index, total, run, p),
      epoch: (m) => hooks.epoch?.(index, total, run, m),
      notice: (message) => hooks.notice?.(index, total, run, message),
    },
  });
  const stop = (): void => session.cancel();
  if (signal?.aborted) stop();
  signal?.addEventListener('abort', stop, { once: true });
  const outcome = await session.run().finally(() => signal?.removeEventListener('abort', stop));
  let finalTrainError: number | null = null;
  if (outcome.reason === 'done') finalTrainError = 1 - evaluate(session.model, session.data.train, EVAL_BATCH).accuracy;
  session.dispose();
  const status: RunResult['status'] = outcome.reason === 'done' ? 'done' : outcome.reason === 'diverged' ? 'diverged' : 'error';
  const result = summarise(
    { preset: run.preset, runId: run.id, settings, augment: settings.augment ?? o.augment, trainCount: run.trainCount, validationCount: run.validation },
    outcome.history,
    outcome.error ? { status, reason: outcome.error.message, finalTrainError } : { status, finalTrainError },
  );
  hooks.runEnd?.(index, total, result);
  return result;
}

// ---------------------------------------------------------------- report

/** The commit the code came from, with a note when the working tree differs from it. */
export function gitCommit(cwd = process.cwd()): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'scripts', 'package.json'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return dirty ? `${head} (with uncommitted changes to ${dirty.split('\n').length} file(s) under src/scripts)` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

export function describeMachine(kernels: string, loadStart: number[]): Machine {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    kernels,
    loadAverage: { start: loadStart.map((v) => Number(v.toFixed(2))), end: loadavg().map((v) => Number(v.toFixed(2))) },
  };
}

const pc = (x: number | null, digits = 2): string => (x === null ? '—' : `${(100 * x).toFixed(digits)} %`);
const num = (x: number | null, digits = 1): string => (x === null ? '—' : x.toFixed(digits));
const int = (x: number | null): string => (x === null ? '—' : Math.round(x).toLocaleString('en-US'));

/** How tables and legends name a run: the preset, marked when it trained on distorted images. */
export function runLabel(r: Pick<RunResult, 'preset' | 'augment'>): string {
  return r.augment ? `${r.preset} + augmentation` : r.preset;
}

function settingsText(r: RunResult): string {
  const s = r.settings;
  const aug = r.augment ? `, augmentation ${describeAugment(r.augment)}` : '';
  return `${s.epochs} epochs, batch ${s.batchSize}, lr ${s.lr} ${formatSchedule(s.schedule)}, momentum ${s.momentum}, decay ${s.decay}${aug}; ${r.trainCount.toLocaleString('en-US')} training / ${r.validationCount.toLocaleString('en-US')} validation images`;
}

/** The results table, one row per run. */
export function resultsTable(runs: RunResult[]): string {
  const head =
    '| run | train error | test error | best epoch (val) | test error at best | epochs to 99 % | seconds to 99 % | s / epoch | images / s |\n' +
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |';
  const rows = runs.map((r) => {
    const note = r.status === 'done' ? '' : ` (${r.status} after ${r.history.length} epoch${r.history.length === 1 ? '' : 's'})`;
    return `| \`${runLabel(r)}\`${note} | ${pc(r.finalTrainError)} | ${pc(r.finalTestError)} | ${r.bestEpoch ?? '—'} | ${pc(r.testErrorAtBest)} | ${r.epochsTo99 ?? '—'} | ${num(r.secondsTo99, 0)} | ${num(r.secondsPerEpoch)} | ${int(r.imagesPerSecond)} |`;
  });
  return [head, ...rows].join('\n');
}

/** Per-epoch test errors, one column per run (a compact record of the curves). */
export function epochTable(runs: RunResult[]): string {
  const epochs = Math.max(0, ...runs.map((r) => r.history.length));
  const head = `| epoch | ${runs.map((r) => `\`${runLabel(r)}\``).join(' | ')} |\n| ---: | ${runs.map(() => '---:').join(' | ')} |`;
  const rows: string[] = [];
  for (let e = 0; e < epochs; e++) rows.push(`| ${e + 1} | ${runs.map((r) => (r.history[e] ? pc(1 - r.history[e].testAccuracy) : '')).join(' | ')} |`);
  return [head, ...rows].join('\n');
}

export const CHART_FILES = { testError: 'test-error.svg', trainLoss: 'train-loss.svg' } as const;

export function testErrorChart(runs: RunResult[], title: string): string {
  const series: Series[] = runs.map((r) => ({ name: runLabel(r), points: r.history.map((m) => [m.epoch, 100 * (1 - m.testAccuracy)]) }));
  return renderLineChart({
    title: `${title}: test error per epoch`,
    xLabel: 'epoch',
    yLabel: 'test error (%)',
    series,
    logY: true,
    yFormat: (y) => `${Number(y.toPrecision(3))}`,
    guides: [
      { y: 0.95, label: 'LeNet-5 paper, no distortions: 0.95 %' },
      { y: 0.8, label: 'with distortions: 0.8 %' },
    ],
  });
}

export function trainLossChart(runs: RunResult[], title: string): string {
  const series: Series[] = runs.map((r) => ({ name: runLabel(r), points: r.history.map((m) => [m.epoch, m.trainLoss]) }));
  return renderLineChart({
    title: `${title}: training loss per epoch`,
    xLabel: 'epoch',
    yLabel: 'mean training batch loss',
    series,
    logY: true,
  });
}

export function renderReport(s: StudyResult): string {
  const m = s.machine;
  const runs = s.runs;
  // A merged report may mix runs with and without augmentation: then each run's settings say.
  const augmentation =
    new Set(runs.map((r) => JSON.stringify(r.augment ?? null))).size > 1
      ? 'as listed per run under Settings'
      : describeAugment(runs[0]?.augment ?? s.options.augment);
  const settings = runs.map((r) => `- \`${runLabel(r)}\` (run \`${r.runId}\`): ${settingsText(r)}${r.reason ? ` — ${r.status}: ${r.reason}` : ''}`).join('\n');
  return `# ${s.title}

${
  s.command.includes('\n')
    ? `- Commands:\n${s.command
        .split('\n')
        .map((c) => `  - \`${c}\``)
        .join('\n')}`
    : `- Command: \`${s.command}\``
}
- Commit: \`${s.commit}\`
- Started ${s.startedAt}; ${(s.wallSeconds / 60).toFixed(1)} minutes of wall time.
- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, kernels ${m.kernels}, ${s.options.threads} thread${s.options.threads > 1 ? 's' : ''} per run; load average ${m.loadAverage.start.join(' / ')} at the start, ${m.loadAverage.end.join(' / ')} at the end.
- Data: ${s.dataset.name}, fingerprint ${s.dataset.fingerprint}; ${runs[0] ? `${runs[0].trainCount.toLocaleString('en-US')} training images, ${runs[0].validationCount.toLocaleString('en-US')} held out for validation` : ''}, ${s.dataset.testCount.toLocaleString('en-US')} test images.
- Seed ${s.options.seed} for every run; augmentation ${augmentation}${s.options.schedule ? `; schedule ${s.options.schedule} for every run` : ''}.

## Results

${resultsTable(runs)}

- **train error**: the final model on the training images it learned from (not the held-out ones), in inference mode.
- **test error**: the final model on the 10,000 test images.
- **best epoch (val)**: the epoch with the lowest error on the validation images held out of the training set (never chosen on test); **test error at best** is that epoch's model on test (the run's \`best.lenet\`).
- **epochs / seconds to 99 %**: the first epoch whose model reaches 99 % test accuracy, and the training time until then (evaluation excluded).
- **s / epoch**, **images / s**: training time per epoch and throughput, averaged over the run. The machine was shared, so these vary with its load.

Charts: [test error per epoch](${CHART_FILES.testError}) and [training loss per epoch](${CHART_FILES.trainLoss}) (MSE and cross-entropy are different losses: compare the shapes, not the heights, across the two families).

![test error per epoch](${CHART_FILES.testError})

![training loss per epoch](${CHART_FILES.trainLoss})

## Test error per epoch

${epochTable(runs)}

## Settings

${settings}
`;
}

/** Writes results.json, report.md and the charts into the study folder. */
export async function writeStudyReport(dir: string, s: StudyResult): Promise<void> {
  await writeFileAtomic(join(dir, 'results.json'), `${JSON.stringify(s, null, 1)}\n`);
  await writeFileAtomic(join(dir, CHART_FILES.testError), testErrorChart(s.runs, s.title));
  await writeFileAtomic(join(dir, CHART_FILES.trainLoss), trainLossChart(s.runs, s.title));
  await writeFileAtomic(join(dir, 'report.md'), renderReport(s));
}

/**
 * One report from several study folders (a study split over processes, or the study plus the
 * augmented run): runs in the seed's order, every command, the span of wall time.
 */
export function mergeStudies(parts: StudyResult[], title?: string): StudyResult {
  if (parts.length === 0) throw new Error('internal error: nothing to merge');
  const order = (r: RunResult): number => {
    const k = (STUDY_PRESETS as readonly string[]).indexOf(r.preset);
    return (k < 0 ? STUDY_PRESETS.length : k) + (r.augment ? 0.5 : 0);
  };
  const runs = parts.flatMap((p) => p.runs).sort((a, b) => order(a) - order(b));
  const starts = parts.map((p) => Date.parse(p.startedAt));
  const start = Math.min(...starts);
  const end = Math.max(...parts.map((p, i) => starts[i] + p.wallSeconds * 1000));
  const commits = [...new Set(parts.map((p) => p.commit))];
  const byStart = parts.map((p, i) => ({ p, t: starts[i] })).sort((a, b) => a.t - b.t);
  const first = byStart[0].p;
  const last = byStart.reduce((a, b) => (a.t + a.p.wallSeconds >= b.t + b.p.wallSeconds ? a : b)).p;
  return {
    title: title ?? first.title,
    command: parts.map((p) => p.command).join('\n'),
    commit: commits.join(', '),
    startedAt: new Date(start).toISOString(),
    wallSeconds: (end - start) / 1000,
    machine: { ...first.machine, loadAverage: { start: first.machine.loadAverage.start, end: last.machine.loadAverage.end } },
    options: { ...first.options, threads: Math.max(...parts.map((p) => p.options.threads)) },
    dataset: first.dataset,
    runs,
  };
}

/** Reads a study folder's results.json. */
export async function readStudy(dir: string): Promise<StudyResult> {
  const file = join(dir, 'results.json');
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(
      `${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found (is this a study folder?)' : `unreadable: ${(e as Error).message}`}`,
    );
  }
  const s = value as Partial<StudyResult> | null;
  if (!s || typeof s !== 'object' || !Array.isArray(s.runs) || typeof s.command !== 'string' || typeof s.startedAt !== 'string' || !s.machine || !s.options) {
    throw new Error(`${file}: not a study result (expected runs, command, startedAt, machine and options)`);
  }
  return s as StudyResult;
}
