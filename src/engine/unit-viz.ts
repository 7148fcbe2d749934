// What each unit wants: activation maximisation (the input image that drives one unit highest)
// and the test images that drive it highest, for every conv filter, dense unit and class.
//
// A unit's value is read just before its non-linearity, as the explanations read a class score:
// at the output of its conv or dense layer, after the batch norm that follows it if there is one.
// A conv filter's value is its feature map's centre unit (row h/2, column w/2, rounded down): the
// map's mean would be nearly linear in the image's brightness for conv1 and its maximiser a
// uniform white or black square, while the centre unit shows the pattern in its receptive field.
// A dense unit's value is its one output; a class's is its score before softmax or the output
// tanh. Top images rank a filter by its map's largest value (the pattern anywhere in the image).
// Everything runs in inference mode (batch norm with its running statistics) through the
// Explainer's forward and backward passes.
//
// Activation maximisation (Erhan et al. 2009; Simonyan et al. 2014; Olah et al. 2017): gradient
// ascent on the input from seeded uniform noise in [0, 1). Each step rolls the image by a random shift of up
// to `jitter` pixels (wrapping round), takes the gradient there and rolls it back, moves every
// pixel by `lr` times the gradient divided by its root mean square, pulls every pixel a share
// `l2` towards 0 (L2 decay: black, MNIST's background), blurs the image every `blurEvery` steps
// (Gaussian, σ `blurSigma`) and clips it to the valid input range [0, 1]. Each unit draws its
// noise and shifts from its own generator, seeded by (seed, unit), so the same seed gives the
// same image. All the units asked for run as one batch.

import type { Explainer } from './explain';
import { gaussianBlur } from './explain';
import { BatchNorm } from './layers/batchnorm';
import { Rng } from './rng';
import { shapeSize } from './tensor';

export interface UnitLayer {
  /** The conv or dense layer. */
  name: string;
  kind: 'conv2d' | 'dense';
  /** Filters or outputs. */
  units: number;
  /** Index of the layer whose output is read (the conv/dense layer or its batch norm). */
  probe: number;
  /** Values per unit at the probe: the map's h·w for a filter, 1 for a dense unit. */
  size: number;
  /** Offset of the unit's value within its map: the centre unit for a filter, 0 for a dense unit. */
  centre: number;
  /** The last layer: its units are the classes. */
  classes: boolean;
}

export interface MaximiseOptions {
  /** Gradient-ascent steps. */
  steps?: number;
  /** Step size, in pixel units, of the RMS-normalised gradient. */
  lr?: number;
  /** L2 decay: share of every pixel taken off each step. */
  l2?: number;
  /** Largest random shift, pixels, in each direction. */
  jitter?: number;
  /** Blur the image every this many steps (0: never). */
  blurEvery?: number;
  /** Gaussian blur's σ, pixels. */
  blurSigma?: number;
  seed?: number;
}

export const MAXIMISE_DEFAULTS = { steps: 128, lr: 0.05, l2: 0.005, jitter: 1, blurEvery: 4, blurSigma: 0.5, seed: 1 } as const;

/** Limits on what a caller may ask for (the CLI checks against these). */
export const MAXIMISE_LIMITS = {
  steps: { min: 1, max: 4096 },
  lr: { min: 0, max: 1 },
  l2: { min: 0, max: 1 },
  jitter: { min: 0, max: 8 },
  blurEvery: { min: 0, max: 4096 },
  blurSigma: { min: 0, max: 4 },
} as const;

export interface Maximised {
  layer: string;
  units: number[];
  /** One image per unit (units.length × input size), values in [0, 1]. */
  images: Float32Array;
  /** Each unit's value at its image. */
  values: Float32Array;
  /** Wall time, milliseconds. */
  ms: number;
}

/** The layers whose units can be shown: every conv and dense layer, in network order. */
export function unitLayers(ex: Explainer): UnitLayer[] {
  const layers = ex.model.layers;
  const out: UnitLayer[] = [];
  layers.forEach((l, i) => {
    if (l.kind !== 'conv2d' && l.kind !== 'dense') return;
    let probe = i;
    while (probe + 1 < layers.length && layers[probe + 1] instanceof BatchNorm) probe++;
    const shape = layers[probe].outShape;
    const centre = shape.length === 3 ? (shape[1] >> 1) * shape[2] + (shape[2] >> 1) : 0;
    out.push({ name: l.name, kind: l.kind, units: shape[0], probe, size: shapeSize(shape) / shape[0], centre, classes: false });
  });
  if (out.length) out[out.length - 1].classes = out[out.length - 1].probe === ex.scoreLayer;
  return out;
}

/** The unit layer called `name`; a plain error naming the choices otherwise. */
export function unitLayer(ex: Explainer, name: string): UnitLayer {
  const all = unitLayers(ex);
  const l = all.find((q) => q.name === name);
  if (!l) throw new Error(`${name} is not a conv or dense layer of this model (it has ${all.map((q) => q.name).join(', ')})`);
  return l;
}

function checkUnits(layer: UnitLayer, units: readonly number[]): void {
  for (const u of units) {
    if (!(Number.isInteger(u) && u >= 0 && u < layer.units)) throw new Error(`${layer.name} has units 0–${layer.units - 1}, got ${u}`);
  }
}

/** Unit u's value in one sample's probe output `out` (at offset o). */
function unitValue(layer: UnitLayer, out: Float32Array, o: number, u: number): number {
  return out[o + u * layer.size + layer.centre];
}

/** Unit u's largest value anywhere in its map (its value, for a dense unit). */
function unitPeak(layer: UnitLayer, out: Float32Array, o: number, u: number): number {
  const b = o + u * layer.size;
  let m = out[b];
  for (let j = 1; j < layer.size; j++) if (out[b + j] > m) m = out[b + j];
  return m;
}

/**
 * Sample i's unit `units[i]`: its value at xs[i] and the gradient of that value with respect to
 * xs[i] (units.length × input size).
 */
export function unitGradients(ex: Explainer, layer: UnitLayer, units: readonly number[], xs: Float32Array): { grads: Float32Array; values: Float32Array } {
  checkUnits(layer, units);
  const n = units.length;
  const per = layer.units * layer.size;
  const values = new Float32Array(n);
  const grads = ex.inputGradients(xs, n, layer.probe, (out, m, first) => {
    const dy = new Float32Array(m * per);
    for (let i = 0; i < m; i++) {
      const u = units[first + i];
      values[first + i] = unitValue(layer, out, i * per, u);
      dy[i * per + u * layer.size + layer.centre] = 1;
    }
    return dy;
  });
  return { grads, values };
}

/** Each sample's value of unit `units[i]` (no gradient). */
export function unitValues(ex: Explainer, layer: UnitLayer, units: readonly number[], xs: Float32Array): Float32Array {
  checkUnits(layer, units);
  const per = layer.units * layer.size;
  const out = ex.outputsAt(xs, units.length, layer.probe);
  return Float32Array.from(units, (u, i) => unitValue(layer, out, i * per, u));
}

/** x rolled by (dy, dx) with wrap-around, C×H×W, into `out` (two row pieces copied per row). */
function roll(out: Float32Array, x: Float32Array, C: number, H: number, W: number, dy: number, dx: number): Float32Array {
  const sx = ((dx % W) + W) % W;
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      const src = (c * H + y) * W;
      const dst = (c * H + ((((y + dy) % H) + H) % H)) * W;
      out.set(x.subarray(src, src + W - sx), dst + sx);
      out.set(x.subarray(src + W - sx, src + W), dst);
    }
  }
  return out;
}

/** The generator of one unit's noise and shifts. */
function unitRng(seed: number, unit: number): Rng {
  return new Rng((seed >>> 0) ^ Math.imul(unit + 1, 0x9e3779b1));
}

/**
 * Activation maximisation of `units` of one layer (default: all of them), as one batch.
 * `onStep(done, total)` is called after every step.
 */
export function maximise(
  ex: Explainer,
  layerName: string,
  units?: readonly number[],
  opts: MaximiseOptions = {},
  onStep?: (done: number, total: number) => void,
): Maximised {
  const t0 = performance.now();
  const layer = unitLayer(ex, layerName);
  const us = units ? [...units] : Array.from({ length: layer.units }, (_, u) => u);
  checkUnits(layer, us);
  const o = { ...MAXIMISE_DEFAULTS, ...opts };
  const D = ex.inputSize;
  const [C, H, W] = ex.model.inShape.length === 3 ? ex.model.inShape : [1, 1, D];
  const n = us.length;
  const rngs = us.map((u) => unitRng(o.seed, u));
  const xs = new Float32Array(n * D);
  for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) xs[i * D + j] = rngs[i].next();
  const shifts = new Int32Array(2 * n);
  const shifted = new Float32Array(n * D);
  const back = new Float32Array(D);
  for (let step = 1; step <= o.steps; step++) {
    for (let i = 0; i < n; i++) {
      const dy = o.jitter ? rngs[i].int(2 * o.jitter + 1) - o.jitter : 0;
      const dx = o.jitter ? rngs[i].int(2 * o.jitter + 1) - o.jitter : 0;
      shifts[2 * i] = dy;
      shifts[2 * i + 1] = dx;
      roll(shifted.subarray(i * D, (i + 1) * D), xs.subarray(i * D, (i + 1) * D), C, H, W, dy, dx);
    }
    const { grads } = unitGradients(ex, layer, us, shifted);
    for (let i = 0; i < n; i++) {
      const gi = grads.subarray(i * D, (i + 1) * D);
      const g = roll(back, gi, C, H, W, -shifts[2 * i], -shifts[2 * i + 1]);
      let ss = 0;
      for (let j = 0; j < D; j++) ss += g[j] * g[j];
      const scale = ss > 0 ? o.lr / Math.sqrt(ss / D) : 0;
      let x = xs.subarray(i * D, (i + 1) * D);
      for (let j = 0; j < D; j++) x[j] += scale * g[j] - o.l2 * x[j];
      if (o.blurEvery > 0 && o.blurSigma > 0 && step % o.blurEvery === 0) {
        xs.set(gaussianBlur(x, C, H, W, o.blurSigma), i * D);
        x = xs.subarray(i * D, (i + 1) * D);
      }
      for (let j = 0; j < D; j++) x[j] = x[j] < 0 ? 0 : x[j] > 1 ? 1 : x[j];
    }
    onStep?.(step, o.steps);
  }
  const values = unitValues(ex, layer, us, xs);
  return { layer: layer.name, units: us, images: xs, values, ms: performance.now() - t0 };
}

export interface TopUnits {
  layer: string;
  units: number;
  k: number;
  /** Per unit, the k images (indices into the set) with the highest value, highest first (units × k; −1 when the set is smaller). */
  index: Int32Array;
  /** Their values (units × k). */
  value: Float32Array;
  /** Each unit's mean over the set (of its map's largest value, for a filter). */
  mean: Float32Array;
}

/**
 * The k images of a set (count × input-size bytes, scaled to [0, 1] as the model reads them) that
 * drive each unit of every conv and dense layer highest (a filter: its map's largest value), ties
 * to the earlier image, with each unit's mean over the set: one batched inference pass for all units at once.
 * `onBatch(done, total)` is called after every batch.
 */
export function topImages(
  ex: Explainer,
  pixels: Uint8Array,
  count: number,
  k: number,
  onBatch?: (done: number, total: number) => void,
  batch = 128,
): TopUnits[] {
  const D = ex.inputSize;
  if (pixels.length < count * D) throw new Error(`topImages: ${count} images need ${count * D} bytes, got ${pixels.length}`);
  const layers = unitLayers(ex);
  const res: TopUnits[] = layers.map((l) => ({
    layer: l.name,
    units: l.units,
    k,
    index: new Int32Array(l.units * k).fill(-1),
    value: new Float32Array(l.units * k).fill(-Infinity),
    mean: new Float32Array(l.units),
  }));
  const sums = layers.map((l) => new Float64Array(l.units));
  const x = new Float32Array(batch * D);
  for (let s = 0; s < count; s += batch) {
    const m = Math.min(batch, count - s);
    for (let j = 0; j < m * D; j++) x[j] = pixels[s * D + j] / 255;
    const outs = ex.model.layerOutputs(x.subarray(0, m * D), m, false);
    layers.forEach((l, li) => {
      const out = outs[l.probe].data;
      const per = l.units * l.size;
      const r = res[li];
      for (let i = 0; i < m; i++) {
        for (let u = 0; u < l.units; u++) {
          const v = unitPeak(l, out, i * per, u);
          sums[li][u] += v;
          const b = u * k;
          if (!(v > r.value[b + k - 1])) continue;
          let p = k - 1;
          while (p > 0 && v > r.value[b + p - 1]) {
            r.value[b + p] = r.value[b + p - 1];
            r.index[b + p] = r.index[b + p - 1];
            p--;
          }
          r.value[b + p] = v;
          r.index[b + p] = s + i;
        }
      }
    });
    onBatch?.(s + m, count);
  }
  res.forEach((r, li) => {
    for (let u = 0; u < r.units; u++) r.mean[u] = count ? sums[li][u] / count : 0;
    for (let j = 0; j < r.value.length; j++) if (r.index[j] < 0) r.value[j] = NaN;
  });
  return res;
}
