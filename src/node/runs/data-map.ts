// A run's data map (src/engine/data-lab/data-map.ts) from its per-sample history (history.bin):
// every recorded epoch, the training images the run trained on. Images held out for validation
// are not on the map (the model never learned from them, so they have no training dynamics), and
// images past a run's --limit are not in its history at all. The labels come from the caller,
// which reads the dataset the run was trained on.

import { join } from 'node:path';
import { dataMap, type DataMap, type EpochPredictions } from '../../engine/data-lab/data-map';
import type { DatasetInfo } from '../../common/records';
import { readRunConfig } from './folder';
import { HISTORY_FILE, ROLE_TRAIN, readSampleHistory } from './history';
import { RunFolderError } from './layout';

export interface RunDataMap {
  /** The dataset the run was trained on, as run.json records it. */
  dataset: DatasetInfo;
  /** Training images the history covers (the first `limit` of the file, validation included). */
  fileCount: number;
  /** First and last recorded epoch. */
  firstEpoch: number;
  lastEpoch: number;
  /** For each of the fileCount images: 1 when it was trained on (on the map), 0 when held out. */
  trained: Uint8Array;
  /** The map over all fileCount images, in file order (held-out images included; see `trained`). */
  map: DataMap;
}

/** Thrown when the run recorded no per-sample history: the caller words it for its users. */
export class NoHistoryError extends RunFolderError {
  constructor(readonly dir: string) {
    super('RUN_NOT_FOUND', `${dir} has no per-sample history (${HISTORY_FILE}): the run was trained with --history off or before it was recorded`);
  }
}

/**
 * Reads the run in `dir` and its history and computes the map. `labels(dataset)` gives the
 * training labels of the dataset the run names (at least as many as the history covers); a
 * dataset with other labels than the run's (its fingerprint differs) is the caller's check.
 * Damage → RunFolderError naming the file.
 */
export async function readRunDataMap(dir: string, labels: (dataset: DatasetInfo) => Promise<Uint8Array>): Promise<RunDataMap> {
  const config = await readRunConfig(dir);
  const history = await readSampleHistory(dir);
  if (!history) throw new NoHistoryError(dir);
  const { info } = history;
  const file = join(dir, HISTORY_FILE);
  const pool = config.limit ?? config.dataset.trainCount;
  if (info.trainCount !== pool) {
    throw new RunFolderError('RUN_INVALID', `${file}: it covers ${info.trainCount} training images, but the run trained on the first ${pool}`);
  }
  if (info.epochs === 0) throw new RunFolderError('RUN_INVALID', `${file}: no epoch is recorded yet`);
  const all = await labels(config.dataset);
  if (all.length < pool) throw new RunFolderError('RUN_MISMATCH', `the dataset has ${all.length} training images, the run's history ${pool}`);
  const epochs: EpochPredictions[] = [];
  for (let e = info.firstEpoch; e < info.firstEpoch + info.epochs; e++) {
    const s = history.epoch(e);
    epochs.push({ probability: s.trainProbability, predicted: s.trainPredicted });
  }
  const trained = new Uint8Array(pool);
  for (let i = 0; i < pool; i++) trained[i] = info.roles[i] === ROLE_TRAIN ? 1 : 0;
  return {
    dataset: config.dataset,
    fileCount: pool,
    firstEpoch: info.firstEpoch,
    lastEpoch: info.firstEpoch + info.epochs - 1,
    trained,
    map: dataMap(epochs, all.subarray(0, pool)),
  };
}
