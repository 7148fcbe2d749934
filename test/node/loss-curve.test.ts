// The stored batch-loss curve holds raw means of the batches between points (the charts smooth,
// live and reloaded alike), halves by averaging pairs, and reads the files of older runs.

import { describe, expect, it } from 'vitest';
import { LossCurve, curveSchema } from '../../src/node/runs/loss-curve';

describe('LossCurve points', () => {
  it('each point is the plain mean of the batch losses since the previous point', () => {
    const c = new LossCurve(undefined, 40);
    const losses = [5, 1, 2, 3, 4, 10, 20, 30, 6];
    losses.forEach((l, i) => c.add((i + 1) * 10, l));
    // Points at 10 (first batch), then every 40 images: 50 and 90.
    expect(c.state.points).toEqual([
      [10, 5],
      [50, (1 + 2 + 3 + 4) / 4],
      [90, (10 + 20 + 30 + 6) / 4],
    ]);
  });

  it('at MAX points, each pair becomes its mean at the later x', () => {
    const c = new LossCurve(undefined, 1);
    for (let i = 1; i <= LossCurve.MAX; i++) c.add(i, i);
    const pts = c.state.points;
    expect(pts.length).toBe(LossCurve.MAX / 2);
    expect(pts[0]).toEqual([2, 1.5]);
    expect(pts.at(-1)).toEqual([LossCurve.MAX, LossCurve.MAX - 0.5]);
    expect(c.state.every).toBe(2);
  });

  it('reads an older run’s state (smoothed points, an ema field) and goes on with raw means', () => {
    const old = curveSchema.parse({ points: [[256, 2.1]], every: 256, nextAt: 512, ema: 2.05 }, 'loss.json');
    const c = new LossCurve(old);
    c.add(300, 1);
    c.add(600, 3);
    expect(c.state.points).toEqual([
      [256, 2.1],
      [600, 2],
    ]);
    expect('ema' in c.state).toBe(false);
  });
});
