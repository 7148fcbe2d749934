// The statistics that say whether one model or seed group beats another, checked against numbers
// computed another way: exact binomial sums in BigInt arithmetic, the closed-form Student-t
// distribution function for whole degrees of freedom (Abramowitz & Stegun 26.7.3–4), and
// bootstrap distributions small enough to enumerate by hand.

import { describe, expect, it } from 'vitest';
import {
  bootstrapDiffCI,
  formatP,
  groupDifference,
  mcnemarExact,
  mcnemarVerdict,
  mean,
  median,
  pairedCounts,
  sampleStd,
  summarize,
  tQuantile975,
} from '../../src/common/stats';
import { exactMcNemar } from '../helpers/exact-binomial';

describe('pairedCounts', () => {
  it('counts the digits only one model gets right, ignoring both-right and both-wrong', () => {
    const labels = [0, 1, 2, 3, 4, 5, 6, 7];
    const a = [0, 1, 2, 9, 9, 9, 6, 0]; // right: 0 1 2 6
    const b = [0, 9, 2, 3, 4, 9, 9, 0]; // right: 0 2 3 4
    expect(pairedCounts(labels, a, b)).toEqual({ onlyA: 2, onlyB: 2 });
    expect(pairedCounts(labels, labels, labels)).toEqual({ onlyA: 0, onlyB: 0 });
  });
  it('refuses predictions of another length', () => {
    expect(() => pairedCounts([1, 2], [1], [1, 2])).toThrow(/2 labels but 1 and 2/);
  });
});

describe('mcnemarExact', () => {
  it('hand-computed small cases', () => {
    expect(mcnemarExact(0, 5)).toBe(2 / 32); // P[X ≤ 0] = 1/32
    expect(mcnemarExact(5, 0)).toBe(2 / 32);
    expect(mcnemarExact(1, 9)).toBeCloseTo(22 / 1024, 15); // (1 + 10) / 1024, doubled
    expect(mcnemarExact(0, 1)).toBe(1); // 2 · ½
    expect(mcnemarExact(2, 8)).toBeCloseTo((2 * (1 + 10 + 45)) / 1024, 15);
  });
  it('ties and no discordant digit give p = 1', () => {
    expect(mcnemarExact(0, 0)).toBe(1);
    expect(mcnemarExact(5, 5)).toBe(1);
    expect(mcnemarExact(1000, 1000)).toBe(1);
    expect(mcnemarExact(7, 8)).toBe(1);
  });
  it('agrees with exact integer sums, from small to large n and tiny tails', () => {
    const cases: [number, number][] = [
      [12, 41],
      [41, 12],
      [3, 17],
      [30, 50],
      [60, 40],
      [250, 310],
      [4000, 4200],
      [100, 400],
      [0, 1000],
      [1, 1000],
    ];
    for (const [b, c] of cases) {
      const want = exactMcNemar(b, c);
      const got = mcnemarExact(b, c);
      expect(Math.abs(got - want) / want, `onlyA ${b}, onlyB ${c}: ${got} vs ${want}`).toBeLessThan(1e-9);
    }
  });
  it('an underflowing tail is 0, never NaN', () => {
    expect(mcnemarExact(0, 20_000)).toBe(0);
    expect(mcnemarExact(10, 20_000)).toBe(0);
  });
  it('refuses negative or fractional counts', () => {
    expect(() => mcnemarExact(-1, 3)).toThrow(/onlyA/);
    expect(() => mcnemarExact(1, 2.5)).toThrow(/onlyB/);
  });
});

describe('mcnemarVerdict', () => {
  it('says which model is better, with fixed (B right, A wrong) and broken digits', () => {
    const c = { onlyA: 12, onlyB: 41 };
    const p = mcnemarExact(c.onlyA, c.onlyB);
    expect(p).toBeLessThan(0.001);
    expect(mcnemarVerdict({ ...c, pValue: 0.003 })).toBe('B is better: p = 0.003, 41 digits fixed, 12 broken');
    expect(mcnemarVerdict({ onlyA: 41, onlyB: 12, pValue: p })).toBe('A is better: p < 0.001, 12 digits fixed, 41 broken');
    expect(mcnemarVerdict({ onlyA: 41, onlyB: 12, pValue: p }, { a: 'run-1', b: 'run-2' })).toMatch(/^run-1 is better/);
  });
  it('no significant difference at p ≥ 0.05, on ties and with no discordant digit', () => {
    expect(mcnemarVerdict({ onlyA: 30, onlyB: 38, pValue: mcnemarExact(30, 38) })).toBe('No significant difference: p = 0.40, 38 digits fixed, 30 broken');
    expect(mcnemarVerdict({ onlyA: 0, onlyB: 0, pValue: 1 })).toBe('No significant difference: p = 1, 0 digits fixed, 0 broken');
    expect(mcnemarVerdict({ onlyA: 1, onlyB: 1, pValue: 1 })).toBe('No significant difference: p = 1, 1 digit fixed, 1 broken');
  });
  it('formats p', () => {
    expect(formatP(0.0004)).toBe('p < 0.001');
    expect(formatP(0.0031)).toBe('p = 0.003');
    expect(formatP(0.0499)).toBe('p = 0.05');
    expect(formatP(0.41)).toBe('p = 0.41');
    expect(formatP(1)).toBe('p = 1');
  });
});

/** P(|T| < t) for Student's t with whole df (Abramowitz & Stegun 26.7.3 and 26.7.4). */
function tCentralProbability(t: number, df: number): number {
  const th = Math.atan(t / Math.sqrt(df));
  const c2 = Math.cos(th) ** 2;
  if (df % 2 === 1) {
    let term = Math.cos(th);
    let sum = df > 1 ? term : 0;
    for (let k = 3; k <= df - 2; k += 2) {
      term *= (c2 * (k - 1)) / k;
      sum += term;
    }
    return (2 / Math.PI) * (th + Math.sin(th) * sum);
  }
  let term = 1;
  let sum = 1;
  for (let k = 2; k <= df - 2; k += 2) {
    term *= (c2 * (k - 1)) / k;
    sum += term;
  }
  return Math.sin(th) * sum;
}

describe("Student's t quantile", () => {
  it('puts 95 % of the distribution within ±t for every df, the table and the expansion', () => {
    for (const df of [...Array.from({ length: 40 }, (_, i) => i + 1), 50, 60, 99, 120, 1000, 100_000]) {
      expect(Math.abs(tCentralProbability(tQuantile975(df), df) - 0.95), `df ${df}`).toBeLessThan(2e-7);
    }
  });
  it('decreases towards the normal quantile', () => {
    expect(tQuantile975(1)).toBeCloseTo(12.706, 3);
    expect(tQuantile975(2)).toBeCloseTo(4.303, 3);
    expect(tQuantile975(1e6)).toBeCloseTo(1.96, 4);
    for (let df = 1; df < 200; df++) expect(tQuantile975(df + 1)).toBeLessThan(tQuantile975(df));
  });
  it('refuses df < 1', () => {
    expect(() => tQuantile975(0)).toThrow(RangeError);
    expect(() => tQuantile975(2.5)).toThrow(RangeError);
  });
});

describe('mean, sample std and the 95 % interval', () => {
  it('hand-computed: 1, 2, 3, 4', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(sampleStd([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 14); // Σ(x−2.5)² = 5, / (n−1)
    const s = summarize([1, 2, 3, 4]);
    // t(3) = 3.1824463, std/√4 = 0.6454972: half-width 2.0542603
    expect(s.ci95![0]).toBeCloseTo(2.5 - 2.0542603, 6);
    expect(s.ci95![1]).toBeCloseTo(2.5 + 2.0542603, 6);
  });
  it('three seeds: 0.8 %, 0.9 %, 1.3 %', () => {
    const s = summarize([0.008, 0.009, 0.013]);
    expect(s.mean).toBeCloseTo(0.01, 15);
    expect(s.std).toBeCloseTo(Math.sqrt((0.002 ** 2 + 0.001 ** 2 + 0.003 ** 2) / 2), 15);
    const h = (4.3026527 * s.std!) / Math.sqrt(3);
    expect(s.ci95![1] - s.mean).toBeCloseTo(h, 12);
  });
  it('ties: equal values have std 0 and a zero-width interval', () => {
    expect(summarize([0.5, 0.5, 0.5])).toEqual({ n: 3, mean: 0.5, std: 0, ci95: [0.5, 0.5] });
  });
  it('one value has no spread; none has no mean', () => {
    expect(summarize([0.3])).toEqual({ n: 1, mean: 0.3, std: null, ci95: null });
    expect(Number.isNaN(summarize([]).mean)).toBe(true);
  });
});

describe('bootstrapDiffCI', () => {
  it('a two-point group: the resampled means are 0, ½, 1 with chances ¼, ½, ¼, so the interval is [0, 1]', () => {
    const r = bootstrapDiffCI([0], [0, 1], { resamples: 4000 });
    expect(r.diff).toBe(0.5);
    expect(r.ci95).toEqual([0, 1]);
  });
  it('constant groups give the difference itself', () => {
    expect(bootstrapDiffCI([1, 1, 1], [3, 3], { resamples: 500 })).toEqual({ diff: 2, ci95: [2, 2] });
  });
  it('is the same for the same seed, and separated groups exclude 0', () => {
    const a = [0.0081, 0.0079, 0.0085];
    const b = [0.0065, 0.0061, 0.0068];
    const r1 = bootstrapDiffCI(a, b, { seed: 7 });
    expect(bootstrapDiffCI(a, b, { seed: 7 })).toEqual(r1);
    expect(r1.ci95[1]).toBeLessThan(0);
    // Every resampled difference lies between the extreme pairings.
    expect(r1.ci95[0]).toBeGreaterThanOrEqual(Math.min(...b) - Math.max(...a) - 1e-15);
    expect(r1.ci95[1]).toBeLessThanOrEqual(Math.max(...b) - Math.min(...a) + 1e-15);
    expect(r1.ci95[0]).toBeLessThanOrEqual(r1.diff);
    expect(r1.ci95[1]).toBeGreaterThanOrEqual(r1.diff);
  });
  it('refuses an empty group', () => {
    expect(() => bootstrapDiffCI([], [1])).toThrow(RangeError);
  });
});

describe('groupDifference', () => {
  it('names the group with the lower mean error when the interval excludes 0', () => {
    const r = groupDifference([0.0081, 0.0079, 0.0085], [0.0065, 0.0061, 0.0068], { a: 'plain', b: 'augmented' });
    expect(r.diff).toBeCloseTo(-0.0017, 12);
    expect(r.text).toMatch(
      /^augmented is better: augmented − plain mean test error −0\.17 pp, 95 % bootstrap CI −0\.\d\d to −0\.\d\d pp over 3 and 3 seeds \(few seeds: a rough interval\)$/,
    );
    expect(groupDifference([0.0065, 0.0061, 0.0068], [0.0081, 0.0079, 0.0085]).text).toMatch(/^A is better: B − A mean test error \+0\.17 pp/);
  });
  it('says no clear difference when the interval holds 0, and drops the caveat from five seeds', () => {
    const a = [0.008, 0.007, 0.009, 0.0075, 0.0085];
    const b = [0.0085, 0.0072, 0.0088, 0.0079, 0.0081];
    const r = groupDifference(a, b);
    expect(r.ci95[0]).toBeLessThan(0);
    expect(r.ci95[1]).toBeGreaterThan(0);
    expect(r.text).toMatch(/^No clear difference: B − A mean test error \+0\.01 pp, 95 % bootstrap CI −0\.\d\d to \+0\.\d\d pp over 5 and 5 seeds$/);
  });
});

describe('median', () => {
  it('the middle value, the mean of the two middle ones for an even count, NaN for none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5])).toBe(5);
    expect(Number.isNaN(median([]))).toBe(true);
  });
});
