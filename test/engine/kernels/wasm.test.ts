// The WebAssembly SIMD kernels against the plain TypeScript ones (themselves tested against
// reference.ts), over odd sizes, strides and paddings, both with arrays inside wasm memory (the
// zero-copy path) and with ordinary arrays (the copy path).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsKernels } from '../../../src/engine/kernels/backend';
import { convOutSize, type ConvGeometry } from '../../../src/engine/kernels/conv';
import { createWasmKernels, wasmSimdSupported } from '../../../src/engine/kernels/wasm-backend';
import { DEFAULT_WASM_PATH } from '../../../src/node/kernels';
import { compareTensors } from '../../helpers/close';
import { mulberry32 } from '../../helpers/prng';

const W = createWasmKernels(new WebAssembly.Module(readFileSync(DEFAULT_WASM_PATH)), 16 * 1024 * 1024);
const rnd = mulberry32(7);

function rand(n: number, inWasm: boolean): Float32Array {
  const a = inWasm ? W.alloc(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rnd.next() * 2 - 1;
  return a;
}

function expectClose(name: string, a: Float32Array, b: Float32Array, rtol = 1e-5, atol = 1e-5): void {
  const r = compareTensors(name, a, b, rtol, atol);
  expect(r.ok, r.message).toBe(true);
}

it('this Node runtime has WebAssembly SIMD and the module loads', () => {
  expect(wasmSimdSupported()).toBe(true);
  expect(W.name).toBe('wasm-simd');
});

describe.each([true, false])('wasm kernels (arrays in wasm memory: %s)', (inWasm) => {
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
            const Cw = inWasm ? W.alloc(C0.length) : new Float32Array(C0.length);
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
      const cw = inWasm ? W.alloc(colLen + 3) : new Float32Array(colLen + 3);
      cw.fill(9);
      jsKernels.im2col(c1, 3, x, 5, g);
      W.im2col(cw, 3, x, 5, g);
      expectClose('im2col', cw, c1, 0, 0);
      const dcol = rand(colLen, inWasm);
      const d1 = rand(C * H * Wd + 2, inWasm);
      const dw = inWasm ? W.alloc(d1.length) : new Float32Array(d1.length);
      dw.set(d1);
      jsKernels.col2im(d1, 2, dcol, 0, g);
      W.col2im(dw, 2, dcol, 0, g);
      expectClose('col2im', dw, d1);
    });
  }

  for (const [C, H, Wd, size, stride] of [
    [6, 28, 28, 2, 2],
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
      const yw = inWasm ? W.alloc(yl) : new Float32Array(yl);
      const aw = inWasm ? W.allocI32(yl) : new Int32Array(yl);
      jsKernels.maxPoolForward(y1, a1, x, n, g);
      W.maxPoolForward(yw, aw, x, n, g);
      expectClose('max', yw, y1, 0, 0);
      expect(Array.from(aw)).toEqual(Array.from(a1));
      const dy = rand(yl, inWasm);
      const dx1 = new Float32Array(x.length);
      const dxw = inWasm ? W.alloc(x.length) : new Float32Array(x.length);
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

  it('relu, relu backward and bias over 2×3×7', () => {
    const len = 2 * 3 * 7;
    const x = rand(len, inWasm);
    const y1 = new Float32Array(len);
    const yw = inWasm ? W.alloc(len) : new Float32Array(len);
    jsKernels.reluForward(y1, x, len);
    W.reluForward(yw, x, len);
    expectClose('relu', yw, y1, 0, 0);
    const dy = rand(len, inWasm);
    const d1 = new Float32Array(len);
    const dw = inWasm ? W.alloc(len) : new Float32Array(len);
    jsKernels.reluBackward(d1, dy, y1, len);
    W.reluBackward(dw, dy, yw, len);
    expectClose('relu backward', dw, d1, 0, 0);
    const bias = rand(3, inWasm);
    jsKernels.addBias(y1, bias, 2, 3, 7);
    W.addBias(yw, bias, 2, 3, 7);
    expectClose('bias', yw, y1, 0, 0);
  });
});

it('the allocator reuses memory of collected arrays and falls back to ordinary arrays when full', () => {
  const small = createWasmKernels(new WebAssembly.Module(readFileSync(DEFAULT_WASM_PATH)), 4 * 65536);
  const free0 = small.freeBytes();
  const a = small.alloc(1000);
  expect(a.buffer).toBe(small.memory.buffer);
  expect(small.freeBytes()).toBeLessThan(free0);
  const huge = small.alloc(1 << 20); // more than the memory holds
  expect(huge.buffer).not.toBe(small.memory.buffer);
  expect(huge.length).toBe(1 << 20);
  // A scratch copy for a foreign array is returned after the call.
  const before = small.freeBytes();
  const C = new Float32Array(4);
  small.gemmNN(C, 0, new Float32Array([1, 2, 3, 4]), 0, new Float32Array([1, 0, 0, 1]), 0, 2, 2, 2, false);
  expect(Array.from(C)).toEqual([1, 2, 3, 4]);
  expect(small.freeBytes()).toBe(before);
});
