// The renderer's API, exposed by the preload as `window.studio` (and, in browser tests, by the
// test host with the same shape), and the events main sends the window. Types only: the renderer
// imports this file with `import type`; the preload implements it with one function per method;
// main's IPC handlers check every argument with `API_ARGS` (api-schema.ts) first.
//
// Paths: the renderer never invents a file path. Paths it may pass back come from a dialog the
// main process opened, a drop (the preload resolves the dropped File), the recent lists or the
// OS (double-click, command line). Main checks every path against what it handed out.

import type { ModelSpec } from '../engine/spec';
import type { DatasetInfo, DatasetSlice, EpochEvent, Evaluation, ModelPayload, ProgressEvent, RunDetail, RunState, RunSummary, SnapshotEvent } from './records';
import type { TrainSettings } from './settings';
import type { DataMapPayload } from './records';

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
  evaluateModel(model: ModelPayload): Promise<Evaluation>;
  /** A run's data map from its per-sample history; the run's dataset must be the current one. */
  dataMap(runId: string): Promise<DataMapPayload>;

  /** Subscribe to events; returns the unsubscribe function. */
  onEvent(listener: (e: StudioEvent) => void): () => void;
}
