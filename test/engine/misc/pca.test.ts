// PCA (engine/pca.ts): hand-computed cases, then independent checks on random data — components
// orthonormal, the variance of each projected coordinate equal to its eigenvalue, the eigenvalues
// agreeing with power iteration with deflation on the covariance built separately here.

import { describe, expect, it } from 'vitest';
import { pca, symmetricEigen } from '../../../src/engine/pca';
import { Rng } from '../../../src/engine/rng';

describe('symmetricEigen', () => {
  it('3×3 by hand: [[2,1,0],[1,2,0],[0,0,5]] has eigenvalues 5, 3, 1', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 0, 1, 2, 0, 0, 0, 5]), 3);
    const sorted = Array.from(values).sort((a, b) => b - a);
    expect(sorted[0]).toBeCloseTo(5, 12);
    expect(sorted[1]).toBeCloseTo(3, 12);
    expect(sorted[2]).toBeCloseTo(1, 12);
    // The eigenvector of 3 is (1,1,0)/√2 up to sign.
    const j = Array.from(values).findIndex((v) => Math.abs(v - 3) < 1e-9);
    expect(Math.abs(vectors[0 * 3 + j])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(Math.abs(vectors[1 * 3 + j])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(vectors[2 * 3 + j]).toBeCloseTo(0, 12);
  });
});

describe('pca', () => {
  it('axis-aligned points by hand: (±2,0), (0,±1) → variances 8/3 and 2/3 along x then y', () => {
    const p = pca(Float32Array.from([2, 0, -2, 0, 0, 1, 0, -1]), 4, 2, 2);
    expect(Array.from(p.mean)).toEqual([0, 0]);
    expect(p.variance[0]).toBeCloseTo(8 / 3, 12);
    expect(p.variance[1]).toBeCloseTo(2 / 3, 12);
    expect(p.total).toBeCloseTo(10 / 3, 12);
    expect(Array.from(p.components)).toEqual([1, 0, 0, 1]);
    expect(Array.from(p.projected)).toEqual([2, 0, -2, 0, 0, 1, 0, -1]);
  });

  it('points on the line y = x + 1 by hand: one component (1,1)/√2 with variance 20/3, sign fixed', () => {
    // Centred at (0,1): offsets ±(1,1), ±(2,2); variance along the line = 2·(1+1+4+4)/3 = 20/3.
    const p = pca(Float32Array.from([1, 2, -1, 0, 2, 3, -2, -1]), 4, 2, 2);
    expect(p.mean[0]).toBeCloseTo(0, 12);
    expect(p.mean[1]).toBeCloseTo(1, 12);
    expect(p.variance[0]).toBeCloseTo(20 / 3, 10);
    expect(p.variance[1]).toBeCloseTo(0, 10);
    // Both entries equal: the first one decides the sign, and it is positive.
    expect(p.components[0]).toBeCloseTo(Math.SQRT1_2, 10);
    expect(p.components[1]).toBeCloseTo(Math.SQRT1_2, 10);
    const s2 = Math.SQRT2;
    [s2, -s2, 2 * s2, -2 * s2].forEach((v, i) => expect(p.projected[i * 2]).toBeCloseTo(v, 5));
  });

  it('mirrored data give the same components, the largest entry positive', () => {
    const a = pca(Float32Array.from([3, 0.1, -3, -0.1, 1, 0, -1, 0]), 4, 2, 1);
    const b = pca(Float32Array.from([-3, -0.1, 3, 0.1, -1, 0, 1, 0]), 4, 2, 1);
    expect(a.components[0]).toBeGreaterThan(0);
    expect(Array.from(a.components)).toEqual(Array.from(b.components));
  });

  it('random 300 × 12 data: orthonormal components, projected variances equal the eigenvalues, which power iteration confirms', () => {
    const n = 300;
    const d = 12;
    const rng = new Rng(7);
    // Correlated data: x = A z with a random mixing matrix, so the spectrum is uneven.
    const mix = Array.from({ length: d * d }, () => rng.normal());
    const data = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const z = Array.from({ length: d }, (_, j) => rng.normal() * (d - j));
      for (let r = 0; r < d; r++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += mix[r * d + c] * z[c];
        data[i * d + r] = s + 5;
      }
    }
    const k = 3;
    const p = pca(data, n, d, k);
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += p.components[a * d + j] * p.components[b * d + j];
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 10);
      }
    }
    // The sign rule: each component's largest-magnitude entry is positive.
    for (let c = 0; c < k; c++) {
      const comp = Array.from(p.components.subarray(c * d, (c + 1) * d));
      const big = comp.reduce((b, v, j) => (Math.abs(v) > Math.abs(comp[b]) ? j : b), 0);
      expect(comp[big]).toBeGreaterThan(0);
    }
    for (let c = 0; c < k; c++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += p.projected[i * k + c];
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (p.projected[i * k + c] - m) ** 2;
      v /= n - 1;
      expect(Math.abs(m)).toBeLessThan(1e-3 * Math.sqrt(p.variance[0]));
      expect(v / p.variance[c]).toBeCloseTo(1, 4);
    }
    // Independent: the covariance from the two-pass formula, then power iteration with deflation.
    const mean = new Array<number>(d).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j] / n;
    const cov = Array.from({ length: d }, (_, a) =>
      Array.from({ length: d }, (_, b) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += (data[i * d + a] - mean[a]) * (data[i * d + b] - mean[b]);
        return s / (n - 1);
      }),
    );
    let trace = 0;
    for (let a = 0; a < d; a++) trace += cov[a][a];
    expect(p.total / trace).toBeCloseTo(1, 10);
    for (let c = 0; c < k; c++) {
      let v = Array.from({ length: d }, (_, j) => 1 + j / d);
      let lambda = 0;
      for (let it = 0; it < 3000; it++) {
        const w = cov.map((row) => row.reduce((s, x, j) => s + x * v[j], 0));
        lambda = Math.hypot(...w);
        v = w.map((x) => x / lambda);
      }
      expect(lambda / p.variance[c]).toBeCloseTo(1, 6);
      // |cos| between the power-iteration vector and the component is 1.
      const cos = v.reduce((s, x, j) => s + x * p.components[c * d + j], 0);
      expect(Math.abs(cos)).toBeCloseTo(1, 5);
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a][b] -= lambda * v[a] * v[b];
    }
  });

  it('refuses fewer than two points or more components than dimensions', () => {
    expect(() => pca(new Float32Array(3), 1, 3)).toThrow(/at least 2 points/);
    expect(() => pca(new Float32Array(6), 2, 3, 4)).toThrow(/cannot keep 4 components/);
  });
});
