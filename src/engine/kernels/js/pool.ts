// 2-D pooling over NCHW maps with a square window and stride, no padding.
// Max pooling records the flat input index of each winner so backward routes the gradient
// to exactly one input (the first maximum on ties, as PyTorch does).

import type { PoolGeometry } from '../types';

/**
 * y (n, C, OH, OW) ← max over windows of x (n, C, H, W); argmax gets input indices, unless it is
 * null (inference: the same values, no indices).
 */
export function maxPoolForward(y: Float32Array, argmax: Int32Array | null, x: Float32Array, n: number, g: PoolGeometry): void {
  const { C, H, W, size, stride, OH, OW } = g;
  let o = 0;
  for (let m = 0; m < n * C; m++) {
    const base = m * H * W;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, o++) {
        const h0 = oh * stride;
        const w0 = ow * stride;
        let best = -Infinity;
        let bi = base + h0 * W + w0;
        for (let i = 0; i < size; i++) {
          const r = base + (h0 + i) * W + w0;
          for (let j = 0; j < size; j++) {
            const v = x[r + j];
            if (v > best) {
              best = v;
              bi = r + j;
            }
          }
        }
        y[o] = best;
        if (argmax) argmax[o] = bi;
      }
    }
  }
}

/** dx += scatter of dy through argmax; dx zeroed by the caller. */
export function maxPoolBackward(dx: Float32Array, dy: Float32Array, argmax: Int32Array, count: number): void {
  for (let o = 0; o < count; o++) dx[argmax[o]] += dy[o];
}

export function avgPoolForward(y: Float32Array, x: Float32Array, n: number, g: PoolGeometry): void {
  const { C, H, W, size, stride, OH, OW } = g;
  const inv = 1 / (size * size);
  let o = 0;
  for (let m = 0; m < n * C; m++) {
    const base = m * H * W;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, o++) {
        let s = 0;
        for (let i = 0; i < size; i++) {
          const r = base + (oh * stride + i) * W + ow * stride;
          for (let j = 0; j < size; j++) s += x[r + j];
        }
        y[o] = s * inv;
      }
    }
  }
}

/** dx += dy spread evenly over each window; dx zeroed by the caller. */
export function avgPoolBackward(dx: Float32Array, dy: Float32Array, n: number, g: PoolGeometry): void {
  const { C, H, W, size, stride, OH, OW } = g;
  const inv = 1 / (size * size);
  let o = 0;
  for (let m = 0; m < n * C; m++) {
    const base = m * H * W;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, o++) {
        const v = dy[o] * inv;
        for (let i = 0; i < size; i++) {
          const r = base + (oh * stride + i) * W + ow * stride;
          for (let j = 0; j < size; j++) dx[r + j] += v;
        }
      }
    }
  }
}
