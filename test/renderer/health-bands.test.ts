// Percentiles from a health histogram, worked by hand, and a layer's band over epochs.

import { describe, expect, it } from 'vitest';
import type { RunHealth } from '../../src/common/api';
import type { EpochHealth, Stats } from '../../src/engine/health';
import { healthMarkers, histogramPercentile, layerBand, layersWith } from '../../src/renderer/src/lib/health-bands';

describe('histogram percentiles', () => {
  // Bins [0,1) [1,2) [2,3) [3,4] holding 2, 0, 6, 2 values (10 in all).
  const h = { edges: [0, 1, 2, 3, 4], counts: [2, 0, 6, 2] };
  it('interpolate inside the bin where the share is reached', () => {
    expect(histogramPercentile(h, 10)).toBeCloseTo(0.5); // 1 of 10: halfway through bin 0's 2
    expect(histogramPercentile(h, 20)).toBeCloseTo(1); // all of bin 0 (the empty bin 1 is skipped)
    expect(histogramPercentile(h, 50)).toBeCloseTo(2.5); // 5: 3 into bin 2's 6
    expect(histogramPercentile(h, 95)).toBeCloseTo(3.75); // 9.5: 1.5 into bin 3's 2
    expect(histogramPercentile(h, 0)).toBe(0);
    expect(histogramPercentile(h, 100)).toBe(4);
  });
  it('an empty histogram has no percentiles', () => {
    expect(histogramPercentile({ edges: [0, 1], counts: [0] }, 50)).toBeNaN();
  });
});

const stats = (lo: number, hi: number): Stats => ({
  count: 4,
  mean: 0,
  std: 0,
  min: lo,
  max: hi,
  histogram: { edges: [lo, (lo + hi) / 2, hi], counts: [2, 2] },
});
const epochs: EpochHealth[] = [
  { epoch: 1, steps: 10, layers: [{ name: 'C1', kind: 'conv2d', weight: stats(-1, 1), activation: stats(0, 2), updateToWeight: 1e-3 }] },
  {
    epoch: 2,
    steps: 10,
    layers: [
      { name: 'C1', kind: 'conv2d', weight: stats(-2, 2), activation: stats(0, 4) },
      { name: 'r1', kind: 'activation', fn: 'relu', activation: stats(0, 1), deadFraction: 0.25 },
    ],
  },
];

describe('a layer over epochs', () => {
  it('gives p5, p25, p50, p75, p95 per epoch, or a scalar five times; epochs without the value are left out', () => {
    expect(layerBand(epochs, 'C1', 'weight')).toEqual(
      [
        { epoch: 1, p: [-0.9, -0.5, 0, 0.5, 0.9] },
        { epoch: 2, p: [-1.8, -1, 0, 1, 1.8] },
      ].map((e) => ({ epoch: e.epoch, p: e.p.map((v) => expect.closeTo(v, 10)) })),
    );
    expect(layerBand(epochs, 'C1', 'updateToWeight')).toEqual([{ epoch: 1, p: [1e-3, 1e-3, 1e-3, 1e-3, 1e-3] }]);
    expect(layerBand(epochs, 'r1', 'fraction')).toEqual([{ epoch: 2, p: [0.25, 0.25, 0.25, 0.25, 0.25] }]);
  });
  it('lists the layers with a statistic in model order, and markers for lr changes and resumes', () => {
    const h: RunHealth = {
      runId: 'r',
      epochs,
      metrics: [
        { epoch: 1, lr: 0.1, trainLoss: 1 },
        { epoch: 2, lr: 0.01, trainLoss: 0.5 },
      ],
      flags: [
        { epoch: 2, layer: null, kind: 'lr-jump', message: '' },
        { epoch: 2, layer: null, kind: 'resume', message: '' },
        { epoch: 2, layer: 'r1', kind: 'dead-relu', message: '' },
      ],
    };
    expect(layersWith(h, 'weight')).toEqual(['C1']);
    expect(layersWith(h, 'activation')).toEqual(['C1', 'r1']);
    expect(healthMarkers(h)).toEqual([
      { x: 2, label: 'lr 0.010' },
      { x: 2, label: 'resumed' },
    ]);
  });
});
