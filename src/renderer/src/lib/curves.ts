// What the charts plot, before Chart.js sees it: the moving average over the batch loss (the same
// for a live run, a reloaded one and Compare), the x axis a person picks (epochs, images seen or
// training time) and merging a run's stored curve with the live points that came after it. No DOM.

export interface Point {
  x: number;
  y: number;
}

export type XAxis = 'epoch' | 'images' | 'time';

export const X_AXES: { value: XAxis; label: string; title: string }[] = [
  { value: 'epoch', label: 'epochs', title: 'epoch' },
  { value: 'images', label: 'images', title: 'images seen' },
  { value: 'time', label: 'time', title: 'training time (s)' },
];

export const axisTitle = (axis: XAxis): string => X_AXES.find((a) => a.value === axis)!.title;

/**
 * Exponential moving average with weight `beta` on the past, debiased (divided by the weight
 * summed so far, as TensorBoard does), so the first points are not pulled towards 0.
 */
export function smooth(points: readonly Point[], beta: number): Point[] {
  if (beta <= 0) return points.slice();
  let s = 0;
  let w = 0;
  return points.map((p) => {
    s = beta * s + (1 - beta) * p.y;
    w = beta * w + (1 - beta);
    return { x: p.x, y: s / w };
  });
}

/** Where a run's epochs end, in images seen and training seconds (evaluation excluded). */
export interface Timeline {
  /** Images trained on per epoch (null: not known yet). */
  trainCount: number | null;
  /** Training seconds at the end of each epoch, from the start: ends[k-1] for epoch k. */
  ends: number[];
  /** Images per second past the last finished epoch (the live rate, or the last epoch's). */
  rate: number | null;
}

export function timeline(trainCount: number | null, epochs: readonly { seconds: number; imagesPerSecond: number }[], liveRate: number | null = null): Timeline {
  const ends: number[] = [];
  let t = 0;
  for (const m of epochs) ends.push((t += m.seconds));
  const last = epochs.at(-1);
  const rate = liveRate !== null && liveRate > 0 ? liveRate : last && last.imagesPerSecond > 0 ? last.imagesPerSecond : null;
  return { trainCount, ends, rate };
}

/** An x in images seen on the chosen axis (NaN when the timeline cannot place it yet). */
export function fromImages(axis: XAxis, tl: Timeline, images: number): number {
  if (axis === 'images') return images;
  const n = tl.trainCount;
  if (!n) return Number.NaN;
  if (axis === 'epoch') return images / n;
  // Training time: linear within each finished epoch, at the live rate after the last one.
  const k = Math.floor(images / n);
  const start = k === 0 ? 0 : tl.ends[k - 1];
  if (start === undefined) return Number.NaN;
  const end = tl.ends[k];
  const frac = images / n - k;
  if (end !== undefined) return start + frac * (end - start);
  if (frac === 0) return start;
  return tl.rate ? start + (images - k * n) / tl.rate : Number.NaN;
}

/** Where the end of epoch `epoch` (from 1) sits on the chosen axis. */
export function fromEpoch(axis: XAxis, tl: Timeline, epoch: number): number {
  if (axis === 'epoch') return epoch;
  if (axis === 'images') return tl.trainCount ? epoch * tl.trainCount : Number.NaN;
  return tl.ends[epoch - 1] ?? Number.NaN;
}

/** Points moved onto another x axis; those it cannot place yet are left out. */
export function onAxis(points: readonly Point[], x: (v: number) => number): Point[] {
  const out: Point[] = [];
  for (const p of points) {
    const v = x(p.x);
    if (Number.isFinite(v)) out.push({ x: v, y: p.y });
  }
  return out;
}

/**
 * A run's stored curve (complete up to the last finished epoch) followed by the live points of
 * the epoch in progress, i.e. those past `upTo` images. The live points of finished epochs are
 * dropped: the stored ones stand for them, so the curve on screen is the one reopening the run shows.
 */
export function mergeStored(stored: readonly Point[], live: readonly Point[], upTo: number): Point[] {
  return [...stored, ...live.filter((p) => p.x > upTo)];
}
