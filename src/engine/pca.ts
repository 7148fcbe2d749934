// Principal component analysis of n points in d dimensions (the embedding view's linear
// projection). The data are centred, their d×d sample covariance (divided by n − 1, as sklearn's
// `explained_variance_`) is diagonalised by cyclic Jacobi rotations — exact to rounding for the
// small d of an embedding (84 for LeNet-5) and with no starting vector to choose — and the points
// are projected on the top k eigenvectors. Sums run in float64.
//
// Signs: an eigenvector is only defined up to sign, so each component is flipped to make its
// largest-magnitude entry positive (the first such entry on a tie): the same data give the same
// picture on every run and every machine.

import { assert } from './errors';

export interface Pca {
  /** Points, dimensions and components kept. */
  n: number;
  d: number;
  k: number;
  /** Per-dimension mean (d). */
  mean: Float64Array;
  /** Components, one after another (k × d), orthonormal, by decreasing variance. */
  components: Float64Array;
  /** The variance along each component (k): the covariance's top eigenvalues. */
  variance: Float64Array;
  /** The covariance's trace: the total variance, so variance[i] / total is the share explained. */
  total: number;
  /** The projected points (n × k): coordinate j of point i at [i·k + j]. */
  projected: Float32Array;
}

/** Eigen-decomposition of a symmetric d×d matrix (row-major, not modified) by cyclic Jacobi. */
export function symmetricEigen(a: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  assert(a.length === d * d, `symmetricEigen: expected ${d}×${d} values, got ${a.length}`);
  const m = Float64Array.from(a);
  // v (d, d): column j is the eigenvector of values[j]
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  let scale = 0;
  for (let i = 0; i < d * d; i++) scale = Math.max(scale, Math.abs(m[i]));
  for (let sweep = 0; sweep < 100 && scale > 0; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += m[p * d + q] * m[p * d + q];
    if (Math.sqrt(off) <= 1e-15 * scale * d) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = m[p * d + q];
        if (Math.abs(apq) <= 1e-300) continue;
        // The rotation that zeroes m[p][q] (Golub & Van Loan, "sym.schur2").
        const theta = (m[q * d + q] - m[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          // columns p, q of m
          const mkp = m[k * d + p];
          const mkq = m[k * d + q];
          m[k * d + p] = c * mkp - s * mkq;
          m[k * d + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < d; k++) {
          // rows p, q of m
          const mpk = m[p * d + k];
          const mqk = m[q * d + k];
          m[p * d + k] = c * mpk - s * mqk;
          m[q * d + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = m[i * d + i];
  return { values, vectors: v };
}

/**
 * The top `k` principal components of `data` (n × d, one point after another) and the points
 * projected on them. Needs at least two points.
 */
export function pca(data: Float32Array | Float64Array, n: number, d: number, k = 2): Pca {
  assert(n >= 2 && d >= 1 && data.length === n * d, `pca: expected at least 2 points of ${d} values, got ${data.length} values for ${n} points`);
  assert(k >= 1 && k <= d, `pca: cannot keep ${k} components of ${d} dimensions`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  // cov (d, d) = Σ (x − mean)(x − mean)ᵀ / (n − 1); upper triangle, mirrored after
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = data[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      const base = a * d;
      for (let b = a; b < d; b++) cov[base + b] += ra * row[b];
    }
  }
  let total = 0;
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      cov[a * d + b] /= n - 1;
      cov[b * d + a] = cov[a * d + b];
    }
    total += cov[a * d + a];
  }
  const { values, vectors } = symmetricEigen(cov, d);
  // Largest first; equal values keep their column order, so the result is deterministic.
  const order = Array.from({ length: d }, (_, i) => i).sort((x, y) => values[y] - values[x] || x - y);
  const components = new Float64Array(k * d);
  const variance = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const col = order[c];
    variance[c] = Math.max(0, values[col]);
    let big = 0;
    for (let j = 0; j < d; j++) if (Math.abs(vectors[j * d + col]) > Math.abs(vectors[big * d + col]) + 1e-12) big = j;
    const sign = vectors[big * d + col] < 0 ? -1 : 1;
    for (let j = 0; j < d; j++) components[c * d + j] = sign * vectors[j * d + col];
  }
  const projected = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (data[i * d + j] - mean[j]) * components[c * d + j];
      projected[i * k + c] = s;
    }
  }
  return { n, d, k, mean, components, variance, total, projected };
}
