// A labelled image set as the engine sees it: uint8 pixels (kept as bytes until a batch is
// built) and uint8 labels. The IDX reader and the CSV loader both produce this.

import { SpecError } from './errors';
import { Rng } from './rng';

export interface ImageSet {
  count: number;
  rows: number;
  cols: number;
  /** count × channels × rows × cols bytes; channels = pixels.length / (count·rows·cols). */
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** The first `limit` items of a set (views, no copy). */
export function limitSet<T extends ImageSet>(set: T, limit: number | undefined): T {
  if (limit === undefined || limit >= set.count) return set;
  const per = set.pixels.length / set.count;
  return { ...set, count: limit, pixels: set.pixels.subarray(0, limit * per), labels: set.labels.subarray(0, limit) };
}

export interface SplitData {
  train: ImageSet;
  validation: ImageSet | null;
  test: ImageSet;
}

/** A different stream from init (seed) and shuffling (seed ^ 0x5eed5eed), so the split never moves either. */
const SPLIT_SALT = 0x7a11da7e;

export function gather(set: ImageSet, indices: Uint32Array): ImageSet {
  const per = set.pixels.length / set.count;
  const pixels = new Uint8Array(indices.length * per);
  const labels = new Uint8Array(indices.length);
  indices.forEach((src, i) => {
    pixels.set(set.pixels.subarray(src * per, (src + 1) * per), i * per);
    labels[i] = set.labels[src];
  });
  return { count: indices.length, rows: set.rows, cols: set.cols, pixels, labels };
}

/**
 * The first `limit` training images, minus `validation` of them held out. The held-out images
 * are the first `validation` of a permutation seeded by `seed`; both parts keep file order, so
 * `--no-shuffle` still means file order.
 */
export function splitData(data: { train: ImageSet; test: ImageSet }, limit: number | null, validation: number, seed: number): SplitData {
  const pool = limitSet(data.train, limit ?? undefined);
  if (validation <= 0) return { train: pool, validation: null, test: data.test };
  if (validation >= pool.count) {
    throw new SpecError('CONFIG_INVALID', `cannot hold out ${validation} validation images from ${pool.count} training images`);
  }
  const perm = new Uint32Array(pool.count);
  for (let i = 0; i < perm.length; i++) perm[i] = i;
  new Rng((seed ^ SPLIT_SALT) >>> 0).shuffle(perm);
  const held = perm.slice(0, validation).sort();
  const isHeld = new Uint8Array(pool.count);
  for (const i of held) isHeld[i] = 1;
  const kept = new Uint32Array(pool.count - validation);
  let k = 0;
  for (let i = 0; i < pool.count; i++) if (!isHeld[i]) kept[k++] = i;
  return { train: gather(pool, kept), validation: gather(pool, held), test: data.test };
}
