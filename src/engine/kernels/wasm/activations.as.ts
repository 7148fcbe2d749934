// Pointwise activations in WebAssembly SIMD, forward and backward: ReLU, and tanh and sigmoid four
// lanes at a time. The reference is ../js/pointwise.ts.
//
// exp(t) = 2ⁿ·e^r with n = round(t/ln2) and r = t − n·ln2 (Cody–Waite: ln2 split in a short high
// part, so n·LN2_HI is exact, and a low correction), |r| ≤ ln2/2; e^r = 1 + r + r²·P(r) with Cephes'
// expf polynomial (≈1 ulp). 2ⁿ is built from exponent bits, as 2^⌊n/2⌋ · 2^(n−⌊n/2⌋) so that
// results down to the subnormals (sigmoid of large negative inputs) are right and not flushed.
//
//   tanh(x)    = sign(x)·(e^{2a} − 1)/(e^{2a} + 1), a = min(|x|, 9) (f32 tanh is 1 from 9.02),
//                with e^{2a} − 1 = 2ⁿ·2^f − 1, n + f = 2a·log2 e, and 2^f − 1 = f·Q(f), Q a minimax
//                fit (relative error 1.1e-8); tanh(x) = x below 2⁻¹². Worst case 4.4 ulp, near
//                a = 0.173 where n becomes 1 (the tests hold it to 5e-7 relative and 2e-7 absolute).
//   sigmoid(x) = 1/(1 + e^{−x}) for x ≥ 0, e^{x}/(1 + e^{x}) below, both from E = e^{−|x|} ≤ 1,
//                so neither overflows and tiny results keep their relative accuracy.
// A NaN input gives NaN (the trainer's divergence check relies on it). The last len mod 4 elements
// go through the same vector code one partial vector, so a value's result does not depend on
// where it sits in the array.
//
// Backward uses the cached output y: tanh' = (1 − y)(1 + y) (not 1 − y², which cancels near |y| = 1),
// σ' = y(1 − y).

import { madd, storeLanes } from './simd.as';

const LOG2E: f32 = 1.44269504089;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const MAGIC: f32 = 12582912.0; // 1.5·2²³
const MAGIC_BITS: i32 = 0x4b400000;
const TWO_LOG2E: f32 = 2.88539008178; // 2·log2 e
const TANH_TINY: f32 = 2.44140625e-4; // 2⁻¹²

// @ts-ignore: decorator
@inline function k(v: f32): v128 {
  return f32x4.splat(v);
}

/**
 * e^t per lane, for t in [−120, 88] (callers clamp); NaN stays NaN. 2ⁿ is built as
 * 2^⌊n/2⌋·2^(n−⌊n/2⌋), so that n may leave the normal exponent range (sigmoid's tiny results).
 */
// @ts-ignore: decorator
@inline function expv(t: v128): v128 {
  // n = round(t·log2 e) by the 1.5·2²³ trick: adding it leaves n in the low mantissa bits, so
  // the integer comes from the bits directly (cheaper in V8 than nearest + trunc_sat).
  const kf = f32x4.add(f32x4.mul(t, k(LOG2E)), k(MAGIC));
  const fn = f32x4.sub(kf, k(MAGIC));
  let r = f32x4.sub(t, f32x4.mul(fn, k(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(fn, k(LN2_LO)));
  const z = f32x4.mul(r, r);
  let p = madd(k(1.9875691500e-4), r, k(1.3981999507e-3));
  p = madd(p, r, k(8.3334519073e-3));
  p = madd(p, r, k(4.1665795894e-2));
  p = madd(p, r, k(1.6666665459e-1));
  p = madd(p, r, k(5.0000001201e-1));
  p = madd(p, z, f32x4.add(r, k(1)));
  const n = i32x4.sub(kf, i32x4.splat(MAGIC_BITS));
  const bias = i32x4.splat(127);
  const n1 = i32x4.shr_s(n, 1);
  const n2 = i32x4.sub(n, n1);
  const s1 = i32x4.shl(i32x4.add(n1, bias), 23);
  const s2 = i32x4.shl(i32x4.add(n2, bias), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

// @ts-ignore: decorator
@inline function tanhv(x: v128): v128 {
  const a = f32x4.abs(x);
  const sign = v128.xor(x, a);
  // e^{2a} − 1 = 2ⁿ·2^f − 1 with u = 2a·log2 e = n + f, |f| ≤ 1/2, and 2^f − 1 = f·Q(f). Rounding u
  // itself costs at most ~1e-7 of e^{2a} here, and tanh's sensitivity to e^{2a} falls as e^{−2a}, so
  // no Cody–Waite split is needed. For a < 0.173, n = 0 and e^{2a} − 1 = f·Q(f) keeps its relative
  // accuracy down to a = 2⁻¹², below which tanh(a) rounds to a (and stays a through the subnormals).
  const u = f32x4.mul(f32x4.pmin(a, k(9)), k(TWO_LOG2E));
  const kf = f32x4.add(u, k(MAGIC));
  const f = f32x4.sub(u, f32x4.sub(kf, k(MAGIC)));
  let q = madd(k(1.5403512225e-4), f, k(1.3390735257e-3));
  q = madd(q, f, k(9.6182376146e-3));
  q = madd(q, f, k(5.5503573269e-2));
  q = madd(q, f, k(2.4022649229e-1));
  q = madd(q, f, k(6.9314718246e-1));
  const s = i32x4.shl(i32x4.add(kf, i32x4.splat(127 - MAGIC_BITS)), 23);
  const em1 = madd(s, f32x4.mul(f, q), f32x4.sub(s, k(1)));
  // tanh a = (e^{2a} − 1)/(e^{2a} + 1); a NaN lane stays NaN through every step
  const y = f32x4.div(em1, f32x4.add(em1, k(2)));
  return v128.or(v128.bitselect(a, y, f32x4.lt(a, k(TANH_TINY))), sign);
}

// @ts-ignore: decorator
@inline function sigmoidv(x: v128): v128 {
  // e^{−|x|}, clamped where it is 0 in f32 anyway; a NaN lane is restored from x below
  const e = expv(f32x4.pmax(f32x4.neg(f32x4.abs(x)), k(-120)));
  const num = v128.bitselect(k(1), e, f32x4.ge(x, k(0)));
  const y = f32x4.div(num, f32x4.add(e, k(1)));
  return v128.bitselect(x, y, f32x4.ne(x, x));
}

/** Loads the last 1–3 floats at p into the low lanes of a vector (the other lanes are filler). */
// @ts-ignore: decorator
@inline function loadTail(p: usize, rem: i32): v128 {
  let v = f32x4.splat(load<f32>(p));
  if (rem > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (rem > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}


export function tanh_fwd(y: usize, x: usize, len: i32): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, tanhv(v128.load(x + o)));
  }
  if (i < len) {
    const o = <usize>i << 2;
    storeLanes(y + o, tanhv(loadTail(x + o, len - i)), len - i);
  }
}

export function sigmoid_fwd(y: usize, x: usize, len: i32): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, sigmoidv(v128.load(x + o)));
  }
  if (i < len) {
    const o = <usize>i << 2;
    storeLanes(y + o, sigmoidv(loadTail(x + o, len - i)), len - i);
  }
}

/** dx = dy·(1 − y)(1 + y) */
export function tanh_bwd(dx: usize, dy: usize, y: usize, len: i32): void {
  const one = k(1);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), f32x4.mul(f32x4.sub(one, v), f32x4.add(one, v))));
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * ((1 - v) * (1 + v)));
  }
}

/** dx = dy·y(1 − y) */
export function sigmoid_bwd(dx: usize, dy: usize, y: usize, len: i32): void {
  const one = k(1);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), f32x4.mul(v, f32x4.sub(one, v))));
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * (v * (1 - v)));
  }
}

/**
 * max(x, 0) with NaN kept: pmax(x, 0) is x < 0 ? 0 : x (NaN and −0 pass through), and adding +0
 * turns −0 into +0; two instructions where V8's IEEE f32x4.max takes about eight.
 */
// @ts-ignore: decorator
@inline export function reluv(x: v128): v128 {
  const z = f32x4.splat(0);
  return f32x4.add(f32x4.pmax(x, z), z);
}

export function relu_fwd(y: usize, x: usize, len: i32): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, reluv(v128.load(x + o)));
  }
  for (; i < len; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(y + (<usize>i << 2), v > 0 ? v : 0);
  }
}

export function relu_bwd(dx: usize, dy: usize, y: usize, len: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    const mask = f32x4.gt(v128.load(y + o), z);
    v128.store(dx + o, v128.and(v128.load(dy + o), mask));
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

/** Activation codes of the fused inference passes (FUSED_ACTIVATIONS in backend.ts): 0 is none. */
export const ACT_NONE: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_TANH: i32 = 2;
export const ACT_SIGMOID: i32 = 3;

/**
 * Activation `act` applied in place to len floats at p, by the kernels above: what relu_fwd,
 * tanh_fwd or sigmoid_fwd write over a whole batch (a value's result does not depend on where it
 * sits), while the values are still in the core's L1 cache.
 */
export function activate_in_place(p: usize, len: i32, act: i32): void {
  if (act == ACT_RELU) relu_fwd(p, p, len);
  else if (act == ACT_TANH) tanh_fwd(p, p, len);
  else if (act == ACT_SIGMOID) sigmoid_fwd(p, p, len);
}
