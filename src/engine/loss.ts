// Losses, as the seed project and the PyTorch reference define them:
//   mse:           L = (1/n) Σ_batch ½ Σ_k (y_k − onehot_k)²    on the network's (tanh) outputs
//   cross-entropy: L = (1/n) Σ_batch −log p_label               on softmax probabilities
// Each function returns the batch's summed loss (the caller divides) and, when given a buffer,
// writes dL/d(output) for the batch mean.

import type { LossName } from './spec';

const TINY = 1e-30; // keeps −log p finite when a probability underflows to 0 in float32

export function lossSum(loss: LossName, y: Float32Array, labels: Uint8Array, n: number, K: number): number {
  let total = 0;
  for (let s = 0; s < n; s++) {
    const b = s * K;
    const label = labels[s];
    if (loss === 'mse') {
      for (let k = 0; k < K; k++) {
        const d = y[b + k] - (k === label ? 1 : 0);
        total += 0.5 * d * d;
      }
    } else {
      total -= Math.log(Math.max(y[b + label], TINY));
    }
  }
  return total;
}

/** dL/dy for the batch-mean loss, written into `dy` (n×K). */
export function lossGrad(loss: LossName, dy: Float32Array, y: Float32Array, labels: Uint8Array, n: number, K: number): void {
  const inv = 1 / n;
  for (let s = 0; s < n; s++) {
    const b = s * K;
    const label = labels[s];
    for (let k = 0; k < K; k++) {
      if (loss === 'mse') dy[b + k] = (y[b + k] - (k === label ? 1 : 0)) * inv;
      else dy[b + k] = k === label ? -inv / Math.max(y[b + k], TINY) : 0;
    }
  }
}

/**
 * dL/dz for softmax + cross-entropy taken together, z being the softmax's input:
 * (p − onehot)/n. Fusing avoids dividing by a probability that may be ~0.
 */
export function softmaxCrossEntropyGrad(dz: Float32Array, p: Float32Array, labels: Uint8Array, n: number, K: number): void {
  const inv = 1 / n;
  for (let s = 0; s < n; s++) {
    const b = s * K;
    for (let k = 0; k < K; k++) dz[b + k] = (p[b + k] - (k === labels[s] ? 1 : 0)) * inv;
  }
}

/**
 * Class scores that sum to 1 for either kind of model: the softmax output for cross-entropy;
 * for mse (tanh outputs in [−1, 1]) the outputs mapped to [0, 1] by (y+1)/2, then normalised.
 */
export function classScores(loss: LossName, y: Float32Array, offset: number, K: number, out: Float32Array): Float32Array {
  if (loss === 'cross-entropy') {
    for (let k = 0; k < K; k++) out[k] = y[offset + k];
    return out;
  }
  let sum = 0;
  for (let k = 0; k < K; k++) {
    const v = Math.min(1, Math.max(0, (y[offset + k] + 1) / 2));
    out[k] = v;
    sum += v;
  }
  if (sum > 0) for (let k = 0; k < K; k++) out[k] /= sum;
  else out.fill(1 / K);
  return out;
}

/** Index of the largest output (first one on ties). */
export function argmax(y: Float32Array, offset: number, K: number): number {
  let best = 0;
  for (let k = 1; k < K; k++) if (y[offset + k] > y[offset + best]) best = k;
  return best;
}

/**
 * The loss of a network that knows nothing: uniform probabilities for cross-entropy (ln K),
 * all-zero outputs for mse (½). Divergence is judged against it.
 */
export function chanceLoss(loss: LossName, K: number): number {
  return loss === 'cross-entropy' ? Math.log(K) : 0.5;
}
