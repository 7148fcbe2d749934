// Exposes `window.studio`: one function per API method, each a single ipcRenderer.invoke on its
// own channel. Nothing from Node and no raw ipcRenderer reaches the page; event listeners get the
// event payload only, never the IpcRendererEvent (which would hand out `sender`).

import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { StudioApi, StudioEvent } from '@common/api';
import { EVENT_CHANNEL, type StudioMethod, channel } from '@common/channels';

type Args<M extends StudioMethod> = Parameters<StudioApi[M]>;
type Result<M extends StudioMethod> = ReturnType<StudioApi[M]>;

function invoke<M extends StudioMethod>(method: M, ...args: Args<M>): Result<M> {
  return ipcRenderer.invoke(channel(method), ...args) as Result<M>;
}

const api: StudioApi = {
  appInfo: () => invoke('appInfo'),
  presets: () => invoke('presets'),

  dataset: () => invoke('dataset'),
  openDatasetDialog: () => invoke('openDatasetDialog'),
  openRecentDataset: (path) => invoke('openRecentDataset', path),
  useEmbeddedDataset: () => invoke('useEmbeddedDataset'),
  datasetImages: (split, start, count) => invoke('datasetImages', split, start, count),

  startRun: (preset, settings) => invoke('startRun', preset, settings),
  pauseRun: (runId) => invoke('pauseRun', runId),
  resumeRun: (runId) => invoke('resumeRun', runId),
  cancelRun: (runId) => invoke('cancelRun', runId),
  continueRun: (runId) => invoke('continueRun', runId),
  listRuns: () => invoke('listRuns'),
  getRun: (runId) => invoke('getRun', runId),
  runModel: (runId, which) => invoke('runModel', runId, which),

  openModelDialog: (importAs) => (importAs === undefined ? invoke('openModelDialog') : invoke('openModelDialog', importAs)),
  openModelPath: (path) => invoke('openModelPath', path),
  // The path comes from Electron for a File the user dropped; the page cannot choose it.
  openDroppedModel: (file) => {
    const path = file instanceof File ? webUtils.getPathForFile(file) : '';
    if (!path) return Promise.reject(new Error('only a file dropped from disk can be opened'));
    return ipcRenderer.invoke(channel('openDroppedModel'), path) as ReturnType<StudioApi['openDroppedModel']>;
  },
  saveModel: (model, saveAs) => invoke('saveModel', model, saveAs),
  exportModel: (model, format) => invoke('exportModel', model, format),
  recent: () => invoke('recent'),
  evaluateModel: (model) => invoke('evaluateModel', model),
  updateRunNotes: (runId, notes) => invoke('updateRunNotes', runId, notes),
  deleteRun: (runId) => invoke('deleteRun', runId),
  exportRuns: (format) => invoke('exportRuns', format),
  runEpochs: (runId) => invoke('runEpochs', runId),
  runEpochModel: (runId, epoch) => invoke('runEpochModel', runId, epoch),
  runHealth: (runId) => invoke('runHealth', runId),
  runHistory: (runId) => invoke('runHistory', runId),
  embeddingProjection: (model, method) => invoke('embeddingProjection', model, method),
  runRobustness: (runId, attack) => invoke('runRobustness', runId, attack),
  cachedLabelIssues: () => invoke('cachedLabelIssues'),
  findLabelIssues: () => invoke('findLabelIssues'),
  cancelLabelIssues: () => invoke('cancelLabelIssues'),
  labelOverlay: () => invoke('labelOverlay'),
  saveLabelOverlay: (overlay) => invoke('saveLabelOverlay', overlay),
  startRunWithOverlay: (preset, settings) => invoke('startRunWithOverlay', preset, settings),
  dataMap: (runId) => invoke('dataMap', runId),
  listSweeps: () => invoke('listSweeps'),
  startSweep: (request) => invoke('startSweep', request),
  stopSweep: (sweepId) => invoke('stopSweep', sweepId),
  resumeSweep: (sweepId) => invoke('resumeSweep', sweepId),
  deleteSweep: (sweepId) => invoke('deleteSweep', sweepId),

  onEvent: (listener) => {
    const wrapped = (_e: IpcRendererEvent, event: StudioEvent): void => listener(event);
    ipcRenderer.on(EVENT_CHANNEL, wrapped);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('studio', api);
