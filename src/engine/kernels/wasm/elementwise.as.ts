// Elementwise kernels over flat arrays in WebAssembly SIMD: bias and its gradient, the finiteness
// check, the optimizer step and the combination of shard gradients. The references are
// ../js/pointwise.ts and ../js/optimizer.ts.

import { sumF64 } from './simd.as';

/** y[s, c, p] += bias[c] over n samples of C channels × P positions. */
export function add_bias(y: usize, bias: usize, n: i32, C: i32, P: i32): void {
  let o = y;
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < C; c++) {
      const v = f32x4.splat(load<f32>(bias + (<usize>c << 2)));
      const b = load<f32>(bias + (<usize>c << 2));
      let p = 0;
      for (; p + 4 <= P; p += 4) {
        v128.store(o, f32x4.add(v128.load(o), v));
        o += 16;
      }
      for (; p < P; p++) {
        store<f32>(o, load<f32>(o) + b);
        o += 4;
      }
    }
  }
}

/** 1 when every value of x[0..len) is finite. */
export function all_finite(x: usize, len: i32): i32 {
  // x − x is 0 for finite x and NaN for ±Inf and NaN: OR the bits together (a one-cycle chain;
  // adding them up waited on the adder's latency every step).
  let acc = i32x4.splat(0);
  let i = 0;
  for (; i + 8 <= len; i += 8) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const u = v128.load(x + o, 16);
    acc = v128.or(acc, v128.or(f32x4.sub(v, v), f32x4.sub(u, u)));
  }
  let t: f32 = 0;
  for (; i < len; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    t += v - v;
  }
  return !v128.any_true(acc) && t == t ? 1 : 0;
}

/** out = a·out + b·x over len values; a = 0 ignores out (NaN included): out = b·x. */
export function scale_add(out: usize, a: f32, x: usize, b: f32, len: i32): void {
  const A = f32x4.splat(a);
  const B = f32x4.splat(b);
  let i = 0;
  if (a == 0) {
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.mul(B, v128.load(x + o)));
    }
    for (; i < len; i++) store<f32>(out + (<usize>i << 2), b * load<f32>(x + (<usize>i << 2)));
    return;
  }
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(f32x4.mul(A, v128.load(out + o)), f32x4.mul(B, v128.load(x + o))));
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, a * load<f32>(out + o) + b * load<f32>(x + o));
  }
}

export function add_decay(g: usize, p: usize, len: i32, decay: f32): void {
  const D = f32x4.splat(decay);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    v128.store(g + o, f32x4.add(v128.load(g + o), f32x4.mul(D, v128.load(p + o))));
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    store<f32>(g + o, load<f32>(g + o) + decay * load<f32>(p + o));
  }
}

/** v = μ·v + g; p −= lr·v (μ = 0: p −= lr·g, v untouched). */
export function sgd_step(p: usize, g: usize, v: usize, len: i32, lr: f32, momentum: f32): void {
  const L = f32x4.splat(lr);
  const M = f32x4.splat(momentum);
  let i = 0;
  if (momentum != 0) {
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      const nv = f32x4.add(f32x4.mul(M, v128.load(v + o)), v128.load(g + o));
      v128.store(v + o, nv);
      v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(L, nv)));
    }
    for (; i < len; i++) {
      const o = <usize>i << 2;
      const nv = momentum * load<f32>(v + o) + load<f32>(g + o);
      store<f32>(v + o, nv);
      store<f32>(p + o, load<f32>(p + o) - lr * nv);
    }
    return;
  }
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(L, v128.load(g + o))));
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    store<f32>(p + o, load<f32>(p + o) - lr * load<f32>(g + o));
  }
}

/** out[c] += Σ over n samples and P positions of x[s, c, p] (bias gradients), summed in f64. */
export function channel_sum_add(out: usize, x: usize, n: i32, C: i32, P: i32): void {
  if (P == 1) {
    // After a dense layer: the same f64 sums, without a reduction call per value.
    for (let c = 0; c < C; c++) {
      let t: f64 = 0;
      for (let s = 0; s < n; s++) t += <f64>load<f32>(x + (<usize>(s * C + c) << 2));
      const o = out + (<usize>c << 2);
      store<f32>(o, <f32>(<f64>load<f32>(o) + t));
    }
    return;
  }
  for (let c = 0; c < C; c++) {
    let t: f64 = 0;
    for (let s = 0; s < n; s++) t += sumF64(x + (<usize>((s * C + c) * P) << 2), P);
    const o = out + (<usize>c << 2);
    store<f32>(o, <f32>(<f64>load<f32>(o) + t));
  }
}
