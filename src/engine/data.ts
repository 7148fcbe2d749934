// A labelled image set as the engine sees it: uint8 pixels (kept as bytes until a batch is
// built) and uint8 labels. The IDX reader and the CSV loader both produce this.

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
