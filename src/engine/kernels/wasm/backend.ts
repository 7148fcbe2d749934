// The WebAssembly SIMD kernels: instantiates the module built from kernels.as.ts over a memory
// this file reserves, and adapts its exports to the Kernels interface. The host supplies the
// compiled module (Node reads the .wasm file, the renderer inlines it), so the engine itself
// touches neither fs nor fetch.
//
// Arrays from an arena of these kernels (heap.ts) live in the wasm memory and go to the kernels
// as byte offsets: no copy. An array from elsewhere (a caller's own buffer, another backend's
// memory) is copied into a temporary block before the call and, when the kernel writes it, back
// out after: correct, slower, and a KernelMemoryError when even the temporary block does not fit.
// Every adapter passes its arrays through `at` (read) or `io` (written), then calls `done()`.

import { columnsScratchSize, convBackwardInputVia, convBackwardWeightsVia, convForwardVia } from '../js/conv-batch';
import { gatherPixels as gatherPixelsJs } from '../js/pointwise';
import type { Arena, ConvGeometry, FusedActivation, Kernels, PoolGeometry } from '../types';
import { Heap, heapArena } from './heap';

/** The module's exports (kernels.as.ts lists them). Pointers are byte offsets into the memory. */
interface WasmExports {
  /** 1 in the relaxed-SIMD build, 0 in the plain one. */
  relaxed_simd(): number;
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
  bn_scratch_floats(C: number): number;
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
    act: number,
  ): void;
  bn_stats(scratch: number, x: number, n: number, C: number, HW: number): void;
  bn_fwd_apply(
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
    count: number,
    eps: number,
    momentum: number,
  ): void;
  bn_bwd_sums(dgamma: number, dbeta: number, dy: number, xhat: number, scratch: number, n: number, C: number, HW: number): void;
  bn_bwd_apply(dx: number, dy: number, xhat: number, gamma: number, invStd: number, scratch: number, n: number, C: number, HW: number, count: number): void;
  all_finite(x: number, len: number): number;
  add_decay(g: number, p: number, len: number, decay: number): void;
  sgd_step(p: number, g: number, v: number, len: number, lr: number, momentum: number): void;
  scale_add(out: number, a: number, x: number, b: number, len: number): void;
  direct_conv_fits(H: number, pad: number, stride: number, OW: number): number;
  conv_scratch_floats(C: number, H: number, W: number, OC: number, KH: number, KW: number, stride: number, pad: number, OH: number, OW: number): number;
  // The conv kernels take the geometry as n, C, H, W, OC, KH, KW, pad, OH, OW (stride 1).
  conv_fwd(
    y: number,
    x: number,
    w: number,
    bias: number,
    plan: number,
    scratch: number,
    n: number,
    C: number,
    H: number,
    W: number,
    OC: number,
    KH: number,
    KW: number,
    pad: number,
    OH: number,
    OW: number,
    gamma: number,
    beta: number,
    runMean: number,
    runVar: number,
    invStd: number,
    eps: number,
    act: number,
  ): void;
  conv_bwd_weights(
    dw: number,
    x: number,
    dy: number,
    plan: number,
    scratch: number,
    n: number,
    C: number,
    H: number,
    W: number,
    OC: number,
    KH: number,
    KW: number,
    pad: number,
    OH: number,
    OW: number,
  ): void;
  conv_bwd_input(
    dx: number,
    dy: number,
    w: number,
    plan: number,
    scratch: number,
    n: number,
    C: number,
    H: number,
    W: number,
    OC: number,
    KH: number,
    KW: number,
    pad: number,
    OH: number,
    OW: number,
  ): void;
}

const PAGE = 65536;
/** The module has no static data; its first page stays free anyway. */
const HEAP_START = 65536;
/** The last bytes are never handed out: kernels may read (and ignore) a few floats past an array. */
const TAIL_RESERVE = 256;
/** What Node hosts reserve; the renderer asks for less. */
export const DEFAULT_MEMORY_BYTES = 128 * 1024 * 1024;

export interface WasmKernels extends Kernels {
  readonly memory: WebAssembly.Memory;
  /** Bytes of wasm memory no arena holds. */
  freeBytes(): number;
  /** Whether the direct forward and weight-gradient kernels take this geometry (else im2col + GEMM). */
  directConvFits(g: ConvGeometry): boolean;
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

type Operand = Float32Array | Int32Array;

/** The kernels' codes for a fused activation (ACT_* in activations.as.ts). */
function actCode(act: FusedActivation | null | undefined): number {
  return act === 'relu' ? 1 : act === 'tanh' ? 2 : act === 'sigmoid' ? 3 : 0;
}

export function createWasmKernels(module: WebAssembly.Module, memoryBytes = DEFAULT_MEMORY_BYTES): WasmKernels {
  const pages = Math.ceil(memoryBytes / PAGE);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const w = instance.exports as unknown as WasmExports;
  const buffer = memory.buffer;
  const heap = new Heap(HEAP_START, pages * PAGE - TAIL_RESERVE);
  const f32 = new Float32Array(buffer);
  const i32 = new Int32Array(buffer);

  // Operands outside the wasm memory: the temporary blocks of the current call, and those of
  // them to copy back out after it (array, offset, length, block), as flat lists.
  const temps: number[] = [];
  const outs: (Operand | number)[] = [];

  function copyIn(a: Operand, off: number, len: number): number {
    let p: number;
    try {
      p = heap.take(len * 4);
    } catch (e) {
      done(); // nothing ran yet: return the blocks taken for this call's other operands
      throw e;
    }
    temps.push(p, len * 4);
    if (a instanceof Float32Array) f32.set(a.subarray(off, off + len), p >> 2);
    else i32.set(a.subarray(off, off + len), p >> 2);
    return p;
  }
  /** The byte offset of a[off..off+len), which the kernel reads. */
  function at(a: Operand, off: number, len: number): number {
    return a.buffer === buffer ? a.byteOffset + off * 4 : copyIn(a, off, len);
  }
  /** The byte offset of a[off..off+len), which the kernel writes (and may read). */
  function io(a: Operand, off: number, len: number): number {
    if (a.buffer === buffer) return a.byteOffset + off * 4;
    const p = copyIn(a, off, len);
    outs.push(a, off, len, p);
    return p;
  }
  /** After a call: copies written operands back out and returns the temporary blocks. */
  function done(): void {
    for (let i = 0; i < outs.length; i += 4) {
      const a = outs[i] as Operand;
      const p = (outs[i + 3] as number) >> 2;
      const len = outs[i + 2] as number;
      a.set(a instanceof Float32Array ? f32.subarray(p, p + len) : i32.subarray(p, p + len), outs[i + 1] as number);
    }
    outs.length = 0;
    for (let i = 0; i < temps.length; i += 2) heap.give(temps[i], temps[i + 1]);
    temps.length = 0;
  }

  const directFits = (g: ConvGeometry): boolean => w.direct_conv_fits(g.H, g.pad, g.stride, g.OW) === 1;
  const mapCount = (n: number, g: PoolGeometry): number => n * g.C;

  // gatherPixels: the dataset last seen, as words.
  let pixelSource: Uint8Array | null = null;
  let pixelWords: Int32Array<ArrayBufferLike> = new Int32Array(0);

  const k: WasmKernels = {
    name: w.relaxed_simd() ? 'wasm-relaxed-simd' : 'wasm-simd',
    memory,
    freeBytes: () => heap.freeBytes,
    directConvFits: directFits,
    arena: (): Arena => heapArena(heap, buffer),
    convScratchSize: (g, OC) => Math.max(w.conv_scratch_floats(g.C, g.H, g.W, OC, g.KH, g.KW, g.stride, g.pad, g.OH, g.OW), columnsScratchSize(g)),
    bnScratchSize: (C) => w.bn_scratch_floats(C),
    gemmNN(C, cOff, A, aOff, B, bOff, M, N, Kd, acc) {
      w.gemm_xn(io(C, cOff, M * N), at(A, aOff, M * Kd), at(B, bOff, Kd * N), M, N, Kd, Kd, 1, acc ? 1 : 0);
      done();
    },
    gemmTN(C, cOff, A, aOff, B, bOff, M, N, Kd, acc) {
      w.gemm_xn(io(C, cOff, M * N), at(A, aOff, Kd * M), at(B, bOff, Kd * N), M, N, Kd, 1, M, acc ? 1 : 0);
      done();
    },
    gemmNT(C, cOff, A, aOff, B, bOff, M, N, Kd, acc) {
      w.gemm_nt(io(C, cOff, M * N), at(A, aOff, M * Kd), at(B, bOff, N * Kd), M, N, Kd, acc ? 1 : 0);
      done();
    },
    im2col(col, colOff, x, xOff, g) {
      const colLen = g.C * g.KH * g.KW * g.OH * g.OW;
      w.im2col(io(col, colOff, colLen), at(x, xOff, g.C * g.H * g.W), g.C, g.H, g.W, g.KH, g.KW, g.stride, g.pad, g.OH, g.OW);
      done();
    },
    col2im(dx, dxOff, dcol, colOff, g) {
      const colLen = g.C * g.KH * g.KW * g.OH * g.OW;
      w.col2im(io(dx, dxOff, g.C * g.H * g.W), at(dcol, colOff, colLen), g.C, g.H, g.W, g.KH, g.KW, g.stride, g.pad, g.OH, g.OW);
      done();
    },
    maxPoolForward(y, argmax, x, n, g) {
      const yl = mapCount(n, g) * g.OH * g.OW;
      w.maxpool_fwd(io(y, 0, yl), argmax ? io(argmax, 0, yl) : 0, at(x, 0, mapCount(n, g) * g.H * g.W), mapCount(n, g), g.H, g.W, g.size, g.stride, g.OH, g.OW);
      done();
    },
    maxPoolBackward(dx, dy, argmax, count) {
      w.maxpool_bwd(io(dx, 0, dx.length), at(dy, 0, count), at(argmax, 0, count), count);
      done();
    },
    avgPoolForward(y, x, n, g) {
      w.avgpool_fwd(io(y, 0, mapCount(n, g) * g.OH * g.OW), at(x, 0, mapCount(n, g) * g.H * g.W), mapCount(n, g), g.H, g.W, g.size, g.stride, g.OH, g.OW);
      done();
    },
    avgPoolBackward(dx, dy, n, g) {
      w.avgpool_bwd(io(dx, 0, mapCount(n, g) * g.H * g.W), at(dy, 0, mapCount(n, g) * g.OH * g.OW), mapCount(n, g), g.H, g.W, g.size, g.stride, g.OH, g.OW);
      done();
    },
    gatherPixels(x, pixels, indices, n, size) {
      // The samples' bytes are gathered four at a time into the last quarter of x's own bytes,
      // then converted in place (pixels.as.ts). A dataset whose bytes are not 4-aligned, or rows
      // that are not whole words, take the TypeScript loop (the same values).
      const q = size >> 2;
      if ((size & 3) !== 0 || (pixels.byteOffset & 3) !== 0) return gatherPixelsJs(x, pixels, indices, n, size);
      if (pixels !== pixelSource) {
        pixelSource = pixels;
        pixelWords = new Int32Array(pixels.buffer, pixels.byteOffset, pixels.length >> 2);
      }
      const words = pixelWords;
      const len = n * size;
      const px = io(x, 0, len);
      const stage = (px >> 2) + ((3 * len) >> 2);
      for (let s = 0; s < n; s++) {
        const from = indices[s] * q;
        const to = stage + s * q;
        for (let i = 0; i < q; i++) i32[to + i] = words[from + i];
      }
      w.pixels_to_f32(px, px + 3 * len, len);
      done();
    },
    reluForward(y, x, len) {
      w.relu_fwd(io(y, 0, len), at(x, 0, len), len);
      done();
    },
    reluBackward(dx, dy, y, len) {
      w.relu_bwd(io(dx, 0, len), at(dy, 0, len), at(y, 0, len), len);
      done();
    },
    tanhForward(y, x, len) {
      w.tanh_fwd(io(y, 0, len), at(x, 0, len), len);
      done();
    },
    tanhBackward(dx, dy, y, len) {
      w.tanh_bwd(io(dx, 0, len), at(dy, 0, len), at(y, 0, len), len);
      done();
    },
    sigmoidForward(y, x, len) {
      w.sigmoid_fwd(io(y, 0, len), at(x, 0, len), len);
      done();
    },
    sigmoidBackward(dx, dy, y, len) {
      w.sigmoid_bwd(io(dx, 0, len), at(dy, 0, len), at(y, 0, len), len);
      done();
    },
    addBias(y, bias, n, C, P) {
      w.add_bias(io(y, 0, n * C * P), at(bias, 0, C), n, C, P);
      done();
    },
    channelSumAdd(o, x, n, C, P) {
      w.channel_sum_add(io(o, 0, C), at(x, 0, n * C * P), n, C, P);
      done();
    },
    bnStats(scratch, x, n, C, HW) {
      w.bn_stats(io(scratch, 0, w.bn_scratch_floats(C)), at(x, 0, n * C * HW), n, C, HW);
      done();
    },
    bnForwardApply(y, xhat, x, gamma, beta, runMean, runVar, mean, invStd, scratch, n, C, HW, count, eps, momentum) {
      const len = n * C * HW;
      w.bn_fwd_apply(
        io(y, 0, len),
        io(xhat, 0, len),
        at(x, 0, len),
        at(gamma, 0, C),
        at(beta, 0, C),
        io(runMean, 0, C),
        io(runVar, 0, C),
        io(mean, 0, C),
        io(invStd, 0, C),
        io(scratch, 0, w.bn_scratch_floats(C)),
        n,
        C,
        HW,
        count,
        eps,
        momentum,
      );
      done();
    },
    bnBackwardSums(dgamma, dbeta, dy, xhat, scratch, n, C, HW) {
      const len = n * C * HW;
      w.bn_bwd_sums(io(dgamma, 0, C), io(dbeta, 0, C), at(dy, 0, len), at(xhat, 0, len), io(scratch, 0, w.bn_scratch_floats(C)), n, C, HW);
      done();
    },
    bnBackwardApply(dx, dy, xhat, gamma, invStd, scratch, n, C, HW, count) {
      const len = n * C * HW;
      w.bn_bwd_apply(
        io(dx, 0, len),
        at(dy, 0, len),
        at(xhat, 0, len),
        at(gamma, 0, C),
        at(invStd, 0, C),
        at(scratch, 0, w.bn_scratch_floats(C)),
        n,
        C,
        HW,
        count,
      );
      done();
    },
    bnForwardInfer(y, x, gamma, beta, runMean, runVar, invStd, scratch, n, C, HW, eps, act) {
      const len = n * C * HW;
      w.bn_fwd_infer(
        io(y, 0, len),
        at(x, 0, len),
        at(gamma, 0, C),
        at(beta, 0, C),
        at(runMean, 0, C),
        at(runVar, 0, C),
        io(invStd, 0, C),
        io(scratch, 0, w.bn_scratch_floats(C)),
        n,
        C,
        HW,
        eps,
        actCode(act),
      );
      done();
    },
    allFinite(x, len) {
      const r = w.all_finite(at(x, 0, len), len) === 1;
      done();
      return r;
    },
    scaleAdd(o, a, x, b, len) {
      w.scale_add(io(o, 0, len), a, at(x, 0, len), b, len);
      done();
    },
    addDecay(g, p, off, len, decay) {
      w.add_decay(io(g, off, len), at(p, off, len), len, decay);
      done();
    },
    sgdStep(p, g, v, lr, momentum) {
      const len = p.length;
      w.sgd_step(io(p, 0, len), at(g, 0, len), io(v, 0, len), len, lr, momentum);
      done();
    },
    convForward(y, x, wt, bias, n, g, plan, bn, act) {
      if (!directFits(g)) return convForwardVia(k, y, x, wt, bias, n, g, plan, bn, act);
      const OC = bias.length;
      w.conv_fwd(
        io(y, 0, n * OC * g.OH * g.OW),
        at(x, 0, n * g.C * g.H * g.W),
        at(wt, 0, wt.length),
        at(bias, 0, OC),
        at(plan.forward, 0, plan.forward.length),
        io(plan.scratch, 0, plan.scratch.length),
        n,
        g.C,
        g.H,
        g.W,
        OC,
        g.KH,
        g.KW,
        g.pad,
        g.OH,
        g.OW,
        bn ? at(bn.gamma, 0, OC) : 0,
        bn ? at(bn.beta, 0, OC) : 0,
        bn ? at(bn.runMean, 0, OC) : 0,
        bn ? at(bn.runVar, 0, OC) : 0,
        bn ? io(bn.invStd, 0, OC) : 0,
        bn ? bn.eps : 0,
        actCode(act),
      );
      done();
    },
    convBackwardWeights(dw, x, dy, n, g, plan) {
      if (!directFits(g)) return convBackwardWeightsVia(k, dw, x, dy, n, g, plan);
      const OC = dw.length / (g.C * g.KH * g.KW);
      w.conv_bwd_weights(
        io(dw, 0, dw.length),
        at(x, 0, n * g.C * g.H * g.W),
        at(dy, 0, n * OC * g.OH * g.OW),
        at(plan.forward, 0, plan.forward.length),
        io(plan.scratch, 0, plan.scratch.length),
        n,
        g.C,
        g.H,
        g.W,
        OC,
        g.KH,
        g.KW,
        g.pad,
        g.OH,
        g.OW,
      );
      done();
    },
    convBackwardInput(dx, dy, wt, n, g, plan) {
      if (g.stride !== 1) return convBackwardInputVia(k, dx, dy, wt, n, g, plan);
      const OC = wt.length / (g.C * g.KH * g.KW);
      w.conv_bwd_input(
        io(dx, 0, n * g.C * g.H * g.W),
        at(dy, 0, n * OC * g.OH * g.OW),
        at(wt, 0, wt.length),
        at(plan.backward, 0, plan.backward.length),
        io(plan.scratch, 0, plan.scratch.length),
        n,
        g.C,
        g.H,
        g.W,
        OC,
        g.KH,
        g.KW,
        g.pad,
        g.OH,
        g.OW,
      );
      done();
    },
  };
  return k;
}
