// Attribution: which input pixels a class score depends on, by six methods, and two checks that a
// map means something. Everything runs in inference mode (batch norm with its running statistics)
// and explains the target class's score before the output non-linearity: the logit a softmax
// reads, or for a tanh/MSE net the value before the output tanh. Batches of perturbed inputs run
// through the model's own layers (one forward and one backward per batch), so integrated gradients
// with 64 steps is one batch of 64.
//
// References: gradient (Simonyan et al. 2014), gradient × input (Shrikumar et al. 2016),
// integrated gradients (Sundararajan et al. 2017), SmoothGrad (Smilkov et al. 2017), occlusion
// (Zeiler & Fergus 2014), Grad-CAM (Selvaraju et al. 2017), model randomisation (Adebayo et al.
// 2018), deletion and insertion (Petsiuk et al. 2018).

import { Activation } from './layers/activation';
import { BatchNorm } from './layers/batchnorm';
import { Conv2D } from './layers/conv2d';
import { classScores } from './loss';
import type { Model } from './model';
import { Rng } from './rng';
import { shapeSize } from './tensor';

export const EXPLAIN_METHODS = ['gradient', 'gradxinput', 'ig', 'smoothgrad', 'occlusion', 'gradcam'] as const;
export type ExplainMethod = (typeof EXPLAIN_METHODS)[number];
export type Baseline = 'black' | 'blur';

export const METHOD_LABELS: Record<ExplainMethod, string> = {
  gradient: 'Gradient',
  gradxinput: 'Gradient × input',
  ig: 'Integrated gradients',
  smoothgrad: 'SmoothGrad',
  occlusion: 'Occlusion',
  gradcam: 'Grad-CAM',
};

export interface ExplainOptions {
  /** Integrated gradients: Riemann steps (midpoint rule). */
  steps?: number;
  /** Integrated gradients and occlusion: what replaces the image. */
  baseline?: Baseline;
  /** SmoothGrad: noise standard deviation as a share of the image's value range. */
  noise?: number;
  /** SmoothGrad: noisy copies averaged. */
  samples?: number;
  /** SmoothGrad: seed of the noise. */
  seed?: number;
  /** Occlusion: square patch side and stride, in pixels. */
  patch?: number;
  stride?: number;
  /** Grad-CAM: the convolution whose feature maps are weighted (default: the last one). */
  layer?: string;
}

export const EXPLAIN_DEFAULTS = { steps: 64, baseline: 'black', noise: 0.15, samples: 32, seed: 1, patch: 4, stride: 2 } as const;

/** Limits on the parameters a caller may ask for (the CLI and the UI check against these). */
export const EXPLAIN_LIMITS = {
  steps: { min: 1, max: 1024 },
  samples: { min: 1, max: 512 },
  noise: { min: 0, max: 1 },
  patch: { min: 1, max: 28 },
  stride: { min: 1, max: 28 },
} as const;

export interface Explanation {
  method: ExplainMethod;
  target: number;
  /** The target's pre-non-linearity score at the input. */
  score: number;
  /** Integrated gradients only: the same score at the baseline. */
  baselineScore?: number;
  /** One value per input pixel. */
  attributions: Float32Array;
  /** Integrated gradients only: Σ attributions − (score − baselineScore). */
  completenessGap?: number;
  /** Wall time, milliseconds. */
  ms: number;
}

/** Largest batch the explainer runs at once (bounds the activation memory). */
const CHUNK = 64;

/** Gaussian blur of a C×H×W image, σ pixels, kernel cut at 3σ; edge taps renormalised. */
export function gaussianBlur(x: Float32Array, C: number, H: number, W: number, sigma = 4): Float32Array {
  const r = Math.ceil(3 * sigma);
  const k = new Float64Array(2 * r + 1);
  for (let i = -r; i <= r; i++) k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  const tmp = new Float64Array(C * H * W);
  const out = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) {
    const o = c * H * W;
    for (let y = 0; y < H; y++) {
      for (let xx = 0; xx < W; xx++) {
        let s = 0;
        let w = 0;
        for (let d = -r; d <= r; d++) {
          const j = xx + d;
          if (j < 0 || j >= W) continue;
          s += k[d + r] * x[o + y * W + j];
          w += k[d + r];
        }
        tmp[o + y * W + xx] = s / w;
      }
    }
    for (let y = 0; y < H; y++) {
      for (let xx = 0; xx < W; xx++) {
        let s = 0;
        let w = 0;
        for (let d = -r; d <= r; d++) {
          const j = y + d;
          if (j < 0 || j >= H) continue;
          s += k[d + r] * tmp[o + j * W + xx];
          w += k[d + r];
        }
        out[o + y * W + xx] = s / w;
      }
    }
  }
  return out;
}

/** Bilinear resize of C maps h×w to H×W, PyTorch's `interpolate(mode='bilinear', align_corners=False)`. */
export function resizeBilinear(src: Float32Array, C: number, h: number, w: number, H: number, W: number): Float32Array {
  const out = new Float32Array(C * H * W);
  const sy = h / H;
  const sx = w / W;
  for (let c = 0; c < C; c++) {
    for (let Y = 0; Y < H; Y++) {
      const fy = Math.max((Y + 0.5) * sy - 0.5, 0);
      const y0 = Math.floor(fy);
      const y1 = y0 < h - 1 ? y0 + 1 : y0;
      const ly = fy - y0;
      for (let X = 0; X < W; X++) {
        const fx = Math.max((X + 0.5) * sx - 0.5, 0);
        const x0 = Math.floor(fx);
        const x1 = x0 < w - 1 ? x0 + 1 : x0;
        const lx = fx - x0;
        const b = c * h * w;
        out[(c * H + Y) * W + X] =
          (1 - ly) * ((1 - lx) * src[b + y0 * w + x0] + lx * src[b + y0 * w + x1]) + ly * ((1 - lx) * src[b + y1 * w + x0] + lx * src[b + y1 * w + x1]);
      }
    }
  }
  return out;
}

/**
 * Explains one model's scores. The model is used in place (its parameter gradients are cleared
 * after each backward pass); it must not be training meanwhile.
 */
export class Explainer {
  readonly inputSize: number;
  readonly classes: number;
  /** Index of the layer whose output is the score (the one before the output non-linearity). */
  readonly scoreLayer: number;

  constructor(readonly model: Model) {
    this.inputSize = shapeSize(model.inShape);
    this.classes = model.classes;
    const L = model.layers.length;
    const last = model.layers[L - 1];
    this.scoreLayer = last instanceof Activation && (last.fn === 'softmax' || last.fn === 'tanh' || last.fn === 'sigmoid') ? L - 2 : L - 1;
  }

  /** The convolutions Grad-CAM can use, in network order. */
  convLayers(): string[] {
    return this.model.layers.filter((l) => l instanceof Conv2D).map((l) => l.name);
  }

  private check(x: Float32Array, target: number): void {
    if (x.length !== this.inputSize) throw new Error(`the model takes ${this.inputSize} input values, got ${x.length}`);
    if (!(Number.isInteger(target) && target >= 0 && target < this.classes)) throw new Error(`target must be a class 0–${this.classes - 1}, got ${target}`);
  }

  private forwardTo(xs: Float32Array, n: number, upTo: number, keep = -1): { out: Float32Array; kept: Float32Array | null } {
    let h = xs;
    let kept: Float32Array | null = null;
    for (let i = 0; i <= upTo; i++) {
      h = this.model.layers[i].forward(h, n, false);
      if (i === keep) kept = h.slice(0, n * shapeSize(this.model.layers[i].outShape));
    }
    return { out: h, kept };
  }

  /** Pre-non-linearity scores (n × classes) of n inputs. */
  scores(xs: Float32Array, n: number): Float32Array {
    const out = new Float32Array(n * this.classes);
    for (let s = 0; s < n; s += CHUNK) {
      const m = Math.min(CHUNK, n - s);
      const y = this.forwardTo(xs.subarray(s * this.inputSize, (s + m) * this.inputSize), m, this.scoreLayer).out;
      out.set(y.subarray(0, m * this.classes), s * this.classes);
    }
    return out;
  }

  /** Class scores as the engine reports them (softmax, or (y+1)/2 normalised) of n inputs. */
  classScores(xs: Float32Array, n: number): Float32Array {
    const K = this.classes;
    const out = new Float32Array(n * K);
    const tmp = new Float32Array(K);
    for (let s = 0; s < n; s += CHUNK) {
      const m = Math.min(CHUNK, n - s);
      const y = this.model.forward(xs.subarray(s * this.inputSize, (s + m) * this.inputSize), m, false);
      for (let i = 0; i < m; i++) out.set(classScores(this.model.spec.loss, y, i * K, K, tmp), (s + i) * K);
    }
    return out;
  }

  /** The predicted class of one input (largest score). */
  predict(x: Float32Array): number {
    const s = this.scores(x, 1);
    let best = 0;
    for (let k = 1; k < this.classes; k++) if (s[k] > s[best]) best = k;
    return best;
  }

  /**
   * Gradients of the target score with respect to n inputs (n × inputSize), and the scores.
   * With `stopAt` ≥ 0, the gradient at that layer's output instead (and its output, `kept`).
   */
  private gradients(xs: Float32Array, n: number, target: number): { grads: Float32Array; scores: Float32Array } {
    const K = this.classes;
    const scores = new Float32Array(n);
    const grads = this.inputGradients(xs, n, this.scoreLayer, (out, m, first) => {
      for (let i = 0; i < m; i++) scores[first + i] = out[i * K + target];
      return this.oneHot(m, target);
    });
    return { grads, scores };
  }

  /**
   * Gradients with respect to n inputs (n × inputSize) of Σ dOut · (the output of layer `upTo`),
   * in inference mode. The inputs run in chunks; for each, `seed` gets that layer's output (m
   * samples, starting at sample `first`) and returns dOut (m × the layer's output size).
   */
  inputGradients(xs: Float32Array, n: number, upTo: number, seed: (out: Float32Array, m: number, first: number) => Float32Array): Float32Array {
    const D = this.inputSize;
    const grads = new Float32Array(n * D);
    for (let s = 0; s < n; s += CHUNK) {
      const m = Math.min(CHUNK, n - s);
      const { out } = this.forwardTo(xs.subarray(s * D, (s + m) * D), m, upTo);
      let g = seed(out, m, s);
      for (let i = upTo; i >= 0; i--) g = this.model.layers[i].backward(g, m, true);
      grads.set(g.subarray(0, m * D), s * D);
    }
    this.model.zeroGrad();
    return grads;
  }

  /** The output of layer `upTo` (n × its size) for n inputs, in inference mode; a copy. */
  outputsAt(xs: Float32Array, n: number, upTo: number): Float32Array {
    const size = shapeSize(this.model.layers[upTo].outShape);
    const out = new Float32Array(n * size);
    for (let s = 0; s < n; s += CHUNK) {
      const m = Math.min(CHUNK, n - s);
      out.set(this.forwardTo(xs.subarray(s * this.inputSize, (s + m) * this.inputSize), m, upTo).out.subarray(0, m * size), s * size);
    }
    return out;
  }

  private oneHot(m: number, target: number): Float32Array {
    const dy = new Float32Array(m * this.classes);
    for (let i = 0; i < m; i++) dy[i * this.classes + target] = 1;
    return dy;
  }

  /** The baseline image for `kind`. */
  baselineOf(x: Float32Array, kind: Baseline): Float32Array {
    if (kind === 'black') return new Float32Array(x.length);
    const [C, H, W] = this.model.inShape.length === 3 ? this.model.inShape : [1, 1, x.length];
    return gaussianBlur(x, C, H, W);
  }

  explain(method: ExplainMethod, x: Float32Array, target: number, opts: ExplainOptions = {}): Explanation {
    this.check(x, target);
    const t0 = performance.now();
    let r: Omit<Explanation, 'ms' | 'method' | 'target'>;
    switch (method) {
      case 'gradient':
        r = this.gradient(x, target, false);
        break;
      case 'gradxinput':
        r = this.gradient(x, target, true);
        break;
      case 'ig':
        r = this.integratedGradients(x, target, opts.steps ?? EXPLAIN_DEFAULTS.steps, opts.baseline ?? EXPLAIN_DEFAULTS.baseline);
        break;
      case 'smoothgrad':
        r = this.smoothGrad(x, target, opts.noise ?? EXPLAIN_DEFAULTS.noise, opts.samples ?? EXPLAIN_DEFAULTS.samples, opts.seed ?? EXPLAIN_DEFAULTS.seed);
        break;
      case 'occlusion':
        r = this.occlusion(x, target, opts.patch ?? EXPLAIN_DEFAULTS.patch, opts.stride ?? EXPLAIN_DEFAULTS.stride, opts.baseline ?? EXPLAIN_DEFAULTS.baseline);
        break;
      case 'gradcam':
        r = this.gradCam(x, target, opts.layer);
        break;
    }
    return { method, target, ...r, ms: performance.now() - t0 };
  }

  private gradient(x: Float32Array, target: number, timesInput: boolean): { score: number; attributions: Float32Array } {
    const { grads, scores } = this.gradients(x, 1, target);
    if (timesInput) for (let i = 0; i < grads.length; i++) grads[i] *= x[i];
    return { score: scores[0], attributions: grads };
  }

  private integratedGradients(
    x: Float32Array,
    target: number,
    steps: number,
    baseline: Baseline,
  ): { score: number; baselineScore: number; attributions: Float32Array; completenessGap: number } {
    const D = this.inputSize;
    const b = this.baselineOf(x, baseline);
    const xs = new Float32Array(steps * D);
    for (let k = 0; k < steps; k++) {
      const a = (k + 0.5) / steps; // midpoint rule
      for (let i = 0; i < D; i++) xs[k * D + i] = b[i] + a * (x[i] - b[i]);
    }
    const { grads } = this.gradients(xs, steps, target);
    const attributions = new Float32Array(D);
    for (let i = 0; i < D; i++) {
      let s = 0;
      for (let k = 0; k < steps; k++) s += grads[k * D + i];
      attributions[i] = ((x[i] - b[i]) * s) / steps;
    }
    const ends = new Float32Array(2 * D);
    ends.set(x, 0);
    ends.set(b, D);
    const sc = this.scores(ends, 2);
    const score = sc[target];
    const baselineScore = sc[this.classes + target];
    let sum = 0;
    for (let i = 0; i < D; i++) sum += attributions[i];
    return { score, baselineScore, attributions, completenessGap: sum - (score - baselineScore) };
  }

  private smoothGrad(x: Float32Array, target: number, noise: number, samples: number, seed: number): { score: number; attributions: Float32Array } {
    const D = this.inputSize;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < D; i++) {
      lo = Math.min(lo, x[i]);
      hi = Math.max(hi, x[i]);
    }
    const sigma = noise * (hi > lo ? hi - lo : 1);
    const rng = new Rng(seed);
    const xs = new Float32Array(samples * D);
    for (let k = 0; k < samples; k++) for (let i = 0; i < D; i++) xs[k * D + i] = x[i] + sigma * rng.normal();
    const { grads } = this.gradients(xs, samples, target);
    const attributions = new Float32Array(D);
    for (let k = 0; k < samples; k++) for (let i = 0; i < D; i++) attributions[i] += grads[k * D + i] / samples;
    return { score: this.scores(x, 1)[target], attributions };
  }

  private occlusion(x: Float32Array, target: number, patch: number, stride: number, baseline: Baseline): { score: number; attributions: Float32Array } {
    const D = this.inputSize;
    const [C, H, W] = this.model.inShape.length === 3 ? this.model.inShape : [1, 1, D];
    const b = this.baselineOf(x, baseline);
    const ph = Math.min(patch, H);
    const pw = Math.min(patch, W);
    const ys: number[] = [];
    const xsPos: number[] = [];
    for (let y = 0; y + ph <= H; y += stride) ys.push(y);
    for (let xx = 0; xx + pw <= W; xx += stride) xsPos.push(xx);
    const n = ys.length * xsPos.length;
    const batch = new Float32Array(n * D);
    let w = 0;
    for (const y0 of ys) {
      for (const x0 of xsPos) {
        const o = w * D;
        batch.set(x, o);
        for (let c = 0; c < C; c++) {
          for (let y = y0; y < y0 + ph; y++) for (let xx = x0; xx < x0 + pw; xx++) batch[o + (c * H + y) * W + xx] = b[(c * H + y) * W + xx];
        }
        w++;
      }
    }
    const sc = this.scores(batch, n);
    const score = this.scores(x, 1)[target];
    const sum = new Float64Array(D);
    const count = new Float64Array(D);
    w = 0;
    for (const y0 of ys) {
      for (const x0 of xsPos) {
        const diff = score - sc[w * this.classes + target];
        for (let c = 0; c < C; c++) {
          for (let y = y0; y < y0 + ph; y++) {
            for (let xx = x0; xx < x0 + pw; xx++) {
              sum[(c * H + y) * W + xx] += diff;
              count[(c * H + y) * W + xx]++;
            }
          }
        }
        w++;
      }
    }
    const attributions = new Float32Array(D);
    for (let i = 0; i < D; i++) attributions[i] = count[i] ? sum[i] / count[i] : 0;
    return { score, attributions };
  }

  /** Index of the layer whose output Grad-CAM weighs for conv `name`: after its batch norm and activation. */
  private featureLayer(name: string | undefined): number {
    const convs = this.convLayers();
    if (!convs.length) throw new Error('Grad-CAM needs a convolution; this model has none');
    const conv = name ?? convs[convs.length - 1];
    let i = this.model.layers.findIndex((l) => l.name === conv);
    if (i < 0 || !(this.model.layers[i] instanceof Conv2D)) throw new Error(`${conv} is not a convolution of this model (it has ${convs.join(', ')})`);
    while (i + 1 < this.scoreLayer && (this.model.layers[i + 1] instanceof BatchNorm || this.model.layers[i + 1] instanceof Activation)) i++;
    return i;
  }

  private gradCam(x: Float32Array, target: number, layer: string | undefined): { score: number; attributions: Float32Array } {
    const a = this.featureLayer(layer);
    const { out, kept } = this.forwardTo(x, 1, this.scoreLayer, a);
    const score = out[target];
    let g = this.oneHot(1, target);
    for (let i = this.scoreLayer; i > a; i--) g = this.model.layers[i].backward(g, 1, true);
    this.model.zeroGrad();
    const [K, h, w] = this.model.layers[a].outShape;
    const A = kept!;
    const cam = new Float32Array(h * w);
    for (let k = 0; k < K; k++) {
      let alpha = 0;
      for (let j = 0; j < h * w; j++) alpha += g[k * h * w + j];
      alpha /= h * w;
      for (let j = 0; j < h * w; j++) cam[j] += alpha * A[k * h * w + j];
    }
    for (let j = 0; j < cam.length; j++) cam[j] = Math.max(0, cam[j]);
    const [, H, W] = this.model.inShape;
    return { score, attributions: resizeBilinear(cam, 1, h, w, H, W) };
  }
}

/** Ranks with ties averaged (1-based). */
function ranks(a: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: a.length }, (_, i) => i).sort((i, j) => a[i] - a[j]);
  const r = new Float64Array(a.length);
  for (let s = 0; s < idx.length;) {
    let e = s;
    while (e + 1 < idx.length && a[idx[e + 1]] === a[idx[s]]) e++;
    const v = (s + e) / 2 + 1;
    for (let t = s; t <= e; t++) r[idx[t]] = v;
    s = e + 1;
  }
  return r;
}

/** Spearman rank correlation (Pearson on tie-averaged ranks); 0 when either side is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error('spearman: arrays of different lengths');
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const m = (n + 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i] - m) * (rb[i] - m);
    saa += (ra[i] - m) ** 2;
    sbb += (rb[i] - m) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/**
 * Rank correlation of two attribution maps (signed, or of |values|) over the pixels where either
 * is non-zero: pixels that are 0 in both by construction (gradient × input and integrated
 * gradients where the image equals the baseline) would otherwise tie and inflate the correlation.
 */
export function mapRank(a: Float32Array, b: Float32Array, abs: boolean): number {
  const xa: number[] = [];
  const xb: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0 && b[i] === 0) continue;
    xa.push(abs ? Math.abs(a[i]) : a[i]);
    xb.push(abs ? Math.abs(b[i]) : b[i]);
  }
  return xa.length > 1 ? spearman(xa, xb) : 0;
}

export interface RandomisationStep {
  /** The layer re-initialised at this step (with every layer above it already random). */
  layer: string;
  /** Per method: the map with this and every later layer random. */
  maps: Partial<Record<ExplainMethod, Float32Array>>;
  /** Per method: rank correlation with the trained model's map (mapRank), signed and of |values|. */
  rank: Partial<Record<ExplainMethod, number>>;
  rankAbs: Partial<Record<ExplainMethod, number>>;
}

/**
 * Cascading model randomisation (Adebayo et al. 2018): re-initialise the weight layers from the
 * top down (each with the batch norm that follows it), and after each, explain the same input and
 * target again. The model is put back as it was at the end.
 */
export function modelRandomisation(
  ex: Explainer,
  x: Float32Array,
  target: number,
  methods: readonly ExplainMethod[],
  opts: ExplainOptions = {},
  seed = 1,
): { original: Partial<Record<ExplainMethod, Float32Array>>; steps: RandomisationStep[] } {
  const model = ex.model;
  const saved = model.snapshot();
  const rng = new Rng(seed);
  const original: Partial<Record<ExplainMethod, Float32Array>> = {};
  for (const m of methods) original[m] = ex.explain(m, x, target, opts).attributions;
  const groups: number[][] = [];
  model.layers.forEach((l, i) => {
    if (l.kind === 'conv2d' || l.kind === 'dense') groups.push([i]);
    else if (l instanceof BatchNorm && groups.length) groups[groups.length - 1].push(i);
  });
  const steps: RandomisationStep[] = [];
  try {
    for (const g of groups.reverse()) {
      for (const i of g) model.layers[i].init(rng);
      const step: RandomisationStep = { layer: model.layers[g[0]].name, maps: {}, rank: {}, rankAbs: {} };
      for (const m of methods) {
        const a = ex.explain(m, x, target, opts).attributions;
        step.maps[m] = a;
        step.rank[m] = mapRank(original[m]!, a, false);
        step.rankAbs[m] = mapRank(original[m]!, a, true);
      }
      steps.push(step);
    }
  } finally {
    model.restore(saved);
  }
  return { original, steps };
}

export interface PixelCurve {
  /** Share of the pixels removed (deletion) or inserted (insertion), 0…1. */
  fraction: number[];
  /** The target's class score (softmax probability, or (y+1)/2 normalised) at each point. */
  score: number[];
  /** Area under the curve (trapezoid rule over fraction). */
  auc: number;
}

/**
 * Deletion and insertion curves (Petsiuk et al. 2018): pixels in order of attribution, largest
 * first, are set to black (deletion, from the image) or copied in (insertion, from the blurred
 * image); the target's class score after each of `points` equal steps. A good map makes deletion
 * fall fast (low area) and insertion rise fast (high area).
 */
export function deletionInsertion(
  ex: Explainer,
  x: Float32Array,
  target: number,
  attributions: Float32Array,
  points = 28,
): { deletion: PixelCurve; insertion: PixelCurve } {
  const D = ex.inputSize;
  const order = Array.from({ length: D }, (_, i) => i).sort((i, j) => attributions[j] - attributions[i] || i - j);
  const blur = ex.baselineOf(x, 'blur');
  const n = points + 1;
  const del = new Float32Array(n * D);
  const ins = new Float32Array(n * D);
  const fraction: number[] = [];
  for (let p = 0; p < n; p++) {
    const k = Math.round((p * D) / points);
    fraction.push(k / D);
    const d = del.subarray(p * D, (p + 1) * D);
    const s = ins.subarray(p * D, (p + 1) * D);
    d.set(x);
    s.set(blur);
    for (let t = 0; t < k; t++) {
      d[order[t]] = 0;
      s[order[t]] = x[order[t]];
    }
  }
  const curve = (xs: Float32Array): PixelCurve => {
    const cs = ex.classScores(xs, n);
    const score = Array.from({ length: n }, (_, p) => cs[p * ex.classes + target]);
    let auc = 0;
    for (let p = 1; p < n; p++) auc += ((score[p] + score[p - 1]) / 2) * (fraction[p] - fraction[p - 1]);
    return { fraction, score, auc };
  };
  return { deletion: curve(del), insertion: curve(ins) };
}
