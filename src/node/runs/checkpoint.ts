// checkpoint.lenet and best.lenet: a run's models. The checkpoint is an ordinary .lenet file whose
// metadata "x-resume" holds everything resuming needs besides the weights: epoch, position,
// shuffle order, RNG state, momentum buffers (little-endian base64), and the metrics, curve and
// best-so-far.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeModelFile, encodeModelFile, type LoadedModel } from '../../engine/formats/modelfile';
import type { Model } from '../../engine/model';
import { confusionSchema, epochMetricsSchema, type DatasetInfo, type EpochMetrics } from '../../common/records';
import { arr, int, literal, nullable, num, obj, str, tuple, type Schema } from '../../common/schema';
import { trainConfigOf, type TrainSettings } from '../../common/settings';
import { nodeFs, writeFileAtomic, type FsLayer } from '../files';
import { RUN_FILES, RunFolderError, readBytes } from './layout';
import { curveSchema, type CurveState } from './loss-curve';

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
  settings: TrainSettings;
  dataset: DatasetInfo;
  limit: number | null;
  validation: number;
  runId: string;
}

function modelMeta(meta: CheckpointMeta, history: EpochMetrics[]): Parameters<typeof encodeModelFile>[1] {
  return {
    preset: meta.preset,
    training: {
      ...trainConfigOf(meta.settings),
      epochsDone: history.length,
      limit: meta.limit,
      validation: meta.validation,
      data: meta.dataset.name,
      runId: meta.runId,
    },
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

/** A run's model after `history.length` epochs as .lenet bytes, without resume state (best.lenet, epochs/NNN.lenet). */
export function encodeRunModel(model: Model, meta: CheckpointMeta, history: EpochMetrics[]): Uint8Array {
  return encodeModelFile(model, modelMeta(meta, history));
}

/** Writes best.lenet (no resume state: it is a model, not a place to continue from). */
export async function writeBestModel(dir: string, model: Model, meta: CheckpointMeta, history: EpochMetrics[], fsl: FsLayer = nodeFs): Promise<void> {
  await writeFileAtomic(join(dir, RUN_FILES.best), encodeRunModel(model, meta, history), fsl);
}

export interface Checkpoint {
  loaded: LoadedModel;
  resume: ResumeState;
}

/** Whether the run in `dir` has a checkpoint.lenet to continue from. */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  return stat(join(dir, RUN_FILES.checkpoint)).then(
    (st) => st.isFile(),
    () => false,
  );
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
