// The WebAssembly SIMD backend: instantiates wasm/kernels.as.ts's module over a memory this file
// owns and manages. The host supplies the compiled module (Node reads the .wasm file, the
// renderer fetches it), so the engine itself touches neither fs nor fetch.
//
// Memory is reserved once and never grown: growing would detach every Float32Array view the
// models hold. Blocks are handed out first-fit and returned when the view that owns them is
// garbage collected (FinalizationRegistry). Whoever allocates keeps the returned array alive for
// as long as any subarray of it is used — Model and BatchBuffer do. When the memory is full,
// `alloc` falls back to ordinary arrays, which the kernels then copy in and out: slower, never wrong.

import type { ConvGeometry } from './conv';
import { jsKernels, type Kernels } from './backend';
import { convBackwardInputVia, convBackwardWeightsVia, convForwardVia, directConvFits, type ConvPlan } from './conv-batch';
import type { PoolGeometry } from './pool';

interface WasmExports {
  /** 1 in the relaxed-SIMD build, 0 in the plain one (absent in builds that predate it: plain). */
  relaxed_simd?(): number;
  gemm_xn(c: number, a: number, b: number, M: number, N: number, K: number, rsA: number, csA: number, acc: number): void;
  gemm_nt(c: number, a: number, b: number, M: number, N: number, K: number, acc: number): void;
  im2col(col: number, x: number, C: number, H: number, W: number, KH: number, KW: number, stride: number, pad: number, OH: number, OW: number): void;
  col2im(dx: number, col: number, C: number, H: number, W: number, KH: number, KW: number, stride: number, pad: number, OH: number, OW: number): void;
  maxpool_fwd(y: number, argmax: number, x: number, nC: number, H: number, W: number, size: number, stride: number, OH: number, OW: number): void;
  maxpool_bwd(dx: number, dy: number, argmax: number, count: number): void;
  avgpool_fwd(y: number, x: number, nC: number, H: number, W: number, size: number, stride: number, OH: number, OW: number): void;
  avgpool_bwd(dx: number, dy: number, nC: number, H: number, W: number, size: number, stride: number, OH: number, OW: number): void;
  pixels_to_f32(y: number, src: number, len: number): void;
  relu_fwd(y: number, x: number, len: number): void;
  relu_bwd(dx: number, dy: number, y: number, len: number): void;
  tanh_fwd(y: number, x: number, len: number): void;
  tanh_bwd(dx: number, dy: number, y: number, len: number): void;
  sigmoid_fwd(y: number, x: number, len: number): void;
  sigmoid_bwd(dx: number, dy: number, y: number, len: number): void;
  add_bias(y: number, bias: number, n: number, C: number, P: number): void;
  channel_sum_add(out: number, x: number, n: number, C: number, P: number): void;
  bn_fwd_train(
    y: number,
    xhat: number,
    x: number,
    gamma: number,
    beta: number,
    runMean: number,
    runVar: number,
    mean: number,
    invStd: number,
    scratch: number,
    n: number,
    C: number,
    HW: number,
    eps: number,
    momentum: number,
  ): void;
  bn_fwd_infer(
    y: number,
    x: number,
    gamma: number,
    beta: number,
    runMean: number,
    runVar: number,
    invStd: number,
    scratch: number,
    n: number,
    C: number,
    HW: number,
    eps: number,
  ): void;
  bn_bwd_train(
    dx: number,
    dgamma: number,
    dbeta: number,
    dy: number,
    xhat: number,
    gamma: number,
    invStd: number,
    scratch: number,
    n: number,
    C: number,
    HW: number,
    needDx: number,
  ): void;
  all_finite(x: number, len: number): number;
  add_decay(g: number, p: number, len: number, decay: number): void;
  sgd_step(p: number, g: number, v: number, len: number, lr: number, momentum: number): void;
  scale_add(out: number, a: number, x: number, b: number, len: number): void;
  conv_fwd(y: number, x: number, w: number, bias: number, plan: number, scratch: number, ...dims: number[]): void;
  conv_bwd_weights(dw: number, x: number, dy: number, plan: number, scratch: number, ...dims: number[]): void;
  conv_bwd_input(dx: number, dy: number, w: number, plan: number, scratch: number, ...dims: number[]): void;
}

const PAGE = 65536;
/** Thrown inside a kernel call when a scratch copy does not fit; the call then runs in JS. */
const NO_SCRATCH = Symbol('no scratch memory');
const HEAP_START = 65536; // the module has no static data; keep its first page free anyway
const ALIGN = 64;
const TAIL_RESERVE = 256;

/** First-fit allocator over [start, end) with coalescing free list. */
class Heap {
  private free: { at: number; size: number }[];
  constructor(start: number, end: number) {
    this.free = [{ at: start, size: end - start }];
  }

  take(bytes: number): number {
    const size = Math.ceil(bytes / ALIGN) * ALIGN || ALIGN;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i];
      if (f.size < size) continue;
      const at = f.at;
      f.at += size;
      f.size -= size;
      if (f.size === 0) this.free.splice(i, 1);
      return at;
    }
    return -1;
  }

  give(at: number, bytes: number): void {
    const size = Math.ceil(bytes / ALIGN) * ALIGN || ALIGN;
    let i = 0;
    while (i < this.free.length && this.free[i].at < at) i++;
    this.free.splice(i, 0, { at, size });
    // merge with neighbours
    if (i + 1 < this.free.length && this.free[i].at + this.free[i].size === this.free[i + 1].at) {
      this.free[i].size += this.free[i + 1].size;
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1].at + this.free[i - 1].size === this.free[i].at) {
      this.free[i - 1].size += this.free[i].size;
      this.free.splice(i, 1);
    }
  }

  get freeBytes(): number {
    return this.free.reduce((a, f) => a + f.size, 0);
  }
}

export interface WasmKernels extends Kernels {
  readonly memory: WebAssembly.Memory;
  /** Bytes of wasm memory not handed out. */
  freeBytes(): number;
}

/** Whether this runtime can compile WebAssembly SIMD at all. */
export function wasmSimdSupported(): boolean {
  // (module (func (result v128) i32.const 0 i8x16.splat)): 29 bytes that only validate with SIMD
  const probe = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 15, 11]);
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(probe);
  } catch {
    return false;
  }
}

export function createWasmKernels(module: WebAssembly.Module, memoryBytes = 128 * 1024 * 1024): WasmKernels {
  const pages = Math.ceil(memoryBytes / PAGE);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const w = instance.exports as unknown as WasmExports;
  const buffer = memory.buffer;
  // The last bytes are never handed out: kernels may read (and ignore) a few floats past an array.
  const heap = new Heap(HEAP_START, pages * PAGE - TAIL_RESERVE);
  const registry = new FinalizationRegistry<[number, number]>(([at, bytes]) => heap.give(at, bytes));
  const f32 = new Float32Array(buffer);
  const i32 = new Int32Array(buffer);

  function alloc(length: number): Float32Array {
    const at = heap.take(length * 4);
    if (at < 0) return new Float32Array(length);
    const view = new Float32Array(buffer, at, length);
    view.fill(0);
    registry.register(view, [at, length * 4]);
    return view;
  }

  function allocI32(length: number): Int32Array {
    const at = heap.take(length * 4);
    if (at < 0) return new Int32Array(length);
    const view = new Int32Array(buffer, at, length);
    view.fill(0);
    registry.register(view, [at, length * 4]);
    return view;
  }

  // Arrays outside wasm memory (a caller's own buffer, or the allocator's fallback) go through
  // a scratch copy. `scratch` hands out temporary blocks that `release` returns after the call.
  const temps: [number, number][] = [];
  function ptr(a: Float32Array | Int32Array, off: number, len: number): number {
    if (a.buffer === buffer) return a.byteOffset + off * 4;
    const at = heap.take(len * 4);
    if (at < 0) throw NO_SCRATCH;
    temps.push([at, len * 4]);
    if (a instanceof Float32Array) f32.set(a.subarray(off, off + len), at / 4);
    else i32.set(a.subarray(off, off + len), at / 4);
    return at;
  }
  function out(a: Float32Array | Int32Array, off: number, len: number, p: number): void {
    if (a.buffer === buffer) return;
    if (a instanceof Float32Array) a.set(f32.subarray(p / 4, p / 4 + len), off);
    else a.set(i32.subarray(p / 4, p / 4 + len), off);
  }
  function release(): void {
    while (temps.length) {
      const [at, bytes] = temps.pop()!;
      heap.give(at, bytes);
    }
  }

  // gatherPixels: the word-sized staging area (grown on demand) and the dataset last seen, as words.
  let pixelStage: Int32Array<ArrayBufferLike> = new Int32Array(0);
  let pixelSource: Uint8Array | null = null;
  let pixelWords: Int32Array<ArrayBufferLike> = new Int32Array(0);

  const k: WasmKernels = {
    name: w.relaxed_simd?.() ? 'wasm-relaxed-simd' : 'wasm-simd',
    memory,
    freeBytes: () => heap.freeBytes,
    alloc,
    allocI32,
    gemmNN(C, cOff, A, aOff, B, bOff, M, N, Kd, acc) {
      const pc = ptr(C, cOff, M * N);
      w.gemm_xn(pc, ptr(A, aOff, M * Kd), ptr(B, bOff, Kd * N), M, N, Kd, Kd, 1, acc ? 1 : 0);
      out(C, cOff, M * N, pc);
      release();
    },
    gemmTN(C, cOff, A, aOff, B, bOff, M, N, Kd, acc) {
      const pc = ptr(C, cOff, M * N);
      w.gemm_xn(pc, ptr(A, aOff, Kd * M), ptr(B, bOff, Kd * N), M, N, Kd, 1, M, acc ? 1 : 0);
      out(C, cOff, M * N, pc);
      release();
    },
    gemmNT(C, cOff, A, aOff, B, bOff, M, N, Kd, acc) {
      const pc = ptr(C, cOff, M * N);
      w.gemm_nt(pc, ptr(A, aOff, M * Kd), ptr(B, bOff, N * Kd), M, N, Kd, acc ? 1 : 0);
      out(C, cOff, M * N, pc);
      release();
    },
    im2col(col, colOff, x, xOff, g: ConvGeometry) {
      const colLen = g.C * g.KH * g.KW * g.OH * g.OW;
      const pc = ptr(col, colOff, colLen);
      w.im2col(pc, ptr(x, xOff, g.C * g.H * g.W), g.C, g.H, g.W, g.KH, g.KW, g.stride, g.pad, g.OH, g.OW);
      out(col, colOff, colLen, pc);
      release();
    },
    col2im(dx, dxOff, dcol, colOff, g: ConvGeometry) {
      const dxLen = g.C * g.H * g.W;
      const pd = ptr(dx, dxOff, dxLen);
      w.col2im(pd, ptr(dcol, colOff, g.C * g.KH * g.KW * g.OH * g.OW), g.C, g.H, g.W, g.KH, g.KW, g.stride, g.pad, g.OH, g.OW);
      out(dx, dxOff, dxLen, pd);
      release();
    },
    maxPoolForward(y, argmax, x, n, g: PoolGeometry) {
      const yl = n * g.C * g.OH * g.OW;
      const py = ptr(y, 0, yl);
      const pa = argmax ? ptr(argmax, 0, yl) : 0;
      w.maxpool_fwd(py, pa, ptr(x, 0, n * g.C * g.H * g.W), n * g.C, g.H, g.W, g.size, g.stride, g.OH, g.OW);
      out(y, 0, yl, py);
      if (argmax) out(argmax, 0, yl, pa);
      release();
    },
    maxPoolBackward(dx, dy, argmax, count) {
      if (dx.buffer !== buffer) {
        jsKernels.maxPoolBackward(dx, dy, argmax, count); // dx length is not known here; scatter in JS
        return;
      }
      w.maxpool_bwd(dx.byteOffset, ptr(dy, 0, count), ptr(argmax, 0, count), count);
      release();
    },
    avgPoolForward(y, x, n, g: PoolGeometry) {
      const yl = n * g.C * g.OH * g.OW;
      const py = ptr(y, 0, yl);
      w.avgpool_fwd(py, ptr(x, 0, n * g.C * g.H * g.W), n * g.C, g.H, g.W, g.size, g.stride, g.OH, g.OW);
      out(y, 0, yl, py);
      release();
    },
    avgPoolBackward(dx, dy, n, g: PoolGeometry) {
      const xl = n * g.C * g.H * g.W;
      const pd = ptr(dx, 0, xl);
      w.avgpool_bwd(pd, ptr(dy, 0, n * g.C * g.OH * g.OW), n * g.C, g.H, g.W, g.size, g.stride, g.OH, g.OW);
      out(dx, 0, xl, pd);
      release();
    },
    gatherPixels(x, pixels, indices, n, size) {
      // The samples' bytes are gathered four at a time into wasm memory, then converted there.
      // A dataset whose bytes are not 4-aligned, or rows that are not whole words, take the
      // TypeScript loop.
      const q = size >> 2;
      if ((size & 3) !== 0 || (pixels.byteOffset & 3) !== 0) return jsKernels.gatherPixels(x, pixels, indices, n, size);
      if (pixelStage.length < n * q) pixelStage = allocI32(n * q);
      if (pixelStage.buffer !== buffer) return jsKernels.gatherPixels(x, pixels, indices, n, size);
      if (pixels !== pixelSource) {
        pixelSource = pixels;
        pixelWords = new Int32Array(pixels.buffer, pixels.byteOffset, pixels.length >> 2);
      }
      const words = pixelWords;
      const stage = pixelStage;
      for (let s = 0; s < n; s++) {
        const from = indices[s] * q;
        const to = s * q;
        for (let i = 0; i < q; i++) stage[to + i] = words[from + i];
      }
      const len = n * size;
      const px = ptr(x, 0, len);
      w.pixels_to_f32(px, stage.byteOffset, len);
      out(x, 0, len, px);
      release();
    },
    reluForward(y, x, len) {
      const py = ptr(y, 0, len);
      w.relu_fwd(py, ptr(x, 0, len), len);
      out(y, 0, len, py);
      release();
    },
    reluBackward(dx, dy, y, len) {
      const pd = ptr(dx, 0, len);
      w.relu_bwd(pd, ptr(dy, 0, len), ptr(y, 0, len), len);
      out(dx, 0, len, pd);
      release();
    },
    tanhForward(y, x, len) {
      const py = ptr(y, 0, len);
      w.tanh_fwd(py, ptr(x, 0, len), len);
      out(y, 0, len, py);
      release();
    },
    tanhBackward(dx, dy, y, len) {
      const pd = ptr(dx, 0, len);
      w.tanh_bwd(pd, ptr(dy, 0, len), ptr(y, 0, len), len);
      out(dx, 0, len, pd);
      release();
    },
    sigmoidForward(y, x, len) {
      const py = ptr(y, 0, len);
      w.sigmoid_fwd(py, ptr(x, 0, len), len);
      out(y, 0, len, py);
      release();
    },
    sigmoidBackward(dx, dy, y, len) {
      const pd = ptr(dx, 0, len);
      w.sigmoid_bwd(pd, ptr(dy, 0, len), ptr(y, 0, len), len);
      out(dx, 0, len, pd);
      release();
    },
    channelSumAdd(o, x, n, C, P) {
      const po = ptr(o, 0, C);
      w.channel_sum_add(po, ptr(x, 0, n * C * P), n, C, P);
      out(o, 0, C, po);
      release();
    },
    bnForwardTrain(y, xhat, x, gamma, beta, runMean, runVar, mean, invStd, scratch, n, C, HW, eps, momentum) {
      const len = n * C * HW;
      const py = ptr(y, 0, len);
      const ph = ptr(xhat, 0, len);
      const prm = ptr(runMean, 0, C);
      const prv = ptr(runVar, 0, C);
      const pm = ptr(mean, 0, C);
      const pi = ptr(invStd, 0, C);
      w.bn_fwd_train(py, ph, ptr(x, 0, len), ptr(gamma, 0, C), ptr(beta, 0, C), prm, prv, pm, pi, ptr(scratch, 0, 4 * C), n, C, HW, eps, momentum);
      out(y, 0, len, py);
      out(xhat, 0, len, ph);
      out(runMean, 0, C, prm);
      out(runVar, 0, C, prv);
      out(mean, 0, C, pm);
      out(invStd, 0, C, pi);
      release();
    },
    bnForwardInfer(y, x, gamma, beta, runMean, runVar, invStd, scratch, n, C, HW, eps) {
      const len = n * C * HW;
      const py = ptr(y, 0, len);
      const pi = ptr(invStd, 0, C);
      w.bn_fwd_infer(py, ptr(x, 0, len), ptr(gamma, 0, C), ptr(beta, 0, C), ptr(runMean, 0, C), ptr(runVar, 0, C), pi, ptr(scratch, 0, 4 * C), n, C, HW, eps);
      out(y, 0, len, py);
      out(invStd, 0, C, pi);
      release();
    },
    bnBackwardTrain(dx, dgamma, dbeta, dy, xhat, gamma, invStd, scratch, n, C, HW, needDx) {
      const len = n * C * HW;
      const pdx = needDx ? ptr(dx, 0, len) : 0;
      const pg = ptr(dgamma, 0, C);
      const pb = ptr(dbeta, 0, C);
      w.bn_bwd_train(pdx, pg, pb, ptr(dy, 0, len), ptr(xhat, 0, len), ptr(gamma, 0, C), ptr(invStd, 0, C), ptr(scratch, 0, 4 * C), n, C, HW, needDx ? 1 : 0);
      if (needDx) out(dx, 0, len, pdx);
      out(dgamma, 0, C, pg);
      out(dbeta, 0, C, pb);
      release();
    },
    allFinite(x, len) {
      const r = w.all_finite(ptr(x, 0, len), len) === 1;
      release();
      return r;
    },
    scaleAdd(o, a, x, b, len) {
      const po = ptr(o, 0, len);
      w.scale_add(po, a, ptr(x, 0, len), b, len);
      out(o, 0, len, po);
      release();
    },
    addDecay(g, p, off, len, decay) {
      const pg = ptr(g, off, len);
      w.add_decay(pg, ptr(p, off, len), len, decay);
      out(g, off, len, pg);
      release();
    },
    convForward(y, x, wt, bias, n, g: ConvGeometry, plan: ConvPlan) {
      if (!directConvFits(g)) return convForwardVia(k, y, x, wt, bias, n, g, plan);
      const OC = bias.length;
      const yl = n * OC * g.OH * g.OW;
      const py = ptr(y, 0, yl);
      const pw = ptr(wt, 0, wt.length);
      const pb = ptr(bias, 0, OC);
      const pp = ptr(plan.forward, 0, plan.forward.length);
      const ps = ptr(plan.scratch, 0, plan.scratch.length);
      w.conv_fwd(py, ptr(x, 0, n * g.C * g.H * g.W), pw, pb, pp, ps, n, g.C, g.H, g.W, OC, g.KH, g.KW, g.pad, g.OH, g.OW);
      out(y, 0, yl, py);
      release();
    },
    convBackwardWeights(dw, x, dy, n, g: ConvGeometry, plan: ConvPlan) {
      if (!directConvFits(g)) return convBackwardWeightsVia(k, dw, x, dy, n, g, plan);
      const OC = dw.length / (g.C * g.KH * g.KW);
      const pd = ptr(dw, 0, dw.length);
      const px = ptr(x, 0, n * g.C * g.H * g.W);
      const pdy = ptr(dy, 0, n * OC * g.OH * g.OW);
      const pp = ptr(plan.forward, 0, plan.forward.length);
      const ps = ptr(plan.scratch, 0, plan.scratch.length);
      w.conv_bwd_weights(pd, px, pdy, pp, ps, n, g.C, g.H, g.W, OC, g.KH, g.KW, g.pad, g.OH, g.OW);
      out(dw, 0, dw.length, pd);
      release();
    },
    convBackwardInput(dx, dy, wt, n, g: ConvGeometry, plan: ConvPlan) {
      if (g.stride !== 1) return convBackwardInputVia(k, dx, dy, wt, n, g, plan);
      const OC = wt.length / (g.C * g.KH * g.KW);
      const xl = n * g.C * g.H * g.W;
      const pdx = ptr(dx, 0, xl);
      const pdy = ptr(dy, 0, n * OC * g.OH * g.OW);
      const pw = ptr(wt, 0, wt.length);
      const pp = ptr(plan.backward, 0, plan.backward.length);
      const ps = ptr(plan.scratch, 0, plan.scratch.length);
      w.conv_bwd_input(pdx, pdy, pw, pp, ps, n, g.C, g.H, g.W, OC, g.KH, g.KW, g.pad, g.OH, g.OW);
      out(dx, 0, xl, pdx);
      release();
    },
    sgdStep(p, g, v, lr, momentum) {
      const len = p.length;
      const pp = ptr(p, 0, len);
      const pv = ptr(v, 0, len);
      w.sgd_step(pp, ptr(g, 0, len), pv, len, lr, momentum);
      out(p, 0, len, pp);
      out(v, 0, len, pv);
      release();
    },
    addBias(y, bias, n, C, P) {
      const yl = n * C * P;
      const py = ptr(y, 0, yl);
      w.add_bias(py, ptr(bias, 0, C), n, C, P);
      out(y, 0, yl, py);
      release();
    },
  };
  // A call whose operands cannot be copied in (memory full) runs the TypeScript kernel instead:
  // slower, never wrong. `ptr` throws before the wasm code runs, so no output is half-written.
  const kernels = k as unknown as Record<string, unknown>;
  const js = jsKernels as unknown as Record<string, unknown>;
  for (const name of Object.keys(k)) {
    const fast = kernels[name];
    if (typeof fast !== 'function' || name === 'alloc' || name === 'allocI32' || name === 'freeBytes') continue;
    const slow = js[name] as (...args: unknown[]) => unknown;
    kernels[name] = (...args: unknown[]): unknown => {
      try {
        return (fast as (...a: unknown[]) => unknown)(...args);
      } catch (e) {
        if (e !== NO_SCRATCH) throw e;
        release();
        return slow(...args);
      }
    };
  }
  return k;
}
