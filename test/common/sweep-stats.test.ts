// A sweep's importance table: rank correlation, correlation ratio and permutation importance,
// against values worked out by hand and synthetic sweeps where only one setting matters.

import { describe, expect, it } from 'vitest';
import { correlationRatio, ranks, spearman, sweepImportance, type SweepRow } from '../../src/common/sweep-stats';
import { Rng } from '../../src/engine/rng';

describe('ranks and spearman', () => {
  it('gives tied values their mean rank', () => {
    expect(ranks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
  });

  it('is 1 for any increasing relation and −1 for a decreasing one', () => {
    const x = [0.001, 0.01, 0.03, 0.1, 0.5];
    expect(
      spearman(
        x,
        x.map((v) => Math.exp(v)),
      ),
    ).toBeCloseTo(1, 12);
    expect(
      spearman(
        x,
        x.map((v) => -v * v),
      ),
    ).toBeCloseTo(-1, 12);
  });

  it('matches a hand computation with ties', () => {
    // ranks a: 1 2 3 4, ranks b: 1.5 1.5 3 4 → Pearson of the ranks
    const ra = [1, 2, 3, 4];
    const rb = [1.5, 1.5, 3, 4];
    const m = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const cov = ra.reduce((s, x, i) => s + (x - m(ra)) * (rb[i] - m(rb)), 0);
    const want = cov / Math.sqrt(ra.reduce((s, x) => s + (x - m(ra)) ** 2, 0) * rb.reduce((s, x) => s + (x - m(rb)) ** 2, 0));
    expect(spearman([1, 2, 3, 4], [7, 7, 8, 9])).toBeCloseTo(want, 12);
  });

  it('is null for a constant side or a single value', () => {
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(spearman([1], [2])).toBeNull();
  });
});

describe('correlationRatio', () => {
  it('is 1 when the groups explain all the variance, 0 when none', () => {
    expect(correlationRatio(['a', 'a', 'b', 'b'], [1, 1, 3, 3])).toBeCloseTo(1, 12);
    expect(correlationRatio(['a', 'b', 'a', 'b'], [1, 1, 3, 3])).toBeCloseTo(0, 12);
  });

  it('matches √(between / total) worked by hand', () => {
    // mean 2.5; groups a = {1, 2} (mean 1.5), b = {3, 4} (mean 3.5): between 2·1 + 2·1 = 4, total 5
    expect(correlationRatio(['a', 'a', 'b', 'b'], [1, 2, 3, 4])).toBeCloseTo(Math.sqrt(4 / 5), 12);
  });

  it('is null with one group or a constant error', () => {
    expect(correlationRatio(['a', 'a'], [1, 2])).toBeNull();
    expect(correlationRatio(['a', 'b'], [1, 1])).toBeNull();
  });
});

describe('sweepImportance', () => {
  /** A 4 × 4 grid over lr and momentum whose error depends on lr alone (plus a little noise). */
  function grid(depends: 'lr' | 'momentum'): SweepRow[] {
    const rng = new Rng(3);
    const rows: SweepRow[] = [];
    for (const lr of [0.001, 0.01, 0.03, 0.1]) {
      for (const momentum of [0, 0.5, 0.9, 0.95]) {
        const driver = depends === 'lr' ? Math.log10(lr) : momentum * 3;
        rows.push({ values: { lr, momentum }, error: 0.01 + 0.002 * driver + 1e-5 * rng.next() });
      }
    }
    return rows;
  }

  it('ranks the one setting the error depends on far above the other', () => {
    for (const which of ['lr', 'momentum'] as const) {
      const [lr, momentum] = sweepImportance(grid(which), ['lr', 'momentum']);
      const [hit, miss] = which === 'lr' ? [lr, momentum] : [momentum, lr];
      expect(hit.kind).toBe('spearman');
      expect(hit.correlation).toBeGreaterThan(0.9);
      expect(Math.abs(miss.correlation!)).toBeLessThan(0.2);
      expect(hit.permutation!).toBeGreaterThan(0);
      expect(hit.permutation!).toBeGreaterThan(20 * Math.abs(miss.permutation!));
    }
  });

  it('treats named values (a preset) as groups, one column each', () => {
    const rows: SweepRow[] = [];
    for (const preset of ['a', 'b', 'c']) for (const lr of [0.01, 0.02, 0.05]) rows.push({ values: { preset, lr }, error: preset === 'b' ? 0.02 : 0.01 });
    const [p, lr] = sweepImportance(rows, ['preset', 'lr']);
    expect(p.kind).toBe('eta');
    expect(p.correlation).toBeCloseTo(1, 12);
    expect(lr.correlation).toBeCloseTo(0, 12); // every lr value meets every preset once
    expect(p.permutation!).toBeGreaterThan(0);
    expect(Math.abs(lr.permutation!)).toBeLessThan(p.permutation! / 20);
  });

  it('stays quick and right for a sweep of thousands of runs (the model sees a sample)', () => {
    const rng = new Rng(5);
    const rows: SweepRow[] = Array.from({ length: 3000 }, () => {
      const lr = 10 ** rng.uniform(-3, -1);
      const momentum = rng.uniform(0, 0.99);
      return { values: { lr, momentum }, error: 0.01 - 0.002 * Math.log10(lr) + 1e-4 * rng.next() };
    });
    // Without the sample this takes minutes, past the test's time limit.
    const [lr, momentum] = sweepImportance(rows, ['lr', 'momentum'], { rounds: 5 });
    expect(lr.correlation).toBeLessThan(-0.95);
    expect(Math.abs(momentum.correlation!)).toBeLessThan(0.1);
    expect(lr.permutation!).toBeGreaterThan(20 * Math.abs(momentum.permutation!));
  });

  it('is deterministic for a seed and leaves permutation importance out below three runs', () => {
    const rows = grid('lr');
    expect(sweepImportance(rows, ['lr', 'momentum'], { seed: 9 })).toEqual(sweepImportance(rows, ['lr', 'momentum'], { seed: 9 }));
    const two = sweepImportance(rows.slice(0, 2), ['lr', 'momentum']);
    expect(two.every((i) => i.permutation === null)).toBe(true);
  });
});
