// A sweep as parallel coordinates: one vertical axis per swept setting and a last one for the
// final test error, one line per finished run through its values. Numbers sit on a linear axis
// (learning rate and decay on a log one, as the sweep draws them), names (preset, schedule) at
// evenly spaced places. Positions are 0..1 from the bottom; the component scales them to pixels.

import { LOG_AXES, type SweepValue } from '@common/sweep-stats';
import type { SweepFile } from '@common/sweep';

export interface PcTick {
  label: string;
  /** 0 (bottom) … 1 (top). */
  at: number;
}

export interface PcAxis {
  name: string;
  kind: 'linear' | 'log' | 'names';
  ticks: PcTick[];
}

export interface PcLine {
  runId: string;
  /** Index of its configuration in the sweep. */
  config: number;
  seed: number;
  error: number;
  /** One position per axis, the error's last. */
  at: number[];
}

export interface ParallelCoords {
  axes: PcAxis[];
  lines: PcLine[];
  /** The finished runs' lowest and highest final test error (null with none). */
  errorRange: [number, number] | null;
}

/** A short label: 0.0500 → "0.05", 0.00025 → "2.5e-4", 0.333333 → "0.333". */
export function formatValue(v: SweepValue): string {
  if (typeof v === 'string') return v;
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return Number(v.toPrecision(3)).toExponential().replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

function place(v: number, lo: number, hi: number, log: boolean): number {
  if (!(hi > lo)) return 0.5;
  const f = log ? (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : (v - lo) / (hi - lo);
  return Math.min(1, Math.max(0, f));
}

/** An axis over the values a setting takes in the sweep (all configurations, so it does not move as runs finish). */
function axisOf(name: string, values: readonly SweepValue[]): { axis: PcAxis; at(v: SweepValue): number } {
  const distinct = [...new Set(values)];
  if (distinct.some((v) => typeof v === 'string')) {
    const names = distinct.map(String);
    const at = (v: SweepValue): number => (names.length === 1 ? 0.5 : names.indexOf(String(v)) / (names.length - 1));
    return { axis: { name, kind: 'names', ticks: names.map((n) => ({ label: n, at: at(n) })) }, at };
  }
  const nums = (distinct as number[]).slice().sort((a, b) => a - b);
  const lo = nums[0];
  const hi = nums[nums.length - 1];
  const log = LOG_AXES.has(name) && lo > 0;
  const at = (v: SweepValue): number => place(Number(v), lo, hi, log);
  // Every value when there are a few (a grid's), else the ends and the middle.
  const shown = nums.length <= 6 ? nums : [lo, log ? Math.sqrt(lo * hi) : (lo + hi) / 2, hi];
  return { axis: { name, kind: log ? 'log' : 'linear', ticks: shown.map((v) => ({ label: formatValue(v), at: at(v) })) }, at };
}

export function parallelCoordinates(s: SweepFile): ParallelCoords {
  const names = s.axes.map((a) => a.name);
  const scales = names.map((n) =>
    axisOf(
      n,
      s.configs.map((c) => c.values[n]).filter((v) => v !== undefined),
    ),
  );
  const finished = s.configs.flatMap((c, config) =>
    c.runs.filter((r) => r.status === 'done' && r.finalTestError !== null).map((r) => ({ c, config, r, error: r.finalTestError! })),
  );
  const errors = finished.map((f) => f.error);
  const errorRange: [number, number] | null = errors.length ? [Math.min(...errors), Math.max(...errors)] : null;
  const pct = (e: number): string => `${(100 * e).toFixed(2)} %`;
  const errorAxis: PcAxis = {
    name: 'test error',
    kind: 'linear',
    ticks: errorRange ? [...new Set([errorRange[0], errorRange[1]])].map((e) => ({ label: pct(e), at: place(e, errorRange[0], errorRange[1], false) })) : [],
  };
  const lines = finished.map(({ c, config, r, error }) => ({
    runId: r.runId,
    config,
    seed: r.seed,
    error,
    at: [...scales.map((sc, i) => sc.at(c.values[names[i]])), errorRange ? place(error, errorRange[0], errorRange[1], false) : 0.5],
  }));
  return { axes: [...scales.map((sc) => sc.axis), errorAxis], lines, errorRange };
}
