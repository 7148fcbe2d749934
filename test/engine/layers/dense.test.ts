// Dense (PyTorch nn.Linear, W [out, in]): forward against y = x·Wᵀ + b in float64 and
// finite-difference checks of dL/dx, dL/dW and dL/db.

import { describe, expect, it } from 'vitest';
import { Dense } from '../../../src/engine/layers/dense';
import { Rng } from '../../../src/engine/rng';
import type { InitName } from '../../../src/engine/spec';
import { compareTensors } from '../../helpers/close';
import { testRuntime } from '../../helpers/kernels';
import { bindFresh, gradCheck, randomArray } from '../../helpers/gradcheck';

const CASES = [
  [5, 7, 3],
  [1, 29, 1],
  [3, 1, 7],
  [4, 48, 5],
  [2, 120, 84],
  [7, 3, 29],
].map(([n, I, O]) => ({ name: `dense x=[${n},${I}] w=[${O},${I}]`, n, I, O }));

function setup(
  n: number,
  I: number,
  O: number,
  seed: number,
): { dense: Dense; x: Float32Array; w: Float32Array; b: Float32Array; bound: ReturnType<typeof bindFresh> } {
  const rng = new Rng(seed);
  const dense = new Dense('fc', [I], [O], 'kaiming-uniform', 0.05, testRuntime());
  const bound = bindFresh(dense);
  const w = bound.params.get('weight')!;
  const b = bound.params.get('bias')!;
  w.set(randomArray(rng, w.length, -0.5, 0.5));
  b.set(randomArray(rng, b.length, -0.5, 0.5));
  return { dense, x: randomArray(rng, n * I), w, b, bound };
}

describe.each(CASES)('$name', ({ n, I, O }) => {
  it('forward equals x·Wᵀ + b', () => {
    const { dense, x, w, b } = setup(n, I, O, I + O);
    const y = dense.forward(x, n, true);
    const ref = new Float64Array(n * O);
    for (let s = 0; s < n; s++) {
      for (let o = 0; o < O; o++) {
        let acc = b[o];
        for (let i = 0; i < I; i++) acc += x[s * I + i] * w[o * I + i];
        ref[s * O + o] = acc;
      }
    }
    const r = compareTensors('dense forward', y, ref, 1e-5, 1e-5);
    expect(r.ok, r.message).toBe(true);
  });

  it('gradients match finite differences', () => {
    const { dense, x, bound } = setup(n, I, O, 7 * I + O);
    const report = gradCheck(dense, bound, x, n);
    expect(report.ok, report.message).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual(['input', 'weight', 'bias']);
  });
});

describe('dense x=[3,4] w=[2,4] batch sizes', () => {
  it('a smaller batch after a larger one uses only its own rows', () => {
    const { dense, x, bound } = setup(3, 4, 2, 9);
    dense.forward(x, 3, true);
    const y1 = dense.forward(x.subarray(0, 4), 1, true).slice();
    expect(y1.length).toBe(2);
    const full = setup(3, 4, 2, 9);
    const y3 = full.dense.forward(full.x, 3, true);
    expect(Array.from(y1)).toEqual(Array.from(y3.subarray(0, 2)));
    bound.grads.get('weight')!.fill(0);
    dense.backward(Float32Array.from([1, 0]), 1, false);
    // dW row 0 = x of the one sample
    expect(Array.from(bound.grads.get('weight')!.subarray(0, 4))).toEqual(Array.from(x.subarray(0, 4)));
    expect(Array.from(bound.grads.get('weight')!.subarray(4, 8))).toEqual([0, 0, 0, 0]);
  });
});

describe('dense init', () => {
  it.each<[InitName, number]>([
    ['lecun-uniform', Math.sqrt(3 / 50)],
    ['xavier-uniform', Math.sqrt(6 / 60)],
    ['kaiming-uniform', Math.sqrt(6 / 50)],
  ])('dense w=[10,50] %s stays within ±%f and zeroes the bias', (init, bound) => {
    const dense = new Dense('fc', [50], [10], init, 0.05, testRuntime());
    const b = bindFresh(dense);
    b.params.get('bias')!.fill(3);
    dense.init(new Rng(2));
    const w = b.params.get('weight')!;
    const maxAbs = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(maxAbs).toBeLessThanOrEqual(bound);
    expect(maxAbs).toBeGreaterThan(0.9 * bound);
    expect(b.params.get('bias')!.every((v) => v === 0)).toBe(true);
  });

  it.each<[InitName, number]>([
    ['lecun-normal', Math.sqrt(1 / 50)],
    ['xavier-normal', Math.sqrt(2 / 60)],
    ['kaiming-normal', Math.sqrt(2 / 50)],
    ['normal', 0.05],
  ])('dense w=[10,50] %s has standard deviation ≈ %f', (init, std) => {
    const dense = new Dense('fc', [50], [10], init, 0.05, testRuntime());
    const b = bindFresh(dense);
    dense.init(new Rng(5));
    const w = b.params.get('weight')!;
    const mean = w.reduce((a, v) => a + v, 0) / w.length;
    const sd = Math.sqrt(w.reduce((a, v) => a + (v - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.15 * std);
    expect(sd / std).toBeGreaterThan(0.9);
    expect(sd / std).toBeLessThan(1.1);
  });
});
