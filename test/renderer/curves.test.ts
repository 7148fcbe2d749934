// What the charts plot: the debiased moving average, the epoch / images / training-time axes
// (interpolated within finished epochs, at the live rate after them) and a stored curve merged
// with the live points of the epoch in progress.

import { describe, expect, it } from 'vitest';
import { fromEpoch, fromImages, mergeStored, onAxis, smooth, timeline } from '../../src/renderer/src/lib/curves';

describe('smooth', () => {
  it('is debiased: a constant stays constant from the first point', () => {
    expect(
      smooth(
        [1, 2, 3].map((x) => ({ x, y: 5 })),
        0.9,
      ).map((p) => p.y),
    ).toEqual([5, 5, 5].map((v) => expect.closeTo(v, 12)));
  });
  it('follows s_t = β s_(t−1) + (1−β) y_t divided by 1 − β^t', () => {
    const ys = [4, 2, 7];
    const beta = 0.5;
    const got = smooth(
      ys.map((y, i) => ({ x: i, y })),
      beta,
    ).map((p) => p.y);
    // By hand: s1 = 2, w1 = .5 → 4; s2 = 1 + 1 = 2, w2 = .75 → 8/3; s3 = 1 + 3.5 = 4.5, w3 = .875 → 36/7.
    expect(got[0]).toBeCloseTo(4, 12);
    expect(got[1]).toBeCloseTo(8 / 3, 12);
    expect(got[2]).toBeCloseTo(36 / 7, 12);
  });
  it('0 leaves the points as they are', () => {
    const pts = [{ x: 1, y: 3 }];
    expect(smooth(pts, 0)).toEqual(pts);
  });
});

describe('x axes', () => {
  // 100 images per epoch; epoch 1 took 10 s, epoch 2 took 30 s.
  const tl = timeline(100, [
    { seconds: 10, imagesPerSecond: 10 },
    { seconds: 30, imagesPerSecond: 100 / 30 },
  ]);

  it('images → epochs and training time, linear within each epoch', () => {
    expect(fromImages('images', tl, 150)).toBe(150);
    expect(fromImages('epoch', tl, 150)).toBe(1.5);
    expect(fromImages('time', tl, 50)).toBeCloseTo(5, 12);
    expect(fromImages('time', tl, 100)).toBeCloseTo(10, 12);
    expect(fromImages('time', tl, 150)).toBeCloseTo(25, 12);
    expect(fromImages('time', tl, 200)).toBeCloseTo(40, 12);
  });

  it('past the last finished epoch: the live rate, else the last epoch’s, else unknown', () => {
    expect(fromImages('time', tl, 250)).toBeCloseTo(40 + 50 / (100 / 30), 9);
    const live = timeline(100, [{ seconds: 10, imagesPerSecond: 10 }], 50);
    expect(fromImages('time', live, 150)).toBeCloseTo(11, 12);
    expect(fromImages('time', timeline(100, []), 50)).toBeNaN();
    expect(fromImages('epoch', timeline(null, []), 50)).toBeNaN();
  });

  it('epoch ends on each axis', () => {
    expect([1, 2].map((e) => fromEpoch('epoch', tl, e))).toEqual([1, 2]);
    expect([1, 2].map((e) => fromEpoch('images', tl, e))).toEqual([100, 200]);
    expect([1, 2].map((e) => fromEpoch('time', tl, e))).toEqual([10, 40]);
    expect(fromEpoch('time', tl, 3)).toBeNaN();
  });

  it('points the axis cannot place yet are left out', () => {
    expect(
      onAxis(
        [
          { x: 1, y: 1 },
          { x: 2, y: 2 },
        ],
        (x) => (x > 1 ? Number.NaN : x * 10),
      ),
    ).toEqual([{ x: 10, y: 1 }]);
  });
});

describe('mergeStored', () => {
  it('keeps the stored curve and only the live points past the finished epochs', () => {
    const stored = [
      { x: 64, y: 2 },
      { x: 320, y: 1 },
    ];
    const live = [
      { x: 50, y: 9 },
      { x: 400, y: 8 },
      { x: 450, y: 7 },
    ];
    expect(mergeStored(stored, live, 400)).toEqual([...stored, { x: 450, y: 7 }]);
  });
});
