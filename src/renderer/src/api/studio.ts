// The only module that touches `window.studio` (the preload's API, or the browser-test host's
// stand-in). Stores call these; components never do. Errors are rethrown with Electron's
// "Error invoking remote method 'studio:x': Error: " prefix removed, so messages read as written.

import type { StudioApi, StudioEvent } from '@common/api';

function clean(e: unknown): Error {
  const message = e instanceof Error ? e.message : String(e);
  return new Error(message.replace(/^Error invoking remote method '[^']*': /, '').replace(/^(?:[A-Za-z]*Error): /, ''));
}

function wrap<F extends (...a: never[]) => Promise<unknown>>(f: F): F {
  return (async (...args: Parameters<F>) => {
    try {
      return await f(...args);
    } catch (e) {
      throw clean(e);
    }
  }) as F;
}

const api = (): StudioApi => {
  if (!window.studio) throw new Error('window.studio is missing: the preload did not run');
  return window.studio;
};

type Methods = Omit<StudioApi, 'onEvent'>;
export const studio: Methods = {
  appInfo: wrap(() => api().appInfo()),
  presets: wrap(() => api().presets()),
  dataset: wrap(() => api().dataset()),
  openDatasetDialog: wrap(() => api().openDatasetDialog()),
  openRecentDataset: wrap((p: string) => api().openRecentDataset(p)),
  useEmbeddedDataset: wrap(() => api().useEmbeddedDataset()),
  datasetImages: wrap((split: 'train' | 'test', start: number, count: number) => api().datasetImages(split, start, count)),
  startRun: wrap((preset: string, settings: Parameters<StudioApi['startRun']>[1]) => api().startRun(preset, settings)),
  pauseRun: wrap((id: string) => api().pauseRun(id)),
  resumeRun: wrap((id: string) => api().resumeRun(id)),
  cancelRun: wrap((id: string) => api().cancelRun(id)),
  continueRun: wrap((id: string) => api().continueRun(id)),
  listRuns: wrap(() => api().listRuns()),
  getRun: wrap((id: string) => api().getRun(id)),
  runModel: wrap((id: string, which: 'latest' | 'best') => api().runModel(id, which)),
  openModelDialog: wrap((importAs?: string) => api().openModelDialog(importAs)),
  openModelPath: wrap((p: string) => api().openModelPath(p)),
  openDroppedModel: wrap((f: File) => api().openDroppedModel(f)),
  saveModel: wrap((m: Parameters<StudioApi['saveModel']>[0], saveAs: boolean) => api().saveModel(m, saveAs)),
  recent: wrap(() => api().recent()),
  exportModel: wrap((m: Parameters<StudioApi['exportModel']>[0], format: 'onnx') => api().exportModel(m, format)),
  evaluateModel: wrap((m: Parameters<StudioApi['evaluateModel']>[0]) => api().evaluateModel(m)),
  updateRunNotes: wrap((id: string, notes: Parameters<StudioApi['updateRunNotes']>[1]) => api().updateRunNotes(id, notes)),
  deleteRun: wrap((id: string) => api().deleteRun(id)),
  exportRuns: wrap((format: 'csv' | 'json') => api().exportRuns(format)),
  runEpochs: wrap((id: string) => api().runEpochs(id)),
  runEpochModel: wrap((id: string, epoch: number) => api().runEpochModel(id, epoch)),
  runHealth: wrap((id: string) => api().runHealth(id)),
  runHistory: wrap((id: string) => api().runHistory(id)),
  embeddingProjection: wrap((m: Parameters<StudioApi['embeddingProjection']>[0], method: 'pca' | 'umap') => api().embeddingProjection(m, method)),
  runRobustness: wrap((id: string, attack: 'fgsm' | 'pgd') => api().runRobustness(id, attack)),
  cachedLabelIssues: wrap(() => api().cachedLabelIssues()),
  findLabelIssues: wrap(() => api().findLabelIssues()),
  cancelLabelIssues: wrap(() => api().cancelLabelIssues()),
  labelOverlay: wrap(() => api().labelOverlay()),
  saveLabelOverlay: wrap((o: Parameters<StudioApi['saveLabelOverlay']>[0]) => api().saveLabelOverlay(o)),
  startRunWithOverlay: wrap((preset: string, settings: Parameters<StudioApi['startRunWithOverlay']>[1]) => api().startRunWithOverlay(preset, settings)),
  dataMap: wrap((id: string) => api().dataMap(id)),
  listSweeps: wrap(() => api().listSweeps()),
  startSweep: wrap((request: Parameters<StudioApi['startSweep']>[0]) => api().startSweep(request)),
  stopSweep: wrap((id: string) => api().stopSweep(id)),
  resumeSweep: wrap((id: string) => api().resumeSweep(id)),
  deleteSweep: wrap((id: string) => api().deleteSweep(id)),
};

export function onStudioEvent(listener: (e: StudioEvent) => void): () => void {
  return api().onEvent(listener);
}
