// Which of a sweep's settings matter: for each swept setting, how the runs' test error moves with
// it (a rank correlation, or for a setting with named values the share of the error's variance
// between them) and how much worse a model of the error predicts when that setting is scrambled
// (permutation importance). Pure, so the app computes what the CLI prints.
//
// The model is k-nearest neighbours over the settings (numbers scaled to [0, 1], learning rate and
// decay on a log scale; named values one column each), scored leave-one-out, so a run never
// predicts itself. With a handful of runs these are rough: the CLI and the app say how many runs
// they rest on.

import { Rng } from '../engine/rng';
import { mean } from './stats';

/** A swept setting's value in one run: a number, or a name (preset, schedule). */
export type SweepValue = number | string;

export interface SweepRow {
  values: Readonly<Record<string, SweepValue>>;
  /** The run's final test error (a fraction). */
  error: number;
}

export interface Importance {
  axis: string;
  /** 'spearman' for a numeric setting, 'eta' (correlation ratio, 0..1) for named values. */
  kind: 'spearman' | 'eta';
  /** Spearman's ρ between the setting and the error (−1..1), or η; null when the setting does not vary. */
  correlation: number | null;
  /** Mean rise of the leave-one-out squared prediction error when this setting is permuted; null with fewer than 3 runs. */
  permutation: number | null;
}

/** Settings swept on a log scale: their importance and the charts use log10 of the value. */
export const LOG_AXES: ReadonlySet<string> = new Set(['lr', 'decay']);

/** Ranks (1-based) with ties given their mean rank. */
export function ranks(xs: readonly number[]): number[] {
  const order = xs.map((v, i) => i).sort((a, b) => xs[a] - xs[b]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && xs[order[j + 1]] === xs[order[i]]) j++;
    for (let k = i; k <= j; k++) r[order[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

function pearson(a: readonly number[], b: readonly number[]): number | null {
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : null;
}

/** Spearman's rank correlation; null when either side is constant or there are fewer than 2 values. */
export function spearman(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length) throw new RangeError('spearman: the two lists differ in length');
  if (a.length < 2) return null;
  return pearson(ranks(a), ranks(b));
}

/** Correlation ratio η: √(between-group sum of squares / total), 0..1; null when y is constant or there is one group. */
export function correlationRatio(groups: readonly string[], y: readonly number[]): number | null {
  const m = mean(y);
  let total = 0;
  for (const v of y) total += (v - m) ** 2;
  const by = new Map<string, number[]>();
  groups.forEach((g, i) => by.set(g, [...(by.get(g) ?? []), y[i]]));
  if (total === 0 || by.size < 2) return null;
  let between = 0;
  for (const vs of by.values()) between += vs.length * (mean(vs) - m) ** 2;
  return Math.sqrt(between / total);
}

/** The design matrix: per axis one column in [0, 1] (log10 for LOG_AXES), or one 0/1 column per named value. */
function features(rows: readonly SweepRow[], axes: readonly string[]): { columns: number[][]; ofAxis: number[][] } {
  const columns: number[][] = [];
  const ofAxis: number[][] = [];
  for (const axis of axes) {
    const vs = rows.map((r) => r.values[axis]);
    const mine: number[] = [];
    if (vs.every((v) => typeof v === 'number')) {
      const xs = (vs as number[]).map((v) => (LOG_AXES.has(axis) && v > 0 ? Math.log10(v) : v));
      const lo = xs.reduce((a, x) => Math.min(a, x), Infinity);
      const span = xs.reduce((a, x) => Math.max(a, x), -Infinity) - lo;
      mine.push(columns.length);
      columns.push(xs.map((x) => (span > 0 ? (x - lo) / span : 0)));
    } else {
      for (const name of [...new Set(vs.map(String))]) {
        mine.push(columns.length);
        columns.push(vs.map((v) => (String(v) === name ? 1 : 0)));
      }
    }
    ofAxis.push(mine);
  }
  return { columns, ofAxis };
}

/** Runs the permutation model sees at most (its cost grows as the square of the runs). */
export const MAX_MODEL_ROWS = 400;

/** k of the rows, without repeats, in their original order, drawn from rng. */
function sample<T>(rows: readonly T[], k: number, rng: Rng): T[] {
  const idx = Uint32Array.from({ length: rows.length }, (_, i) => i);
  rng.shuffle(idx);
  return Array.from(idx.subarray(0, k))
    .sort((a, b) => a - b)
    .map((i) => rows[i]);
}

/** Mean squared leave-one-out error of k-nearest-neighbour regression (Euclidean, ties by index). */
function looError(columns: readonly (readonly number[])[], y: readonly number[], k: number): number {
  const n = y.length;
  let se = 0;
  const d = new Array<number>(n);
  const idx = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (const c of columns) s += (c[i] - c[j]) ** 2;
      d[j] = j === i ? Infinity : s;
      idx[j] = j;
    }
    idx.sort((a, b) => d[a] - d[b] || a - b);
    let p = 0;
    for (let q = 0; q < k; q++) p += y[idx[q]];
    se += (p / k - y[i]) ** 2;
  }
  return se / n;
}

/**
 * Each swept setting's correlation with the error (over all runs) and its permutation importance:
 * the mean, over `rounds` seeded shuffles of that setting's values across the runs, of the rise in
 * leave-one-out error of a k-nearest-neighbour model (k ≈ √runs, fewer than the other runs; at
 * most MAX_MODEL_ROWS runs, a seeded sample of more). Settings in `axes` order.
 */
export function sweepImportance(rows: readonly SweepRow[], axes: readonly string[], opts: { rounds?: number; seed?: number } = {}): Importance[] {
  const rng = new Rng(opts.seed ?? 1);
  // The leave-one-out model costs n² per round: beyond MAX_MODEL_ROWS runs it sees a seeded sample.
  const modelled = rows.length > MAX_MODEL_ROWS ? sample(rows, MAX_MODEL_ROWS, rng) : rows;
  const y = modelled.map((r) => r.error);
  const { columns, ofAxis } = features(modelled, axes);
  const n = modelled.length;
  // Fewer neighbours than the other runs, or every prediction would be the same mean.
  const k = Math.max(1, Math.min(n - 2, Math.round(Math.sqrt(n))));
  const base = n >= 3 ? looError(columns, y, k) : NaN;
  const rounds = opts.rounds ?? 30;
  const all = rows.map((r) => r.error);
  return axes.map((axis, a) => {
    const vs = rows.map((r) => r.values[axis]);
    const numeric = vs.every((v) => typeof v === 'number');
    const correlation = numeric ? spearman(vs as number[], all) : correlationRatio(vs.map(String), all);
    let permutation: number | null = null;
    if (n >= 3) {
      let rise = 0;
      const perm = Uint32Array.from({ length: n }, (_, i) => i);
      for (let r = 0; r < rounds; r++) {
        rng.shuffle(perm);
        const shuffled = columns.map((c, ci) => (ofAxis[a].includes(ci) ? Array.from(perm, (p) => c[p]) : c));
        rise += looError(shuffled, y, k) - base;
      }
      permutation = rise / rounds;
    }
    return { axis, kind: numeric ? 'spearman' : 'eta', correlation, permutation };
  });
}
