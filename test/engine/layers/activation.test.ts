// Activation: tanh, relu, sigmoid and a row-wise softmax. Forward against Math in float64 and
// finite-difference checks of dL/dx (backward uses the cached output y).

import { describe, expect, it } from 'vitest';
import { Activation } from '../../../src/engine/layers/activation';
import { Rng } from '../../../src/engine/rng';
import type { ActivationFn } from '../../../src/engine/spec';
import type { Shape } from '../../../src/engine/tensor';
import { shapeSize } from '../../../src/engine/tensor';
import { compareTensors } from '../../helpers/close';
import { testRuntime } from '../../helpers/kernels';
import { awayFromZero, bindFresh, gradCheck, randomArray } from '../../helpers/gradcheck';

const REF: Record<Exclude<ActivationFn, 'softmax'>, (v: number) => number> = {
  tanh: Math.tanh,
  relu: (v) => Math.max(0, v),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
};

function softmaxRef(x: Float32Array, n: number, F: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let s = 0; s < n; s++) {
    let max = -Infinity;
    for (let k = 0; k < F; k++) max = Math.max(max, x[s * F + k]);
    let sum = 0;
    for (let k = 0; k < F; k++) sum += Math.exp(x[s * F + k] - max);
    for (let k = 0; k < F; k++) y[s * F + k] = Math.exp(x[s * F + k] - max) / sum;
  }
  return y;
}

interface ActCase {
  name: string;
  fn: ActivationFn;
  n: number;
  shape: Shape;
}

const act = (fn: ActivationFn, n: number, shape: Shape): ActCase => ({ name: `activation ${fn} x=[${[n, ...shape].join(',')}]`, fn, n, shape });

const CASES: ActCase[] = [
  act('tanh', 2, [3, 5, 5]),
  act('tanh', 4, [7]),
  act('relu', 2, [3, 5, 5]),
  act('relu', 3, [29]),
  act('sigmoid', 2, [2, 3, 3]),
  act('sigmoid', 5, [10]),
  act('softmax', 4, [10]),
  act('softmax', 3, [2]),
  act('softmax', 1, [29]),
];

function input(c: ActCase, seed: number): Float32Array {
  // ×3 reaches the flat parts of tanh/sigmoid; ReLU inputs stay ≥ 0.1 from its kink at 0.
  const x = randomArray(new Rng(seed), c.n * shapeSize(c.shape), -3, 3);
  return c.fn === 'relu' ? awayFromZero(x, 0.1) : x;
}

describe.each(CASES)('$name', (c) => {
  const make = (): Activation => new Activation('act', c.shape, c.shape, c.fn, testRuntime());

  it('forward equals the float64 formula', () => {
    const a = make();
    const x = input(c, 1);
    const y = a.forward(x, c.n, true);
    const F = shapeSize(c.shape);
    const ref = c.fn === 'softmax' ? softmaxRef(x, c.n, F) : Float64Array.from(x, REF[c.fn]);
    const r = compareTensors(c.name, y, ref, 1e-6, 1e-7);
    expect(r.ok, r.message).toBe(true);
  });

  it('dL/dx matches finite differences', () => {
    const a = make();
    const report = gradCheck(a, bindFresh(a), input(c, 2), c.n);
    expect(report.ok, report.message).toBe(true);
    expect(report.checks[0].maxAbsNumeric).toBeGreaterThan(1e-2);
  });

  it('backward with needDx=false returns an empty array', () => {
    const a = make();
    const x = input(c, 3);
    a.forward(x, c.n, true);
    expect(a.backward(new Float32Array(x.length).fill(1), c.n, false).length).toBe(0);
  });
});

describe('activation softmax x=[2,4] extremes', () => {
  it('rows sum to 1 and large logits neither overflow nor give NaN', () => {
    const a = new Activation('out', [4], [4], 'softmax', testRuntime());
    const x = Float32Array.from([1000, 999, -1000, 0, -50, -50, -50, -50]);
    const y = a.forward(x, 2, false);
    expect(y.every(Number.isFinite)).toBe(true);
    expect(y[0] + y[1] + y[2] + y[3]).toBeCloseTo(1, 6);
    expect(y[0] / y[1]).toBeCloseTo(Math.E, 4);
    expect(Array.from(y.subarray(4))).toEqual([0.25, 0.25, 0.25, 0.25]);
  });
});

describe('activation relu x=[1,6]', () => {
  it('passes gradient only where the input was positive', () => {
    const a = new Activation('act', [6], [6], 'relu', testRuntime());
    a.forward(Float32Array.from([-2, -0.5, 0, 0.5, 2, -1e-30]), 1, true);
    const dx = a.backward(Float32Array.from([1, 2, 3, 4, 5, 6]), 1, true);
    expect(Array.from(dx)).toEqual([0, 0, 0, 4, 5, 0]);
  });
});
