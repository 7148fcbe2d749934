// Single-image inference on the model on screen, with src/engine: the forward pass keeping
// every layer's output, the class scores as the engine defines them, and a saliency map (the
// gradient of the predicted class with respect to the input pixels). Also the per-layer facts
// the Model view shows. No DOM: unit-tested under Node, benchmarked in Chromium.

import { jsKernels } from '@engine/kernels/js/backend';
import type { KernelName, Kernels } from '@engine/kernels/types';
import { Conv2D } from '@engine/layers/conv2d';
import { argmax, classScores } from '@engine/loss';
import { Model } from '@engine/model';
import { resolveLayers, type LayerKind, type ModelSpec } from '@engine/spec';
import { shapeSize, type Shape } from '@engine/tensor';

export interface LayerActivation {
  name: string;
  kind: LayerKind;
  /** Per sample: [C, H, W] for maps, [F] for vectors. */
  shape: Shape;
  /** A copy of the layer's output for this image. */
  data: Float32Array;
  min: number;
  max: number;
  mean: number;
  /** Share of the values that are exactly 0 (e.g. cut off by a ReLU). */
  zeros: number;
}

/**
 * One output value of a convolution, taken apart: the receptive-field patch of each input map it
 * reads, the kernel over it, their products summed, plus the bias.
 */
export interface ConvBreakdown {
  layer: string;
  /** Output map and position. */
  map: number;
  y: number;
  x: number;
  kh: number;
  kw: number;
  /** The input maps this output map reads (all, or the connection table's). */
  channels: number[];
  /** patches[i][ky·kw + kx]: input map channels[i] under the kernel (0 in the padding). */
  patches: Float32Array[];
  /** inPadding[ky·kw + kx]: the position lies in the zero padding. */
  inPadding: Uint8Array;
  /** weights[i][ky·kw + kx]: the kernel for channels[i]. */
  weights: Float32Array[];
  /** Σ patch·weight per channel, and over all of them. */
  channelSums: number[];
  sum: number;
  bias: number;
  /** sum + bias: what the layer outputs there (before any activation, a separate layer). */
  value: number;
}

export interface Inspection {
  /** The image inspected, as the model saw it (values in [0, 1]). */
  input: Float32Array;
  /** Raw network outputs (softmax probabilities or tanh values). */
  outputs: Float32Array;
  /** Scores that sum to 1 (engine `classScores`). */
  scores: Float32Array;
  predicted: number;
  /** Every layer's output except flatten (the same numbers as the layer before it). */
  activations: LayerActivation[];
  /**
   * d(score of the predicted class)/d(input): for a softmax output the gradient of its log
   * probability (well conditioned even at p≈1), otherwise of the output unit itself.
   */
  saliency: Float32Array;
  /** Wall time of forward + saliency, for display. */
  ms: number;
  kernels: KernelName;
}

export interface ConvWeights {
  layer: string;
  /** Output maps, input maps, kernel height and width. */
  out: number;
  in: number;
  kh: number;
  kw: number;
  /** weight [out, in, kh, kw] (a copy). */
  weight: Float32Array;
  /** mask[o·in + c]: whether output map o reads input map c (null: all). */
  mask: Uint8Array | null;
}

export interface LayerFacts {
  name: string;
  kind: LayerKind;
  inShape: Shape;
  outShape: Shape;
  /** Free parameters (C3's masked weights excluded). */
  params: number;
  /** Multiply-adds per image, forward. */
  macs: number;
  /** What the layer does, e.g. "6 filters 5×5, padding 2". */
  detail: string;
  /** For a conv layer with a connection table: table[in][out]. */
  table: number[][] | null;
}

export interface ModelLike {
  spec: ModelSpec;
  params: Float32Array;
  buffers: Float32Array;
}

function stats(a: Float32Array): { min: number; max: number; mean: number; zeros: number } {
  let lo = Infinity;
  let hi = -Infinity;
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    sum += v;
    if (v === 0) zeros++;
  }
  return a.length ? { min: lo, max: hi, mean: sum / a.length, zeros: zeros / a.length } : { min: 0, max: 0, mean: 0, zeros: 0 };
}

export class Inspector {
  readonly model: Model;
  readonly classes: number;
  readonly inputSize: number;
  private readonly dOut: Float32Array;
  private readonly softmaxOut: boolean;

  /** The model runs on `kernels` (the engine store's); dispose() hands its memory back. */
  constructor(m: ModelLike, kernels: Kernels) {
    this.model = new Model(m.spec, kernels);
    this.model.restore({ params: m.params, buffers: m.buffers });
    this.classes = this.model.classes;
    this.inputSize = shapeSize(this.model.inShape);
    this.dOut = new Float32Array(this.classes);
    this.softmaxOut = lastFn(this.model.spec) === 'softmax';
  }

  /** Forward with every layer's output, class scores and (optionally) saliency for one image. */
  inspect(x: Float32Array, withSaliency = true): Inspection {
    if (x.length !== this.inputSize) throw new Error(`the model takes ${this.inputSize} input values, got ${x.length}`);
    const t0 = performance.now();
    const outs = this.model.layerOutputs(x, 1, false);
    const activations: LayerActivation[] = [];
    for (let i = 0; i < outs.length; i++) {
      const o = outs[i];
      const layer = this.model.layers[i];
      if (layer.kind === 'flatten') continue;
      const data = o.data.slice(0, shapeSize(o.shape));
      activations.push({ name: o.name, kind: layer.kind, shape: o.shape, data, ...stats(data) });
    }
    const y = outs[outs.length - 1].data;
    const outputs = y.slice(0, this.classes);
    const predicted = argmax(outputs, 0, this.classes);
    const scores = classScores(this.model.spec.loss, outputs, 0, this.classes, new Float32Array(this.classes));
    let saliency = new Float32Array(this.inputSize);
    if (withSaliency) {
      this.dOut.fill(0);
      // Through the softmax, dz = e_c − p: the gradient of log p_c.
      this.dOut[predicted] = this.softmaxOut ? 1 / Math.max(outputs[predicted], 1e-30) : 1;
      saliency = this.model.backwardOutput(this.dOut, true).slice(0, this.inputSize);
      this.model.zeroGrad(); // nothing is trained here; keep the accumulators from growing
    }
    return { input: x.slice(), outputs, scores, predicted, activations, saliency, ms: performance.now() - t0, kernels: this.model.kernels.name };
  }

  dispose(): void {
    this.model.dispose();
  }

  /**
   * Output (map, y, x) of conv layer `layer` for the image of `r` (an inspection by this
   * inspector), from the layer's real input (the previous layer's output in `r`) and the model's
   * weights; summed in double precision.
   */
  convBreakdown(r: Inspection, layer: string, map: number, y: number, x: number): ConvBreakdown {
    const li = this.model.layers.findIndex((l) => l.name === layer);
    const l = this.model.layers[li];
    if (!(l instanceof Conv2D)) throw new Error(`${layer} is not a convolution`);
    const { C, H, W, KH, KW, stride, pad, OH, OW } = l.geom;
    const O = l.outShape[0];
    if (!(map >= 0 && map < O && y >= 0 && y < OH && x >= 0 && x < OW)) throw new Error(`${layer} has no output (${map}, ${y}, ${x})`);
    let input: Float32Array;
    if (li === 0) input = r.input;
    else {
      const prev = r.activations.find((a) => a.name === this.model.layers[li - 1].name);
      if (!prev) throw new Error(`no output of the layer before ${layer} in this inspection`);
      input = prev.data;
    }
    const w = this.model.tensor(`${layer}.weight`); // [O, C, KH, KW]
    const b = this.model.tensor(`${layer}.bias`); // [O]
    const k2 = KH * KW;
    const channels: number[] = [];
    for (let c = 0; c < C; c++) if (!l.mask || l.mask[map * C + c]) channels.push(c);
    const inPadding = new Uint8Array(k2);
    const patches: Float32Array[] = [];
    const weights: Float32Array[] = [];
    const channelSums: number[] = [];
    let sum = 0;
    for (const c of channels) {
      const patch = new Float32Array(k2);
      const kern = w.slice((map * C + c) * k2, (map * C + c + 1) * k2);
      let cs = 0;
      for (let ky = 0; ky < KH; ky++) {
        for (let kx = 0; kx < KW; kx++) {
          const iy = y * stride - pad + ky;
          const ix = x * stride - pad + kx;
          const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
          inPadding[ky * KW + kx] = inside ? 0 : 1;
          const v = inside ? input[(c * H + iy) * W + ix] : 0;
          patch[ky * KW + kx] = v;
          cs += v * kern[ky * KW + kx];
        }
      }
      patches.push(patch);
      weights.push(kern);
      channelSums.push(cs);
      sum += cs;
    }
    const bias = b[map];
    return { layer, map, y, x, kh: KH, kw: KW, channels, patches, inPadding, weights, channelSums, sum, bias, value: sum + bias };
  }

  /** The weights of every conv layer, with its connection mask. */
  convWeights(): ConvWeights[] {
    const out: ConvWeights[] = [];
    for (const l of this.model.layers) {
      if (!(l instanceof Conv2D)) continue;
      const [O, C, KH, KW] = l.params[0].shape;
      out.push({ layer: l.name, out: O, in: C, kh: KH, kw: KW, weight: this.model.tensor(`${l.name}.weight`).slice(), mask: l.mask ? l.mask.slice() : null });
    }
    return out;
  }
}

function lastFn(spec: ModelSpec): string | null {
  const last = spec.layers[spec.layers.length - 1];
  return last.type === 'activation' ? last.fn : null;
}

function detail(l: ReturnType<typeof resolveLayers>[number]): string {
  switch (l.type) {
    case 'conv2d': {
      const parts = [`${l.filters} filters ${l.kernel}×${l.kernel}`];
      if ((l.stride ?? 1) !== 1) parts.push(`stride ${l.stride}`);
      if (l.padding) parts.push(`padding ${l.padding}`);
      if (l.table) parts.push('connection table');
      return parts.join(', ');
    }
    case 'pool2d':
      return `${l.mode} ${l.size}×${l.size}${(l.stride ?? l.size) !== l.size ? `, stride ${l.stride}` : ''}`;
    case 'dense':
      return `${l.units} units`;
    case 'batchnorm':
      return 'batch norm';
    case 'activation':
      return l.fn;
    case 'flatten':
      return 'flatten';
  }
}

/** Layer by layer: shapes, free parameters and multiply-adds per image. */
export function describeLayers(spec: ModelSpec): LayerFacts[] {
  const resolved = resolveLayers(spec);
  const model = new Model(spec, jsKernels); // for its layers' facts only: nothing runs
  return model.layers.map((layer, i) => {
    let params = 0;
    for (const p of layer.params) params += shapeSize(p.shape);
    let table: number[][] | null = null;
    if (layer instanceof Conv2D && layer.mask) {
      params -= layer.mask.reduce((a, v) => a + (v ? 0 : 1), 0) * layer.geom.KH * layer.geom.KW;
      const r = resolved[i];
      table = r.type === 'conv2d' && r.table ? r.table.map((row) => [...row]) : null;
    }
    return {
      name: layer.name,
      kind: layer.kind,
      inShape: layer.inShape,
      outShape: layer.outShape,
      params,
      macs: layer.macs,
      detail: detail(resolved[i]),
      table,
    };
  });
}
