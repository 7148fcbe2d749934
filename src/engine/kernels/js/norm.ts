// Batch norm and the bias gradient's reduction in plain TypeScript: the reference for the wasm
// versions and the fallback. Batch norm over n samples of C channels × HW positions (HW = 1
// after a dense layer); `mean`, `invStd` are C floats; `scratch` (Kernels.bnScratchSize floats)
// holds two f64 arrays of C: the statistics or the backward's sums, which data-parallel shards
// combine between the two halves of each pass (bnStats, then bnForwardApply; bnBackwardSums, then
// bnBackwardApply).

import type { FusedActivation } from '../types';
import { activateInPlace } from './pointwise';

/** The f64 view of a batch norm scratch (Kernels.bnScratchSize floats): two arrays of C. */
export function bnStatsView(scratch: Float32Array, C: number): Float64Array {
  return new Float64Array(scratch.buffer, scratch.byteOffset, 2 * C);
}

/** stats = [Σx per channel, Σ(x − mean)² per channel] over this batch's n·HW values of each. */
export function bnStats(scratch: Float32Array, x: Float32Array, n: number, C: number, HW: number): void {
  const stats = bnStatsView(scratch, C);
  const count = n * HW;
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let s = 0; s < n; s++) {
      const b = (s * C + c) * HW;
      for (let p = 0; p < HW; p++) sum += x[b + p];
    }
    const m = sum / count;
    let sq = 0;
    for (let s = 0; s < n; s++) {
      const b = (s * C + c) * HW;
      for (let p = 0; p < HW; p++) {
        const d = x[b + p] - m;
        sq += d * d;
      }
    }
    stats[c] = sum;
    stats[C + c] = sq;
  }
}

/**
 * The training forward from the statistics bnStats left in scratch, which may cover more than
 * this batch (`count` values a channel; n·HW when they are this batch's own).
 */
export function bnForwardApply(
  y: Float32Array,
  xhat: Float32Array,
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  runMean: Float32Array,
  runVar: Float32Array,
  mean: Float32Array,
  invStd: Float32Array,
  scratch: Float32Array,
  n: number,
  C: number,
  HW: number,
  count: number,
  eps: number,
  momentum: number,
): void {
  const stats = bnStatsView(scratch, C);
  for (let c = 0; c < C; c++) {
    const m = stats[c] / count;
    const variance = stats[C + c] / count; // biased: what normalises the batch
    const inv = 1 / Math.sqrt(variance + eps);
    mean[c] = m;
    invStd[c] = inv;
    const g = gamma[c];
    const bt = beta[c];
    for (let s = 0; s < n; s++) {
      const b = (s * C + c) * HW;
      for (let p = 0; p < HW; p++) {
        const h = (x[b + p] - m) * inv;
        xhat[b + p] = h;
        y[b + p] = g * h + bt;
      }
    }
    const unbiased = count > 1 ? (variance * count) / (count - 1) : variance;
    runMean[c] = (1 - momentum) * runMean[c] + momentum * m;
    runVar[c] = (1 - momentum) * runVar[c] + momentum * unbiased;
  }
}

export function bnForwardInfer(
  y: Float32Array,
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  runMean: Float32Array,
  runVar: Float32Array,
  invStd: Float32Array,
  _scratch: Float32Array,
  n: number,
  C: number,
  HW: number,
  eps: number,
  act: FusedActivation | null = null,
): void {
  for (let c = 0; c < C; c++) {
    const inv = 1 / Math.sqrt(runVar[c] + eps);
    const scale = gamma[c] * inv;
    const shift = beta[c] - runMean[c] * scale;
    invStd[c] = inv;
    for (let s = 0; s < n; s++) {
      const b = (s * C + c) * HW;
      for (let p = 0; p < HW; p++) y[b + p] = x[b + p] * scale + shift;
    }
  }
  if (act) activateInPlace(y, n * C * HW, act);
}

/** scratch = [Σdy per channel, Σdy·x̂ per channel]; dγ += Σ dy·x̂, dβ += Σ dy. */
export function bnBackwardSums(
  dgamma: Float32Array,
  dbeta: Float32Array,
  dy: Float32Array,
  xhat: Float32Array,
  scratch: Float32Array,
  n: number,
  C: number,
  HW: number,
): void {
  const sums = bnStatsView(scratch, C);
  for (let c = 0; c < C; c++) {
    let sdy = 0;
    let sdyx = 0;
    for (let s = 0; s < n; s++) {
      const b = (s * C + c) * HW;
      for (let p = 0; p < HW; p++) {
        sdy += dy[b + p];
        sdyx += dy[b + p] * xhat[b + p];
      }
    }
    sums[c] = sdy;
    sums[C + c] = sdyx;
    dgamma[c] += sdyx;
    dbeta[c] += sdy;
  }
}

/** dx = γσ⁻¹/m · (m·dy − Σdy − x̂·Σ(dy·x̂)) with the sums in scratch, m = `count` values a channel. */
export function bnBackwardApply(
  dx: Float32Array,
  dy: Float32Array,
  xhat: Float32Array,
  gamma: Float32Array,
  invStd: Float32Array,
  scratch: Float32Array,
  n: number,
  C: number,
  HW: number,
  count: number,
): void {
  const sums = bnStatsView(scratch, C);
  for (let c = 0; c < C; c++) {
    const sdy = sums[c];
    const sdyx = sums[C + c];
    const k = (gamma[c] * invStd[c]) / count;
    for (let s = 0; s < n; s++) {
      const b = (s * C + c) * HW;
      for (let p = 0; p < HW; p++) dx[b + p] = k * (count * dy[b + p] - sdy - xhat[b + p] * sdyx);
    }
  }
}

/** out[c] += Σ_s Σ_p x[s, c, p] */
export function channelSumAdd(out: Float32Array, x: Float32Array, n: number, C: number, P: number): void {
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < C; c++) {
      const b = (s * C + c) * P;
      let t = 0;
      for (let p = 0; p < P; p++) t += x[b + p];
      out[c] += t;
    }
  }
}
