// TensorFlow.js peers of `npm run bench:peers`: the LeNet-5 of our presets written with tfjs ops
// (NHWC), trained with tf.train.momentum and optimizer.minimize, on the `cpu` backend (plain
// JavaScript) and on the `wasm` backend (XNNPACK, SIMD), whose .wasm files ship inside the
// @tensorflow/tfjs-backend-wasm package and are loaded from node_modules.
//
// Stock tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so it cannot train a conv net.
// For the benchmark we register one built from that backend's own Transpose and Conv2D kernels:
//   dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh+kh−pt, ow+kw−pl, ci] · dy[n,oh,ow,co]
// is a convolution of x with channels as the batch, transposed to [ci,H,W,n], by dy transposed to
// a filter [OH,OW,n,co], with the forward's padding; its output [ci,KH,KW,co] is transposed back.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import type { MnistData } from '../../src/node/datasets';
import { BatchOrder, PEER_PRESETS, measureLoop, measurement, scaleBatch, warmUp, type Availability, type Measurement, type Peer, type Workload } from './peers';

type Tf = typeof TF;

let tfPromise: Promise<Tf> | null = null;
let wasmReady: Promise<void> | null = null;
/** Whether this process registered Conv2DBackpropFilter for wasm (false: tfjs has its own). */
let registeredBackpropFilter = false;

export function loadTf(): Promise<Tf> {
  tfPromise ??= import('@tensorflow/tfjs').then((tf) => {
    // Production mode: tfjs skips its debugging checks, and its "install tfjs-node" banner.
    tf.enableProdMode();
    return tf;
  });
  return tfPromise;
}

/** The folder of tfjs-backend-wasm's .wasm files inside node_modules (with a trailing slash). */
export function tfjsWasmDir(): string {
  const require = createRequire(import.meta.url);
  return `${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`;
}

/**
 * Loads the wasm backend once (one thread: its threaded build cannot start its workers in Node)
 * and registers the Conv2DBackpropFilter kernel it lacks.
 */
export async function ensureWasm(tf: Tf): Promise<void> {
  wasmReady ??= (async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(tfjsWasmDir());
    registeredBackpropFilter = registerWasmConv2DBackpropFilter(tf);
  })();
  return wasmReady;
}

function single(r: TF.TensorInfo | TF.TensorInfo[]): TF.TensorInfo {
  return Array.isArray(r) ? r[0] : r;
}

/**
 * Registers Conv2DBackpropFilter for the wasm backend from its Transpose and Conv2D kernels.
 * Returns false (and registers nothing) when the backend already has one. NHWC, stride 1 and
 * dilation 1 only (LeNet-5 needs nothing else).
 */
export function registerWasmConv2DBackpropFilter(tf: Tf): boolean {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return false;
  const transpose = tf.getKernel('Transpose', 'wasm').kernelFunc;
  const conv2d = tf.getKernel('Conv2D', 'wasm').kernelFunc;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as TF.Conv2DBackpropFilterInputs & { x: TF.TensorInfo; dy: TF.TensorInfo };
      const a = attrs as unknown as TF.Conv2DBackpropFilterAttrs;
      const strides = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
      if (a.dataFormat !== 'NHWC' || strides[0] !== 1 || strides[1] !== 1) {
        throw new Error(`bench: this Conv2DBackpropFilter handles NHWC with stride 1 only (got ${a.dataFormat}, strides ${strides.join('×')})`);
      }
      const xShape = x.shape as [number, number, number, number];
      const info = tf.backend_util.computeConv2DInfo(xShape, a.filterShape, 1, 1, a.pad, a.dimRoundingMode);
      const p = info.padInfo;
      const kb = backend as TF.KernelBackend;
      const xT = single(transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } })); // [ci,H,W,n]
      const dyT = single(transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } })); // [OH,OW,n,co]
      const explicit: TF.backend_util.ExplicitPadding = [
        [0, 0],
        [p.top, p.bottom],
        [p.left, p.right],
        [0, 0],
      ];
      const g = single(conv2d({ inputs: { x: xT, filter: dyT }, backend, attrs: { strides: 1, dilations: 1, pad: explicit, dataFormat: 'NHWC' } })); // [ci,KH,KW,co]
      kb.disposeData(xT.dataId);
      kb.disposeData(dyT.dataId);
      const dw = single(transpose({ inputs: { x: g }, backend, attrs: { perm: [1, 2, 0, 3] } })); // [KH,KW,ci,co]
      kb.disposeData(g.dataId);
      if (dw.shape.join() !== a.filterShape.join()) {
        throw new Error(`bench: Conv2DBackpropFilter produced ${dw.shape.join('×')}, expected ${a.filterShape.join('×')}`);
      }
      return dw;
    },
  });
  return true;
}

// ---------------------------------------------------------------------------------------------
// LeNet-5 in tfjs ops

interface Norm {
  gamma: TF.Variable;
  beta: TF.Variable;
  mean: TF.Variable;
  variance: TF.Variable;
}

interface TfLeNet {
  trainable: TF.Variable[];
  all: TF.Variable[];
  forward(x: TF.Tensor4D, training: boolean): TF.Tensor2D;
}

/** Our LeNet-5 (C3 fully connected) in tfjs: same shapes, activations, pooling, batch norm and output. */
export function buildTfLeNet(tf: Tf, preset: keyof typeof PEER_PRESETS, seed: number): TfLeNet {
  const { act, bn } = PEER_PRESETS[preset];
  let s = seed;
  // A variable from a fresh tensor, which is then released (the variable keeps the data).
  const variable = (init: TF.Tensor, trainable = true): TF.Variable => {
    const v = tf.variable(init, trainable);
    init.dispose();
    return v;
  };
  const weight = (shape: number[], fanIn: number): TF.Variable => {
    // lecun-uniform for tanh, kaiming-uniform for relu, as the presets.
    const lim = act === 'tanh' ? Math.sqrt(3 / fanIn) : Math.sqrt(6 / fanIn);
    return variable(tf.randomUniform(shape, -lim, lim, 'float32', s++));
  };
  const zeros = (n: number): TF.Variable => variable(tf.zeros([n]));
  const conv1 = { w: weight([5, 5, 1, 6], 25), b: zeros(6) };
  const conv2 = { w: weight([5, 5, 6, 16], 150), b: zeros(16) };
  const fc1 = { w: weight([400, 120], 400), b: zeros(120) };
  const fc2 = { w: weight([120, 84], 120), b: zeros(84) };
  const fc3 = { w: weight([84, 10], 84), b: zeros(10) };
  const norm = (n: number): Norm => ({
    gamma: variable(tf.ones([n])),
    beta: zeros(n),
    mean: variable(tf.zeros([n]), false),
    variance: variable(tf.ones([n]), false),
  });
  const norms = bn ? [norm(6), norm(16), norm(120), norm(84), norm(10)] : [];
  const trainable = [conv1.w, conv1.b, conv2.w, conv2.b, fc1.w, fc1.b, fc2.w, fc2.b, fc3.w, fc3.b, ...norms.flatMap((n) => [n.gamma, n.beta])];
  const all = [...trainable, ...norms.flatMap((n) => [n.mean, n.variance])];

  const activate = <T extends TF.Tensor>(h: T): T => (act === 'tanh' ? tf.tanh(h) : tf.relu(h));
  const pool = (h: TF.Tensor4D): TF.Tensor4D => (act === 'tanh' ? tf.avgPool(h, 2, 2, 'valid') : tf.maxPool(h, 2, 2, 'valid'));
  const normalize = <T extends TF.Tensor>(h: T, i: number, training: boolean): T => {
    if (!bn) return h;
    const nm = norms[i];
    const axes = h.rank === 4 ? [0, 1, 2] : [0];
    if (!training) return tf.batchNorm(h, nm.mean, nm.variance, nm.beta, nm.gamma, 1e-5) as T;
    const { mean, variance } = tf.moments(h, axes);
    const count = h.size / mean.size;
    // Running statistics: momentum 0.1 and the unbiased variance, as ours and PyTorch.
    nm.mean.assign(tf.add(tf.mul(nm.mean, 0.9), tf.mul(mean, 0.1)));
    nm.variance.assign(tf.add(tf.mul(nm.variance, 0.9), tf.mul(variance, (0.1 * count) / Math.max(1, count - 1))));
    return tf.batchNorm(h, mean, variance, nm.beta, nm.gamma, 1e-5) as T;
  };
  const conv = (h: TF.Tensor4D, c: { w: TF.Variable; b: TF.Variable }, pad: 'same' | 'valid'): TF.Tensor4D =>
    tf.fused.conv2d({ x: h, filter: c.w as TF.Tensor4D, strides: 1, pad, bias: c.b });
  const dense = (h: TF.Tensor2D, d: { w: TF.Variable; b: TF.Variable }): TF.Tensor2D =>
    tf.fused.matMul({ a: h, b: d.w as TF.Tensor2D, bias: d.b }) as TF.Tensor2D;

  return {
    trainable,
    all,
    forward(x, training) {
      let h: TF.Tensor4D = pool(activate(normalize(conv(x, conv1, 'same'), 0, training)));
      h = pool(activate(normalize(conv(h, conv2, 'valid'), 1, training)));
      let v = tf.reshape<TF.Rank.R2>(h, [h.shape[0], 400]);
      v = activate(normalize(dense(v, fc1), 2, training));
      v = activate(normalize(dense(v, fc2), 3, training));
      v = normalize(dense(v, fc3), 4, training);
      // tanh outputs for MSE; for cross-entropy the logits (the loss applies the softmax).
      return act === 'tanh' ? tf.tanh(v) : v;
    },
  };
}

export class TfjsPeer implements Peer {
  readonly threads = false;
  readonly c3 = 'full' as const;
  readonly label: string;

  constructor(readonly id: 'tfjs-cpu' | 'tfjs-wasm') {
    this.label = id === 'tfjs-cpu' ? 'TensorFlow.js (cpu backend)' : 'TensorFlow.js (wasm backend)';
  }

  private get backend(): 'cpu' | 'wasm' {
    return this.id === 'tfjs-cpu' ? 'cpu' : 'wasm';
  }

  notes(): string[] {
    const n = ['C3 fully connected (no connection table); NHWC; fused conv/matmul + bias; SGD via tf.train.momentum'];
    if (this.id === 'tfjs-cpu') n.push('plain JavaScript kernels, one thread');
    else {
      n.push('XNNPACK with SIMD, one thread: its threaded build starts its workers from a blob: URL, which Node refuses');
      n.push(
        registeredBackpropFilter
          ? 'Conv2DBackpropFilter registered by this benchmark (stock tfjs-backend-wasm 4.22 has none, so it cannot train a conv net): built from the backend’s own Transpose and Conv2D kernels'
          : 'Conv2DBackpropFilter: registered when the backend first loads (stock tfjs-backend-wasm 4.22 has none)',
      );
    }
    return n;
  }

  async check(): Promise<Availability> {
    try {
      const tf = await loadTf();
      if (this.backend === 'wasm') await ensureWasm(tf);
      if (!(await tf.setBackend(this.backend))) return { available: false, reason: `the tfjs ${this.backend} backend did not initialise` };
      return { available: true, version: tf.version.tfjs };
    } catch (e) {
      return { available: false, reason: `cannot load TensorFlow.js (${(e as Error).message}); run npm install` };
    }
  }

  async run(w: Workload, data: MnistData): Promise<Measurement> {
    if (w.c3 !== 'full') throw new Error('TensorFlow.js has no C3 table');
    const tf = await loadTf();
    if (this.backend === 'wasm') await ensureWasm(tf);
    await tf.setBackend(this.backend);
    const { act } = PEER_PRESETS[w.preset];
    const net = buildTfLeNet(tf, w.preset, w.seed);
    const optimizer = tf.train.momentum(w.lr, 0.9);
    const order = new BatchOrder(data.train.count, w.seed);
    const size = 28 * 28;
    const xs = new Float32Array(w.batch * size);
    const onehot = new Float32Array(w.batch * 10);
    const losses: number[] = [];
    const trainStep = (): number => {
      const idx = order.next(w.batch);
      scaleBatch(data.train.pixels, idx, w.batch, size, xs);
      onehot.fill(0);
      for (let s = 0; s < w.batch; s++) onehot[s * 10 + data.train.labels[idx[s]]] = 1;
      return tf.tidy(() => {
        const x = tf.tensor4d(xs, [w.batch, 28, 28, 1]);
        const t = tf.tensor2d(onehot, [w.batch, 10]);
        const cost = optimizer.minimize(
          () => {
            const y = net.forward(x, true);
            return act === 'tanh' ? tf.mul(tf.sum(tf.squaredDifference(y, t)), 0.5 / w.batch) : tf.losses.softmaxCrossEntropy(t, y);
          },
          true,
          net.trainable,
        )!;
        return cost.dataSync()[0];
      });
    };
    let start = 0;
    const idx = new Uint32Array(w.evalBatch);
    const exs = new Float32Array(w.evalBatch * size);
    const evalStep = (): void => {
      for (let s = 0; s < w.evalBatch; s++) idx[s] = (start + s) % data.test.count;
      start += w.evalBatch;
      scaleBatch(data.test.pixels, idx, w.evalBatch, size, exs);
      tf.tidy(() => {
        const y = net.forward(tf.tensor4d(exs, [w.evalBatch, 28, 28, 1]), false);
        (act === 'tanh' ? y : tf.softmax(y)).dataSync();
      });
    };
    try {
      await warmUp(w.warmup, () => void trainStep());
      const train = await measureLoop(w.budget, false, () => void losses.push(trainStep()));
      await warmUp(Math.min(3, w.warmup), evalStep);
      const ev = await measureLoop(w.budget, true, evalStep);
      return measurement(this.id, w, train, ev, losses);
    } finally {
      optimizer.dispose();
      for (const v of net.all) v.dispose();
    }
  }
}
