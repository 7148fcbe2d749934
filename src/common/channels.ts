// IPC channel names, in one place for the preload and main (no string literals elsewhere).
// One channel per StudioApi method (Electron's advice: one function per message), plus one for
// events from main to the window. Constants only: the sandboxed preload bundles this file.

import type { StudioApi } from './api';

/** Methods the renderer calls through ipcRenderer.invoke (everything but onEvent). */
export type StudioMethod = Exclude<keyof StudioApi, 'onEvent'>;

/** Every invoke channel, so main can check it handles each one. */
export const STUDIO_METHODS = [
  'appInfo',
  'presets',
  'dataset',
  'openDatasetDialog',
  'openRecentDataset',
  'useEmbeddedDataset',
  'datasetImages',
  'startRun',
  'pauseRun',
  'resumeRun',
  'cancelRun',
  'continueRun',
  'listRuns',
  'getRun',
  'runModel',
  'openModelDialog',
  'openModelPath',
  'openDroppedModel',
  'saveModel',
  'exportModel',
  'recent',
  'evaluateModel',
  'updateRunNotes',
  'deleteRun',
  'exportRuns',
  'runEpochs',
  'runEpochModel',
  'runHealth',
  'runHistory',
  'embeddingProjection',
  'runRobustness',
  'cachedLabelIssues',
  'findLabelIssues',
  'cancelLabelIssues',
  'labelOverlay',
  'saveLabelOverlay',
  'startRunWithOverlay',
  'dataMap',
  'listSweeps',
  'startSweep',
  'stopSweep',
  'resumeSweep',
  'deleteSweep',
] as const satisfies readonly StudioMethod[];

// Compile-time proof that the list is complete.
type Missing = Exclude<StudioMethod, (typeof STUDIO_METHODS)[number]>;
const _complete: Missing extends never ? true : Missing = true;
void _complete;

export function channel(method: StudioMethod): string {
  return `studio:${method}`;
}

export const EVENT_CHANNEL = 'studio:event';
