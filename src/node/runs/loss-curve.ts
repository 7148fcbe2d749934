// The downsampled batch-loss curve of a run (loss.json, and in the checkpoint's resume state).

import { arr, nullable, num, obj, optional, tuple, type Schema } from '../../common/schema';

export interface CurveState {
  /** [images seen, mean batch loss of the batches since the previous point]: raw, not smoothed (the charts smooth). */
  points: [number, number][];
  /** A point is kept every `every` images; doubled whenever the curve reaches MAX points. */
  every: number;
  nextAt: number;
  /** The batches since the last point: their loss summed, and how many. */
  sum?: number;
  n?: number;
  /** Read from older runs' files (which kept a smoothed curve), never written. */
  ema?: number | null;
}

export const curveSchema: Schema<CurveState> = obj<CurveState>({
  points: arr(tuple<[number, number]>(num({ min: 0 }), num()), { max: 100_000 }),
  every: num({ min: 1 }),
  nextAt: num({ min: 0 }),
  sum: optional(num()),
  n: optional(num({ min: 0 })),
  ema: optional(nullable(num())),
});

/**
 * The downsampled batch-loss curve. Each point is the mean loss of the batches since the one
 * before, the same kind of number the live progress events carry, so the chart of a reloaded run
 * and of a live one show the same data under the same smoothing. Points are evenly spaced in
 * images seen; when there are MAX of them, each pair becomes its mean and the spacing doubles, so
 * a run of any length keeps between MAX/2 and MAX points. Deterministic; its state lives in the checkpoint.
 */
export class LossCurve {
  static readonly MAX = 1000;
  state: CurveState;

  constructor(state?: CurveState, firstEvery = 256) {
    this.state = state
      ? { points: state.points.map((p) => [p[0], p[1]]), every: state.every, nextAt: state.nextAt, sum: state.sum ?? 0, n: state.n ?? 0 }
      : { points: [], every: firstEvery, nextAt: 0, sum: 0, n: 0 };
  }

  add(imagesSeen: number, batchLoss: number): void {
    const s = this.state;
    s.sum = (s.sum ?? 0) + batchLoss;
    s.n = (s.n ?? 0) + 1;
    if (imagesSeen < s.nextAt) return;
    s.points.push([imagesSeen, s.sum / s.n]);
    s.sum = 0;
    s.n = 0;
    s.nextAt = imagesSeen + s.every;
    if (s.points.length >= LossCurve.MAX) {
      // MAX is even: each pair (2i, 2i+1) becomes one point at the later x, the newest among them.
      const p = s.points;
      s.points = p.flatMap((q, i) => (i % 2 === 1 ? [[q[0], (p[i - 1][1] + q[1]) / 2] as [number, number]] : []));
      s.every *= 2;
      s.nextAt = s.points[s.points.length - 1][0] + s.every;
    }
  }
}
