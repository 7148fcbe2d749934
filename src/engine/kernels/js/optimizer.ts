// The optimizer step and the checks and combinations over flat parameter arrays, in plain
// TypeScript: the reference for the wasm versions (wasm/elementwise.as.ts) and the fallback.

export function allFinite(x: Float32Array, len: number): boolean {
  for (let i = 0; i < len; i++) if (!Number.isFinite(x[i])) return false;
  return true;
}

/** out = a·out + b·x over len values; a = 0 ignores out (NaN included): out = b·x. */
export function scaleAdd(out: Float32Array, a: number, x: Float32Array, b: number, len: number): void {
  if (a === 0) for (let i = 0; i < len; i++) out[i] = b * x[i];
  else for (let i = 0; i < len; i++) out[i] = a * out[i] + b * x[i];
}

/** g[off..off+len) += λ·p[off..off+len) */
export function addDecay(g: Float32Array, p: Float32Array, off: number, len: number, decay: number): void {
  for (let i = off; i < off + len; i++) g[i] += decay * p[i];
}

/** v = μ·v + g; p −= lr·v  (μ = 0: p −= lr·g) */
export function sgdStep(p: Float32Array, g: Float32Array, v: Float32Array, lr: number, momentum: number): void {
  const len = p.length;
  if (momentum !== 0) {
    for (let i = 0; i < len; i++) {
      v[i] = momentum * v[i] + g[i];
      p[i] -= lr * v[i];
    }
  } else {
    for (let i = 0; i < len; i++) p[i] -= lr * g[i];
  }
}
