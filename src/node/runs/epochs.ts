// epochs/NNN.lenet: the weights after each finished epoch, complete .lenet files whose metadata
// (training.epochsDone, metrics.final) names the epoch. `keep` decides which stay: every epoch
// (all), only the epoch best.lenet holds (best), or none.

import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { EpochMetrics } from '../../common/records';
import type { Model } from '../../engine/model';
import { mkdirs, nodeFs, removeStaleTempFiles, writeFileAtomic, type FsLayer } from '../files';
import { type CheckpointMeta, encodeRunModel } from './checkpoint';

export const EPOCHS_DIR = 'epochs';
export const KEEP_EPOCHS = ['all', 'best', 'none'] as const;
export type KeepEpochs = (typeof KEEP_EPOCHS)[number];

/** `epochs/007.lenet` for epoch 7 (1-based; at least three digits). */
export function epochFileName(epoch: number): string {
  return `${String(epoch).padStart(3, '0')}.lenet`;
}

export const EPOCH_FILE_PATTERN = /^(\d{3,5})\.lenet$/;

/** The epochs with a snapshot in the run folder, ascending. */
export async function listEpochFiles(dir: string): Promise<number[]> {
  const names = await readdir(join(dir, EPOCHS_DIR)).catch(() => [] as string[]);
  return names
    .map((n) => EPOCH_FILE_PATTERN.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/**
 * Writes the snapshot of the epoch just finished (the last of `history`) as `keep` asks;
 * `improved` says whether it is the new best (validation accuracy). With `best`, the previous
 * best's snapshot is removed once the new one is in place.
 */
export async function writeEpochModel(
  dir: string,
  model: Model,
  meta: CheckpointMeta,
  history: EpochMetrics[],
  keep: KeepEpochs,
  improved: boolean,
  fsl: FsLayer = nodeFs,
): Promise<void> {
  if (keep === 'none' || (keep === 'best' && !improved)) return;
  const epoch = history.length;
  const folder = join(dir, EPOCHS_DIR);
  await mkdirs(folder, fsl);
  await writeFileAtomic(join(folder, epochFileName(epoch)), encodeRunModel(model, meta, history), fsl);
  if (keep === 'best') {
    for (const e of await listEpochFiles(dir)) if (e !== epoch) await unlink(join(folder, epochFileName(e))).catch(() => undefined);
  }
}

/**
 * A resumed run redoes the epochs after its checkpoint: snapshots past `epochsDone` (written
 * before a crash that beat the checkpoint) and temp files of a killed save go.
 */
export async function trimEpochFiles(dir: string, epochsDone: number): Promise<void> {
  const folder = join(dir, EPOCHS_DIR);
  await removeStaleTempFiles(folder);
  for (const e of await listEpochFiles(dir)) if (e > epochsDone) await unlink(join(folder, epochFileName(e))).catch(() => undefined);
}
