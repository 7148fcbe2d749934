// Seed groups: runs whose settings differ only by seed. The one rule for what makes a group
// (seedGroupKey), and a group's mean curve with a band, for the charts, the CLI and the runs list.

import type { EpochMetrics, RunSummary } from './records';
import type { TrainSettings } from './settings';
import { mean, sampleStd, tQuantile975 } from './stats';

/** A value with its keys sorted at every level, so equal settings give equal JSON. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/**
 * Runs with the same key differ only by seed: the same preset (so the same network), the same
 * settings apart from `seed` (epochs, batch, learning rate and schedule, momentum, decay, split,
 * augmentation, shuffling), the same dataset and the same starting weights.
 */
export function seedGroupKey(r: {
  preset: string;
  settings: TrainSettings;
  datasetFingerprint: string;
  /** The split as resolved (run.json's limit and validation), when known: a default and its value are the same split. */
  split?: { limit: number | null; validation: number };
  init?: string | null;
}): string {
  const { seed: _seed, limit, validation, ...rest } = r.settings;
  const split = r.split ?? { limit: limit ?? null, validation: validation ?? null };
  return JSON.stringify(
    canonical({
      preset: r.preset,
      settings: { ...rest, shuffle: rest.shuffle ?? true, augment: rest.augment ?? null },
      split,
      dataset: r.datasetFingerprint,
      init: r.init ?? null,
    }),
  );
}

export type Band = 'std' | 'ci95';

export interface BandPoint {
  epoch: number;
  /** Runs that reached this epoch. */
  n: number;
  mean: number;
  /** mean ± std, or the 95 % interval of the mean; equal to the mean below two runs. */
  lo: number;
  hi: number;
}

/**
 * The group's mean curve of one per-epoch value with a band, epoch by epoch over the runs that
 * reached it (a run still training or cut short adds only the epochs it has).
 */
export function bandCurve(runs: readonly (readonly EpochMetrics[])[], value: (m: EpochMetrics) => number, band: Band): BandPoint[] {
  const last = Math.max(0, ...runs.map((h) => (h.length ? h[h.length - 1].epoch : 0)));
  const out: BandPoint[] = [];
  for (let e = 1; e <= last; e++) {
    const xs: number[] = [];
    for (const h of runs) {
      const m = h.find((x) => x.epoch === e);
      if (m) xs.push(value(m));
    }
    if (xs.length === 0) continue;
    const m = mean(xs);
    let half = 0;
    if (xs.length >= 2) {
      const s = sampleStd(xs);
      half = band === 'std' ? s : (tQuantile975(xs.length - 1) * s) / Math.sqrt(xs.length);
    }
    out.push({ epoch: e, n: xs.length, mean: m, lo: m - half, hi: m + half });
  }
  return out;
}

/** A group's final test errors (fractions): one per run that finished, as compare and Compare use them. */
export function finalTestErrors(runs: readonly RunSummary[]): number[] {
  return runs.filter((r) => r.status === 'done' && r.finalTestAccuracy !== null).map((r) => 1 - r.finalTestAccuracy!);
}
