// Seed groups: the one rule for "differs only by seed", and a group's mean curve with a band,
// checked on hand-computed values.

import { describe, expect, it } from 'vitest';
import { bandCurve, seedGroupKey } from '../../src/common/groups';
import type { EpochMetrics } from '../../src/common/records';
import type { TrainSettings } from '../../src/common/settings';

const S: TrainSettings = { epochs: 2, batchSize: 32, lr: 0.01, momentum: 0.9, decay: 0, schedule: { type: 'cosine' } as TrainSettings['schedule'] };
const key = (settings: TrainSettings, extra: Partial<Parameters<typeof seedGroupKey>[0]> = {}): string =>
  seedGroupKey({ preset: 'lenet5-relu-ce', settings, datasetFingerprint: 'f', ...extra });

describe('seedGroupKey', () => {
  it('runs that differ only by seed share a key, whatever the key order or spelled-out defaults', () => {
    expect(key({ ...S, seed: 1 })).toBe(key({ ...S, seed: 2 }));
    expect(key({ ...S, seed: 3, shuffle: true, augment: null })).toBe(key(S));
    const reordered = JSON.parse(JSON.stringify({ seed: 9, decay: 0, momentum: 0.9, lr: 0.01, batchSize: 32, epochs: 2, schedule: { type: 'cosine' } }));
    expect(key(reordered)).toBe(key(S));
  });
  it('any other difference makes another group', () => {
    const base = key(S);
    expect(key({ ...S, lr: 0.02 })).not.toBe(base);
    expect(key({ ...S, epochs: 3 })).not.toBe(base);
    expect(key({ ...S, shuffle: false })).not.toBe(base);
    expect(key({ ...S, augment: { shift: 2, rotateDeg: 10, scale: 0.1 } })).not.toBe(base);
    expect(key(S, { preset: 'lenet5-tanh-mse' })).not.toBe(base);
    expect(key(S, { datasetFingerprint: 'g' })).not.toBe(base);
    expect(key(S, { init: 'a.lenet' })).not.toBe(base);
    expect(key(S, { split: { limit: 1000, validation: 83 } })).not.toBe(key(S, { split: { limit: 1000, validation: 0 } }));
  });
});

const m = (epoch: number, testAccuracy: number): EpochMetrics => ({
  epoch,
  trainLoss: 0,
  trainAccuracy: 0,
  testLoss: 0,
  testAccuracy,
  seconds: 1,
  imagesPerSecond: 1,
  lr: 0.01,
});

describe('bandCurve', () => {
  const runs = [
    [m(1, 0.9), m(2, 0.97)],
    [m(1, 0.92), m(2, 0.98)],
    [m(1, 0.94)], // cut short after one epoch
  ];
  it('± std: mean and sample std over the runs that reached each epoch', () => {
    const c = bandCurve(runs, (x) => 1 - x.testAccuracy, 'std');
    expect(c.map((p) => p.n)).toEqual([3, 2]);
    expect(c[0].mean).toBeCloseTo(0.08, 12);
    expect(c[0].hi - c[0].mean).toBeCloseTo(0.02, 12); // errors 0.10, 0.08, 0.06: std 0.02
    expect(c[1].mean).toBeCloseTo(0.025, 12);
    expect(c[1].mean - c[1].lo).toBeCloseTo(Math.SQRT1_2 * 0.01, 12); // 0.03, 0.02: std 0.00707
  });
  it('95 % CI: t(n−1)·std/√n', () => {
    const c = bandCurve(runs, (x) => 1 - x.testAccuracy, 'ci95');
    expect(c[0].hi - c[0].mean).toBeCloseTo((4.3026527 * 0.02) / Math.sqrt(3), 6);
    expect(c[1].hi - c[1].mean).toBeCloseTo((12.7062047 * Math.SQRT1_2 * 0.01) / Math.SQRT2, 6);
  });
  it('one run: the band is the curve itself', () => {
    expect(bandCurve([[m(1, 0.9)]], (x) => x.testAccuracy, 'ci95')).toEqual([{ epoch: 1, n: 1, mean: 0.9, lo: 0.9, hi: 0.9 }]);
    expect(bandCurve([], (x) => x.testAccuracy, 'std')).toEqual([]);
  });
});
