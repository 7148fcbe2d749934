// BatchNorm, PyTorch's definition: per channel over (N,H,W) on [C,H,W] maps, per unit over N on
// [F] vectors. Training normalises with the batch mean and biased variance and moves the running
// statistics by momentum 0.1 towards the batch mean and the unbiased variance; inference is the
// affine map γ(x−μ_run)/√(var_run+eps)+β.

import { describe, expect, it } from 'vitest';
import { BatchNorm } from '../../../src/engine/layers/batchnorm';
import { Rng } from '../../../src/engine/rng';
import type { Shape } from '../../../src/engine/tensor';
import { shapeSize } from '../../../src/engine/tensor';
import { compareTensors } from '../../helpers/close';
import { testRuntime } from '../../helpers/kernels';
import { bindFresh, gradCheck, randomArray } from '../../helpers/gradcheck';

interface BnCase {
  name: string;
  n: number;
  shape: Shape;
}

const CASES: BnCase[] = [
  { n: 4, shape: [3, 5, 5] },
  { n: 2, shape: [6, 7, 7] },
  { n: 3, shape: [2, 1, 1] },
  { n: 6, shape: [7] },
  { n: 2, shape: [5] },
  { n: 16, shape: [1] },
].map((c) => ({ ...c, name: `batchnorm x=[${[c.n, ...c.shape].join(',')}]` }));

/** γ ∈ [0.5, 1.5), β ∈ [−0.5, 0.5), running mean ∈ [−1, 1), running var ∈ [0.2, 2). */
function setup(c: BnCase, seed: number, momentum?: number): { bn: BatchNorm; x: Float32Array; bound: ReturnType<typeof bindFresh> } {
  const rng = new Rng(seed);
  const bn = new BatchNorm('bn', c.shape, c.shape, 1e-5, momentum ?? 0.1, testRuntime());
  const bound = bindFresh(bn);
  const C = c.shape[0];
  bound.params.get('weight')!.set(randomArray(rng, C, 0.5, 1.5));
  bound.params.get('bias')!.set(randomArray(rng, C, -0.5, 0.5));
  bound.buffers.get('running_mean')!.set(randomArray(rng, C, -1, 1));
  bound.buffers.get('running_var')!.set(randomArray(rng, C, 0.2, 2));
  // Channels with different offsets and scales, so normalisation has something to do.
  const x = randomArray(rng, c.n * shapeSize(c.shape));
  const HW = shapeSize(c.shape) / C;
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / HW) % C;
    x[i] = x[i] * (1 + ch) + 0.5 * ch;
  }
  return { bn, x, bound };
}

/** Per-channel batch mean, biased and unbiased variance, in float64. */
function batchStats(x: Float32Array, n: number, shape: Shape): { mean: number[]; biased: number[]; unbiased: number[] } {
  const C = shape[0];
  const HW = shapeSize(shape) / C;
  const count = n * HW;
  const mean: number[] = [];
  const biased: number[] = [];
  const unbiased: number[] = [];
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let k = 0; k < n; k++) for (let p = 0; p < HW; p++) s += x[(k * C + c) * HW + p];
    const m = s / count;
    let q = 0;
    for (let k = 0; k < n; k++) for (let p = 0; p < HW; p++) q += (x[(k * C + c) * HW + p] - m) ** 2;
    mean.push(m);
    biased.push(q / count);
    unbiased.push(q / (count - 1));
  }
  return { mean, biased, unbiased };
}

/** γ(x−μ)/√(var+eps)+β per channel, in float64. */
function affine(
  x: Float32Array,
  n: number,
  shape: Shape,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  gamma: Float32Array,
  beta: Float32Array,
  eps = 1e-5,
): Float64Array {
  const C = shape[0];
  const HW = shapeSize(shape) / C;
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor(i / HW) % C;
    y[i] = (gamma[c] * (x[i] - mean[c])) / Math.sqrt(variance[c] + eps) + beta[c];
  }
  return y;
}

describe.each(CASES)('$name', (c) => {
  it('training forward normalises with the batch mean and biased variance', () => {
    const { bn, x, bound } = setup(c, 1);
    const y = bn.forward(x, c.n, true);
    const s = batchStats(x, c.n, c.shape);
    const ref = affine(x, c.n, c.shape, s.mean, s.biased, bound.params.get('weight')!, bound.params.get('bias')!);
    const r = compareTensors(`${c.name} training forward`, y, ref, 1e-4, 1e-5);
    expect(r.ok, r.message).toBe(true);
  });

  it('training: dL/dx, dL/dγ and dL/dβ match finite differences', () => {
    const { bn, x, bound } = setup(c, 2);
    // Every output of a channel depends on every input of it through the batch statistics. With
    // a handful of values per channel x̂ curves sharply, so the step is smaller there.
    const count = (c.n * shapeSize(c.shape)) / c.shape[0];
    const report = gradCheck(bn, bound, x, c.n, { training: true, step: count <= 4 ? 1e-3 : 1e-2 });
    expect(report.ok, report.message).toBe(true);
    expect(report.checks.map((k) => k.name)).toEqual(['input', 'weight', 'bias']);
    // Output is invariant to shifting a channel's inputs, so dL/dx sums to 0 per channel.
    const C = c.shape[0];
    const HW = shapeSize(c.shape) / C;
    for (let ch = 0; ch < C; ch++) {
      let sum = 0;
      let abs = 0;
      for (let k = 0; k < c.n; k++) {
        for (let p = 0; p < HW; p++) {
          sum += report.dx[(k * C + ch) * HW + p];
          abs += Math.abs(report.dx[(k * C + ch) * HW + p]);
        }
      }
      expect(Math.abs(sum)).toBeLessThanOrEqual(1e-5 * abs + 1e-6);
    }
  });

  it('inference forward uses the running statistics', () => {
    const { bn, x, bound } = setup(c, 3);
    const rm = bound.buffers.get('running_mean')!.slice();
    const rv = bound.buffers.get('running_var')!.slice();
    const y = bn.forward(x, c.n, false);
    const ref = affine(x, c.n, c.shape, rm, rv, bound.params.get('weight')!, bound.params.get('bias')!);
    const r = compareTensors(`${c.name} inference forward`, y, ref, 1e-5, 1e-5);
    expect(r.ok, r.message).toBe(true);
    // and leaves them alone
    expect(Array.from(bound.buffers.get('running_mean')!)).toEqual(Array.from(rm));
    expect(Array.from(bound.buffers.get('running_var')!)).toEqual(Array.from(rv));
  });

  it('inference: dL/dx, dL/dγ and dL/dβ match finite differences', () => {
    const { bn, x, bound } = setup(c, 4);
    const report = gradCheck(bn, bound, x, c.n, { training: false });
    expect(report.ok, report.message).toBe(true);
  });

  it('running statistics move by momentum 0.1 towards the batch mean and unbiased variance', () => {
    const { bn, x, bound } = setup(c, 5);
    const rm = bound.buffers.get('running_mean')!;
    const rv = bound.buffers.get('running_var')!;
    let expMean = Array.from(rm);
    let expVar = Array.from(rv);
    // Two different batches, so the recursion (not just one blend) is checked.
    const x2 = x.map((v, i) => v * 0.5 + (i % 3));
    for (const batch of [x, x2]) {
      bn.forward(batch, c.n, true);
      const s = batchStats(batch, c.n, c.shape);
      expMean = expMean.map((m, k) => 0.9 * m + 0.1 * s.mean[k]);
      expVar = expVar.map((v, k) => 0.9 * v + 0.1 * s.unbiased[k]);
      const rMean = compareTensors('running_mean', rm, expMean, 1e-5, 1e-6);
      const rVar = compareTensors('running_var', rv, expVar, 1e-5, 1e-6);
      expect(rMean.ok, rMean.message).toBe(true);
      expect(rVar.ok, rVar.message).toBe(true);
    }
  });
});

describe('batchnorm x=[8,3] momentum', () => {
  const c: BnCase = { name: 'batchnorm x=[8,3]', n: 8, shape: [3] };

  it('momentum 0.3 from the spec is honoured', () => {
    const { bn, x, bound } = setup(c, 6, 0.3);
    const rm0 = Array.from(bound.buffers.get('running_mean')!);
    const rv0 = Array.from(bound.buffers.get('running_var')!);
    bn.forward(x, c.n, true);
    const s = batchStats(x, c.n, c.shape);
    const rMean = compareTensors(
      'running_mean',
      bound.buffers.get('running_mean')!,
      rm0.map((m, k) => 0.7 * m + 0.3 * s.mean[k]),
      1e-5,
      1e-6,
    );
    const rVar = compareTensors(
      'running_var',
      bound.buffers.get('running_var')!,
      rv0.map((v, k) => 0.7 * v + 0.3 * s.unbiased[k]),
      1e-5,
      1e-6,
    );
    expect(rMean.ok, rMean.message).toBe(true);
    expect(rVar.ok, rVar.message).toBe(true);
  });

  it('init sets γ=1, β=0, running mean 0 and running var 1', () => {
    const { bn, bound } = setup(c, 7);
    bn.init();
    expect(Array.from(bound.params.get('weight')!)).toEqual([1, 1, 1]);
    expect(Array.from(bound.params.get('bias')!)).toEqual([0, 0, 0]);
    expect(Array.from(bound.buffers.get('running_mean')!)).toEqual([0, 0, 0]);
    expect(Array.from(bound.buffers.get('running_var')!)).toEqual([1, 1, 1]);
  });

  it('declares γ/β as parameters without weight decay and the running statistics as buffers', () => {
    const bn = new BatchNorm('bn', [4, 2, 2], [4, 2, 2], 1e-5, 0.1, testRuntime());
    expect(bn.params.map((p) => [p.name, p.shape, p.decay])).toEqual([
      ['weight', [4], false],
      ['bias', [4], false],
    ]);
    expect(bn.buffers.map((p) => [p.name, p.shape])).toEqual([
      ['running_mean', [4]],
      ['running_var', [4]],
    ]);
  });
});
