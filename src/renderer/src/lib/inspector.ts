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

function range(a: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return a.length ? [lo, hi] : [0, 0];
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
      const [min, max] = range(data);
      activations.push({ name: o.name, kind: layer.kind, shape: o.shape, data, min, max });
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
