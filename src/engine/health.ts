// Layer health: per layer and epoch, what the weights, their gradients and the activations look
// like, recorded while training at a small cost. Histograms count only FREE parameters: weights
// a connection table (LeCun's C3) masks are stored as zeros but are not parameters.
//
// Per step (HealthRecorder.afterStep, after the optimizer has stepped; every 8th step, see
// HEALTH_SAMPLE_EVERY): each parameterised layer's weight-gradient L2 norm and its
// update-to-weight ratio ‖Δw‖/‖w‖ (w before the step), averaged over the epoch's sampled steps. Per epoch (finish): weight and bias statistics and 64-bin histograms,
// the last step's weight gradient, each layer's output on a fixed probe batch in inference mode
// (ReLU: the share of units that never fire on it; tanh and sigmoid: the share of outputs
// saturated), and batch norm's running statistics. `healthFlags` reads the records for trouble.

import type { Model } from './model';
import { Conv2D } from './layers/conv2d';
import { resolveLayers } from './spec';
import { BatchBuffer, shapeSize } from './tensor';

export const HEALTH_BINS = 64;
/** Images in the probe batch whose activations are recorded each epoch. */
export const PROBE_IMAGES = 64;
/**
 * Gradient norms and update ratios are measured on every 8th step: a pass over all parameters
 * on every step would cost more than the 5% of training time recording may take.
 */
export const HEALTH_SAMPLE_EVERY = 8;
/** |y| above this counts as saturated for tanh (sigmoid: y above it or below 1 − it). */
export const SATURATION = 0.97;

export interface Histogram {
  /** HEALTH_BINS + 1 edges, from the minimum to the maximum inclusive, evenly spaced. */
  edges: number[];
  /** counts[i]: values v with edges[i] ≤ v < edges[i+1]; the last bin also holds the maximum. */
  counts: number[];
}

export interface Stats {
  count: number;
  mean: number;
  /** Population standard deviation. */
  std: number;
  min: number;
  max: number;
  histogram: Histogram;
}

export interface GradStats extends Stats {
  /** L2 norm of the weight gradient, averaged over the epoch's sampled steps. */
  norm: number;
}

export type LayerKind = 'conv2d' | 'dense' | 'batchnorm' | 'activation' | 'pool2d' | 'flatten';

export interface LayerHealth {
  name: string;
  kind: LayerKind;
  fn?: string;
  weight?: Stats;
  bias?: Stats;
  /** The weight gradient the optimizer stepped with (weight decay included): histogram of the epoch's last step. */
  grad?: GradStats;
  /** ‖Δw‖/‖w‖ of the weight per step, averaged over the epoch's sampled steps. */
  updateToWeight?: number;
  /** The layer's output on the probe batch. */
  activation: Stats;
  /** ReLU: the share of units (output positions) that are 0 for every probe image. */
  deadFraction?: number;
  /** tanh, sigmoid: the share of outputs on the probe batch that are saturated. */
  saturatedFraction?: number;
  runningMean?: number[];
  runningVar?: number[];
}

export interface EpochHealth {
  epoch: number;
  /** The run was resumed from its checkpoint during (or at the start of) this epoch. */
  resumed?: boolean;
  /** Sampled training steps the per-step averages cover (every HEALTH_SAMPLE_EVERY-th; fewer after a mid-epoch resume). */
  steps: number;
  layers: LayerHealth[];
}

/** Mean, std, min, max and a HEALTH_BINS histogram of `values` (all of them). */
export function stats(values: ArrayLike<number>): Stats {
  const n = values.length;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = n ? sum / n : 0;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i] - mean) ** 2;
  if (!n) min = max = 0;
  const edges = Array.from({ length: HEALTH_BINS + 1 }, (_, i) => (i === HEALTH_BINS ? max : min + ((max - min) * i) / HEALTH_BINS));
  const counts = new Array<number>(HEALTH_BINS).fill(0);
  const scale = max > min ? HEALTH_BINS / (max - min) : 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    let b = Math.min(HEALTH_BINS - 1, Math.floor((v - min) * scale));
    // The edges are rounded: settle on the bin whose edges hold v exactly.
    while (b < HEALTH_BINS - 1 && v >= edges[b + 1]) b++;
    while (b > 0 && v < edges[b]) b--;
    counts[b]++;
  }
  return { count: n, mean, std: n ? Math.sqrt(sq / n) : 0, min, max, histogram: { edges, counts } };
}

/** The free entries of a parameter tensor (`values`, or its gradient): masked conv weights left out. */
export function freeValues(model: Model, name: string, values: Float32Array): Float32Array {
  const e = model.entry(name);
  if (!e) throw new Error(`internal error: no tensor ${name}`);
  const layer = model.layers.find((l) => l.name === e.layer);
  if (!(layer instanceof Conv2D) || !layer.mask || e.local !== 'weight') return values;
  const k2 = layer.geom.KH * layer.geom.KW;
  const out = new Float32Array(layer.mask.reduce((a, v) => a + v, 0) * k2);
  let j = 0;
  for (let oc = 0; oc < layer.mask.length; oc++) {
    if (!layer.mask[oc]) continue;
    out.set(values.subarray(oc * k2, oc * k2 + k2), j);
    j += k2;
  }
  return out;
}

interface Tracked {
  name: string;
  weight: { offset: number; length: number };
  gradNorm: number;
  ratio: number;
}

/** Records a model's layer health while it trains (see the top of this file). */
export class HealthRecorder {
  private readonly prev: Float32Array;
  private readonly tracked: Tracked[];
  /** Sampled steps this epoch, and steps since the recorder started. */
  private steps = 0;
  private stepCount = 0;
  private readonly probe: BatchBuffer;
  private readonly probeN: number;
  private readonly probeIdx: Uint32Array;

  /** `probe`: the images whose activations are recorded, the first PROBE_IMAGES of `pixels`/`indices` order. */
  constructor(
    private readonly model: Model,
    private readonly probePixels: Uint8Array,
    probeIndices: ArrayLike<number>,
    /** Measure gradient norms and update ratios on every this-many-th step (1: every step). */
    private readonly every = HEALTH_SAMPLE_EVERY,
  ) {
    this.prev = model.params.slice();
    this.tracked = model.index
      .filter((e) => e.store === 'param' && e.local === 'weight')
      .map((e) => ({ name: e.layer, weight: { offset: e.offset, length: e.length }, gradNorm: 0, ratio: 0 }));
    this.probeN = Math.min(PROBE_IMAGES, probeIndices.length);
    this.probeIdx = Uint32Array.from(Array.from({ length: this.probeN }, (_, i) => probeIndices[i]));
    this.probe = new BatchBuffer(shapeSize(model.inShape), model.memory);
  }

  /**
   * After every optimizer step: on every `every`-th step, accumulates the gradient norms and
   * update ratios (one pass over the parameters), having kept the weights of the step before.
   */
  afterStep(): void {
    const at = this.stepCount++ % this.every;
    const { params, grads } = this.model;
    if (at === 0) {
      for (const t of this.tracked) {
        const { offset, length } = t.weight;
        let dw = 0;
        let w0 = 0;
        let g2 = 0;
        for (let i = offset, end = offset + length; i < end; i++) {
          const before = this.prev[i];
          const d = params[i] - before;
          dw += d * d;
          w0 += before * before;
          const g = grads[i];
          g2 += g * g;
        }
        t.gradNorm += Math.sqrt(g2);
        t.ratio += w0 > 0 ? Math.sqrt(dw / w0) : 0;
      }
      this.steps++;
    }
    // The weights before the next sampled step.
    if (at === this.every - 1 || this.every === 1) this.prev.set(params);
  }

  /** The epoch's record; starts the next epoch's averages. */
  finish(epoch: number): EpochHealth {
    const m = this.model;
    const resolved = resolveLayers(m.spec);
    const x = this.probe.get(this.probeN);
    m.kernels.gatherPixels(x, this.probePixels, this.probeIdx, this.probeN, shapeSize(m.inShape));
    const outputs = m.layerOutputs(x, this.probeN, false);
    const layers: LayerHealth[] = m.layers.map((layer, i) => {
      const r = resolved[i];
      const out = outputs[i].data.subarray(0, this.probeN * shapeSize(layer.outShape));
      const h: LayerHealth = { name: layer.name, kind: r.type, activation: stats(out) };
      if (r.type === 'activation') h.fn = r.fn;
      const has = (local: string): boolean => m.entry(`${layer.name}.${local}`)?.store === 'param';
      if (has('weight')) h.weight = stats(freeValues(m, `${layer.name}.weight`, m.tensor(`${layer.name}.weight`)));
      if (has('bias')) h.bias = stats(m.tensor(`${layer.name}.bias`));
      const t = this.tracked.find((x) => x.name === layer.name);
      if (t) {
        h.grad = { ...stats(freeValues(m, `${layer.name}.weight`, m.grad(`${layer.name}.weight`))), norm: this.steps ? t.gradNorm / this.steps : 0 };
        h.updateToWeight = this.steps ? t.ratio / this.steps : 0;
      }
      if (r.type === 'activation' && r.fn === 'relu') {
        const units = shapeSize(layer.outShape);
        let dead = 0;
        for (let u = 0; u < units; u++) {
          let fired = false;
          for (let s = 0; s < this.probeN && !fired; s++) fired = out[s * units + u] > 0;
          if (!fired) dead++;
        }
        h.deadFraction = units ? dead / units : 0;
      }
      if (r.type === 'activation' && (r.fn === 'tanh' || r.fn === 'sigmoid')) {
        let sat = 0;
        for (const v of out) if (r.fn === 'tanh' ? Math.abs(v) > SATURATION : v > SATURATION || v < 1 - SATURATION) sat++;
        h.saturatedFraction = out.length ? sat / out.length : 0;
      }
      if (m.entry(`${layer.name}.running_mean`)) {
        h.runningMean = Array.from(m.tensor(`${layer.name}.running_mean`));
        h.runningVar = Array.from(m.tensor(`${layer.name}.running_var`));
      }
      return h;
    });
    const record: EpochHealth = { epoch, steps: this.steps, layers };
    for (const t of this.tracked) t.gradNorm = t.ratio = 0;
    this.steps = 0;
    return record;
  }
}

// ---------------------------------------------------------------- flags

export type FlagKind = 'dead-relu' | 'saturated' | 'vanishing-gradient' | 'exploding-gradient' | 'update-ratio' | 'loss-plateau' | 'lr-jump' | 'resume';

export interface HealthFlag {
  epoch: number;
  /** The layer concerned, or null for the run as a whole. */
  layer: string | null;
  kind: FlagKind;
  message: string;
}

/** Where a flag is raised; see healthFlags. */
export const FLAG_LIMITS = {
  /** A ReLU layer with more than this share of units that never fire on the probe batch. */
  dead: 0.5,
  /** A tanh or sigmoid layer with more than this share of outputs saturated. */
  saturated: 0.5,
  /** A layer whose gradient norm is under this share of the largest layer's in the same epoch. */
  vanishing: 1e-3,
  /** A gradient norm above this, or this many times the layer's own at the first recorded epoch. */
  exploding: 100,
  /** Update-to-weight ratios this many times away from 1e-3, either way. */
  updateFactor: 100,
  /** Training loss that fell by less than this share over the last two epochs. */
  plateau: 0.01,
  /** A learning rate this many times larger or smaller than the epoch before's. */
  lrJump: 2,
} as const;

const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;

/**
 * What looks wrong (or worth a marker) in a run, from its health records and per-epoch metrics
 * (train loss and learning rate), in epoch order, each explained in plain words.
 */
export function healthFlags(epochs: readonly EpochHealth[], metrics: readonly { epoch: number; trainLoss: number; lr: number }[]): HealthFlag[] {
  const L = FLAG_LIMITS;
  const flags: HealthFlag[] = [];
  const firstNorm = new Map<string, number>();
  const byEpoch = new Map(metrics.map((m) => [m.epoch, m]));
  const epochNumbers = [...new Set([...epochs.map((e) => e.epoch), ...metrics.map((m) => m.epoch)])].sort((a, b) => a - b);
  for (const epoch of epochNumbers) {
    const h = epochs.find((e) => e.epoch === epoch);
    if (h?.resumed) flags.push({ epoch, layer: null, kind: 'resume', message: `the run was resumed from its checkpoint in epoch ${epoch}` });
    const m = byEpoch.get(epoch);
    const before = byEpoch.get(epoch - 1);
    if (m && before && before.lr > 0 && m.lr > 0 && (m.lr / before.lr >= L.lrJump || before.lr / m.lr >= L.lrJump)) {
      flags.push({ epoch, layer: null, kind: 'lr-jump', message: `the learning rate changed from ${before.lr.toPrecision(3)} to ${m.lr.toPrecision(3)}` });
    }
    const twoBack = byEpoch.get(epoch - 2);
    if (m && twoBack && before && twoBack.trainLoss - m.trainLoss < L.plateau * twoBack.trainLoss) {
      flags.push({
        epoch,
        layer: null,
        kind: 'loss-plateau',
        message: `the training loss has fallen by less than ${pct(L.plateau)} over two epochs (${twoBack.trainLoss.toFixed(4)} → ${m.trainLoss.toFixed(4)})`,
      });
    }
    if (!h) continue;
    const norms = h.layers.filter((l) => l.grad && h.steps > 0).map((l) => ({ name: l.name, norm: l.grad!.norm }));
    const largest = Math.max(0, ...norms.map((n) => n.norm));
    for (const l of h.layers) {
      if (l.deadFraction !== undefined && l.deadFraction > L.dead) {
        flags.push({
          epoch,
          layer: l.name,
          kind: 'dead-relu',
          message: `${pct(l.deadFraction)} of the ReLU units of ${l.name} never fire on the probe images`,
        });
      }
      if (l.saturatedFraction !== undefined && l.saturatedFraction > L.saturated) {
        flags.push({
          epoch,
          layer: l.name,
          kind: 'saturated',
          message: `${pct(l.saturatedFraction)} of the ${l.fn} outputs of ${l.name} are saturated (near ±1), where the gradient almost vanishes`,
        });
      }
      if (!l.grad || h.steps === 0) continue;
      const n = l.grad.norm;
      const first = firstNorm.get(l.name);
      if (first === undefined) firstNorm.set(l.name, n);
      if (!Number.isFinite(n) || n > L.exploding || (first !== undefined && first > 0 && n > L.exploding * first)) {
        flags.push({
          epoch,
          layer: l.name,
          kind: 'exploding-gradient',
          message: `the gradient norm of ${l.name} is ${n.toPrecision(3)}${first ? `, ${(n / first).toPrecision(3)}× its first epoch's` : ''}: the gradients are exploding`,
        });
      } else if (largest > 0 && n < L.vanishing * largest) {
        flags.push({
          epoch,
          layer: l.name,
          kind: 'vanishing-gradient',
          message: `the gradient norm of ${l.name} (${n.toPrecision(3)}) is under ${L.vanishing} of the largest layer's (${largest.toPrecision(3)}): its gradients are vanishing`,
        });
      }
      const u = l.updateToWeight ?? 0;
      if (u > 0 && (u > 1e-3 * L.updateFactor || u < 1e-3 / L.updateFactor)) {
        flags.push({
          epoch,
          layer: l.name,
          kind: 'update-ratio',
          message: `each step changes the weights of ${l.name} by ${u.toExponential(1)} of their size, far from the usual ~1e-3: the learning rate is probably ${u > 1e-3 ? 'too large' : 'too small'} for it`,
        });
      }
    }
  }
  return flags;
}
