// The Evaluate and Compare views' numbers: per-class report, row-normalised rates, cell and
// misclassified galleries in confidence order, and fixed/broke digits between two models.

import { describe, expect, it } from 'vitest';
import { cellDigits, cellTones, classReport, fixedBroken, misclassified, rowNormalised } from '../../src/renderer/src/lib/metrics';

// true ↓ predicted →
const C = [
  [8, 2, 0],
  [1, 6, 3],
  [0, 0, 0],
];

describe('classReport', () => {
  it('3 classes, one never seen nor predicted', () => {
    const r = classReport(C);
    expect(r.total).toBe(20);
    expect(r.accuracy).toBeCloseTo(14 / 20);
    expect(r.rows[0]).toMatchObject({ support: 10, predicted: 9 });
    expect(r.rows[0].precision).toBeCloseTo(8 / 9);
    expect(r.rows[0].recall).toBeCloseTo(8 / 10);
    expect(r.rows[0].f1).toBeCloseTo((2 * (8 / 9) * 0.8) / (8 / 9 + 0.8));
    expect(r.rows[1].precision).toBeCloseTo(6 / 8);
    expect(r.rows[1].recall).toBeCloseTo(6 / 10);
    // Class 2: predicted 3 times, all wrong; no support.
    expect(r.rows[2].precision).toBe(0);
    expect(r.rows[2].recall).toBeNaN();
    expect(r.rows[2].f1).toBe(0);
    expect(r.macro.recall).toBeCloseTo((0.8 + 0.6) / 2);
  });

  it('row-normalises, leaving empty rows at zero', () => {
    expect(rowNormalised(C)).toEqual([
      [0.8, 0.2, 0],
      [0.1, 0.6, 0.3],
      [0, 0, 0],
    ]);
  });
});

describe('galleries', () => {
  const labels = new Uint8Array([0, 0, 1, 1, 1, 2]);
  const predictions = new Uint8Array([0, 1, 1, 0, 0, 1]);
  // 3 classes; scores of the predicted class: 0.9, 0.6, 0.8, 0.7, 0.95, 0.5
  const scores = new Float32Array([0.9, 0.05, 0.05, 0.3, 0.6, 0.1, 0.1, 0.8, 0.1, 0.7, 0.2, 0.1, 0.95, 0.05, 0, 0.3, 0.5, 0.2]);

  it('a confusion cell lists its digits, most confident first', () => {
    expect(cellDigits(1, 0, labels, predictions, scores, 3).map((d) => d.index)).toEqual([4, 3]);
    expect(cellDigits(1, 1, labels, predictions, scores, 3)).toEqual([{ index: 2, label: 1, predicted: 1, confidence: scores[7] }]);
  });

  it('misclassified digits, filtered by true and predicted class', () => {
    expect(misclassified(labels, predictions, scores, 3).map((d) => d.index)).toEqual([4, 3, 1, 5]);
    expect(misclassified(labels, predictions, scores, 3, 1).map((d) => d.index)).toEqual([4, 3]);
    expect(misclassified(labels, predictions, scores, 3, null, 1).map((d) => d.index)).toEqual([1, 5]);
    expect(misclassified(labels, predictions, scores, 3, 2, 0)).toEqual([]);
  });

  it('fixed and broke: B right where A was wrong, and the reverse', () => {
    const a = new Uint8Array([0, 1, 1, 0, 0, 2]);
    const b = new Uint8Array([1, 0, 1, 1, 0, 2]);
    expect(fixedBroken(labels, a, b)).toEqual({ fixed: [1, 3], broke: [0] });
  });
});

describe('cellTones', () => {
  // 1,000 right per class, a few errors: on the row scale the errors are all but invisible.
  const M = [
    [1000, 3, 0],
    [12, 990, 1],
    [0, 0, 1000],
  ];
  it('own: diagonal by share of the row, errors by log count against the largest error', () => {
    const t = cellTones(M, 'own');
    expect(t[0][0]).toBeCloseTo(1000 / 1003, 12);
    expect(t[1][0]).toBe(1);
    expect(t[0][1]).toBeCloseTo(Math.log1p(3) / Math.log1p(12), 12);
    expect(t[1][2]).toBeCloseTo(Math.log1p(1) / Math.log1p(12), 12);
    expect(t[2][0]).toBe(0);
    // One error in a row of a thousand is now a quarter of the way up the scale, not 0.1 %.
    expect(t[1][2]).toBeGreaterThan(0.25);
  });
  it('shared: every cell by its share of the row; no errors at all stays dark', () => {
    expect(cellTones(M, 'shared')).toEqual(rowNormalised(M));
    expect(
      cellTones(
        [
          [5, 0],
          [0, 5],
        ],
        'own',
      ),
    ).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });
});
