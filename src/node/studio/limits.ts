// How many calls of each StudioApi method may run at once, and how many more may wait: the
// renderer is untrusted, and without a bound it could start thousands of dataset loads, model
// reads or dialogs at once. Beyond the bound a call fails at once with StudioError BUSY. The
// numbers leave room for what the window really does (both image splits loading, six runs being
// compared, a double-clicked Save) and no more.

import type { StudioMethod } from '../../common/channels';
import { StudioError } from './errors';

export interface CallLimit {
  /** Calls running at once. */
  running: number;
  /** Calls waiting for a free slot, in arrival order. */
  waiting: number;
}

const LIGHT: CallLimit = { running: 4, waiting: 16 };
/** A dialog is modal: one at a time, nothing waits behind it. */
const DIALOG: CallLimit = { running: 1, waiting: 0 };

export const CALL_LIMITS: { readonly [M in StudioMethod]: CallLimit } = {
  appInfo: LIGHT,
  presets: LIGHT,
  recent: LIGHT,
  dataset: LIGHT,
  listRuns: { running: 2, waiting: 8 },
  getRun: LIGHT,
  // Each loads a whole dataset (~55 MB for MNIST); the studio also runs them one after another.
  openDatasetDialog: DIALOG,
  openRecentDataset: { running: 1, waiting: 2 },
  useEmbeddedDataset: { running: 1, waiting: 2 },
  datasetImages: { running: 2, waiting: 8 },
  startRun: { running: 1, waiting: 0 },
  continueRun: { running: 1, waiting: 0 },
  pauseRun: { running: 1, waiting: 4 },
  resumeRun: { running: 1, waiting: 4 },
  cancelRun: { running: 1, waiting: 4 },
  // Model files are read whole (up to 256 MiB); payloads from the renderer hold up to 16 M values.
  runModel: { running: 2, waiting: 4 },
  openModelDialog: DIALOG,
  openModelPath: { running: 1, waiting: 4 },
  openDroppedModel: { running: 1, waiting: 4 },
  saveModel: { running: 1, waiting: 2 },
  exportModel: { running: 1, waiting: 2 },
  evaluateModel: { running: 2, waiting: 4 },
  // run.json edits are queued per run (runs/manage.ts); deleting removes a whole folder.
  updateRunNotes: LIGHT,
  deleteRun: { running: 1, waiting: 4 },
  // Reads every run folder, then a save dialog.
  exportRuns: DIALOG,
  // A dragged epoch slider asks for one snapshot at a time (the renderer drops stale requests).
  runEpochs: LIGHT,
  runEpochModel: { running: 2, waiting: 4 },
  runHealth: { running: 2, waiting: 4 },
  runHistory: { running: 1, waiting: 2 },
  // A forward pass over the test set and a projection (UMAP: seconds) on a worker thread each.
  embeddingProjection: { running: 1, waiting: 4 },
  runRobustness: { running: 1, waiting: 8 },
  cachedLabelIssues: { running: 1, waiting: 2 },
  // Trains K models: one at a time, nothing waits behind it.
  findLabelIssues: { running: 1, waiting: 0 },
  cancelLabelIssues: { running: 1, waiting: 2 },
  labelOverlay: { running: 1, waiting: 4 },
  saveLabelOverlay: { running: 1, waiting: 2 },
  startRunWithOverlay: { running: 1, waiting: 0 },
  // Reads a run's history (up to 60,000 images × epochs): one at a time, a few waiting.
  dataMap: { running: 1, waiting: 4 },
  listSweeps: { running: 2, waiting: 8 },
  // Each starts (or stops) training: one at a time.
  startSweep: { running: 1, waiting: 0 },
  stopSweep: { running: 1, waiting: 2 },
  resumeSweep: { running: 1, waiting: 0 },
  deleteSweep: { running: 1, waiting: 4 },
};

/** Runs calls within their method's CallLimit; a call beyond running + waiting is refused with BUSY. */
export class CallLimiter {
  private readonly state = new Map<string, { running: number; queue: (() => void)[] }>();

  constructor(private readonly limits: { readonly [method: string]: CallLimit } = CALL_LIMITS) {}

  async run<T>(method: string, f: () => Promise<T>): Promise<T> {
    const limit = Object.hasOwn(this.limits, method) ? this.limits[method] : { running: 1, waiting: 0 };
    let s = this.state.get(method);
    if (!s) this.state.set(method, (s = { running: 0, queue: [] }));
    if (s.running < limit.running) s.running++;
    else if (s.queue.length < limit.waiting)
      await new Promise<void>((go) => s.queue.push(go)); // the slot is handed over
    else {
      throw new StudioError(
        'BUSY',
        `${method}: too many calls at once (${limit.running} running${limit.waiting ? `, ${limit.waiting} waiting` : ''}); try again when they finish`,
      );
    }
    try {
      return await f();
    } finally {
      const next = s.queue.shift();
      if (next) next();
      else s.running--;
    }
  }
}
