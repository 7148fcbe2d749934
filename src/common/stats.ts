// Statistics for comparing runs: is model B really better than model A on the same test digits
// (exact McNemar), and how far apart are runs that differ only by seed (mean, sample standard
// deviation, a Student-t 95 % interval, a bootstrap interval of a difference in means).
// Plain numbers in and out, no dependencies: the CLI, the Studio backend and the renderer share it.

import { Rng } from '../engine/rng';

// ---------------------------------------------------------------- McNemar

export interface PairedCounts {
  /** Test digits A classifies correctly and B does not. */
  onlyA: number;
  /** Test digits B classifies correctly and A does not. */
  onlyB: number;
}

/**
 * The digits each of two models gets right that the other gets wrong, from their predictions on
 * the same labelled images (all three in the same order).
 */
export function pairedCounts(labels: ArrayLike<number>, predA: ArrayLike<number>, predB: ArrayLike<number>): PairedCounts {
  if (predA.length !== labels.length || predB.length !== labels.length) {
    throw new RangeError(`pairedCounts: ${labels.length} labels but ${predA.length} and ${predB.length} predictions`);
  }
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < labels.length; i++) {
    const a = predA[i] === labels[i];
    const b = predB[i] === labels[i];
    if (a && !b) onlyA++;
    else if (b && !a) onlyB++;
  }
  return { onlyA, onlyB };
}

/**
 * Exact two-sided McNemar test: under "A and B are equally good" each of the n = onlyA + onlyB
 * discordant digits is equally likely to favour either model, so min(onlyA, onlyB) is
 * Binomial(n, ½) and p = min(1, 2·P[X ≤ min(onlyA, onlyB)]) (doubling the smaller tail; with
 * onlyA = onlyB this gives 1). No discordant digit at all (n = 0) is no evidence: p = 1.
 *
 * The binomial terms are summed in log space (log C(n,k) by its recurrence, then a log-sum-exp),
 * so n in the tens of thousands neither overflows C(n,k) nor underflows 2^-n.
 */
export function mcnemarExact(onlyA: number, onlyB: number): number {
  for (const [name, v] of [
    ['onlyA', onlyA],
    ['onlyB', onlyB],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`mcnemarExact: ${name} must be a whole number ≥ 0, got ${v}`);
  }
  const n = onlyA + onlyB;
  if (n === 0) return 1;
  const m = Math.min(onlyA, onlyB);
  // log P[X = k] = log C(n,k) − n·log 2, for k = 0..m; the largest is the last (m ≤ n/2).
  const logs = new Float64Array(m + 1);
  let logC = 0;
  for (let k = 0; k <= m; k++) {
    logs[k] = logC - n * Math.LN2;
    logC += Math.log((n - k) / (k + 1));
  }
  const top = logs[m];
  let s = 0;
  for (let k = 0; k <= m; k++) s += Math.exp(logs[k] - top);
  const tail = Math.exp(top + Math.log(s));
  return Math.min(1, 2 * tail);
}

/** The significance level the verdicts use. */
export const ALPHA = 0.05;

/** "p = 0.003", "p < 0.001", "p = 0.41", "p = 1". */
export function formatP(p: number): string {
  if (p < 0.001) return 'p < 0.001';
  if (p >= 1) return 'p = 1';
  if (p < 0.01) return `p = ${p.toFixed(3)}`;
  return `p = ${p.toFixed(2)}`;
}

const digits = (n: number): string => `${n.toLocaleString('en-US')} digit${n === 1 ? '' : 's'}`;

/**
 * McNemar's verdict in words, the same in the CLI and the app: "B is better: p = 0.003, 41 digits
 * fixed, 12 broken" (fixed: B right where A was wrong; broken: the reverse), or "No significant
 * difference: …" when p ≥ ALPHA.
 */
export function mcnemarVerdict(c: PairedCounts & { pValue: number }, names: { a: string; b: string } = { a: 'A', b: 'B' }): string {
  const detail = `${formatP(c.pValue)}, ${digits(c.onlyB)} fixed, ${c.onlyA.toLocaleString('en-US')} broken`;
  if (c.pValue >= ALPHA || c.onlyA === c.onlyB) return `No significant difference: ${detail}`;
  return `${c.onlyB > c.onlyA ? names.b : names.a} is better: ${detail}`;
}

// ---------------------------------------------------------------- summaries of a few runs

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Sample standard deviation (divides by n − 1); NaN below two values. */
export function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return Number.NaN;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / (xs.length - 1));
}

// Student's t, two-sided 95 % (the 0.975 quantile), for 1..30 degrees of freedom.
const T975 = [
  12.7062047, 4.3026527, 3.1824463, 2.7764451, 2.5705818, 2.4469119, 2.3646243, 2.3060041, 2.2621572, 2.2281389, 2.2009852, 2.1788128, 2.1603687, 2.1447867,
  2.1314495, 2.1199053, 2.1098155, 2.100922, 2.0930241, 2.0859634, 2.0796138, 2.0738731, 2.0686576, 2.0638986, 2.0595386, 2.0555294, 2.0518305, 2.0484071,
  2.0452296, 2.0422725,
];
const Z975 = 1.959963984540054;

/**
 * The 0.975 quantile of Student's t with `df` degrees of freedom: a table up to 30, then the
 * Cornish–Fisher expansion around the normal quantile (error below 1e-6 from 31 on).
 */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`tQuantile975: degrees of freedom must be a whole number ≥ 1, got ${df}`);
  if (df <= T975.length) return T975[df - 1];
  const z = Z975;
  const z2 = z * z;
  const g1 = (z2 * z + z) / 4;
  const g2 = (5 * z2 * z2 * z + 16 * z2 * z + 3 * z) / 96;
  const g3 = (3 * z2 ** 3 * z + 19 * z2 * z2 * z + 17 * z2 * z - 15 * z) / 384;
  const g4 = (79 * z2 ** 4 * z + 776 * z2 ** 3 * z + 1482 * z2 * z2 * z - 1920 * z2 * z - 945 * z) / 92160;
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
}

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation; null below two values. */
  std: number | null;
  /** 95 % confidence interval of the mean, mean ± t(n−1)·std/√n; null below two values. */
  ci95: [number, number] | null;
}

export function summarize(xs: readonly number[]): Summary {
  const m = mean(xs);
  if (xs.length < 2) return { n: xs.length, mean: m, std: null, ci95: null };
  const s = sampleStd(xs);
  const h = (tQuantile975(xs.length - 1) * s) / Math.sqrt(xs.length);
  return { n: xs.length, mean: m, std: s, ci95: [m - h, m + h] };
}

/**
 * Percentile bootstrap 95 % interval of mean(b) − mean(a): each of `resamples` rounds draws a and
 * b with replacement (each at its own size) from a seeded generator, so the same inputs and seed
 * give the same interval.
 */
export function bootstrapDiffCI(
  a: readonly number[],
  b: readonly number[],
  opts: { resamples?: number; seed?: number } = {},
): { diff: number; ci95: [number, number] } {
  if (a.length === 0 || b.length === 0) throw new RangeError('bootstrapDiffCI: both groups need at least one value');
  const R = opts.resamples ?? 10_000;
  const rng = new Rng(opts.seed ?? 1);
  const diffs = new Float64Array(R);
  const resampledMean = (xs: readonly number[]): number => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[rng.int(xs.length)];
    return s / xs.length;
  };
  for (let r = 0; r < R; r++) {
    const ma = resampledMean(a);
    diffs[r] = resampledMean(b) - ma;
  }
  diffs.sort();
  // The empirical quantile at q: the value at rank ⌈q·R⌉ (1-based), as numpy's "inverted_cdf".
  const at = (q: number): number => diffs[Math.min(R - 1, Math.max(0, Math.ceil(q * R) - 1))];
  return { diff: mean(b) - mean(a), ci95: [at(0.025), at(0.975)] };
}

/**
 * Two seed groups' final test errors (fractions) in words: mean(b) − mean(a) in percentage points
 * with its percentile-bootstrap 95 % interval. An interval that excludes 0 names the group with the
 * lower mean error; with a few seeds per group the interval is coarse, and the words say so.
 */
export function groupDifference(
  a: readonly number[],
  b: readonly number[],
  names: { a: string; b: string } = { a: 'A', b: 'B' },
): { diff: number; ci95: [number, number]; text: string } {
  const r = bootstrapDiffCI(a, b);
  const pp = (x: number): string => `${x > 0 ? '+' : x < 0 ? '−' : ''}${Math.abs(100 * x).toFixed(2)}`;
  const detail = `${names.b} − ${names.a} mean test error ${pp(r.diff)} pp, 95 % bootstrap CI ${pp(r.ci95[0])} to ${pp(r.ci95[1])} pp over ${a.length} and ${b.length} seeds`;
  const coarse = Math.min(a.length, b.length) < 5 ? ' (few seeds: a rough interval)' : '';
  if (r.ci95[0] > 0) return { ...r, text: `${names.a} is better: ${detail}${coarse}` };
  if (r.ci95[1] < 0) return { ...r, text: `${names.b} is better: ${detail}${coarse}` };
  return { ...r, text: `No clear difference: ${detail}${coarse}` };
}
