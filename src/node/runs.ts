// The run folder: one folder per training run, written by the trainer process and by the CLI
// (`--run-dir`), read by the app to list and compare runs after a restart.
//
//   run.json          what was asked: preset, spec, settings, resolved engine config, dataset
//                     (name, counts, fingerprint), validation split, creation time. Never rewritten.
//   status.json       running | paused | done | cancelled | diverged | failed, with the reason.
//   metrics.json      one EpochMetrics per finished epoch (train, validation, test).
//   loss.json         the batch-loss curve, smoothed and downsampled to at most 1,000 points:
//                     {"points": [[images seen, loss], …], …}.
//   confusion.json    test confusion matrix of the latest finished epoch (the final one when done).
//   checkpoint.lenet  the latest checkpoint: an ordinary .lenet model file (any tool loads it)
//                     whose metadata "x-resume" holds everything resuming needs: epoch, position,
//                     shuffle order, RNG state, momentum buffers (little-endian base64), and the
//                     metrics, curve and best-so-far, so one atomic file is the whole truth.
//                     Written at the start, after every epoch and on cancel.
//   best.lenet        the model of the epoch with the best VALIDATION accuracy (never test).
//
// Every file is written atomically (temp file, fsync, rename): a crash leaves the previous
// version. When a crash falls between checkpoint.lenet and the JSON files, the checkpoint wins.

import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AugmentConfig } from '../engine/augment';
import { EngineError } from '../engine/errors';
import { decodeModelFile, encodeModelFile, type LoadedModel } from '../engine/formats/modelfile';
import type { Model } from '../engine/model';
import type { ModelSpec } from '../engine/spec';
import { validateTrainConfig, type TrainConfig } from '../engine/train';
import type { DatasetInfo, EpochMetrics, RunDetail, RunStatus, RunSummary, TrainSettings } from '../preload/api';
import { nodeFs, writeFileAtomic, type FsLayer } from './files';
import { RUN_ID_PATTERN, confusionSchema, epochMetricsSchema } from './protocol';
import { arr, bool, int, json, literal, nullable, num, obj, optional, str, tuple, type Schema, ValidationError } from './schema';

export const RUN_FORMAT = 'lenet-studio-run/1';
export const RUN_FILES = {
  config: 'run.json',
  status: 'status.json',
  metrics: 'metrics.json',
  loss: 'loss.json',
  confusion: 'confusion.json',
  checkpoint: 'checkpoint.lenet',
  best: 'best.lenet',
} as const;

/** Default validation hold-out: 5,000 images, at most a twelfth of the training images. */
export const DEFAULT_VALIDATION = 5000;
export function defaultValidation(pool: number): number {
  return Math.min(DEFAULT_VALIDATION, Math.floor(pool / 12));
}

export class RunFolderError extends Error {
  override readonly name = 'RunFolderError';
  constructor(
    readonly code: 'RUN_NOT_FOUND' | 'RUN_INVALID' | 'RUN_EXISTS' | 'RUN_MISMATCH',
    message: string,
  ) {
    super(message);
  }
}

export interface RunConfig {
  format: typeof RUN_FORMAT;
  id: string;
  preset: string;
  spec: ModelSpec;
  /** As requested (the UI shows these). */
  settings: TrainSettings;
  /** What the engine Trainer runs with. */
  config: TrainConfig;
  /** First N training images, before the validation split. */
  limit: number | null;
  /** Images held out for validation. */
  validation: number;
  /** Images trained on per epoch. */
  trainCount: number;
  dataset: DatasetInfo;
  createdAt: string;
  /** Model file the weights started from (CLI --init), if any. */
  init: string | null;
  /** Data-parallel threads the run was started with (the CLI resumes with the same, for bit-identical results). */
  threads?: number;
}

export interface RunStatusFile {
  status: RunStatus;
  reason?: string;
  updatedAt: string;
}

// ---------------------------------------------------------------- schemas

const scheduleSchema: Schema<TrainConfig['schedule']> = {
  parse(v, p) {
    const t = (v as { type?: unknown } | null)?.type;
    if (t === 'step') {
      return obj<{ type: 'step'; every: number; gamma: number }>({ type: literal('step'), every: int(1, 10_000), gamma: num({ min: 0 }) }).parse(v, p);
    }
    if (t === 'cosine') {
      return obj<{ type: 'cosine'; minFactor?: number }>({ type: literal('cosine'), minFactor: optional(num({ min: 0, max: 1 })) }).parse(v, p);
    }
    return obj<{ type: 'constant' }>({ type: literal('constant') }).parse(v, p);
  },
};

export const trainSettingsSchema: Schema<TrainSettings> = obj<TrainSettings>({
  epochs: int(1, 10_000),
  batchSize: int(1, 4096),
  lr: num({ min: Number.MIN_VALUE, max: 1e6 }),
  momentum: num({ min: 0, max: 0.999 }),
  decay: num({ min: 0, max: 0.999 }),
  schedule: scheduleSchema,
  seed: optional(int(0, 0xffffffff)),
  shuffle: optional(bool()),
  limit: optional(int(1, 100_000_000)),
  validation: optional(int(0, 100_000_000)),
});

const trainConfigSchema: Schema<TrainConfig> = obj<TrainConfig>({
  epochs: int(1, 10_000),
  batchSize: int(1, 4096),
  lr: num({ min: Number.MIN_VALUE }),
  momentum: num({ min: 0, max: 1 }),
  decay: num({ min: 0, max: 1 }),
  schedule: scheduleSchema,
  seed: int(0, 0xffffffff),
  shuffle: bool(),
  // Optional: runs without augmentation (every run the app starts) read and write as before.
  augment: optional(nullable(obj<AugmentConfig>({ shift: num({ min: 0, max: 8 }), rotateDeg: num({ min: 0, max: 45 }), scale: num({ min: 0, max: 0.5 }) }))),
});

export const datasetInfoSchema: Schema<DatasetInfo> = obj<DatasetInfo>({
  path: nullable(str({ max: 4096 })),
  name: str({ max: 300 }),
  trainCount: int(0, 1e9),
  testCount: int(0, 1e9),
  rows: int(1, 4096),
  cols: int(1, 4096),
  fingerprint: str({ max: 128 }),
});

const runConfigSchema: Schema<RunConfig> = obj<RunConfig>({
  format: literal(RUN_FORMAT),
  id: str({ pattern: RUN_ID_PATTERN }),
  preset: str({ max: 100 }),
  spec: json() as Schema<ModelSpec>, // checked by validateSpec when a model is built
  settings: trainSettingsSchema,
  config: trainConfigSchema,
  limit: nullable(int(1, 1e9)),
  validation: int(0, 1e9),
  trainCount: int(1, 1e9),
  dataset: datasetInfoSchema,
  createdAt: str({ max: 40 }),
  init: nullable(str({ max: 4096 })),
  threads: optional(int(1, 64)),
});

const runStatusSchema: Schema<RunStatusFile> = obj<RunStatusFile>({
  status: literal('running', 'paused', 'done', 'cancelled', 'diverged', 'failed'),
  reason: optional(str({ max: 20_000 })),
  updatedAt: str({ max: 40 }),
});

// ---------------------------------------------------------------- loss curve

export interface CurveState {
  /** [images seen, exponentially smoothed batch loss]. */
  points: [number, number][];
  /** A point is kept every `every` images; doubled whenever the curve reaches MAX points. */
  every: number;
  nextAt: number;
  ema: number | null;
}

const curveSchema: Schema<CurveState> = obj<CurveState>({
  points: arr(tuple<[number, number]>(num({ min: 0 }), num()), { max: 100_000 }),
  every: num({ min: 1 }),
  nextAt: num({ min: 0 }),
  ema: nullable(num()),
});

/**
 * The downsampled batch-loss curve. Points are evenly spaced in images seen; when there are
 * MAX of them, every other one is dropped and the spacing doubles, so a run of any length keeps
 * between MAX/2 and MAX points. Deterministic, and its state lives in the checkpoint.
 */
export class LossCurve {
  static readonly MAX = 1000;
  /** Smoothing per batch: about the last 50 batches count. */
  static readonly ALPHA = 0.02;
  state: CurveState;

  constructor(state?: CurveState, firstEvery = 256) {
    this.state = state ? { ...state, points: state.points.map((p) => [p[0], p[1]]) } : { points: [], every: firstEvery, nextAt: 0, ema: null };
  }

  add(imagesSeen: number, batchLoss: number): void {
    const s = this.state;
    s.ema = s.ema === null ? batchLoss : s.ema + LossCurve.ALPHA * (batchLoss - s.ema);
    if (imagesSeen < s.nextAt) return;
    s.points.push([imagesSeen, s.ema]);
    s.nextAt = imagesSeen + s.every;
    if (s.points.length >= LossCurve.MAX) {
      // MAX is even, so the newest point is among those kept.
      s.points = s.points.filter((_, i) => i % 2 === 1);
      s.every *= 2;
      s.nextAt = s.points[s.points.length - 1][0] + s.every;
    }
  }
}

// ---------------------------------------------------------------- checkpoint

export interface PartialEpoch {
  seen: number;
  lossSum: number;
  correct: number;
  batches: number;
  seconds: number;
}

/** Everything a resumed run needs besides the weights (which are the model file's tensors). */
export interface ResumeState {
  /** Trainer state: epoch (from 0) and position within it. */
  epoch: number;
  position: number;
  order: Uint32Array;
  rng: { s: [number, number, number, number]; spare: number | null };
  velocity: Float32Array;
  imagesSeen: number;
  /** Accumulators of the epoch in progress (a checkpoint taken on cancel falls mid-epoch). */
  partial: PartialEpoch;
  history: EpochMetrics[];
  curve: CurveState;
  best: { epoch: number; validationAccuracy: number } | null;
  confusion: number[][] | null;
}

interface ResumeJson extends Omit<ResumeState, 'order' | 'velocity'> {
  version: 1;
  order: string;
  velocity: string;
}

const resumeJsonSchema: Schema<ResumeJson> = obj<ResumeJson>({
  version: literal(1),
  epoch: int(0, 10_000),
  position: int(0, 1e9),
  order: str({ max: 600_000_000 }),
  rng: obj<ResumeState['rng']>({
    s: tuple<[number, number, number, number]>(
      int(-0x80000000, 0xffffffff),
      int(-0x80000000, 0xffffffff),
      int(-0x80000000, 0xffffffff),
      int(-0x80000000, 0xffffffff),
    ),
    spare: nullable(num()),
  }),
  velocity: str({ max: 100_000_000 }),
  imagesSeen: num({ min: 0, int: true }),
  partial: obj<PartialEpoch>({ seen: int(0, 1e9), lossSum: num(), correct: int(0, 1e9), batches: int(0, 1e9), seconds: num({ min: 0 }) }),
  history: arr(epochMetricsSchema, { max: 10_000 }),
  curve: curveSchema,
  best: nullable(obj<{ epoch: number; validationAccuracy: number }>({ epoch: int(1, 10_000), validationAccuracy: num({ min: 0, max: 1 }) })),
  confusion: nullable(confusionSchema),
});

// Typed arrays are stored as their little-endian bytes in base64 (every platform we ship is little-endian).
function toBase64(a: Uint32Array | Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function fromBase64<T extends Uint32Array | Float32Array>(text: string, make: (b: ArrayBuffer) => T, what: string, file: string): T {
  const buf = Buffer.from(text, 'base64');
  if (buf.length % 4 !== 0) throw new RunFolderError('RUN_INVALID', `${file}: resume data "${what}" has ${buf.length} bytes, not a multiple of 4`);
  const copy = new ArrayBuffer(buf.length);
  new Uint8Array(copy).set(buf);
  return make(copy);
}

export interface CheckpointMeta {
  preset: string;
  config: TrainConfig;
  dataset: DatasetInfo;
  limit: number | null;
  validation: number;
  runId: string;
}

function modelMeta(meta: CheckpointMeta, history: EpochMetrics[]): Parameters<typeof encodeModelFile>[1] {
  return {
    preset: meta.preset,
    training: { ...meta.config, epochsDone: history.length, limit: meta.limit, validation: meta.validation, data: meta.dataset.name, runId: meta.runId },
    metrics: { final: history[history.length - 1] ?? null, history },
    dataset: meta.dataset.fingerprint,
  };
}

/** Writes checkpoint.lenet: the model plus its resume state, in one atomic file. */
export async function writeCheckpoint(dir: string, model: Model, meta: CheckpointMeta, resume: ResumeState, fsl: FsLayer = nodeFs): Promise<void> {
  const r: ResumeJson = { version: 1, ...resume, order: toBase64(resume.order), velocity: toBase64(resume.velocity) };
  const bytes = encodeModelFile(model, { ...modelMeta(meta, resume.history), extra: { resume: r } });
  await writeFileAtomic(join(dir, RUN_FILES.checkpoint), bytes, fsl);
}

/** Writes best.lenet (no resume state: it is a model, not a place to continue from). */
export async function writeBestModel(dir: string, model: Model, meta: CheckpointMeta, history: EpochMetrics[], fsl: FsLayer = nodeFs): Promise<void> {
  await writeFileAtomic(join(dir, RUN_FILES.best), encodeModelFile(model, modelMeta(meta, history)), fsl);
}

export interface Checkpoint {
  loaded: LoadedModel;
  resume: ResumeState;
}

async function readBytes(path: string): Promise<Uint8Array | null> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new RunFolderError('RUN_INVALID', `could not read ${path}: ${(e as Error).message}`);
  }
}

/** Reads checkpoint.lenet; null when the run has none yet. Malformed → ModelFileError / RunFolderError naming the file. */
export async function readCheckpoint(dir: string, trainCount: number): Promise<Checkpoint | null> {
  const file = join(dir, RUN_FILES.checkpoint);
  const bytes = await readBytes(file);
  if (!bytes) return null;
  const loaded = decodeModelFile(bytes, file);
  const raw = loaded.extra.resume;
  if (raw === undefined) throw new RunFolderError('RUN_INVALID', `${file}: no resume data (x-resume) in the checkpoint`);
  let r: ResumeJson;
  try {
    r = resumeJsonSchema.parse(raw, 'x-resume');
  } catch (e) {
    throw new RunFolderError('RUN_INVALID', `${file}: ${(e as Error).message}`);
  }
  const order = fromBase64(r.order, (b) => new Uint32Array(b), 'order', file);
  const velocity = fromBase64(r.velocity, (b) => new Float32Array(b), 'velocity', file);
  if (order.length !== trainCount) {
    throw new RunFolderError('RUN_MISMATCH', `${file}: the shuffle order has ${order.length} entries, the run trains on ${trainCount} images`);
  }
  const seen = new Uint8Array(trainCount);
  for (const i of order) {
    if (i >= trainCount || seen[i]) throw new RunFolderError('RUN_INVALID', `${file}: the shuffle order is not a permutation of 0..${trainCount - 1}`);
    seen[i] = 1;
  }
  if (velocity.length !== loaded.model.params.length) {
    throw new RunFolderError('RUN_MISMATCH', `${file}: ${velocity.length} momentum values for a model of ${loaded.model.params.length} parameters`);
  }
  for (const v of velocity) if (!Number.isFinite(v)) throw new RunFolderError('RUN_INVALID', `${file}: a momentum value is not finite`);
  if (r.position > trainCount) throw new RunFolderError('RUN_INVALID', `${file}: position ${r.position} is past the ${trainCount} training images`);
  const { version: _v, ...rest } = r;
  return { loaded, resume: { ...rest, order, velocity } };
}

/** Reads checkpoint.lenet or best.lenet as a model; null when absent. */
export async function readRunModel(dir: string, which: 'latest' | 'best'): Promise<LoadedModel | null> {
  const file = join(dir, which === 'best' ? RUN_FILES.best : RUN_FILES.checkpoint);
  const bytes = await readBytes(file);
  return bytes ? decodeModelFile(bytes, file) : null;
}

// ---------------------------------------------------------------- JSON files

async function readJson<T>(dir: string, name: string, s: Schema<T>): Promise<T | null> {
  const file = join(dir, name);
  const bytes = await readBytes(file);
  if (!bytes) return null;
  if (bytes.length > 64 * 1024 * 1024) throw new RunFolderError('RUN_INVALID', `${file}: ${bytes.length} bytes is too large for a run file`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new RunFolderError('RUN_INVALID', `${file}: not valid JSON`);
  }
  try {
    return s.parse(value, '');
  } catch (e) {
    if (e instanceof ValidationError) throw new RunFolderError('RUN_INVALID', `${file}: ${e.message}`);
    throw e;
  }
}

function writeJson(dir: string, name: string, value: unknown, fsl: FsLayer): Promise<void> {
  return writeFileAtomic(join(dir, name), `${JSON.stringify(value)}\n`, fsl);
}

/**
 * Creates the run folder with run.json and an initial status. The folder may exist if empty
 * (the CLI's --run-dir), never if it already holds a run.
 */
export async function createRun(dir: string, config: RunConfig, fsl: FsLayer = nodeFs): Promise<void> {
  runConfigSchema.parse(config, 'run config'); // a bug guard: we never write what we could not read back
  await mkdir(dir, { recursive: true });
  const existing = await readdir(dir);
  if (existing.includes(RUN_FILES.config)) throw new RunFolderError('RUN_EXISTS', `${dir} already holds a run (resume it instead)`);
  await writeJson(dir, RUN_FILES.config, config, fsl);
  await writeRunStatus(dir, { status: 'running' }, fsl);
  await writeJson(dir, RUN_FILES.metrics, [], fsl);
  await writeJson(dir, RUN_FILES.loss, new LossCurve().state, fsl);
}

export async function readRunConfig(dir: string): Promise<RunConfig> {
  const c = await readJson(dir, RUN_FILES.config, runConfigSchema);
  if (!c) throw new RunFolderError('RUN_NOT_FOUND', `${dir} is not a run folder (no ${RUN_FILES.config})`);
  return c;
}

export async function readRunStatus(dir: string): Promise<RunStatusFile> {
  return (await readJson(dir, RUN_FILES.status, runStatusSchema)) ?? { status: 'failed', reason: `${RUN_FILES.status} is missing`, updatedAt: '' };
}

export async function writeRunStatus(dir: string, s: { status: RunStatus; reason?: string }, fsl: FsLayer = nodeFs): Promise<void> {
  const file: RunStatusFile = { status: s.status, updatedAt: new Date().toISOString() };
  if (s.reason !== undefined) file.reason = s.reason;
  await writeJson(dir, RUN_FILES.status, file, fsl);
}

/** metrics.json, loss.json and confusion.json: the readers' view, rewritten after every epoch. */
export async function writeRunProgress(
  dir: string,
  p: { history: EpochMetrics[]; curve: CurveState; confusion: number[][] | null },
  fsl: FsLayer = nodeFs,
): Promise<void> {
  await writeJson(dir, RUN_FILES.metrics, p.history, fsl);
  await writeJson(dir, RUN_FILES.loss, p.curve, fsl);
  if (p.confusion) await writeJson(dir, RUN_FILES.confusion, p.confusion, fsl);
}

// ---------------------------------------------------------------- listing

/** A new run id: sortable by time, readable, safe as a folder name. */
export function newRunId(preset: string, now = new Date(), suffix = Math.floor(Math.random() * 0x10000)): string {
  const d = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15); // 20250101-120000
  const p = preset.replace(/[^A-Za-z0-9-]/g, '').slice(0, 40) || 'run';
  return `${d}-${p}-${suffix.toString(16).padStart(4, '0')}`;
}

function bestOf(history: EpochMetrics[]): { epoch: number; acc: number } | null {
  let best: { epoch: number; acc: number } | null = null;
  for (const m of history) {
    if (m.validationAccuracy !== undefined && (!best || m.validationAccuracy > best.acc)) best = { epoch: m.epoch, acc: m.validationAccuracy };
  }
  return best;
}

export async function readRunSummary(dir: string): Promise<RunSummary> {
  const [config, status, history] = await Promise.all([
    readRunConfig(dir),
    readRunStatus(dir),
    readJson(dir, RUN_FILES.metrics, arr(epochMetricsSchema, { max: 10_000 })),
  ]);
  const h = history ?? [];
  const best = bestOf(h);
  const s: RunSummary = {
    id: config.id,
    preset: config.preset,
    settings: config.settings,
    status: status.status,
    createdAt: config.createdAt,
    epochsDone: h.length,
    bestEpoch: best?.epoch ?? null,
    finalTestAccuracy: h.length ? h[h.length - 1].testAccuracy : null,
    bestValidationAccuracy: best?.acc ?? null,
  };
  if (status.reason !== undefined) s.reason = status.reason;
  return s;
}

export async function readRunDetail(dir: string): Promise<RunDetail> {
  const summary = await readRunSummary(dir);
  const [config, history, curve, confusion] = await Promise.all([
    readRunConfig(dir),
    readJson(dir, RUN_FILES.metrics, arr(epochMetricsSchema, { max: 10_000 })),
    readJson(dir, RUN_FILES.loss, curveSchema),
    readJson(dir, RUN_FILES.confusion, confusionSchema),
  ]);
  return {
    ...summary,
    spec: config.spec,
    epochs: history ?? [],
    lossCurve: curve?.points ?? [],
    confusion,
    dataset: config.dataset,
    trainCount: config.trainCount,
    validationCount: config.validation,
  };
}

/**
 * Every run under `runsDir`, newest first. A folder that cannot be read is listed as failed
 * with the reason rather than hidden (unless it isn't a run folder at all).
 */
export async function listRuns(runsDir: string): Promise<RunSummary[]> {
  let names: string[];
  try {
    names = await readdir(runsDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: RunSummary[] = [];
  for (const name of names) {
    if (!RUN_ID_PATTERN.test(name)) continue;
    const dir = join(runsDir, name);
    try {
      if (!(await stat(dir)).isDirectory()) continue;
      out.push(await readRunSummary(dir));
    } catch (e) {
      if (e instanceof RunFolderError && e.code === 'RUN_NOT_FOUND') continue;
      const msg = e instanceof RunFolderError || e instanceof EngineError ? e.message : String(e);
      out.push({
        id: name,
        preset: '?',
        settings: { epochs: 1, batchSize: 1, lr: 1, momentum: 0, decay: 0, schedule: { type: 'constant' } },
        status: 'failed',
        reason: `unreadable run folder: ${msg}`,
        createdAt: '',
        epochsDone: 0,
        bestEpoch: null,
        finalTestAccuracy: null,
        bestValidationAccuracy: null,
      });
    }
  }
  return out.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/**
 * Runs left "running" or "paused" by a process that is gone (the app or trainer was killed)
 * become "failed", so the list tells the truth and Continue is offered. `active` are ids a live
 * trainer still owns.
 */
export async function markInterruptedRuns(runsDir: string, active: ReadonlySet<string>, fsl: FsLayer = nodeFs): Promise<string[]> {
  const marked: string[] = [];
  for (const r of await listRuns(runsDir)) {
    if ((r.status === 'running' || r.status === 'paused') && !active.has(r.id)) {
      await writeRunStatus(join(runsDir, r.id), { status: 'failed', reason: 'interrupted: the app or the trainer stopped during the run' }, fsl);
      marked.push(r.id);
    }
  }
  return marked;
}

// ---------------------------------------------------------------- building a run

export interface NewRun {
  id: string;
  preset: { name: string; spec: ModelSpec };
  settings: TrainSettings;
  dataset: DatasetInfo;
  init?: string | null;
  createdAt?: Date;
  /** Training-time augmentation (CLI --augment); the app starts runs without. */
  augment?: AugmentConfig | null;
  threads?: number;
}

/**
 * Resolves what the user asked for into a RunConfig: defaults (seed 1, shuffling on, the
 * validation hold-out), the engine's config checks, and the split sizes. Throws SpecError /
 * RunFolderError with a message fit for the user.
 */
export function buildRunConfig(r: NewRun): RunConfig {
  const s = trainSettingsSchema.parse(r.settings, 'settings');
  const config: TrainConfig = validateTrainConfig({
    epochs: s.epochs,
    batchSize: s.batchSize,
    lr: s.lr,
    momentum: s.momentum,
    decay: s.decay,
    schedule: s.schedule,
    seed: s.seed ?? 1,
    shuffle: s.shuffle ?? true,
    ...(r.augment ? { augment: r.augment } : {}),
  });
  const pool = Math.min(s.limit ?? r.dataset.trainCount, r.dataset.trainCount);
  const validation = s.validation ?? defaultValidation(pool);
  if (validation >= pool) {
    throw new RunFolderError(
      'RUN_MISMATCH',
      `cannot hold out ${validation} validation images from ${pool} training images; lower the validation count or raise the limit`,
    );
  }
  return {
    format: RUN_FORMAT,
    id: r.id,
    preset: r.preset.name,
    spec: r.preset.spec,
    settings: s,
    config,
    limit: s.limit !== undefined && s.limit < r.dataset.trainCount ? s.limit : null,
    validation,
    trainCount: pool - validation,
    dataset: r.dataset,
    createdAt: (r.createdAt ?? new Date()).toISOString(),
    init: r.init ?? null,
    ...(r.threads !== undefined ? { threads: r.threads } : {}),
  };
}
