// The records the app keeps and shows: a dataset, a run and its epochs, a model on the wire, an
// evaluation. Node produces them (run folders, the trainer), the renderer reads them; each has
// one type and, where it crosses a process boundary or is read back from disk, one schema here.

import type { Evaluation } from '../engine/evaluate';
import type { ModelSpec } from '../engine/spec';
import { arr, f32, int, nullable, num, obj, optional, str, u8, type Schema } from './schema';
import type { TrainSettings } from './settings';

export type { Evaluation } from '../engine/evaluate';

/** Run ids are folder names: no separators, no dots at the start, bounded length. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/**
 * The one vocabulary for where a run stands, used by status.json, the trainer's `finished`
 * event, the API and the renderer. A run is active while running or paused; the other four end it.
 */
export type RunState = 'running' | 'paused' | 'done' | 'cancelled' | 'diverged' | 'failed';
/** How a run ended. */
export type RunEnd = Exclude<RunState, 'running' | 'paused'>;
export const RUN_STATES = ['running', 'paused', 'done', 'cancelled', 'diverged', 'failed'] as const satisfies readonly RunState[];
export const RUN_ENDS = ['done', 'cancelled', 'diverged', 'failed'] as const satisfies readonly RunEnd[];

export function isActive(state: RunState): state is 'running' | 'paused' {
  return state === 'running' || state === 'paused';
}

export interface DatasetInfo {
  /** null for the embedded MNIST. */
  path: string | null;
  name: string;
  trainCount: number;
  testCount: number;
  rows: number;
  cols: number;
  fingerprint: string;
}

export interface DatasetSlice {
  split: 'train' | 'test';
  start: number;
  count: number;
  /** count × rows × cols bytes. */
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** One finished epoch: metrics.json holds one per epoch, the trainer sends one per `epoch` event. */
export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  /** Training time of the epoch, evaluation excluded. */
  seconds: number;
  imagesPerSecond: number;
  lr: number;
  /** On the held-out validation images; absent when the run holds none out. */
  validationLoss?: number;
  validationAccuracy?: number;
}

/**
 * The best epoch: the highest validation accuracy, the earliest on a tie; null when no epoch has a
 * validation score. Its weights are the run's best model (the test set never chooses).
 */
export function bestEpoch(history: readonly EpochMetrics[]): { epoch: number; validationAccuracy: number } | null {
  let best: { epoch: number; validationAccuracy: number } | null = null;
  for (const m of history) {
    if (m.validationAccuracy !== undefined && (!best || m.validationAccuracy > best.validationAccuracy)) {
      best = { epoch: m.epoch, validationAccuracy: m.validationAccuracy };
    }
  }
  return best;
}

export interface RunSummary {
  id: string;
  preset: string;
  settings: TrainSettings;
  status: RunState;
  /** Why a run failed or diverged. */
  reason?: string;
  createdAt: string;
  epochsDone: number;
  /** Epoch (from 1) with the best validation accuracy, whose weights are the run's best model. */
  bestEpoch: number | null;
  finalTestAccuracy: number | null;
  bestValidationAccuracy: number | null;
}

export interface RunDetail extends RunSummary {
  spec: ModelSpec;
  epochs: EpochMetrics[];
  /** Downsampled batch-loss curve: [images seen since start, smoothed loss]. */
  lossCurve: [number, number][];
  /** Final confusion matrix, rows = true class, columns = predicted. */
  confusion: number[][] | null;
  dataset: DatasetInfo;
  /** Images trained on per epoch, and held out for validation. */
  trainCount: number;
  validationCount: number;
}

// ---------------------------------------------------------------- a run's live events

/** Training progress, at a bounded rate (the trainer sends at most ~10 a second). */
export interface ProgressEvent {
  type: 'progress';
  runId: string;
  /** Epoch in progress, from 1. */
  epoch: number;
  /** Batches done in this epoch, and per epoch. */
  step: number;
  steps: number;
  /** Mean batch loss since the previous progress event. */
  loss: number;
  imagesPerSecond: number;
  etaSeconds: number;
  lr: number;
  /** Images trained on since the run began (the loss chart's x axis). */
  imagesSeen: number;
}

export interface EpochEvent {
  type: 'epoch';
  runId: string;
  metrics: EpochMetrics;
  confusion: number[][];
}

/** The weights after an epoch (epoch 0: before training), in `Model.params`/`Model.buffers` layout. */
export interface SnapshotEvent {
  type: 'snapshot';
  runId: string;
  epoch: number;
  params: Float32Array;
  buffers: Float32Array;
}

/** A model the renderer can run locally with src/engine. */
export interface ModelPayload {
  spec: ModelSpec;
  /** Model.params then Model.buffers, as laid out by `new Model(spec)`. */
  params: Float32Array;
  buffers: Float32Array;
  preset?: string;
  /** Where it came from: a run, or a file. */
  source: { kind: 'run'; runId: string; epoch: number } | { kind: 'file'; path: string };
}

// ---------------------------------------------------------------- schemas

const count = int(0, 1e9);

export const epochMetricsSchema: Schema<EpochMetrics> = obj<EpochMetrics>({
  epoch: int(1, 10_000),
  trainLoss: num(),
  trainAccuracy: num({ min: 0, max: 1 }),
  testLoss: num(),
  testAccuracy: num({ min: 0, max: 1 }),
  seconds: num({ min: 0 }),
  imagesPerSecond: num({ min: 0 }),
  lr: num({ min: 0 }),
  validationLoss: optional(num()),
  validationAccuracy: optional(num({ min: 0, max: 1 })),
});

export const confusionSchema: Schema<number[][]> = arr(arr(count, { max: 1000 }), { max: 1000 });

export const evaluationSchema: Schema<Evaluation> = obj<Evaluation>({
  count,
  loss: num(),
  accuracy: num({ min: 0, max: 1 }),
  confusion: confusionSchema,
  predictions: u8(),
  scores: f32({ max: 100_000_000 }),
});

/**
 * A run's data map (src/engine/data-lab/data-map.ts) for the window: one value per training image
 * the run's history covers (the first `count` of the training file, in file order), held-out
 * images included but marked, so an image's index is its position in the arrays.
 */
export interface DataMapPayload {
  runId: string;
  /** The dataset the run was trained on (the current one: the map needs its images). */
  datasetFingerprint: string;
  /** Recorded epochs the statistics cover. */
  firstEpoch: number;
  lastEpoch: number;
  count: number;
  /** 1 when the image was trained on (on the map), 0 when held out for validation. */
  trained: Uint8Array;
  labels: Uint8Array;
  confidence: Float32Array;
  variability: Float32Array;
  correctness: Float32Array;
}

export const datasetInfoSchema: Schema<DatasetInfo> = obj<DatasetInfo>({
  path: nullable(str({ max: 4096 })),
  name: str({ max: 300 }),
  trainCount: count,
  testCount: count,
  rows: int(1, 4096),
  cols: int(1, 4096),
  fingerprint: str({ max: 128 }),
});
