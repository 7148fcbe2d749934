// Pool2D: forward against the naive reference pooling and finite-difference checks of dL/dx.
// Max-pool inputs are distinct values spaced wider than the difference step, so no window holds
// a tie and a step never changes the winner.

import { describe, expect, it } from 'vitest';
import { refPool } from '../../../src/engine/kernels/reference';
import { Pool2D } from '../../../src/engine/layers/pool2d';
import { Rng } from '../../../src/engine/rng';
import { compareTensors } from '../../helpers/close';
import { testRuntime } from '../../helpers/kernels';
import { bindFresh, distinctArray, gradCheck, randomArray } from '../../helpers/gradcheck';

interface PoolCase {
  name: string;
  mode: 'max' | 'avg';
  n: number;
  C: number;
  H: number;
  W: number;
  size: number;
  stride: number;
}

function poolCase(mode: 'max' | 'avg', n: number, C: number, H: number, W: number, size: number, stride: number): PoolCase {
  return { name: `pool2d ${mode} x=[${n},${C},${H},${W}] window=${size} stride=${stride}`, mode, n, C, H, W, size, stride };
}

const CASES: PoolCase[] = (['max', 'avg'] as const).flatMap((mode) => [
  poolCase(mode, 2, 3, 8, 8, 2, 2),
  poolCase(mode, 2, 2, 7, 7, 2, 2), // odd: the last row and column are never read
  poolCase(mode, 2, 2, 7, 7, 3, 2), // overlapping windows
  poolCase(mode, 1, 3, 9, 6, 3, 2),
  poolCase(mode, 3, 1, 5, 5, 1, 1),
  poolCase(mode, 1, 2, 6, 6, 3, 3),
]);

function make(c: PoolCase): Pool2D {
  const OH = Math.floor((c.H - c.size) / c.stride) + 1;
  const OW = Math.floor((c.W - c.size) / c.stride) + 1;
  return new Pool2D('pool', [c.C, c.H, c.W], [c.C, OH, OW], { type: 'pool2d', mode: c.mode, size: c.size, stride: c.stride }, testRuntime());
}

describe.each(CASES)('$name', (c) => {
  const len = c.n * c.C * c.H * c.W;
  // Grid spacing 2/len must exceed twice the step: len ≤ 384 here, step 1e-3.
  const input = (seed: number): Float32Array => (c.mode === 'max' ? distinctArray(new Rng(seed), len) : randomArray(new Rng(seed), len));

  it('forward equals refPool', () => {
    const pool = make(c);
    const x = input(1);
    const y = pool.forward(x, c.n, true);
    const r = compareTensors(c.name, y, refPool(x, c.n, c.C, c.H, c.W, c.size, c.stride, c.mode), 1e-6, 1e-7);
    expect(r.ok, r.message).toBe(true);
  });

  it('dL/dx matches finite differences', () => {
    const pool = make(c);
    const report = gradCheck(pool, bindFresh(pool), input(2), c.n, { step: 1e-3, samples: 400 });
    expect(report.ok, report.message).toBe(true);
    expect(report.checks[0].checked).toBe(len); // every input element
  });

  it('backward is the adjoint of forward: Σ y·dy = Σ x·dx', () => {
    const pool = make(c);
    const x = input(3);
    pool.forward(x, c.n, true);
    const dy = randomArray(new Rng(4), c.n * c.C * pool.outShape[1] * pool.outShape[2]);
    const dx = pool.backward(dy, c.n, true);
    // Adjoint: both poolings are linear in x around a tie-free point, so Σ y·dy = Σ x·dx.
    const y = pool.forward(x, c.n, true);
    let lhs = 0;
    let rhs = 0;
    for (let i = 0; i < y.length; i++) lhs += y[i] * dy[i];
    for (let i = 0; i < x.length; i++) rhs += x[i] * dx[i];
    expect(rhs).toBeCloseTo(lhs, 4);
    if (c.mode === 'max') {
      const nonzero = dx.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0);
      expect(nonzero).toBeLessThanOrEqual(dy.length);
    }
  });
});

describe('pool2d max x=[1,1,4,4] window=2 stride=2 ties', () => {
  it('routes the gradient to the first maximum of each window', () => {
    const pool = make(poolCase('max', 1, 1, 4, 4, 2, 2));
    // windows: four equal 5s; a unique 9; two 7s; four equal −1s
    const x = Float32Array.from([5, 5, 1, 9, 5, 5, 2, 3, 0, 7, -1, -1, 3, 7, -1, -1]);
    expect(Array.from(pool.forward(x, 1, false))).toEqual([5, 9, 7, -1]);
    const dx = pool.backward(Float32Array.from([1, 2, 3, 4]), 1, true);
    expect(Array.from(dx)).toEqual([1, 0, 0, 2, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0]);
  });

  it('backward routes through the winners of the latest forward, inference or training', () => {
    const pool = make(poolCase('max', 2, 3, 6, 6, 2, 2));
    const x1 = randomArray(new Rng(7), 2 * 3 * 36);
    const x2 = randomArray(new Rng(8), 2 * 3 * 36);
    const dy = randomArray(new Rng(9), 2 * 3 * 9);
    const want = (x: Float32Array): number[] => {
      pool.forward(x, 2, true);
      return Array.from(pool.backward(dy, 2, true));
    };
    const dx1 = want(x1);
    const dx2 = want(x2);
    expect(dx2).not.toEqual(dx1);
    pool.forward(x1, 2, true);
    pool.forward(x2, 2, false); // inference: no indices yet
    expect(Array.from(pool.backward(dy, 2, true))).toEqual(dx2);
    pool.forward(x2, 2, false);
    pool.forward(x1, 2, true); // a training forward after an inference one
    expect(Array.from(pool.backward(dy, 2, true))).toEqual(dx1);
  });

  it('clears dx between calls (no accumulation into a stale buffer)', () => {
    const pool = make(poolCase('avg', 1, 1, 4, 4, 2, 2));
    const x = randomArray(new Rng(5), 16);
    pool.forward(x, 1, true);
    const first = pool.backward(Float32Array.from([1, 2, 3, 4]), 1, true).slice();
    pool.forward(x, 1, true);
    const second = pool.backward(Float32Array.from([1, 2, 3, 4]), 1, true);
    expect(Array.from(second)).toEqual(Array.from(first));
    expect(first[0]).toBe(0.25);
  });
});
