// The data map's coordinates on cases worked by hand: the mean and the population standard
// deviation (divided by E) of the label's probability, the fraction of epochs right, and the
// region rule at and around its thresholds.

import { describe, expect, it } from 'vitest';
import { AMBIGUOUS_VARIABILITY, EASY_CONFIDENCE, dataMap, regionCounts, regionOf } from '../../../src/engine/data-lab/data-map';

describe('dataMap', () => {
  // Three images over three epochs, labels 0, 3, 2.
  //   A: p = 0.2, 0.6, 1.0, predicted 1, 0, 0 → μ = 0.6, σ² = (0.16 + 0 + 0.16)/3 = 0.10667,
  //      σ = 0.326599 (the sample deviation would be √0.16 = 0.4), right 2 of 3
  //   B: p = 0.9 three times, predicted 3 each time → μ = 0.9, σ = 0, right 3 of 3
  //   C: p = 0.1, 0.0, 0.2, predicted 5, 5, 2 → μ = 0.1, σ² = (0 + 0.01 + 0.01)/3, σ = 0.0816497, right 1 of 3
  const epochs = [
    { probability: [0.2, 0.9, 0.1], predicted: [1, 3, 5] },
    { probability: [0.6, 0.9, 0.0], predicted: [0, 3, 5] },
    { probability: [1.0, 0.9, 0.2], predicted: [0, 3, 2] },
  ];
  const labels = [0, 3, 2];

  it('confidence is the mean, variability the population standard deviation, correctness the fraction right', () => {
    const m = dataMap(epochs, labels);
    expect(m.count).toBe(3);
    expect(m.epochs).toBe(3);
    const close = (a: Float32Array, b: number[]): void => b.forEach((x, i) => expect(a[i]).toBeCloseTo(x, 6));
    close(m.confidence, [0.6, 0.9, 0.1]);
    close(m.variability, [0.326599, 0, 0.0816497]);
    close(m.correctness, [2 / 3, 1, 1 / 3]);
  });

  it('one epoch: variability 0, correctness 0 or 1', () => {
    const m = dataMap([{ probability: [0.3, 0.8], predicted: [4, 1] }], [1, 1]);
    expect(Array.from(m.variability)).toEqual([0, 0]);
    expect(Array.from(m.correctness)).toEqual([0, 1]);
    expect(m.confidence[0]).toBeCloseTo(0.3, 7);
  });

  it('refuses no epochs and arrays of the wrong length', () => {
    expect(() => dataMap([], [1])).toThrow(/at least one epoch/);
    expect(() => dataMap([{ probability: [0.5], predicted: [1, 2] }], [1, 2])).toThrow(/2 predictions/);
  });
});

describe('regions', () => {
  it('ambiguous from the variability threshold on, then easy from the confidence threshold on, else hard', () => {
    expect(AMBIGUOUS_VARIABILITY).toBe(0.2);
    expect(EASY_CONFIDENCE).toBe(0.5);
    expect(regionOf(0.6, 0.326599)).toBe('ambiguous');
    expect(regionOf(0.9, 0)).toBe('easy');
    expect(regionOf(0.1, 0.0816497)).toBe('hard');
    expect(regionOf(0.1, 0.2)).toBe('ambiguous');
    expect(regionOf(0.5, 0.199)).toBe('easy');
    expect(regionOf(0.499, 0.199)).toBe('hard');
  });

  it('counts the hand-worked map: one of each', () => {
    const m = dataMap(
      [
        { probability: [0.2, 0.9, 0.1], predicted: [1, 3, 5] },
        { probability: [0.6, 0.9, 0.0], predicted: [0, 3, 5] },
        { probability: [1.0, 0.9, 0.2], predicted: [0, 3, 2] },
      ],
      [0, 3, 2],
    );
    expect(regionCounts(m)).toEqual({ easy: 1, ambiguous: 1, hard: 1 });
  });
});
