// The downsampled batch-loss curve of a run (loss.json, and in the checkpoint's resume state).

import { arr, nullable, num, obj, tuple, type Schema } from '../../common/schema';

export interface CurveState {
  /** [images seen, exponentially smoothed batch loss]. */
  points: [number, number][];
  /** A point is kept every `every` images; doubled whenever the curve reaches MAX points. */
  every: number;
  nextAt: number;
  ema: number | null;
}

export const curveSchema: Schema<CurveState> = obj<CurveState>({
  points: arr(tuple<[number, number]>(num({ min: 0 }), num()), { max: 100_000 }),
  every: num({ min: 1 }),
  nextAt: num({ min: 0 }),
  ema: nullable(num()),
});

/**
 * The downsampled batch-loss curve. Points are evenly spaced in images seen; when there are
 * MAX of them, every other one is dropped and the spacing doubles, so a run of any length keeps
 * between MAX/2 and MAX points. Deterministic, and its state lives in the checkpoint.
 */
export class LossCurve {
  static readonly MAX = 1000;
  /** Smoothing per batch: about the last 50 batches count. */
  static readonly ALPHA = 0.02;
  state: CurveState;

  constructor(state?: CurveState, firstEvery = 256) {
    this.state = state ? { ...state, points: state.points.map((p) => [p[0], p[1]]) } : { points: [], every: firstEvery, nextAt: 0, ema: null };
  }

  add(imagesSeen: number, batchLoss: number): void {
    const s = this.state;
    s.ema = s.ema === null ? batchLoss : s.ema + LossCurve.ALPHA * (batchLoss - s.ema);
    if (imagesSeen < s.nextAt) return;
    s.points.push([imagesSeen, s.ema]);
    s.nextAt = imagesSeen + s.every;
    if (s.points.length >= LossCurve.MAX) {
      // MAX is even, so the newest point is among those kept.
      s.points = s.points.filter((_, i) => i % 2 === 1);
      s.every *= 2;
      s.nextAt = s.points[s.points.length - 1][0] + s.every;
    }
  }
}
