// Fast kernels against the naive ones in reference.ts: GEMM in three layouts (with offsets and
// accumulation), im2col+GEMM convolution, the im2col/col2im adjoint identity, and pooling.

import { describe, expect, it } from 'vitest';
import { col2im, im2col } from '../../../src/engine/kernels/js/conv';
import { gemmNN, gemmNT, gemmTN } from '../../../src/engine/kernels/js/gemm';
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward } from '../../../src/engine/kernels/js/pool';
import { convOutSize, type ConvGeometry, type PoolGeometry } from '../../../src/engine/kernels/types';
import { refConv2d, refMatmul, refPool, refTranspose } from '../../../src/engine/kernels/reference';
import { Rng } from '../../../src/engine/rng';
import { compareTensors } from '../../helpers/close';
import { distinctArray, dot64, randomArray } from '../../helpers/gradcheck';

function expectClose(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-5): void {
  const r = compareTensors(name, actual, expected, rtol, atol);
  expect(r.ok, r.message).toBe(true);
}

/** Random matrix with about a third of its entries exactly 0, to exercise the zero-skipping paths. */
function sparseish(rng: Rng, length: number): Float32Array {
  const a = randomArray(rng, length);
  for (let i = 0; i < length; i++) if (rng.next() < 0.33) a[i] = 0;
  return a;
}

const SIZES = [1, 3, 7, 29];
const GEMM_CASES = SIZES.flatMap((M) => SIZES.flatMap((N) => SIZES.map((K) => ({ M, N, K }))));

type Gemm = typeof gemmNN;

/**
 * Runs `kernel` on A and B stored at offsets inside larger arrays, into C at an offset inside a
 * sentinel-filled array, and returns the M×N result; checks nothing outside it was written.
 */
function runAtOffsets(kernel: Gemm, A: Float32Array, B: Float32Array, M: number, N: number, K: number, acc: Float32Array | null): Float32Array {
  const aOff = 5;
  const bOff = 3;
  const cOff = 7;
  const Abig = new Float32Array(aOff + A.length + 4).fill(Number.NaN);
  Abig.set(A, aOff);
  const Bbig = new Float32Array(bOff + B.length + 2).fill(Number.NaN);
  Bbig.set(B, bOff);
  const Cbig = new Float32Array(cOff + M * N + 6).fill(-12345);
  if (acc) Cbig.set(acc, cOff);
  else Cbig.fill(Number.NaN, cOff, cOff + M * N); // overwrite mode must not read C
  kernel(Cbig, cOff, Abig, aOff, Bbig, bOff, M, N, K, acc !== null);
  for (let i = 0; i < cOff; i++) expect(Cbig[i]).toBe(-12345);
  for (let i = cOff + M * N; i < Cbig.length; i++) expect(Cbig[i]).toBe(-12345);
  return Cbig.slice(cOff, cOff + M * N);
}

describe('gemm', () => {
  describe.each(GEMM_CASES.map((c) => ({ ...c, name: `M=${c.M} N=${c.N} K=${c.K}` })))('$name', ({ M, N, K }) => {
    const rng = new Rng(M * 10000 + N * 100 + K);
    const A = sparseish(rng, M * K); // M×K
    const B = randomArray(rng, K * N); // K×N
    const C0 = randomArray(rng, M * N);
    const ref = refMatmul(A, B, M, N, K);
    const refAcc = ref.map((v, i) => v + C0[i]);
    const tol = 1e-5 * Math.sqrt(K);

    it('gemmNN: A·B, overwrite and acc', () => {
      expectClose('gemmNN', runAtOffsets(gemmNN, A, B, M, N, K, null), ref, tol, tol);
      expectClose('gemmNN acc', runAtOffsets(gemmNN, A, B, M, N, K, C0), refAcc, tol, tol);
    });

    it('gemmNT: A·(Bᵀ)ᵀ with B stored N×K, overwrite and acc', () => {
      const Bt = refTranspose(B, K, N); // N×K
      expectClose('gemmNT', runAtOffsets(gemmNT, A, Bt, M, N, K, null), ref, tol, tol);
      expectClose('gemmNT acc', runAtOffsets(gemmNT, A, Bt, M, N, K, C0), refAcc, tol, tol);
    });

    it('gemmTN: (Aᵀ)ᵀ·B with A stored K×M, overwrite and acc', () => {
      const At = refTranspose(A, M, K); // K×M
      expectClose('gemmTN', runAtOffsets(gemmTN, At, B, M, N, K, null), ref, tol, tol);
      expectClose('gemmTN acc', runAtOffsets(gemmTN, At, B, M, N, K, C0), refAcc, tol, tol);
    });
  });

  it('refTranspose M=3 N=2 is the transpose', () => {
    expect(Array.from(refTranspose(Float32Array.from([1, 2, 3, 4, 5, 6]), 3, 2))).toEqual([1, 3, 5, 2, 4, 6]);
    expect(Array.from(refMatmul(Float32Array.from([1, 2, 3, 4]), Float32Array.from([5, 6, 7, 8]), 2, 2, 2))).toEqual([19, 22, 43, 50]);
  });
});

interface ConvCase {
  name: string;
  g: ConvGeometry;
  OC: number;
}

function convCase(C: number, H: number, W: number, KH: number, KW: number, stride: number, pad: number, OC: number): ConvCase {
  const OH = convOutSize(H, KH, stride, pad);
  const OW = convOutSize(W, KW, stride, pad);
  return { name: `conv x=[2,${C},${H},${W}] w=[${OC},${C},${KH},${KW}] s=${stride} p=${pad}`, g: { C, H, W, KH, KW, stride, pad, OH, OW }, OC };
}

const CONV_CASES: ConvCase[] = [
  ...[1, 2, 3].flatMap((stride) => [0, 1, 2].map((pad) => convCase(3, 7, 7, 3, 3, stride, pad, 4))),
  ...[1, 2].flatMap((stride) => [0, 2].map((pad) => convCase(1, 8, 8, 5, 5, stride, pad, 6))),
  convCase(6, 14, 14, 5, 5, 1, 0, 16), // LeNet C3 geometry
  convCase(1, 28, 28, 5, 5, 1, 2, 6), // LeNet C1 geometry
  convCase(2, 9, 5, 3, 2, 2, 1, 3), // non-square input and kernel
  convCase(2, 4, 6, 1, 1, 1, 0, 3), // 1×1
  convCase(1, 3, 3, 5, 5, 1, 1, 2), // kernel larger than the unpadded input
  convCase(3, 1, 1, 1, 1, 1, 0, 2),
];

describe.each(CONV_CASES)('$name', ({ g, OC }) => {
  const n = 2;
  const K = g.C * g.KH * g.KW;
  const P = g.OH * g.OW;
  const inSize = g.C * g.H * g.W;

  it('im2col + gemmNN equals refConv2d', () => {
    const rng = new Rng(K * 7 + P);
    const x = randomArray(rng, n * inSize);
    const w = randomArray(rng, OC * K);
    const y = new Float32Array(n * OC * P);
    const col = new Float32Array(K * P + 3).fill(Number.NaN); // stale garbage must be overwritten
    for (let s = 0; s < n; s++) {
      im2col(col, 3, x, s * inSize, g);
      gemmNN(y, s * OC * P, w, 0, col, 3, OC, P, K, false);
    }
    const ref = refConv2d(x, w, null, n, g.C, g.H, g.W, OC, g.KH, g.KW, g.stride, g.pad);
    expect([ref.OH, ref.OW]).toEqual([g.OH, g.OW]);
    expectClose('conv', y, ref.y, 1e-5, 1e-5);
  });

  it('adjoint: dot(im2col(x), c) == dot(x, col2im(c))', () => {
    const rng = new Rng(K * 13 + P);
    const x = randomArray(rng, inSize);
    const c = randomArray(rng, K * P);
    const col = new Float32Array(K * P);
    im2col(col, 0, x, 0, g);
    // col2im adds into dx: start from a non-zero offset to check it adds rather than overwrites.
    const dx = new Float32Array(inSize + 2).fill(0.5);
    col2im(dx, 1, c, 0, g);
    expect(dx[0]).toBe(0.5);
    expect(dx[inSize + 1]).toBe(0.5);
    const back = dx.subarray(1, 1 + inSize).map((v) => v - 0.5);
    const lhs = dot64(col, c);
    const rhs = dot64(x, back);
    const scale = Math.sqrt(K * P) + 1;
    expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-5 * scale);
  });
});

interface PoolCase {
  name: string;
  n: number;
  g: PoolGeometry;
}

function poolCase(n: number, C: number, H: number, W: number, size: number, stride: number): PoolCase {
  const OH = Math.floor((H - size) / stride) + 1;
  const OW = Math.floor((W - size) / stride) + 1;
  return { name: `pool x=[${n},${C},${H},${W}] window=${size} stride=${stride}`, n, g: { C, H, W, size, stride, OH, OW } };
}

const POOL_CASES: PoolCase[] = [
  poolCase(2, 3, 8, 8, 2, 2),
  poolCase(2, 2, 7, 7, 2, 2),
  poolCase(1, 3, 7, 7, 3, 2),
  poolCase(3, 1, 29, 29, 2, 2),
  poolCase(1, 2, 9, 5, 3, 1),
  poolCase(2, 1, 1, 1, 1, 1),
  poolCase(1, 6, 28, 28, 2, 2),
];

describe.each(POOL_CASES)('$name', ({ n, g }) => {
  const inLen = n * g.C * g.H * g.W;
  const outLen = n * g.C * g.OH * g.OW;

  it('maxPoolForward equals refPool max; argmax points at the maximum', () => {
    const x = distinctArray(new Rng(inLen), inLen);
    const y = new Float32Array(outLen);
    const arg = new Int32Array(outLen);
    maxPoolForward(y, arg, x, n, g);
    expect(Array.from(y)).toEqual(Array.from(refPool(x, n, g.C, g.H, g.W, g.size, g.stride, 'max')));
    for (let o = 0; o < outLen; o++) expect(x[arg[o]]).toBe(y[o]);
  });

  it('avgPoolForward equals refPool avg', () => {
    const x = randomArray(new Rng(inLen + 1), inLen);
    const y = new Float32Array(outLen);
    avgPoolForward(y, x, n, g);
    expectClose('avg', y, refPool(x, n, g.C, g.H, g.W, g.size, g.stride, 'avg'), 1e-6, 1e-6);
  });

  it('backward kernels are the adjoints of the forward ones', () => {
    const rng = new Rng(inLen + 2);
    const x = distinctArray(rng, inLen);
    const dy = randomArray(rng, outLen);
    const y = new Float32Array(outLen);
    const arg = new Int32Array(outLen);
    maxPoolForward(y, arg, x, n, g);
    const dxMax = new Float32Array(inLen);
    maxPoolBackward(dxMax, dy, arg, outLen);
    expect(Math.abs(dot64(y, dy) - dot64(x, dxMax))).toBeLessThanOrEqual(1e-5 * Math.sqrt(outLen));
    avgPoolForward(y, x, n, g);
    const dxAvg = new Float32Array(inLen);
    avgPoolBackward(dxAvg, dy, n, g);
    expect(Math.abs(dot64(y, dy) - dot64(x, dxAvg))).toBeLessThanOrEqual(1e-5 * Math.sqrt(outLen));
  });
});
