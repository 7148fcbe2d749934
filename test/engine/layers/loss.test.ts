// Losses: lossGrad against central differences of lossSum/n, the fused softmax+cross-entropy
// gradient against the chain rule through the softmax layer, and class scores.

import { describe, expect, it } from 'vitest';
import { Activation } from '../../../src/engine/layers/activation';
import { argmax, classScores, lossGrad, lossSum, softmaxCrossEntropyGrad } from '../../../src/engine/loss';
import { Rng } from '../../../src/engine/rng';
import { compareTensors } from '../../helpers/close';
import { checkTensorGrad, describeChecks, randomArray } from '../../helpers/gradcheck';

function labelsFor(rng: Rng, n: number, K: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => rng.int(K));
}

/** Rows of probabilities (positive, summing to 1). */
function probabilities(rng: Rng, n: number, K: number): Float32Array {
  const z = randomArray(rng, n * K, -2, 2);
  return new Activation('p', [K], [K], 'softmax').forward(z, n, false).slice();
}

describe.each([
  [4, 10],
  [1, 2],
  [7, 3],
  [3, 29],
])('loss y=[%i,%i]', (n, K) => {
  it('mse: lossGrad matches finite differences of lossSum/n', () => {
    const rng = new Rng(n * 31 + K);
    const y = randomArray(rng, n * K);
    const labels = labelsFor(rng, n, K);
    const dy = new Float32Array(n * K);
    lossGrad('mse', dy, y, labels, n, K);
    const check = checkTensorGrad('dy', y, dy, () => lossSum('mse', y, labels, n, K) / n, rng, { step: 1e-2, rtol: 1e-3, atol: 1e-6, samples: 200 });
    expect(check.failures, describeChecks([check])).toBe(0);
    // ½Σ(y−onehot)² per sample
    let ref = 0;
    for (let s = 0; s < n; s++) for (let k = 0; k < K; k++) ref += 0.5 * (y[s * K + k] - (k === labels[s] ? 1 : 0)) ** 2;
    expect(lossSum('mse', y, labels, n, K)).toBeCloseTo(ref, 10);
  });

  it('cross-entropy: lossGrad matches finite differences of lossSum/n', () => {
    const rng = new Rng(n * 37 + K);
    const y = probabilities(rng, n, K);
    const labels = labelsFor(rng, n, K);
    const dy = new Float32Array(n * K);
    lossGrad('cross-entropy', dy, y, labels, n, K);
    // Steps of 1e-4 stay well inside (0, 1) for probabilities ≥ 1e-3.
    const check = checkTensorGrad('dy', y, dy, () => lossSum('cross-entropy', y, labels, n, K) / n, rng, { step: 1e-4, rtol: 1e-3, atol: 1e-6, samples: 200 });
    expect(check.failures, describeChecks([check])).toBe(0);
    let ref = 0;
    for (let s = 0; s < n; s++) ref -= Math.log(y[s * K + labels[s]]);
    expect(lossSum('cross-entropy', y, labels, n, K)).toBeCloseTo(ref, 10);
  });

  it('softmaxCrossEntropyGrad equals lossGrad chained through the softmax layer', () => {
    const rng = new Rng(n * 41 + K);
    const z = randomArray(rng, n * K, -3, 3);
    const labels = labelsFor(rng, n, K);
    const softmax = new Activation('output', [K], [K], 'softmax');
    const p = softmax.forward(z, n, true);
    const dp = new Float32Array(n * K);
    lossGrad('cross-entropy', dp, p, labels, n, K);
    const chained = softmax.backward(dp, n, true);
    const fused = new Float32Array(n * K);
    softmaxCrossEntropyGrad(fused, p, labels, n, K);
    const r = compareTensors('dL/dz', fused, chained, 1e-4, 1e-6);
    expect(r.ok, r.message).toBe(true);
    // and equals (p − onehot)/n
    for (let s = 0; s < n; s++) for (let k = 0; k < K; k++) expect(fused[s * K + k]).toBeCloseTo((p[s * K + k] - (k === labels[s] ? 1 : 0)) / n, 7);
  });
});

describe('loss cross-entropy y=[1,3] with an underflowed probability', () => {
  it('stays finite', () => {
    const y = Float32Array.from([0, 0.5, 0.5]);
    const labels = Uint8Array.from([0]);
    expect(Number.isFinite(lossSum('cross-entropy', y, labels, 1, 3))).toBe(true);
    const dy = new Float32Array(3);
    lossGrad('cross-entropy', dy, y, labels, 1, 3);
    expect(dy.every(Number.isFinite)).toBe(true);
    expect(dy[1]).toBe(0);
  });
});

describe('classScores', () => {
  it('mse y=[2,5]: maps tanh outputs by (y+1)/2, normalised to sum 1', () => {
    const y = Float32Array.from([0, 0, 0, 0, 0, -1, 1, 0.5, -0.5, 0]);
    const out = new Float32Array(5);
    classScores('mse', y, 5, 5, out);
    const mapped = [0, 1, 0.75, 0.25, 0.5];
    const total = mapped.reduce((a, v) => a + v, 0);
    mapped.forEach((v, k) => expect(out[k]).toBeCloseTo(v / total, 6));
    expect(out.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6);
  });

  it('mse y=[1,4]: clamps outside [−1, 1], and all −1 gives a uniform distribution', () => {
    const out = new Float32Array(4);
    classScores('mse', Float32Array.from([1.5, -2, 1, -1]), 0, 4, out);
    expect(Array.from(out)).toEqual([0.5, 0, 0.5, 0]);
    classScores('mse', Float32Array.from([-1, -1, -1, -1]), 0, 4, out);
    expect(Array.from(out)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('cross-entropy y=[3,10]: the softmax row itself, summing to 1', () => {
    const rng = new Rng(9);
    const p = probabilities(rng, 3, 10);
    const out = new Float32Array(10);
    classScores('cross-entropy', p, 20, 10, out);
    expect(Array.from(out)).toEqual(Array.from(p.subarray(20, 30)));
    expect(out.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6);
  });

  it('random tanh outputs y=[50,10] always give scores in [0,1] summing to 1', () => {
    const rng = new Rng(10);
    const y = randomArray(rng, 500);
    const out = new Float32Array(10);
    for (let s = 0; s < 50; s++) {
      classScores('mse', y, s * 10, 10, out);
      expect(out.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(out.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6);
      // order preserved: the best score is the largest output
      expect(argmax(out, 0, 10)).toBe(argmax(y, s * 10, 10));
    }
  });
});

describe('argmax', () => {
  it('returns the first index on ties', () => {
    expect(argmax(Float32Array.from([9, 1, 3, 3, 2]), 1, 4)).toBe(1);
    expect(argmax(Float32Array.from([0, 5, 5]), 0, 3)).toBe(1);
  });
});
