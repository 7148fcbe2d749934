// Conv2D: forward against the naive reference convolution, finite-difference checks of dL/dx,
// dL/dW and dL/db, and LeCun's C3 connection table (masked weights stay 0 and get 0 gradient).

import { describe, expect, it } from 'vitest';
import { convOutSize } from '../../../src/engine/kernels/types';
import { refConv2d } from '../../../src/engine/kernels/reference';
import { Conv2D } from '../../../src/engine/layers/conv2d';
import { LECUN_C3_TABLE } from '../../../src/engine/presets';
import { Rng } from '../../../src/engine/rng';
import type { InitName } from '../../../src/engine/spec';
import { compareTensors } from '../../helpers/close';
import { testRuntime } from '../../helpers/kernels';
import { bindFresh, gradCheck, randomArray } from '../../helpers/gradcheck';

interface ConvCase {
  n: number;
  C: number;
  H: number;
  W: number;
  OC: number;
  k: number;
  stride: number;
  pad: number;
}

function makeConv(c: ConvCase, table?: number[][], init: InitName = 'kaiming-uniform'): Conv2D {
  const OH = convOutSize(c.H, c.k, c.stride, c.pad);
  const OW = convOutSize(c.W, c.k, c.stride, c.pad);
  return new Conv2D(
    'conv',
    [c.C, c.H, c.W],
    [c.OC, OH, OW],
    { type: 'conv2d', filters: c.OC, kernel: c.k, stride: c.stride, padding: c.pad, table },
    init,
    0.05,
    testRuntime(),
  );
}

const label = (c: ConvCase): string => `conv2d x=[${c.n},${c.C},${c.H},${c.W}] w=[${c.OC},${c.C},${c.k},${c.k}] s=${c.stride} p=${c.pad}`;

const CASES: ConvCase[] = [
  { n: 2, C: 3, H: 7, W: 7, OC: 4, k: 3, stride: 1, pad: 0 },
  { n: 2, C: 3, H: 7, W: 7, OC: 4, k: 3, stride: 1, pad: 1 },
  { n: 2, C: 2, H: 7, W: 7, OC: 3, k: 3, stride: 2, pad: 0 },
  { n: 2, C: 2, H: 7, W: 7, OC: 3, k: 3, stride: 2, pad: 1 },
  { n: 1, C: 3, H: 8, W: 8, OC: 2, k: 5, stride: 1, pad: 2 },
  { n: 3, C: 1, H: 9, W: 9, OC: 5, k: 5, stride: 2, pad: 2 },
  { n: 2, C: 2, H: 6, W: 6, OC: 2, k: 3, stride: 3, pad: 1 },
  { n: 2, C: 3, H: 5, W: 5, OC: 1, k: 1, stride: 1, pad: 0 },
  { n: 1, C: 1, H: 3, W: 3, OC: 2, k: 3, stride: 1, pad: 0 },
];

describe.each(CASES.map((c) => ({ ...c, name: label(c) })))('$name', (c) => {
  const name = c.name;

  function setup(): { conv: Conv2D; x: Float32Array; w: Float32Array; b: Float32Array; bound: ReturnType<typeof bindFresh> } {
    const rng = new Rng(c.C * 1000 + c.H * 10 + c.stride + c.pad);
    const conv = makeConv(c);
    const bound = bindFresh(conv);
    const w = bound.params.get('weight')!;
    const b = bound.params.get('bias')!;
    w.set(randomArray(rng, w.length, -0.5, 0.5));
    b.set(randomArray(rng, b.length, -0.5, 0.5));
    const x = randomArray(rng, c.n * c.C * c.H * c.W);
    return { conv, x, w, b, bound };
  }

  it('forward equals refConv2d', () => {
    const { conv, x, w, b } = setup();
    const y = conv.forward(x, c.n, true);
    const ref = refConv2d(x, w, b, c.n, c.C, c.H, c.W, c.OC, c.k, c.k, c.stride, c.pad);
    expect([conv.outShape[1], conv.outShape[2]]).toEqual([ref.OH, ref.OW]);
    const r = compareTensors(name, y, ref.y, 1e-5, 1e-5);
    expect(r.ok, r.message).toBe(true);
  });

  it('gradients match finite differences', () => {
    const { conv, x, bound } = setup();
    const report = gradCheck(conv, bound, x, c.n);
    expect(report.ok, report.message).toBe(true);
    expect(report.checks.map((k) => k.name)).toEqual(['input', 'weight', 'bias']);
  });
});

describe('conv2d x=[2,6,14,14] w=[16,6,5,5] table=C3', () => {
  const c: ConvCase = { n: 2, C: 6, H: 14, W: 14, OC: 16, k: 5, stride: 1, pad: 0 };
  // weight [16, 6, 5, 5]: (o, c) block starts at (o·6 + c)·25
  const masked = (i: number): boolean => LECUN_C3_TABLE[Math.floor(i / 25) % 6][Math.floor(i / 150)] === 0;
  const maskedCount = LECUN_C3_TABLE.flat().filter((v) => v === 0).length * 25;

  function setup(): { conv: Conv2D; x: Float32Array; bound: ReturnType<typeof bindFresh> } {
    const rng = new Rng(3);
    const conv = makeConv(c, LECUN_C3_TABLE);
    const bound = bindFresh(conv);
    conv.init(rng);
    bound.params.get('bias')!.set(randomArray(rng, 16, -0.5, 0.5));
    return { conv, x: randomArray(rng, c.n * 6 * 14 * 14), bound };
  }

  it('mask layout follows table[in][out]', () => {
    const conv = makeConv(c, LECUN_C3_TABLE);
    for (let o = 0; o < 16; o++) for (let ch = 0; ch < 6; ch++) expect(conv.mask![o * 6 + ch]).toBe(LECUN_C3_TABLE[ch][o]);
    expect(conv.macs).toBe(60 * 25 * 100); // 60 connections of 96, each 5×5 over a 10×10 output
    expect(maskedCount).toBe(36 * 25);
  });

  it('init leaves masked weights at exactly 0 and draws the rest with per-map fan-in', () => {
    const { bound } = setup();
    const w = bound.params.get('weight')!;
    const maskedNonZero: number[] = [];
    const freeZero: number[] = [];
    for (let i = 0; i < w.length; i++) {
      if (masked(i) && w[i] !== 0) maskedNonZero.push(i);
      if (!masked(i) && w[i] === 0) freeZero.push(i);
    }
    expect(maskedNonZero).toEqual([]);
    expect(freeZero).toEqual([]);
    // kaiming-uniform bound √(6/fan_in), fan_in = 25 · (input maps this output map reads)
    for (let o = 0; o < 16; o++) {
      const maps = LECUN_C3_TABLE.reduce((a, row) => a + row[o], 0);
      const bound6 = Math.sqrt(6 / (25 * 6));
      const boundO = Math.sqrt(6 / (25 * maps));
      const row = w.subarray(o * 150, o * 150 + 150);
      const maxAbs = row.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(maxAbs).toBeLessThanOrEqual(boundO);
      // maps with 3 or 4 inputs draw from a wider range than a fully connected row would
      if (maps < 6) expect(maxAbs).toBeGreaterThan(bound6);
    }
  });

  it('forward equals refConv2d with the masked weights zero', () => {
    const { conv, x, bound } = setup();
    const y = conv.forward(x, c.n, true);
    const ref = refConv2d(x, bound.params.get('weight')!, bound.params.get('bias')!, c.n, 6, 14, 14, 16, 5, 5, 1, 0);
    const r = compareTensors('C3 forward', y, ref.y, 1e-5, 1e-5);
    expect(r.ok, r.message).toBe(true);
  });

  it('masked weights get a gradient of exactly 0; the others match finite differences', () => {
    const { conv, x, bound } = setup();
    const report = gradCheck(conv, bound, x, c.n, { skip: { weight: masked } });
    expect(report.ok, report.message).toBe(true);
    const dw = report.grads.get('weight')!;
    const maskedNonZero: number[] = [];
    let nonzero = 0;
    for (let i = 0; i < dw.length; i++) {
      if (masked(i)) {
        if (dw[i] !== 0) maskedNonZero.push(i);
      } else if (dw[i] !== 0) nonzero++;
    }
    expect(maskedNonZero).toEqual([]);
    expect(nonzero).toBe(dw.length - maskedCount);
  });

  it('constrain() zeroes masked weights loaded with non-zero values', () => {
    const { conv, bound } = setup();
    const w = bound.params.get('weight')!;
    w.fill(0.25);
    conv.constrain();
    expect(Array.from(w)).toEqual(Array.from(w, (_, i) => (masked(i) ? 0 : 0.25)));
  });
});

describe('conv2d init', () => {
  it.each<[InitName, number]>([
    ['lecun-uniform', Math.sqrt(3 / 27)],
    ['xavier-uniform', Math.sqrt(6 / (27 + 36))],
    ['kaiming-uniform', Math.sqrt(6 / 27)],
    ['uniform', 0.05],
  ])('conv2d w=[4,3,3,3] %s stays within ±%f and zeroes the bias', (init, bound) => {
    const conv = makeConv({ n: 1, C: 3, H: 5, W: 5, OC: 4, k: 3, stride: 1, pad: 0 }, undefined, init);
    const b = bindFresh(conv);
    b.params.get('bias')!.fill(7);
    conv.init(new Rng(11));
    const w = b.params.get('weight')!;
    const maxAbs = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(maxAbs).toBeLessThanOrEqual(bound);
    expect(maxAbs).toBeGreaterThan(0.7 * bound); // 108 draws: the range is actually used
    expect(Array.from(b.params.get('bias')!)).toEqual([0, 0, 0, 0]);
  });
});
