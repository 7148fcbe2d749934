// The renderer's API, exposed by the preload as `window.studio` (and, in browser tests, by the
// test host with the same shape), and the events main sends the window. Types only: the renderer
// imports this file with `import type`; the preload implements it with one function per method;
// main's IPC handlers check every argument with `API_ARGS` (api-schema.ts) first.
//
// Paths: the renderer never invents a file path. Paths it may pass back come from a dialog the
// main process opened, a drop (the preload resolves the dropped File), the recent lists or the
// OS (double-click, command line). Main checks every path against what it handed out.

import type { ModelSpec } from '../engine/spec';
import type {
  DatasetInfo,
  DatasetSlice,
  EpochEvent,
  Evaluation,
  ModelPayload,
  ProgressEvent,
  RunDetail,
  RunNotes,
  RunState,
  RunSummary,
  SnapshotEvent,
} from './records';
import type { TrainSettings } from './settings';
import type { EpochHealth, HealthFlag } from '../engine/health';
import type { LabelIssue } from '../engine/data-lab/confident';
import type { LabelOverlay, OverlayInfo } from './overlay';
import type { DataMapPayload } from './records';
import type { SweepFile, SweepSummary } from './sweep';

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

export type MenuAction = 'open-model' | 'save-model' | 'save-model-as' | 'open-dataset' | 'open-runs' | 'export-onnx';

export type StudioEvent =
  | ProgressEvent
  | EpochEvent
  | SnapshotEvent
  | { type: 'run-status'; runId: string; status: RunState; reason?: string }
  /** A note about a run that does not stop it, in plain words (its worker threads failed: it trains on one thread). */
  | { type: 'run-notice'; runId: string; message: string }
  | { type: 'model-opened'; model: ModelPayload }
  | { type: 'dataset-changed'; dataset: DatasetInfo }
  | { type: 'menu'; action: MenuAction }
  /** A problem outside any request (e.g. a file opened from the OS could not be read). */
  | { type: 'error'; message: string }
  /** How far the embedding map `key` (Projection.key) has come: images embedded, neighbours found, layout epochs. */
  | { type: 'projection-progress'; key: string; method: ProjectionMethod; phase: ProjectionPhase; done: number; total: number }
  /** How far the label-issue finder is (findLabelIssues), 0..1. */
  | { type: 'label-issues-progress'; fraction: number }
  /** A sweep started, stopped, or one of its runs started or ended. */
  | { type: 'sweep-changed'; sweep: SweepInfo };

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
  evaluateModel(model: ModelPayload): Promise<Evaluation>;
  /**
   * The test set as the model sees it: every test image's embedding projected to 2-D by PCA or
   * UMAP, computed off the main thread (UMAP sends `projection-progress` events) and cached per
   * model and split.
   */
  embeddingProjection(model: ModelPayload, method: ProjectionMethod): Promise<Projection>;

  /** Changes a run's name, notes, tags, hidden or archived (each key given replaces the stored one); returns the run as listed. */
  updateRunNotes(runId: string, notes: RunNotes): Promise<RunSummary>;
  /** Deletes a run's folder (the window asks the user first). Refused while the run is in progress. */
  deleteRun(runId: string): Promise<void>;
  /** Every run's per-epoch table and batch-loss curve as one CSV or JSON file where the user chooses; null when cancelled. */
  exportRuns(format: 'csv' | 'json'): Promise<{ path: string } | null>;
  /** The epochs of a run with a snapshot (epochs/NNN.lenet), ascending; [] when it keeps none. */
  runEpochs(runId: string): Promise<number[]>;
  /** The weights after `epoch` of a run (its epochs/NNN.lenet), as the model on screen "run X, epoch N". */
  runEpochModel(runId: string, epoch: number): Promise<ModelPayload>;
  /** A run's layer health per epoch (health.json), its flags, and each epoch's learning rate. */
  runHealth(runId: string): Promise<RunHealth>;
  /** A run's per-sample history of the test images (history.bin), compact; the run's dataset must be the current one. */
  runHistory(runId: string): Promise<TestHistory>;
  /**
   * Accuracy against ε of a run's latest model over the first ROBUSTNESS_IMAGES test images,
   * untargeted FGSM or PGD (ROBUSTNESS_PGD_STEPS steps) at ROBUSTNESS_EPS; computed by the
   * trainer process, cached per model.
   */
  runRobustness(runId: string, attack: 'fgsm' | 'pgd'): Promise<RobustnessCurve>;

  /** The label-issue ranking of the current dataset (the top 1,000) if the finder's probabilities are cached, else null. */
  cachedLabelIssues(): Promise<LabelIssue[] | null>;
  /** Runs the label-issue finder (K-fold training, `label-issues-progress` events), or answers from its cache. */
  findLabelIssues(): Promise<LabelIssue[]>;
  /** Stops the finder between two batches: its findLabelIssues call then fails with "the finder was cancelled". A no-op when none runs. */
  cancelLabelIssues(): Promise<void>;
  /** The current dataset's saved label overlay (an empty one when none is saved). */
  labelOverlay(): Promise<LabelOverlay>;
  /** Saves the current dataset's label overlay (overlays/<fingerprint>.json in the app's data folder). */
  saveLabelOverlay(overlay: LabelOverlay): Promise<OverlayInfo>;
  /** startRun on the current dataset with its saved label overlay applied. */
  startRunWithOverlay(preset: string, settings: TrainSettings): Promise<{ runId: string }>;
  /** A run's data map from its per-sample history; the run's dataset must be the current one. */
  dataMap(runId: string): Promise<DataMapPayload>;

  /** The app's sweeps (its sweeps folder), newest first. */
  listSweeps(): Promise<SweepInfo[]>;
  /**
   * Plans a sweep on the current dataset and starts its first run: `axes` as the CLI takes them
   * ("lr=0.01,0.05", "momentum=0.8..0.99" with `random`), each configuration with `seeds` seeds from
   * settings.seed on. Refused while a run or a sweep is training.
   */
  startSweep(request: SweepRequest): Promise<SweepInfo>;
  /** Stops a sweep: its run in progress is cancelled with its checkpoint kept. */
  stopSweep(sweepId: string): Promise<void>;
  /** Continues a stopped sweep: the run it stopped in from its checkpoint, then the rest. */
  resumeSweep(sweepId: string): Promise<void>;
  /** Forgets a sweep that is not training (its runs stay). */
  deleteSweep(sweepId: string): Promise<void>;

  /** Subscribe to events; returns the unsubscribe function. */
  onEvent(listener: (e: StudioEvent) => void): () => void;
}

/** A sweep to start from the window (startSweep). */
export interface SweepRequest {
  preset: string;
  /** The settings not swept, and the first seed. */
  settings: TrainSettings;
  /** NAME=A,B or NAME=LO..HI, as the CLI's sweep takes them. */
  axes: string[];
  /** Seeds per configuration. */
  seeds: number;
  /** Configurations drawn at random, or null for the whole grid. */
  random: number | null;
}

/** One of the app's sweeps: its queue, what it has found so far, and whether it is training. */
export interface SweepInfo {
  id: string;
  /** running: one of its runs is training; stopped: runs are left, none trains; done: every run ended. */
  state: 'running' | 'stopped' | 'done';
  sweep: SweepFile;
  summary: SweepSummary;
  /** Why it stopped on its own (a run could not start). */
  reason?: string;
}

/** A run's layer health: one record per epoch, the flags they raise, and each epoch's learning rate. */
export interface RunHealth {
  runId: string;
  epochs: EpochHealth[];
  flags: HealthFlag[];
  /** Learning rate and training loss per finished epoch (metrics.json). */
  metrics: { epoch: number; lr: number; trainLoss: number }[];
}

/**
 * The test images' per-sample history: epochs firstEpoch … firstEpoch + epochs − 1, each a block
 * of `count` bytes (epoch-major) in `predicted` and `probability` (the true class's, × 255
 * rounded); `labels` are the test labels of the dataset the run trained on.
 */
export interface TestHistory {
  runId: string;
  firstEpoch: number;
  epochs: number;
  count: number;
  classes: number;
  labels: Uint8Array;
  predicted: Uint8Array;
  probability: Uint8Array;
}

export type ProjectionMethod = 'pca' | 'umap';
export type ProjectionPhase = 'embedding' | 'neighbours' | 'layout';

/** A 2-D map of a split: point i is image i of the split. */
export interface Projection {
  /** Names this model + dataset + split + method (progress events carry it). */
  key: string;
  method: ProjectionMethod;
  split: 'test';
  count: number;
  x: Float32Array;
  y: Float32Array;
  labels: Uint8Array;
  predictions: Uint8Array;
  /** PCA: the share of the total variance along x and y. */
  explained?: [number, number];
  /** It came from the cache (memory or disk), not a new computation. */
  cached: boolean;
}

/** The ε grid, the image count and PGD's steps of `runRobustness`. */
export const ROBUSTNESS_EPS = [0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3] as const;
export const ROBUSTNESS_IMAGES = 1000;
export const ROBUSTNESS_PGD_STEPS = 10;

export interface RobustnessCurve {
  runId: string;
  attack: 'fgsm' | 'pgd';
  /** Test images attacked. */
  count: number;
  points: { eps: number; accuracy: number }[];
}
