// The renderer's API, exposed by the preload as `window.studio` (and, in browser tests, by the
// test host with the same shape). Types only: the renderer imports this file with
// `import type`; the preload implements it with one function per method.
//
// Paths: the renderer never invents a file path. Paths it may pass back come from a dialog the
// main process opened, a drop (the preload resolves the dropped File), the recent lists or the
// OS (double-click, command line). Main checks every path against what it handed out.

import type { ModelSpec } from '../engine/spec';
import type { Schedule } from '../engine/schedule';

export interface AppInfo {
  name: string;
  version: string;
  platform: string;
  /** Kernel backend the trainer uses, e.g. 'wasm-simd' or 'js'. */
  kernels: string;
  /** Worker threads the trainer uses. */
  threads: number;
}

export interface PresetInfo {
  name: string;
  description: string;
  spec: ModelSpec;
  defaults: TrainSettings;
}

/** Hyper-parameters the user can set for a run (TrainConfig without the engine-only parts). */
export interface TrainSettings {
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  decay: number;
  schedule: Schedule;
  seed?: number;
  shuffle?: boolean;
  /** Train on the first N images only. */
  limit?: number;
  /**
   * Images held out of the training images (after `limit`), chosen by a permutation seeded from
   * `seed`, to pick the best model by validation accuracy. Default: 5,000, at most a twelfth of
   * the training images (MNIST: 5,000 of 60,000). 0 keeps none (and no best model is chosen).
   * The test set is never used to choose anything.
   */
  validation?: number;
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

export type RunStatus = 'running' | 'paused' | 'done' | 'cancelled' | 'diverged' | 'failed';

export interface RunSummary {
  id: string;
  preset: string;
  settings: TrainSettings;
  status: RunStatus;
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

export interface EvaluationResult {
  count: number;
  loss: number;
  accuracy: number;
  confusion: number[][];
  /** Predicted class of every test image. */
  predictions: Uint8Array;
  /** count × classes scores that sum to 1 per image. */
  scores: Float32Array;
}

export type MenuAction = 'open-model' | 'save-model' | 'save-model-as' | 'open-dataset' | 'open-runs' | 'export-onnx';

export type StudioEvent =
  | {
      type: 'progress';
      runId: string;
      epoch: number;
      step: number;
      steps: number;
      loss: number;
      imagesPerSecond: number;
      etaSeconds: number;
      lr: number;
      imagesSeen: number;
    }
  | { type: 'epoch'; runId: string; metrics: EpochMetrics; confusion: number[][] }
  | { type: 'snapshot'; runId: string; epoch: number; params: Float32Array; buffers: Float32Array }
  | { type: 'run-status'; runId: string; status: RunStatus; reason?: string }
  | { type: 'model-opened'; model: ModelPayload }
  | { type: 'dataset-changed'; dataset: DatasetInfo }
  | { type: 'menu'; action: MenuAction }
  /** A problem outside any request (e.g. a file opened from the OS could not be read). */
  | { type: 'error'; message: string };

export interface StudioApi {
  appInfo(): Promise<AppInfo>;
  presets(): Promise<PresetInfo[]>;

  dataset(): Promise<DatasetInfo>;
  /** File → Open Dataset…: null when the user cancels. Problems reject with a message naming the file. */
  openDatasetDialog(): Promise<DatasetInfo | null>;
  openRecentDataset(path: string): Promise<DatasetInfo>;
  useEmbeddedDataset(): Promise<DatasetInfo>;
  /** At most 1000 images per call. */
  datasetImages(split: 'train' | 'test', start: number, count: number): Promise<DatasetSlice>;

  startRun(preset: string, settings: TrainSettings): Promise<{ runId: string }>;
  pauseRun(runId: string): Promise<void>;
  resumeRun(runId: string): Promise<void>;
  cancelRun(runId: string): Promise<void>;
  /** Continue a failed, cancelled or interrupted run from its last checkpoint. */
  continueRun(runId: string): Promise<void>;
  listRuns(): Promise<RunSummary[]>;
  getRun(runId: string): Promise<RunDetail>;
  runModel(runId: string, which: 'latest' | 'best'): Promise<ModelPayload>;

  /**
   * File → Open…: a `.lenet`, or a plain safetensors state_dict with LeNet-5 tensor names, imported
   * into `importAs` (a preset name) when its tensors fit, else into the first preset they fit.
   */
  openModelDialog(importAs?: string): Promise<ModelPayload | null>;
  /** A path from the recent list or a drop. */
  openModelPath(path: string): Promise<ModelPayload>;
  /**
   * A `.lenet` file dropped on the window. The preload resolves the File's path itself
   * (webUtils.getPathForFile), so the renderer never names a path.
   */
  openDroppedModel(file: File): Promise<ModelPayload>;
  /** Save (to the model's own file when it has one and saveAs is false) or Save As…; null when cancelled. */
  saveModel(model: ModelPayload, saveAs: boolean): Promise<{ path: string } | null>;
  /** File → Export → ONNX…: writes the model as ONNX where the user chooses; null when cancelled. */
  exportModel(model: ModelPayload, format: 'onnx'): Promise<{ path: string } | null>;
  recent(): Promise<{ datasets: string[]; models: string[] }>;
  evaluateModel(model: ModelPayload): Promise<EvaluationResult>;

  /** Subscribe to events; returns the unsubscribe function. */
  onEvent(listener: (e: StudioEvent) => void): () => void;
}
