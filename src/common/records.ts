// The records the app keeps and shows: a dataset, a run and its epochs, a model on the wire, an
// evaluation. Node produces them (run folders, the trainer), the renderer reads them; each has
// one type and, where it crosses a process boundary or is read back from disk, one schema here.

import type { Evaluation } from '../engine/evaluate';
import type { ModelSpec } from '../engine/spec';
import { arr, bool, f32, int, nullable, num, obj, optional, str, u8, type Schema } from './schema';
import type { TrainSettings } from './settings';
import { overlayInfoSchema, type OverlayInfo } from './overlay';

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
  /** The label overlay applied (src/common/overlay.ts); `fingerprint` then joins the dataset's with its hash. */
  overlay?: OverlayInfo;
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
  /** What the user said about the run (run.json); absent when never set. */
  name?: string;
  notes?: string;
  tags?: string[];
  hidden?: boolean;
  archived?: boolean;
  /** The run's seed group (seedGroupKey in groups.ts): runs with the same one differ only by seed. */
  group?: string;
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
  /** Calibration temperature (`x-calibration` of its file, or applied in Evaluate); absent means 1. */
  temperature?: number;
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
  overlay: optional(overlayInfoSchema),
});

// ---------------------------------------------------------------- what the user says about a run

/**
 * A run's name, notes and tags, and whether it is hidden or archived: kept in run.json beside
 * what was asked (which never changes), edited in the app. Absent keys mean "not set".
 */
export interface RunNotes {
  name?: string;
  notes?: string;
  tags?: string[];
  /** Left out of the runs list unless "show hidden" is on. */
  hidden?: boolean;
  /** Put away: listed only under the Archived filter. */
  archived?: boolean;
}

export const RUN_NOTES_LIMITS = { name: 100, notes: 10_000, tags: 20, tag: 40 } as const;

/** A tag: a letter or digit, then letters, digits, spaces and . _ + : / - (at most RUN_NOTES_LIMITS.tag). */
export const TAG_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._+:/-]*$/u;
// No control characters in a name; notes may hold line breaks and tabs.
const NAME_PATTERN = /^[^\p{Cc}]*$/u;
// eslint-disable-next-line no-control-regex -- the control characters are what it refuses
const NOTES_PATTERN = /^[^\x00-\x08\x0b-\x1f\x7f]*$/;

/** The fields of runNotesSchema, for run.json's schema to hold them too. */
export const runNotesFields = {
  name: optional(str({ max: RUN_NOTES_LIMITS.name, pattern: NAME_PATTERN })),
  notes: optional(str({ max: RUN_NOTES_LIMITS.notes, pattern: NOTES_PATTERN })),
  tags: optional(arr(str({ min: 1, max: RUN_NOTES_LIMITS.tag, pattern: TAG_PATTERN }), { max: RUN_NOTES_LIMITS.tags })),
  hidden: optional(bool()),
  archived: optional(bool()),
};

export const runNotesSchema: Schema<RunNotes> = obj<RunNotes>(runNotesFields);

/** Tags as the user typed them: trimmed, inner spaces collapsed, empty ones and repeats (ignoring case) dropped. */
export function normalizeTags(tags: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const t of tags) {
    const v = t.trim().replace(/\s+/g, ' ');
    if (v && !seen.has(v.toLowerCase())) {
      seen.add(v.toLowerCase());
      out.push(v);
    }
  }
  return out;
}
