// The WebAssembly SIMD kernels against the plain TypeScript ones (themselves tested against
// reference.ts), over odd sizes, strides and paddings, both with arrays inside wasm memory (the
// zero-copy path) and with ordinary arrays (the copy path); for both builds: plain SIMD
// (kernels.wasm) and relaxed SIMD (kernels-relaxed.wasm, fused multiply-add in the GEMMs).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../src/engine/errors';
import { jsKernels } from '../../../src/engine/kernels/js/backend';
import { convOutSize, type Arena, type ConvGeometry } from '../../../src/engine/kernels/types';
import { createWasmKernels, wasmSimdSupported, type WasmKernels } from '../../../src/engine/kernels/wasm/backend';
import { compileKernels, DEFAULT_WASM_PATH } from '../../../src/node/load-kernels';
import { compareTensors } from '../../helpers/close';
import { mulberry32 } from '../../helpers/prng';

// compileKernels switches on V8's relaxed-SIMD flag when this Node (20) needs it.
const BUILDS = {
  'wasm-simd': createWasmKernels(compileKernels('wasm-simd'), 16 * 1024 * 1024),
  'wasm-relaxed-simd': createWasmKernels(compileKernels('wasm-relaxed-simd'), 16 * 1024 * 1024),
};
const rnd = mulberry32(7);

/** One arena per build, for the arrays these tests place in wasm memory. */
const arenas = new Map<WasmKernels, Arena>();
function mem(W: WasmKernels): Arena {
  let a = arenas.get(W);
  if (!a) arenas.set(W, (a = W.arena()));
  return a;
}

function randIn(W: WasmKernels, n: number, inWasm: boolean): Float32Array {
  const a = inWasm ? mem(W).alloc(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rnd.next() * 2 - 1;
  return a;
}

function expectClose(name: string, a: Float32Array, b: Float32Array, rtol = 1e-5, atol = 1e-5): void {
  const r = compareTensors(name, a, b, rtol, atol);
  expect(r.ok, r.message).toBe(true);
}

it('this Node runtime has WebAssembly SIMD and both builds load, each saying which it is', () => {
  expect(wasmSimdSupported()).toBe(true);
  expect(BUILDS['wasm-simd'].name).toBe('wasm-simd');
  expect(BUILDS['wasm-relaxed-simd'].name).toBe('wasm-relaxed-simd');
});

it('the two builds agree on LeNet-sized GEMMs within f32 rounding', () => {
  const plain = BUILDS['wasm-simd'];
  const relaxed = BUILDS['wasm-relaxed-simd'];
  // conv1 forward (6×25 · 25×784), conv2 weight gradient (NT, K = 100), f5 backward (TN, K = 120).
  for (const [M, N, Kd] of [
    [6, 784, 25],
    [16, 150, 100],
    [400, 32, 120],
  ]) {
    const A = randIn(plain, M * Kd, true);
    const B = randIn(plain, Kd * N, true);
    const Bt = randIn(plain, N * Kd, true);
    const At = randIn(plain, Kd * M, true);
    for (const op of ['gemmNN', 'gemmNT', 'gemmTN'] as const) {
      const [a, b] = op === 'gemmNN' ? [A, B] : op === 'gemmNT' ? [A, Bt] : [At, B];
      const want = new Float32Array(M * N);
      jsKernels[op](want, 0, a, 0, b, 0, M, N, Kd, false);
      const p = mem(plain).alloc(M * N);
      const r = mem(relaxed).alloc(M * N);
      plain[op](p, 0, a, 0, b, 0, M, N, Kd, false);
      relaxed[op](r, 0, a, 0, b, 0, M, N, Kd, false); // copy path: a and b live in the other memory
      expectClose(`${op} ${M}×${N}×${Kd} relaxed vs plain`, r, p, 1e-5, 1e-5);
      expectClose(`${op} ${M}×${N}×${Kd} relaxed vs TypeScript`, r, want, 1e-5, 1e-5);
    }
  }
});

describe.each([
  ['wasm-relaxed-simd', true],
  ['wasm-relaxed-simd', false],
  ['wasm-simd', true],
  ['wasm-simd', false],
] as const)('%s kernels (arrays in wasm memory: %s)', (variant, inWasm) => {
  const W = BUILDS[variant];
  const rand = (n: number, inW: boolean): Float32Array => randIn(W, n, inW);
  const sizes = [1, 3, 7, 29];
  for (const M of sizes) {
    for (const N of [1, 4, 9, 29]) {
      for (const Kd of [1, 5, 29]) {
        it(`gemm NN/NT/TN M=${M} N=${N} K=${Kd}`, () => {
          for (const acc of [false, true]) {
            const A = rand(M * Kd + 3, inWasm);
            const B = rand(Kd * N + 2, inWasm);
            const C0 = rand(M * N + 1, inWasm);
            const C1 = C0.slice();
            jsKernels.gemmNN(C1, 1, A, 3, B, 2, M, N, Kd, acc);
            const Cw = inWasm ? mem(W).alloc(C0.length) : new Float32Array(C0.length);
            Cw.set(C0);
            W.gemmNN(Cw, 1, A, 3, B, 2, M, N, Kd, acc);
            expectClose('NN', Cw, C1);
            const Bt = rand(N * Kd, inWasm);
            C1.set(C0);
            Cw.set(C0);
            jsKernels.gemmNT(C1, 1, A, 3, Bt, 0, M, N, Kd, acc);
            W.gemmNT(Cw, 1, A, 3, Bt, 0, M, N, Kd, acc);
            expectClose('NT', Cw, C1);
            const At = rand(Kd * M, inWasm);
            C1.set(C0);
            Cw.set(C0);
            jsKernels.gemmTN(C1, 1, At, 0, B, 2, M, N, Kd, acc);
            W.gemmTN(Cw, 1, At, 0, B, 2, M, N, Kd, acc);
            expectClose('TN', Cw, C1);
          }
        });
      }
    }
  }

  for (const [C, H, Wd, Kk, stride, pad] of [
    [1, 28, 28, 5, 1, 2],
    [6, 14, 14, 5, 1, 0],
    [3, 7, 9, 3, 2, 1],
    [2, 5, 5, 5, 1, 4],
    [2, 8, 6, 3, 3, 2],
  ] as const) {
    it(`im2col/col2im x=[${C},${H},${Wd}] k=${Kk} s=${stride} p=${pad}`, () => {
      const g: ConvGeometry = { C, H, W: Wd, KH: Kk, KW: Kk, stride, pad, OH: convOutSize(H, Kk, stride, pad), OW: convOutSize(Wd, Kk, stride, pad) };
      const colLen = C * Kk * Kk * g.OH * g.OW;
      const x = rand(C * H * Wd + 5, inWasm);
      const c1 = new Float32Array(colLen + 3).fill(9);
      const cw = inWasm ? mem(W).alloc(colLen + 3) : new Float32Array(colLen + 3);
      cw.fill(9);
      jsKernels.im2col(c1, 3, x, 5, g);
      W.im2col(cw, 3, x, 5, g);
      expectClose('im2col', cw, c1, 0, 0);
      const dcol = rand(colLen, inWasm);
      const d1 = rand(C * H * Wd + 2, inWasm);
      const dw = inWasm ? mem(W).alloc(d1.length) : new Float32Array(d1.length);
      dw.set(d1);
      jsKernels.col2im(d1, 2, dcol, 0, g);
      W.col2im(dw, 2, dcol, 0, g);
      expectClose('col2im', dw, d1);
    });
  }

  for (const [C, H, Wd, size, stride] of [
    [6, 28, 28, 2, 2],
    [16, 10, 10, 2, 2],
    [3, 14, 22, 2, 2],
    [2, 9, 17, 2, 2],
    [3, 7, 7, 3, 2],
    [2, 5, 6, 2, 1],
  ] as const) {
    it(`pooling x=[2,${C},${H},${Wd}] window=${size} stride=${stride}`, () => {
      const n = 2;
      const g = { C, H, W: Wd, size, stride, OH: Math.floor((H - size) / stride) + 1, OW: Math.floor((Wd - size) / stride) + 1 };
      const x = rand(n * C * H * Wd, inWasm);
      const yl = n * C * g.OH * g.OW;
      const y1 = new Float32Array(yl);
      const a1 = new Int32Array(yl);
      const yw = inWasm ? mem(W).alloc(yl) : new Float32Array(yl);
      const aw = inWasm ? mem(W).allocI32(yl) : new Int32Array(yl);
      jsKernels.maxPoolForward(y1, a1, x, n, g);
      W.maxPoolForward(yw, aw, x, n, g);
      expectClose('max', yw, y1, 0, 0);
      expect(Array.from(aw)).toEqual(Array.from(a1));
      const yv = inWasm ? mem(W).alloc(yl) : new Float32Array(yl);
      W.maxPoolForward(yv, null, x, n, g);
      expectClose('max, values only', yv, y1, 0, 0);
      const dy = rand(yl, inWasm);
      const dx1 = new Float32Array(x.length);
      const dxw = inWasm ? mem(W).alloc(x.length) : new Float32Array(x.length);
      jsKernels.maxPoolBackward(dx1, dy, a1, yl);
      W.maxPoolBackward(dxw, dy, aw, yl);
      expectClose('max backward', dxw, dx1, 0, 0);
      jsKernels.avgPoolForward(y1, x, n, g);
      W.avgPoolForward(yw, x, n, g);
      expectClose('avg', yw, y1);
      dx1.fill(0);
      dxw.fill(0);
      jsKernels.avgPoolBackward(dx1, dy, n, g);
      W.avgPoolBackward(dxw, dy, n, g);
      expectClose('avg backward', dxw, dx1);
    });
  }

  it('2×2 max pooling picks the same winner on ties and NaNs as the scalar loop', () => {
    const g = { C: 2, H: 6, W: 20, size: 2, stride: 2, OH: 3, OW: 10 };
    const len = 2 * 6 * 20;
    const x = inWasm ? mem(W).alloc(len) : new Float32Array(len);
    // values from a small set: many ties; some NaN in every position of a window
    for (let i = 0; i < len; i++) x[i] = i % 11 === 3 ? Number.NaN : Math.floor(rnd.next() * 3) - 1;
    const yl = 2 * 3 * 10;
    const y1 = new Float32Array(yl);
    const a1 = new Int32Array(yl);
    const yw = inWasm ? mem(W).alloc(yl) : new Float32Array(yl);
    const aw = inWasm ? mem(W).allocI32(yl) : new Int32Array(yl);
    x[7] = -0; // a signed zero against +0 in some window
    jsKernels.maxPoolForward(y1, a1, x, 1, g);
    W.maxPoolForward(yw, aw, x, 1, g);
    expect(Array.from(aw)).toEqual(Array.from(a1));
    expect(Array.from(yw)).toEqual(Array.from(y1));
    // Inference (no indices): the same values, signed zeros and all, in wasm and in TypeScript.
    const yv = inWasm ? mem(W).alloc(yl) : new Float32Array(yl);
    W.maxPoolForward(yv, null, x, 1, g);
    const y2 = new Float32Array(yl);
    jsKernels.maxPoolForward(y2, null, x, 1, g);
    for (let i = 0; i < yl; i++) {
      expect(Object.is(yv[i], y1[i]), `wasm output ${i}: ${yv[i]} vs ${y1[i]}`).toBe(true);
      expect(Object.is(y2[i], y1[i]), `TypeScript output ${i}`).toBe(true);
    }
  });

  // Batch norm: vectors after a dense layer (HW = 1, two channels a step) and small maps are
  // computed in f64 like the reference; maps of 16 positions or more normalise in f32.
  for (const [n, C, HW] of [
    [5, 3, 1],
    [16, 7, 1],
    [3, 2, 9],
    [2, 3, 16],
    [3, 2, 100],
    [2, 1, 784],
  ] as const) {
    it(`batch norm n=${n} C=${C} HW=${HW}: training forward, inference forward and backward match the reference`, () => {
      const len = n * C * HW;
      const tol = HW >= 16 ? 2e-5 : 1e-6;
      // An offset mean and uneven scale per channel, as conv outputs have.
      const x = rand(len, inWasm);
      for (let i = 0; i < len; i++) x[i] = 2 + 3 * x[i] * (1 + (Math.floor(i / HW) % C));
      const per = (): [Float32Array, Float32Array] => [new Float32Array(C), inWasm ? mem(W).alloc(C) : new Float32Array(C)];
      const [g1, gw] = per();
      const [b1, bw] = per();
      for (let c = 0; c < C; c++) {
        g1[c] = gw[c] = 0.5 + c;
        b1[c] = bw[c] = 0.1 * c - 0.2;
      }
      const [rm1, rmw] = per();
      const [rv1, rvw] = per();
      rv1.fill(1);
      rvw.fill(1);
      const [m1, mw] = per();
      const [i1, iw] = per();
      const sc1 = new Float32Array(4 * C);
      const scw = inWasm ? mem(W).alloc(4 * C) : new Float32Array(4 * C);
      const buf = (): [Float32Array, Float32Array] => [new Float32Array(len), inWasm ? mem(W).alloc(len) : new Float32Array(len)];
      const [y1, yw] = buf();
      const [h1, hw] = buf();
      jsKernels.bnStats(sc1, x, n, C, HW);
      jsKernels.bnForwardApply(y1, h1, x, g1, b1, rm1, rv1, m1, i1, sc1, n, C, HW, n * HW, 1e-5, 0.1);
      W.bnStats(scw, x, n, C, HW);
      W.bnForwardApply(yw, hw, x, gw, bw, rmw, rvw, mw, iw, scw, n, C, HW, n * HW, 1e-5, 0.1);
      expectClose('y', yw, y1, tol, tol);
      expectClose('x̂', hw, h1, tol, tol);
      for (const [name, a, b] of [
        ['mean', mw, m1],
        ['invStd', iw, i1],
        ['running mean', rmw, rm1],
        ['running var', rvw, rv1],
      ] as const) {
        expectClose(name, a, b, 1e-6, 1e-7);
      }

      const [z1, zw] = buf();
      jsKernels.bnForwardInfer(z1, x, g1, b1, rm1, rv1, i1, sc1, n, C, HW, 1e-5);
      W.bnForwardInfer(zw, x, gw, bw, rmw, rvw, iw, scw, n, C, HW, 1e-5);
      expectClose('inference y', zw, z1, tol, tol);

      const dy = rand(len, inWasm);
      const [dx1, dxw] = buf();
      const [dg1, dgw] = per();
      const [db1, dbw] = per();
      jsKernels.bnBackwardSums(dg1, db1, dy, h1, sc1, n, C, HW);
      jsKernels.bnBackwardApply(dx1, dy, h1, g1, i1, sc1, n, C, HW, n * HW);
      W.bnBackwardSums(dgw, dbw, dy, hw, scw, n, C, HW);
      W.bnBackwardApply(dxw, dy, hw, gw, iw, scw, n, C, HW, n * HW);
      expectClose('dγ', dgw, dg1, 1e-5, 1e-5);
      expectClose('dβ', dbw, db1, 1e-6, 1e-6);
      expectClose('dx', dxw, dx1, tol, tol);
      // What a conv bias before batch norm receives: Σ dx over a channel, ≈ 0.
      for (let c = 0; c < C; c++) {
        let sum = 0;
        let mag = 0;
        for (let s = 0; s < n; s++) {
          for (let p = 0; p < HW; p++) {
            sum += dxw[(s * C + c) * HW + p];
            mag += Math.abs(dxw[(s * C + c) * HW + p]);
          }
        }
        expect(Math.abs(sum)).toBeLessThan(1e-5 * mag + 1e-7);
      }
    });
  }

  it('channelSumAdd (bias gradients) adds per-channel sums, after dense layers (P = 1) and maps alike', () => {
    for (const [n, C, P] of [
      [3, 5, 1],
      [16, 7, 1],
      [2, 3, 7],
      [2, 2, 100],
    ] as const) {
      const x = rand(n * C * P, inWasm);
      const o1 = rand(C, false);
      const ow = inWasm ? mem(W).alloc(C) : new Float32Array(C);
      ow.set(o1);
      jsKernels.channelSumAdd(o1, x, n, C, P);
      W.channelSumAdd(ow, x, n, C, P);
      expectClose(`channelSumAdd n=${n} C=${C} P=${P}`, ow, o1, 1e-6, 1e-6);
    }
  });

  it('allFinite finds one NaN or ±Infinity anywhere (vector body or tail), and passes finite arrays', () => {
    for (const len of [1, 3, 8, 13, 64, 1001]) {
      const x = rand(len, inWasm);
      x[0] = 3e38;
      expect(W.allFinite(x, len), `finite, len ${len}`).toBe(true);
      for (const bad of [Number.NaN, Infinity, -Infinity]) {
        for (const at of [0, len >> 1, len - 1]) {
          const keep = x[at];
          x[at] = bad;
          expect(W.allFinite(x, len), `${bad} at ${at} of ${len}`).toBe(false);
          x[at] = keep;
        }
      }
    }
  });

  it('scaleAdd: out = a·out + b·x, and a = 0 ignores out even where it is NaN', () => {
    for (const len of [1, 5, 8, 61]) {
      const x = rand(len, inWasm);
      const o1 = rand(len, inWasm);
      const ow = inWasm ? mem(W).alloc(len) : new Float32Array(len);
      ow.set(o1);
      jsKernels.scaleAdd(o1, 0.3, x, 0.7, len);
      W.scaleAdd(ow, 0.3, x, 0.7, len);
      expectClose(`scaleAdd len ${len}`, ow, o1, 1e-6, 1e-7);
      ow.fill(Number.NaN);
      W.scaleAdd(ow, 0, x, 0.5, len);
      expect(Array.from(ow)).toEqual(Array.from(x, (v) => Math.fround(0.5 * v)));
    }
  });

  it('gatherPixels builds a batch from uint8 rows as the reference does: every byte value, any alignment', () => {
    // Word-aligned rows of whole words take the wasm path; the others the TypeScript loop.
    for (const [size, offset] of [
      [256, 0],
      [20, 4],
      [20, 1],
      [15, 0],
      [784, 16],
    ] as const) {
      const count = 40;
      const pixels = new Uint8Array(new ArrayBuffer(offset + count * size + 3), offset, count * size);
      for (let i = 0; i < pixels.length; i++) pixels[i] = size === 256 ? i % 256 : (i * 37 + (i >> 3)) % 256;
      const indices = Uint32Array.from([0, 3, 39, 3, 17, 1, 38]);
      const n = indices.length;
      const want = new Float32Array(n * size);
      jsKernels.gatherPixels(want, pixels, indices, n, size);
      const got = inWasm ? mem(W).alloc(n * size) : new Float32Array(n * size);
      got.fill(Number.NaN);
      W.gatherPixels(got, pixels, indices, n, size);
      expect(Array.from(got), `size ${size}, offset ${offset}`).toEqual(Array.from(want));
      if (size === 256) for (let v = 0; v < 256; v++) expect(got[v]).toBe(Math.fround(v / 255));
    }
  });

  it('relu, relu backward and bias over 2×3×7', () => {
    const len = 2 * 3 * 7;
    const x = rand(len, inWasm);
    const y1 = new Float32Array(len);
    const yw = inWasm ? mem(W).alloc(len) : new Float32Array(len);
    jsKernels.reluForward(y1, x, len);
    W.reluForward(yw, x, len);
    expectClose('relu', yw, y1, 0, 0);
    const dy = rand(len, inWasm);
    const d1 = new Float32Array(len);
    const dw = inWasm ? mem(W).alloc(len) : new Float32Array(len);
    jsKernels.reluBackward(d1, dy, y1, len);
    W.reluBackward(dw, dy, yw, len);
    expectClose('relu backward', dw, d1, 0, 0);
    const bias = rand(3, inWasm);
    jsKernels.addBias(y1, bias, 2, 3, 7);
    W.addBias(yw, bias, 2, 3, 7);
    expectClose('bias', yw, y1, 0, 0);
  });

  it('relu over whole vectors: NaN stays NaN, −0 becomes +0, the rest max(x, 0)', () => {
    const vals = [NaN, -0, 0, -1.5, 2.5, Infinity, -Infinity, 1e-45];
    const x = inWasm ? mem(W).alloc(8) : new Float32Array(8);
    x.set(vals);
    const y = inWasm ? mem(W).alloc(8) : new Float32Array(8);
    W.reluForward(y, x, 8);
    expect(Number.isNaN(y[0])).toBe(true);
    expect(Object.is(y[1], 0)).toBe(true);
    expect(Array.from(y.subarray(2))).toEqual([0, 0, 2.5, Infinity, 0, Math.fround(1e-45)]);
  });
});

// tanh and sigmoid are computed differently (polynomial and exp in f32 vs Math.tanh/Math.exp in
// f64), so they are compared element by element: within 2e-7 absolute and about 4 ulp relative,
// NaN for NaN, over random, tiny, huge and special inputs and every tail length.
// Both builds: relaxed SIMD may fuse the polynomials' multiply-adds.
describe.each([
  ['wasm-simd', true],
  ['wasm-simd', false],
  ['wasm-relaxed-simd', true],
  ['wasm-relaxed-simd', false],
] as const)('%s tanh and sigmoid (arrays in wasm memory: %s)', (variant, inWasm) => {
  const W = createWasmKernels(compileKernels(variant), 4 * 1024 * 1024);
  const act = mulberry32(11);
  const nearZero = [0, -0, 1e-45, -1e-40, 1e-30, 1e-8, -1e-8, 1e-5, -1e-5];
  const special = [...nearZero, 0.625, -0.625, 9, 9.1, -10, 88, -88, -100, 100, -104, 1e30, -1e30, Infinity, -Infinity, NaN];
  const inputs: number[] = [...special];
  for (let i = 0; i < 4000; i++) inputs.push(act.next() * 40 - 20);
  for (let i = 0; i < 1000; i++) inputs.push((act.next() < 0.5 ? -1 : 1) * 10 ** (act.next() * 47 - 45));
  inputs.push(...special, 1.5, -0.3, 2); // total length not a multiple of 4

  function f32(values: ArrayLike<number>): Float32Array {
    const a = inWasm ? mem(W).alloc(values.length) : new Float32Array(values.length);
    a.set(values instanceof Float32Array ? values : Float32Array.from(values));
    return a;
  }
  /** Worst error of got vs want; fails unless |d| ≤ 2e-7 and |d| ≤ 5e-7·|want| (3e-45 for subnormal want). */
  function expectNear(name: string, got: Float32Array, want: Float32Array, input: Float32Array): void {
    for (let i = 0; i < want.length; i++) {
      const at = `${name} at x=${input[i]}: got ${got[i]}, want ${want[i]}`;
      if (Number.isNaN(want[i])) {
        expect(Number.isNaN(got[i]), at).toBe(true);
        continue;
      }
      const d = Math.abs(got[i] - want[i]);
      expect(d <= 2e-7 && d <= Math.max(5e-7 * Math.abs(want[i]), 3e-45), at).toBe(true);
    }
  }
  const fns = [
    ['tanh', 'tanhForward', 'tanhBackward'],
    ['sigmoid', 'sigmoidForward', 'sigmoidBackward'],
  ] as const;

  for (const [name, fwd, bwd] of fns) {
    it(`${name} forward and backward match the JS reference`, () => {
      for (const len of [1, 2, 3, 4, 5, 7, inputs.length]) {
        const x = f32(inputs.slice(inputs.length - len));
        const want = new Float32Array(len);
        const got = f32(new Float32Array(len));
        jsKernels[fwd](want, x, len);
        W[fwd](got, x, len);
        expectNear(`${name} n=${len}`, got, want, x);
        // Backward from the same y, with y values close to the ends of the range too.
        const y = f32(want);
        for (let i = 0; i < len; i += 7) y[i] = name === 'tanh' ? (i & 8 ? -1 : 1) * (1 - (act.int(2000) + 1) * 2 ** -24) : act.int(2000) * 2 ** -24;
        const dy = f32(Array.from({ length: len }, () => act.next() * 4 - 2));
        if (len > 3) dy[3] = NaN;
        const dWant = new Float32Array(len);
        const dGot = f32(new Float32Array(len));
        jsKernels[bwd](dWant, dy, y, len);
        W[bwd](dGot, dy, y, len);
        expectNear(`${name} backward n=${len}`, dGot, dWant, y);
      }
    });
  }

  it('tanh holds its accuracy where it is worst: near |x| = 0.173, where its exponent becomes 1', () => {
    const x = f32(Array.from({ length: 4001 }, (_, i) => (i & 1 ? -1 : 1) * (0.15 + i * 1.25e-5)));
    const want = new Float32Array(x.length);
    const got = f32(new Float32Array(x.length));
    jsKernels.tanhForward(want, x, x.length);
    W.tanhForward(got, x, x.length);
    expectNear('tanh sweep', got, want, x);
  });

  it('keeps the sign of zero, saturates exactly and never overflows', () => {
    const x = f32([-0, 0, 1e30, -1e30, 100, -100, -1e30, Infinity, -Infinity]);
    const t = f32(new Float32Array(x.length));
    const s = f32(new Float32Array(x.length));
    W.tanhForward(t, x, x.length);
    W.sigmoidForward(s, x, x.length);
    expect(Object.is(t[0], -0)).toBe(true);
    expect(Object.is(t[1], 0)).toBe(true);
    expect(Array.from(t.subarray(2))).toEqual([1, -1, 1, -1, -1, 1, -1]);
    expect(Array.from(s.subarray(0, 3))).toEqual([0.5, 0.5, 1]);
    expect(s[4]).toBe(1);
    expect(s[5]).toBeGreaterThan(0);
    expect(s[5]).toBeLessThan(1e-40);
    expect(s[6]).toBe(0);
    expect(s[7]).toBe(1);
    expect(s[8]).toBe(0);
    // tanh(1e-5) keeps its relative accuracy near 0
    const tiny = f32([1e-5, -1e-8, 3e-39]);
    W.tanhForward(t, tiny, 3);
    expect(Math.abs(t[0] - tiny[0]) / tiny[0]).toBeLessThanOrEqual(1e-6);
    expect(t[1]).toBe(tiny[1]);
    expect(t[2]).toBe(tiny[2]);
  });
});

describe('wasm memory ownership', () => {
  const module = new WebAssembly.Module(readFileSync(DEFAULT_WASM_PATH));

  it('an arena takes its blocks from the heap and dispose() returns every one of them', () => {
    const k = createWasmKernels(module, 4 * 65536);
    const free0 = k.freeBytes();
    const arena = k.arena();
    const a = arena.alloc(1000);
    const b = arena.allocI32(10);
    expect(a.buffer).toBe(k.memory.buffer);
    expect(b.buffer).toBe(k.memory.buffer);
    expect(k.freeBytes()).toBe(free0 - 4032 - 64);
    arena.free(a);
    expect(k.freeBytes()).toBe(free0 - 64);
    arena.alloc(2000);
    arena.dispose();
    expect(k.freeBytes()).toBe(free0);
    expect(() => arena.alloc(1)).toThrow(/disposed arena/);
  });

  it('a block that does not fit throws KERNEL_MEMORY_FULL, naming bytes wanted and free', () => {
    const k = createWasmKernels(module, 4 * 65536);
    const arena = k.arena();
    const free0 = k.freeBytes();
    let error: unknown;
    try {
      arena.alloc(1 << 20); // 4 MiB, more than the 256 KiB memory holds
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('KERNEL_MEMORY_FULL');
    expect((error as Error).message).toContain(`${4 << 20} bytes wanted, ${free0} bytes free`);
    expect(k.freeBytes()).toBe(free0);
  });

  it('arrays outside wasm memory are copied through blocks returned after the call, or fail typed when those do not fit', () => {
    const k = createWasmKernels(module, 4 * 65536);
    const free0 = k.freeBytes();
    const C = new Float32Array(4);
    k.gemmNN(C, 0, new Float32Array([1, 2, 3, 4]), 0, new Float32Array([1, 0, 0, 1]), 0, 2, 2, 2, false);
    expect(Array.from(C)).toEqual([1, 2, 3, 4]);
    expect(k.freeBytes()).toBe(free0);
    // The output's block fits, the input's does not: nothing runs, and the first block comes back.
    const n = (free0 >> 2) - 1000;
    const y = new Float32Array(n).fill(7);
    expect(() => k.reluForward(y, new Float32Array(n), n)).toThrow(expect.objectContaining({ code: 'KERNEL_MEMORY_FULL' }));
    expect(y[0]).toBe(7);
    expect(k.freeBytes()).toBe(free0);
  });
});
