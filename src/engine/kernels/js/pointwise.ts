// Pointwise kernels in plain TypeScript: activations forward and backward, the bias, and the
// pixels of a batch. The reference for wasm/activations.as.ts, elementwise.as.ts and pixels.as.ts.

import type { FusedActivation, Kernels } from '../types';

/** Activation `act` over y[0, len) in place, by k's kernel for it (by default the ones below). */
export function activateInPlace(
  y: Float32Array,
  len: number,
  act: FusedActivation,
  k: Pick<Kernels, 'reluForward' | 'tanhForward' | 'sigmoidForward'> = { reluForward, tanhForward, sigmoidForward },
): void {
  if (act === 'relu') k.reluForward(y, y, len);
  else if (act === 'tanh') k.tanhForward(y, y, len);
  else k.sigmoidForward(y, y, len);
}

export function reluForward(y: Float32Array, x: Float32Array, len: number): void {
  for (let i = 0; i < len; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

export function reluBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, len: number): void {
  for (let i = 0; i < len; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
}

export function tanhForward(y: Float32Array, x: Float32Array, len: number): void {
  for (let i = 0; i < len; i++) y[i] = Math.tanh(x[i]);
}

/** dx = dy·(1 − y²), from the forward output y */
export function tanhBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, len: number): void {
  for (let i = 0; i < len; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
}

export function sigmoidForward(y: Float32Array, x: Float32Array, len: number): void {
  for (let i = 0; i < len; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
}

/** dx = dy·y·(1 − y), from the forward output y */
export function sigmoidBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, len: number): void {
  for (let i = 0; i < len; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
}

/** y[s,c,p] += bias[c] for n samples of C channels × P positions. */
export function addBias(y: Float32Array, bias: Float32Array, n: number, C: number, P: number): void {
  let o = 0;
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < C; c++) {
      const b = bias[c];
      for (let p = 0; p < P; p++) y[o++] += b;
    }
  }
}

/** x[s·size + i] = pixels[indices[s]·size + i] / 255 for n samples of size bytes. */
export function gatherPixels(x: Float32Array, pixels: Uint8Array, indices: ArrayLike<number>, n: number, size: number): void {
  const inv = 1 / 255;
  for (let s = 0; s < n; s++) {
    const src = indices[s] * size;
    const dst = s * size;
    for (let i = 0; i < size; i++) x[dst + i] = pixels[src + i] * inv;
  }
}
