// What the renderer may send: a schema for the arguments of every StudioApi method, checked by
// main's IPC handlers and by the browser-test host before anything runs. Paths are only
// well-formed strings here; whether the app handed them out is the backend's check.

import type { ModelSpec } from '../engine/spec';
import type { StudioApi, SweepRequest } from './api';
import type { StudioMethod } from './channels';
import { RUN_ID_PATTERN, runNotesSchema, type ModelPayload } from './records';
import { TEMPERATURE_RANGE } from '../engine/calibration';
import { num } from './schema';
import { trainSettingsSchema } from './settings';
import { overlaySchema } from './overlay';
import { APP_SWEEP_LIMITS, MAX_CONFIGS, SWEEP_AXES } from './sweep';
import { arr, check, f32, int, json, literal, nullable, obj, optional, str, tuple, ValidationError, type Schema } from './schema';

/** Arguments as they arrive over IPC: like the API's, except a drop arrives as the path the preload resolved. */
export type IpcArgs<M extends StudioMethod> = M extends 'openDroppedModel' ? [path: string] : Parameters<StudioApi[M]>;

const runId = str({ pattern: RUN_ID_PATTERN, max: 128 });
const path = str({ min: 1, max: 4096 });
const MAX_VALUES = 16_000_000;

const sourceSchema: Schema<ModelPayload['source']> = {
  parse(v, p) {
    if ((v as { kind?: unknown } | null)?.kind === 'run') {
      return obj<{ kind: 'run'; runId: string; epoch: number }>({ kind: literal('run'), runId, epoch: int(0, 10_000) }).parse(v, p);
    }
    return obj<{ kind: 'file'; path: string }>({ kind: literal('file'), path }).parse(v, p);
  },
};

export const modelPayloadSchema: Schema<ModelPayload> = obj<ModelPayload>({
  spec: json() as Schema<ModelSpec>, // validateSpec runs when the backend builds the model
  params: f32({ max: MAX_VALUES }),
  buffers: f32({ max: MAX_VALUES }),
  preset: optional(str({ max: 100 })),
  source: sourceSchema,
  temperature: optional(num({ min: TEMPERATURE_RANGE.min, max: TEMPERATURE_RANGE.max })),
});

const sweepRequestSchema: Schema<SweepRequest> = obj<SweepRequest>({
  preset: str({ min: 1, max: 100 }),
  settings: trainSettingsSchema,
  axes: arr(str({ min: 1, max: 10_000 }), { max: SWEEP_AXES.length }),
  seeds: int(1, APP_SWEEP_LIMITS.seeds),
  random: nullable(int(1, MAX_CONFIGS)),
});

export const API_ARGS: { [M in StudioMethod]: Schema<IpcArgs<M>> } = {
  appInfo: tuple(),
  presets: tuple(),
  dataset: tuple(),
  openDatasetDialog: tuple(),
  openRecentDataset: tuple(path),
  useEmbeddedDataset: tuple(),
  datasetImages: tuple(literal('train', 'test'), int(0, 1e9), int(1, 1000)),
  startRun: tuple(str({ min: 1, max: 100 }), trainSettingsSchema),
  pauseRun: tuple(runId),
  resumeRun: tuple(runId),
  cancelRun: tuple(runId),
  continueRun: tuple(runId),
  listRuns: tuple(),
  getRun: tuple(runId),
  runModel: tuple(runId, literal('latest', 'best')),
  // [] or [preset name to import a plain safetensors file into]
  openModelDialog: {
    parse: (v, p) => (Array.isArray(v) && v.length === 0 ? ([] as []) : tuple(str({ pattern: /^[a-z0-9-]{1,64}$/ })).parse(v, p)),
  } as Schema<IpcArgs<'openModelDialog'>>,
  openModelPath: tuple(path),
  openDroppedModel: tuple(path),
  saveModel: tuple(modelPayloadSchema, literal(true, false)),
  exportModel: tuple(modelPayloadSchema, literal('onnx')),
  recent: tuple(),
  evaluateModel: tuple(modelPayloadSchema),
  updateRunNotes: tuple(runId, runNotesSchema),
  deleteRun: tuple(runId),
  exportRuns: tuple(literal('csv', 'json')),
  runEpochs: tuple(runId),
  runEpochModel: tuple(runId, int(1, 10_000)),
  runHealth: tuple(runId),
  runHistory: tuple(runId),
  embeddingProjection: tuple(modelPayloadSchema, literal('pca', 'umap')),
  runRobustness: tuple(runId, literal('fgsm', 'pgd')),
  cachedLabelIssues: tuple(),
  findLabelIssues: tuple(),
  cancelLabelIssues: tuple(),
  labelOverlay: tuple(),
  saveLabelOverlay: tuple(overlaySchema),
  startRunWithOverlay: tuple(str({ min: 1, max: 100 }), trainSettingsSchema),
  dataMap: tuple(runId),
  listSweeps: tuple(),
  startSweep: tuple(sweepRequestSchema),
  stopSweep: tuple(runId),
  resumeSweep: tuple(runId),
  deleteSweep: tuple(runId),
};

/** Checks raw IPC arguments for `method`; throws ValidationError ("startRun arguments: [1].lr: expected …"). */
export function parseArgs<M extends StudioMethod>(method: M, raw: unknown[]): IpcArgs<M> {
  // The browser-test host passes the method name from its socket: only API methods, not inherited names.
  if (typeof method !== 'string' || !Object.hasOwn(API_ARGS, method)) throw new ValidationError(`unknown method ${JSON.stringify(method)}`);
  return check(API_ARGS[method], raw, `${method} arguments`);
}
