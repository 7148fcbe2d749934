// The Health view's numbers: percentiles of a layer's values from the 64-bin histogram each
// epoch recorded (health.json), and the series a band chart draws for one layer and statistic.

import type { RunHealth } from '@common/api';
import type { EpochHealth, LayerHealth, Stats } from '@engine/health';

/** The percentiles a band chart shows: the outer band, the inner band, the median. */
export const BAND_PERCENTILES = [5, 25, 50, 75, 95] as const;

/**
 * The q-th percentile (0..100) of the values a histogram counts, values spread evenly inside
 * their bin: the value below which q% of the count lies. An empty histogram gives NaN.
 */
export function histogramPercentile(h: { edges: readonly number[]; counts: readonly number[] }, q: number): number {
  const total = h.counts.reduce((a, c) => a + c, 0);
  if (!total) return Number.NaN;
  const want = (Math.min(100, Math.max(0, q)) / 100) * total;
  let below = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i];
    if (c > 0 && below + c >= want) {
      const f = (want - below) / c;
      return h.edges[i] + f * (h.edges[i + 1] - h.edges[i]);
    }
    below += c;
  }
  return h.edges[h.edges.length - 1];
}

export type HealthStat = 'weight' | 'bias' | 'grad' | 'activation' | 'gradNorm' | 'updateToWeight' | 'fraction';

export const HEALTH_STATS: readonly { name: HealthStat; label: string; bands: boolean; log?: boolean }[] = [
  { name: 'weight', label: 'Weights', bands: true },
  { name: 'bias', label: 'Biases', bands: true },
  { name: 'grad', label: 'Weight gradients', bands: true },
  { name: 'activation', label: 'Activations (probe batch)', bands: true },
  { name: 'gradNorm', label: 'Gradient norm', bands: false, log: true },
  { name: 'updateToWeight', label: 'Update / weight per step', bands: false, log: true },
  { name: 'fraction', label: 'Dead or saturated units', bands: false },
];

/** One epoch's value of a layer: five percentiles for a distribution, or one number. */
export interface BandPoint {
  epoch: number;
  /** p5, p25, p50, p75, p95 (a scalar statistic: all five the same). */
  p: [number, number, number, number, number];
}

function statsOf(l: LayerHealth, stat: HealthStat): Stats | undefined {
  return stat === 'weight' ? l.weight : stat === 'bias' ? l.bias : stat === 'grad' ? l.grad : stat === 'activation' ? l.activation : undefined;
}

function scalarOf(l: LayerHealth, stat: HealthStat): number | undefined {
  if (stat === 'gradNorm') return l.grad?.norm;
  if (stat === 'updateToWeight') return l.updateToWeight;
  if (stat === 'fraction') return l.deadFraction ?? l.saturatedFraction;
  return undefined;
}

/** A layer's points over the epochs, for one statistic; epochs without it are left out. */
export function layerBand(epochs: readonly EpochHealth[], layer: string, stat: HealthStat): BandPoint[] {
  const out: BandPoint[] = [];
  for (const e of epochs) {
    const l = e.layers.find((x) => x.name === layer);
    if (!l) continue;
    const s = statsOf(l, stat);
    if (s) {
      if (!s.count) continue;
      const p = BAND_PERCENTILES.map((q) => histogramPercentile(s.histogram, q)) as BandPoint['p'];
      out.push({ epoch: e.epoch, p });
      continue;
    }
    const v = scalarOf(l, stat);
    if (v !== undefined && Number.isFinite(v)) out.push({ epoch: e.epoch, p: [v, v, v, v, v] });
  }
  return out;
}

/** The layers (in model order) that have `stat` in some epoch. */
export function layersWith(h: RunHealth, stat: HealthStat): string[] {
  const names: string[] = [];
  for (const e of h.epochs) {
    for (const l of e.layers) {
      if (!names.includes(l.name) && (statsOf(l, stat) !== undefined || scalarOf(l, stat) !== undefined)) names.push(l.name);
    }
  }
  return names;
}

/** Markers: learning-rate changes and resumes (from the run's flags), at their epoch. */
export function healthMarkers(h: RunHealth): { x: number; label: string }[] {
  const out: { x: number; label: string }[] = [];
  for (const f of h.flags) {
    if (f.kind === 'lr-jump') {
      const m = h.metrics.find((x) => x.epoch === f.epoch);
      out.push({ x: f.epoch, label: m ? `lr ${m.lr.toPrecision(2)}` : 'lr' });
    } else if (f.kind === 'resume') out.push({ x: f.epoch, label: 'resumed' });
  }
  return out;
}
