// The kernel interface the layers call, and the switch between implementations:
//   'js'        plain TypeScript (gemm.ts, conv.ts, pool.ts): the reference-tested fallback
//   'wasm-simd' WebAssembly SIMD (wasm/kernels.as.ts → build/wasm/kernels.wasm), installed by the
//               hosts (src/node/kernels.ts, src/renderer/src/lib/kernels.ts)
//   'wasm-relaxed-simd'  the same sources built with relaxed SIMD (kernels-relaxed.wasm: fused
//               multiply-add in the GEMMs and convolutions), preferred where the runtime accepts it
// Layers read the live binding `K` at call time, so switching affects every model. Tensors are
// allocated through `K.alloc`, which for wasm hands out views of the wasm memory itself, so the
// hot path passes byte offsets and copies nothing.

import { col2im, im2col, type ConvGeometry } from './conv';
import { convBackwardInputVia, convBackwardWeightsVia, convForwardVia, type ConvPlan } from './conv-batch';
import { gemmNN, gemmNT, gemmTN } from './gemm';
import { addDecay, allFinite, bnBackwardTrain, bnForwardInfer, bnForwardTrain, channelSumAdd, scaleAdd, sgdStep } from './norm';
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward, type PoolGeometry } from './pool';

export type KernelName = 'js' | 'wasm-simd' | 'wasm-relaxed-simd';

export interface Kernels {
  readonly name: KernelName;
  /** A zeroed Float32Array; for wasm, inside wasm memory while there is room. */
  alloc(length: number): Float32Array;
  allocI32(length: number): Int32Array;
  gemmNN(C: Float32Array, cOff: number, A: Float32Array, aOff: number, B: Float32Array, bOff: number, M: number, N: number, K: number, acc: boolean): void;
  gemmNT(C: Float32Array, cOff: number, A: Float32Array, aOff: number, B: Float32Array, bOff: number, M: number, N: number, K: number, acc: boolean): void;
  gemmTN(C: Float32Array, cOff: number, A: Float32Array, aOff: number, B: Float32Array, bOff: number, M: number, N: number, K: number, acc: boolean): void;
  im2col(col: Float32Array, colOff: number, x: Float32Array, xOff: number, g: ConvGeometry): void;
  col2im(dx: Float32Array, dxOff: number, dcol: Float32Array, colOff: number, g: ConvGeometry): void;
  /** argmax null: the values only (inference). */
  maxPoolForward(y: Float32Array, argmax: Int32Array | null, x: Float32Array, n: number, g: PoolGeometry): void;
  maxPoolBackward(dx: Float32Array, dy: Float32Array, argmax: Int32Array, count: number): void;
  avgPoolForward(y: Float32Array, x: Float32Array, n: number, g: PoolGeometry): void;
  avgPoolBackward(dx: Float32Array, dy: Float32Array, n: number, g: PoolGeometry): void;
  /**
   * x[s·size + i] = pixels[indices[s]·size + i] / 255 for n samples of size bytes: a batch built
   * from a dataset that stays uint8 (the same f32 values as the division, for every byte).
   */
  gatherPixels(x: Float32Array, pixels: Uint8Array, indices: ArrayLike<number>, n: number, size: number): void;
  reluForward(y: Float32Array, x: Float32Array, len: number): void;
  reluBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, len: number): void;
  tanhForward(y: Float32Array, x: Float32Array, len: number): void;
  /** dx = dy·(1 − y²), from the forward output y */
  tanhBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, len: number): void;
  sigmoidForward(y: Float32Array, x: Float32Array, len: number): void;
  /** dx = dy·y·(1 − y), from the forward output y */
  sigmoidBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, len: number): void;
  /** y[s,c,p] += bias[c] for n samples of C channels × P positions. */
  addBias(y: Float32Array, bias: Float32Array, n: number, C: number, P: number): void;
  /** out[c] += Σ over samples and positions of x[s,c,p] (bias gradients). */
  channelSumAdd(out: Float32Array, x: Float32Array, n: number, C: number, P: number): void;
  bnForwardTrain: typeof bnForwardTrain;
  bnForwardInfer: typeof bnForwardInfer;
  bnBackwardTrain: typeof bnBackwardTrain;
  allFinite(x: Float32Array, len: number): boolean;
  /** g[off..off+len) += λ·p[off..off+len) */
  addDecay(g: Float32Array, p: Float32Array, off: number, len: number, decay: number): void;
  /** v = μ·v + g; p −= lr·v over whole arrays */
  sgdStep(p: Float32Array, g: Float32Array, v: Float32Array, lr: number, momentum: number): void;
  /** out = a·out + b·x over len values; a = 0 ignores out (NaN included): out = b·x. */
  scaleAdd(out: Float32Array, a: number, x: Float32Array, b: number, len: number): void;
  /** y (n×OC×OH×OW) = conv(x, w) + bias over a whole batch (conv-batch.ts). */
  convForward(y: Float32Array, x: Float32Array, w: Float32Array, bias: Float32Array, n: number, g: ConvGeometry, plan: ConvPlan): void;
  /** dw += Σ over the batch of the weight gradient; entries the plan skips may be left alone. */
  convBackwardWeights(dw: Float32Array, x: Float32Array, dy: Float32Array, n: number, g: ConvGeometry, plan: ConvPlan): void;
  /** dx (n×C×H×W) = the input gradient (overwritten). */
  convBackwardInput(dx: Float32Array, dy: Float32Array, w: Float32Array, n: number, g: ConvGeometry, plan: ConvPlan): void;
}

export const jsKernels: Kernels = {
  name: 'js',
  alloc: (length) => new Float32Array(length),
  allocI32: (length) => new Int32Array(length),
  gemmNN,
  gemmNT,
  gemmTN,
  im2col,
  col2im,
  maxPoolForward,
  maxPoolBackward,
  avgPoolForward,
  avgPoolBackward,
  channelSumAdd,
  bnForwardTrain,
  bnForwardInfer,
  bnBackwardTrain,
  allFinite,
  addDecay,
  sgdStep,
  scaleAdd,
  convForward: (y, x, w, bias, n, g, plan) => convForwardVia(jsKernels, y, x, w, bias, n, g, plan),
  convBackwardWeights: (dw, x, dy, n, g, plan) => convBackwardWeightsVia(jsKernels, dw, x, dy, n, g, plan),
  convBackwardInput: (dx, dy, w, n, g, plan) => convBackwardInputVia(jsKernels, dx, dy, w, n, g, plan),
  gatherPixels(x, pixels, indices, n, size) {
    const inv = 1 / 255;
    for (let s = 0; s < n; s++) {
      const src = indices[s] * size;
      const dst = s * size;
      for (let i = 0; i < size; i++) x[dst + i] = pixels[src + i] * inv;
    }
  },
  reluForward(y, x, len) {
    for (let i = 0; i < len; i++) y[i] = x[i] > 0 ? x[i] : 0;
  },
  reluBackward(dx, dy, y, len) {
    for (let i = 0; i < len; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
  },
  tanhForward(y, x, len) {
    for (let i = 0; i < len; i++) y[i] = Math.tanh(x[i]);
  },
  tanhBackward(dx, dy, y, len) {
    for (let i = 0; i < len; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
  },
  sigmoidForward(y, x, len) {
    for (let i = 0; i < len; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
  },
  sigmoidBackward(dx, dy, y, len) {
    for (let i = 0; i < len; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
  },
  addBias(y, bias, n, C, P) {
    let o = 0;
    for (let s = 0; s < n; s++) {
      for (let c = 0; c < C; c++) {
        const b = bias[c];
        for (let p = 0; p < P; p++) y[o++] += b;
      }
    }
  },
};

/** The active kernels (an ES live binding: importers see changes). */
export let K: Kernels = jsKernels;

export function setKernels(k: Kernels): void {
  K = k;
}
