// A network built from a spec and the kernels it runs on. It owns three flat Float32Arrays —
// trained parameters, their gradients and non-trained buffers (BN running statistics) — and an
// index naming each tensor with PyTorch's state_dict names. The optimizer, the model file and
// snapshots walk the index; only the model knows about layers.
//
// Memory (llm.c): everything the model and its layers allocate — parameters, activations, conv
// plans, the optimizer's velocity — comes from one arena of its kernels (`memory`), which for wasm
// is a share of the wasm memory. `dispose()` hands all of it back; a model whose life ends must be
// disposed, or its wasm memory stays taken. Views of a disposed model must not be used.

import { Activation } from './layers/activation';
import { BatchNorm, type BatchNormSync } from './layers/batchnorm';
import { Conv2D } from './layers/conv2d';
import { Dense } from './layers/dense';
import { Flatten } from './layers/flatten';
import type { Layer, LayerRuntime } from './layers/layer';
import { Pool2D } from './layers/pool2d';
import { argmax, lossGrad, lossSum, softmaxCrossEntropyGrad } from './loss';
import { ModelFileError, assert } from './errors';
import type { Arena, FusedActivation, Kernels } from './kernels/types';
import { Rng } from './rng';
import { resolveLayers, specTensors, validateSpec, type ModelSpec, type ResolvedLayer } from './spec';
import { BatchBuffer, formatShape, shapeSize, type Shape } from './tensor';

export interface TensorEntry {
  /** Full name, e.g. `conv2.weight`, `bn1.running_var`. */
  name: string;
  layer: string;
  local: string;
  shape: Shape;
  offset: number;
  length: number;
  /** L2 decay applies. */
  decay: boolean;
  /** 'param' lives in `params` (trained), 'buffer' in `buffers`. */
  store: 'param' | 'buffer';
}

export interface NamedTensor {
  name: string;
  shape: Shape;
  data: Float32Array;
}

function buildLayer(l: ResolvedLayer, spec: ModelSpec, rt: LayerRuntime): Layer {
  const initScale = spec.initScale ?? 0.05;
  switch (l.type) {
    case 'conv2d':
      return new Conv2D(l.name, l.inShape, l.outShape, l, l.init ?? spec.init ?? 'kaiming-uniform', initScale, rt);
    case 'dense':
      return new Dense(l.name, l.inShape, l.outShape, l.init ?? spec.init ?? 'kaiming-uniform', initScale, rt);
    case 'pool2d':
      return new Pool2D(l.name, l.inShape, l.outShape, l, rt);
    case 'batchnorm':
      return new BatchNorm(l.name, l.inShape, l.outShape, l.eps, l.momentum, rt);
    case 'activation':
      return new Activation(l.name, l.inShape, l.outShape, l.fn, rt);
    case 'flatten':
      return new Flatten(l.name, l.inShape, l.outShape);
  }
}

/**
 * Images an inference pass runs at a time (Model.inferPixels), so that activations stay in the
 * core's cache. Evaluating lenet5-relu-ce-bn at batch 1000 on a 2-core EPYC: 40.2k img/s on two
 * threads in whole shards of 500 images, 45.0k in slices of 16 (44.2k at 32, 40.6k at 64).
 */
export const INFER_SLICE = 16;

/** One pass of an inference forward: a layer and those it fuses. */
type InferStep = (x: Float32Array, n: number) => Float32Array;

function fusable(l: Layer | undefined): FusedActivation | null {
  return l instanceof Activation && l.fn !== 'softmax' ? l.fn : null;
}

/**
 * The passes of Model.inferPixels: a convolution takes the batch norm and the activation right
 * after it, a batch norm the activation after it (Kernels.convForward, Kernels.bnForwardInfer), so
 * that their values are computed while in cache; other layers run on their own. Every output
 * equals that of the layers' own forwards one after another.
 */
function inferenceSteps(layers: readonly Layer[]): InferStep[] {
  const steps: InferStep[] = [];
  for (let i = 0; i < layers.length;) {
    const l = layers[i];
    if (l instanceof Conv2D) {
      const next = layers[i + 1];
      const bn = next instanceof BatchNorm ? next : null;
      const act = fusable(layers[bn ? i + 2 : i + 1]);
      const norm = bn && bn.inference(); // views of the model's arrays: made once
      steps.push((x, n) => l.forwardInfer(x, n, norm, act));
      i += 1 + (bn ? 1 : 0) + (act ? 1 : 0);
    } else if (l instanceof BatchNorm) {
      const act = fusable(layers[i + 1]);
      steps.push((x, n) => l.forwardInfer(x, n, act));
      i += act ? 2 : 1;
    } else {
      steps.push((x, n) => l.forward(x, n, false));
      i++;
    }
  }
  return steps;
}

export class Model implements LayerRuntime {
  readonly spec: ModelSpec;
  /** The kernels every layer of this model calls. */
  readonly kernels: Kernels;
  /** The arena all of this model's arrays come from; dispose() empties it. */
  readonly memory: Arena;
  readonly layers: Layer[];
  readonly index: TensorEntry[] = [];
  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly buffers: Float32Array;
  readonly inShape: Shape;
  readonly classes: number;
  /** Multiply-adds per image, forward. */
  readonly macs: number;
  /** Softmax + cross-entropy: backward starts at the logits with (p − onehot)/n. */
  private readonly fusedSoftmaxCE: boolean;
  private readonly dOut: BatchBuffer;
  private readonly input: BatchBuffer;
  /** inferPixels' outputs. */
  private readonly inferOut: BatchBuffer;
  /** inferPixels' passes over a slice. */
  private readonly inferSteps: InferStep[];
  private out: Float32Array = new Float32Array(0);
  private lastN = 0;
  private disposed = false;

  constructor(spec: unknown, kernels: Kernels) {
    this.spec = validateSpec(spec);
    this.kernels = kernels;
    this.memory = kernels.arena();
    try {
      this.layers = resolveLayers(this.spec).map((l) => buildLayer(l, this.spec, this));
      this.inShape = this.spec.input;
      const last = this.layers[this.layers.length - 1];
      this.classes = last.outShape[0];
      this.fusedSoftmaxCE = this.spec.loss === 'cross-entropy' && last instanceof Activation && last.fn === 'softmax';
      this.dOut = new BatchBuffer(this.classes, this.memory);
      this.input = new BatchBuffer(shapeSize(this.inShape), this.memory);
      this.inferOut = new BatchBuffer(this.classes, this.memory);
      let pOff = 0;
      let bOff = 0;
      for (const layer of this.layers) {
        for (const p of layer.params) {
          const length = shapeSize(p.shape);
          this.index.push({
            name: `${layer.name}.${p.name}`,
            layer: layer.name,
            local: p.name,
            shape: p.shape,
            offset: pOff,
            length,
            decay: p.decay,
            store: 'param',
          });
          pOff += length;
        }
        for (const b of layer.buffers) {
          const length = shapeSize(b.shape);
          this.index.push({
            name: `${layer.name}.${b.name}`,
            layer: layer.name,
            local: b.name,
            shape: b.shape,
            offset: bOff,
            length,
            decay: false,
            store: 'buffer',
          });
          bOff += length;
        }
      }
      const declared = specTensors(this.spec);
      assert(
        declared.length === this.index.length && declared.every((t, i) => t.name === this.index[i].name && t.shape.join() === this.index[i].shape.join()),
        'the layers own other tensors than spec.ts layerTensors declares',
      );
      // In the kernels' memory, so kernels read weights in place.
      this.params = this.memory.alloc(pOff);
      this.grads = this.memory.alloc(pOff);
      this.buffers = this.memory.alloc(bOff);
    } catch (e) {
      this.memory.dispose(); // a model that cannot be built keeps nothing
      throw e;
    }
    this.bindAll();
    this.macs = this.layers.reduce((a, l) => a + l.macs, 0);
    this.inferSteps = inferenceSteps(this.layers);
  }

  /**
   * Hands back all of this model's memory (parameters, gradients, activations, plans, optimizer
   * state), at once. Call it where the model's life ends; calling it again does nothing.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.memory.dispose();
  }

  private bindAll(): void {
    for (const layer of this.layers) {
      const p = new Map<string, Float32Array>();
      const g = new Map<string, Float32Array>();
      const b = new Map<string, Float32Array>();
      for (const e of this.index) {
        if (e.layer !== layer.name) continue;
        if (e.store === 'param') {
          p.set(e.local, this.params.subarray(e.offset, e.offset + e.length));
          g.set(e.local, this.grads.subarray(e.offset, e.offset + e.length));
        } else {
          b.set(e.local, this.buffers.subarray(e.offset, e.offset + e.length));
        }
      }
      layer.bind(p, g, b);
    }
  }

  /** Fresh weights from the spec's init, drawn from `seed` in layer order. */
  init(seed: number | Rng): this {
    const rng = typeof seed === 'number' ? new Rng(seed) : seed;
    for (const l of this.layers) l.init(rng);
    return this;
  }

  get parameterCount(): number {
    // Masked (C3) weights are stored but not free parameters.
    let masked = 0;
    for (const l of this.layers) if (l instanceof Conv2D && l.mask) masked += l.mask.reduce((a, v) => a + (v ? 0 : 1), 0) * l.geom.KH * l.geom.KW;
    return this.params.length - masked;
  }

  /**
   * Makes every batch norm layer normalise training batches as one shard of a larger batch, with
   * the whole batch's statistics (src/node/parallel sets it around a shard's step); null: on its own.
   */
  setBatchNormSync(sync: BatchNormSync | null): void {
    for (const l of this.layers) if (l instanceof BatchNorm) l.sync = sync;
  }

  /** Scale uint8 pixels of images [start, start+n) (in `order` if given) to [0,1] and run forward. */
  forwardPixels(pixels: Uint8Array, indices: ArrayLike<number>, n: number, training: boolean): Float32Array {
    const x = this.input.get(n);
    this.kernels.gatherPixels(x, pixels, indices, n, shapeSize(this.inShape));
    return this.forward(x, n, training);
  }

  /**
   * Inference outputs (n × classes) of images indices[0, n), computed INFER_SLICE images at a time
   * so that every layer's activations stay in the core's cache, and with a convolution or batch
   * norm and the layers after it in one pass (inferenceSteps): the outputs of forwardPixels(…,
   * false) over the whole batch, since in inference an image's outputs do not depend on the
   * others. The result is model-owned. What the layers keep of it is no forward's: use forward
   * for activations, and before a backward.
   */
  inferPixels(pixels: Uint8Array, indices: Uint32Array, n: number): Float32Array {
    if (n <= INFER_SLICE) return this.inferSlice(pixels, indices, n);
    const out = this.inferOut.get(n);
    for (let s = 0; s < n; s += INFER_SLICE) {
      const m = Math.min(INFER_SLICE, n - s);
      out.set(this.inferSlice(pixels, indices.subarray(s, s + m), m), s * this.classes);
    }
    return out;
  }

  private inferSlice(pixels: Uint8Array, indices: ArrayLike<number>, n: number): Float32Array {
    let h = this.input.get(n);
    this.kernels.gatherPixels(h, pixels, indices, n, shapeSize(this.inShape));
    for (const step of this.inferSteps) h = step(h, n);
    this.out = h;
    this.lastN = n;
    return h;
  }

  /** Forward pass over n samples of x (n × input). The result is model-owned. */
  forward(x: Float32Array, n: number, training: boolean): Float32Array {
    let h = x;
    for (const l of this.layers) h = l.forward(h, n, training);
    this.out = h;
    this.lastN = n;
    return h;
  }

  /** Outputs of every layer for the last forward (views valid until the next forward). */
  layerOutputs(x: Float32Array, n: number, training: boolean): { name: string; shape: Shape; data: Float32Array }[] {
    const outs: { name: string; shape: Shape; data: Float32Array }[] = [];
    let h = x;
    for (const l of this.layers) {
      h = l.forward(h, n, training);
      outs.push({ name: l.name, shape: l.outShape, data: h });
    }
    this.out = h;
    this.lastN = n;
    return outs;
  }

  /** Summed loss of the last forward's n outputs. */
  lossSum(labels: Uint8Array): number {
    return lossSum(this.spec.loss, this.out, labels, this.lastN, this.classes);
  }

  /** Number of the last forward's outputs whose argmax equals the label. */
  correct(labels: Uint8Array): number {
    let c = 0;
    for (let s = 0; s < this.lastN; s++) if (argmax(this.out, s * this.classes, this.classes) === labels[s]) c++;
    return c;
  }

  /** Backward from the batch-mean loss of the last forward; adds into `grads`. */
  backward(labels: Uint8Array, needInputGrad = false): Float32Array {
    const n = this.lastN;
    const dy = this.dOut.get(n);
    let start = this.layers.length - 1;
    if (this.fusedSoftmaxCE) {
      softmaxCrossEntropyGrad(dy, this.out, labels, n, this.classes);
      start--; // dy is already the gradient at the softmax's input
    } else {
      lossGrad(this.spec.loss, dy, this.out, labels, n, this.classes);
    }
    return this.backwardFrom(start, dy, needInputGrad);
  }

  /** Backward from an arbitrary gradient at the output (e.g. one class score, for saliency). */
  backwardOutput(dOut: Float32Array, needInputGrad = true): Float32Array {
    return this.backwardFrom(this.layers.length - 1, dOut, needInputGrad);
  }

  private backwardFrom(start: number, dy: Float32Array, needInputGrad: boolean): Float32Array {
    const n = this.lastN;
    let g = dy;
    for (let i = start; i >= 0; i--) g = this.layers[i].backward(g, n, i > 0 || needInputGrad);
    return g;
  }

  zeroGrad(): void {
    this.grads.fill(0);
  }

  entry(name: string): TensorEntry | undefined {
    return this.index.find((e) => e.name === name);
  }

  /** View of a named tensor (parameter or buffer). */
  tensor(name: string): Float32Array {
    const e = this.entry(name);
    if (!e) throw new Error(`internal error: no tensor ${name}`);
    const store = e.store === 'param' ? this.params : this.buffers;
    return store.subarray(e.offset, e.offset + e.length);
  }

  grad(name: string): Float32Array {
    const e = this.entry(name);
    if (!e || e.store !== 'param') throw new Error(`internal error: no parameter ${name}`);
    return this.grads.subarray(e.offset, e.offset + e.length);
  }

  /** Every parameter and buffer as named views, in network order. */
  namedTensors(): NamedTensor[] {
    return this.index.map((e) => ({ name: e.name, shape: e.shape, data: this.tensor(e.name) }));
  }

  /**
   * Copy tensors in by name. Every tensor the model has must be present with its exact shape;
   * extra names are an error too, so a foreign file is never half-loaded.
   */
  loadTensors(tensors: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, source: string): void {
    for (const e of this.index) {
      const t = tensors.get(e.name);
      if (!t) {
        // Names the file has and the model lacks usually explain a missing one (another naming
        // scheme, another architecture): show the first few.
        const foreign = [...tensors.keys()].filter((n) => !this.entry(n));
        const hint = foreign.length
          ? `; the file has ${foreign.length} tensor${foreign.length > 1 ? 's' : ''} this model does not, e.g. ${foreign.slice(0, 3).join(', ')}`
          : '';
        throw new ModelFileError('MODEL_MISMATCH', `${source}: tensor ${e.name} (${formatShape(e.shape)}) is missing${hint}`);
      }
      if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
        throw new ModelFileError('MODEL_MISMATCH', `${source}: tensor ${e.name} has shape ${formatShape(t.shape)}, the model needs ${formatShape(e.shape)}`);
      }
    }
    for (const name of tensors.keys()) {
      if (!this.entry(name)) throw new ModelFileError('MODEL_MISMATCH', `${source}: tensor ${name} does not belong to this model`);
    }
    for (const e of this.index) this.tensor(e.name).set(tensors.get(e.name)!.data);
    this.checkValues(source);
    for (const l of this.layers) l.constrain();
  }

  /** A copy of parameters and buffers: a snapshot another process or the UI can load. */
  snapshot(): { params: Float32Array; buffers: Float32Array } {
    return { params: this.params.slice(), buffers: this.buffers.slice() };
  }

  /** Loads a snapshot; refuses one of another size or with values no trained model holds (checkValues). */
  restore(s: { params: Float32Array; buffers: Float32Array }, source = 'snapshot'): void {
    if (s.params.length !== this.params.length || s.buffers.length !== this.buffers.length) {
      throw new ModelFileError(
        'MODEL_MISMATCH',
        `${source} has ${s.params.length}+${s.buffers.length} values, the model needs ${this.params.length}+${this.buffers.length}`,
      );
    }
    this.params.set(s.params);
    this.buffers.set(s.buffers);
    this.checkValues(source);
    for (const l of this.layers) l.constrain();
  }

  /**
   * Refuses values no trained model holds, naming the tensor and index: NaN or ±Infinity in any
   * tensor, a negative batch-norm running variance (its square root would be NaN).
   */
  checkValues(source: string): void {
    for (const e of this.index) {
      const v = this.tensor(e.name);
      for (let i = 0; i < v.length; i++) {
        if (!Number.isFinite(v[i])) throw new ModelFileError('MODEL_NOT_FINITE', `${source}: tensor ${e.name} holds ${v[i]} at index ${i}`);
      }
      if (e.local !== 'running_var') continue;
      for (let i = 0; i < v.length; i++) {
        if (v[i] < 0) throw new ModelFileError('MODEL_BAD_VALUE', `${source}: tensor ${e.name} holds the negative variance ${v[i]} at index ${i}`);
      }
    }
  }

  /** True when every parameter and buffer is finite. */
  isFinite(): boolean {
    return this.kernels.allFinite(this.params, this.params.length) && this.kernels.allFinite(this.buffers, this.buffers.length);
  }
}
