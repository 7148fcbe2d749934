// Shared SIMD helpers for the kernel files. `madd` is a·b + c: with relaxed SIMD enabled at
// compile time (the kernels-relaxed.wasm build) it is f32x4.relaxed_madd, which the CPU may fuse
// into one FMA; otherwise a multiply then an add.

// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline export function splatAt(p: usize): v128 {
  return v128.load32_splat(p);
}

/** a[0] + a[1] + a[2] + a[3] */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** *p += hsum(v) */
// @ts-ignore: decorator
@inline export function addHsum(p: usize, v: v128): void {
  store<f32>(p, load<f32>(p) + hsum(v));
}

/**
 * [hsum(a), hsum(b), hsum(c), hsum(d)], each lane summed in hsum's order ((x0 + x1) + x2) + x3:
 * a 4×4 transpose, then three vector adds, instead of four runs of lane extracts.
 */
// @ts-ignore: decorator
@inline export function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
  const cd01 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
  const ab23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const cd23 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  const t0 = v128.shuffle<f32>(ab01, cd01, 0, 1, 4, 5);
  const t1 = v128.shuffle<f32>(ab01, cd01, 2, 3, 6, 7);
  const t2 = v128.shuffle<f32>(ab23, cd23, 0, 1, 4, 5);
  const t3 = v128.shuffle<f32>(ab23, cd23, 2, 3, 6, 7);
  return f32x4.add(f32x4.add(f32x4.add(t0, t1), t2), t3);
}

/** p[0..4) += hsum4(a, b, c, d): addHsum on four consecutive floats. */
// @ts-ignore: decorator
@inline export function addHsum4(p: usize, a: v128, b: v128, c: v128, d: v128): void {
  v128.store(p, f32x4.add(v128.load(p), hsum4(a, b, c, d)));
}

/** addHsum of a, b, c, d at p, p + step, p + 2·step, p + 3·step (bytes). */
// @ts-ignore: decorator
@inline export function addHsum4At(p: usize, step: usize, a: v128, b: v128, c: v128, d: v128): void {
  const s = hsum4(a, b, c, d);
  store<f32>(p, load<f32>(p) + f32x4.extract_lane(s, 0));
  store<f32>(p + step, load<f32>(p + step) + f32x4.extract_lane(s, 1));
  store<f32>(p + 2 * step, load<f32>(p + 2 * step) + f32x4.extract_lane(s, 2));
  store<f32>(p + 3 * step, load<f32>(p + 3 * step) + f32x4.extract_lane(s, 3));
}

/** Stores the first n lanes (1–4) of v at p. */
// @ts-ignore: decorator
@inline export function storeLanes(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n >= 2) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n >= 3) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// @ts-ignore: decorator
@inline export function hi2(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 2, 3, 0, 1);
}

/** Σ x[0..len) in f64. */
export function sumF64(x: usize, len: i32): f64 {
  let a = f64x2.splat(0);
  let b = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    a = f64x2.add(a, f64x2.promote_low_f32x4(v));
    b = f64x2.add(b, f64x2.promote_low_f32x4(hi2(v)));
  }
  let t = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1) + f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1);
  for (; i < len; i++) t += <f64>load<f32>(x + (<usize>i << 2));
  return t;
}

/** Σ (x − m)² over x[0..len) in f64. */
export function sumSqF64(x: usize, len: i32, m: f64): f64 {
  const M = f64x2.splat(m);
  let a = f64x2.splat(0);
  let b = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const lo = f64x2.sub(f64x2.promote_low_f32x4(v), M);
    const hi = f64x2.sub(f64x2.promote_low_f32x4(hi2(v)), M);
    a = f64x2.add(a, f64x2.mul(lo, lo));
    b = f64x2.add(b, f64x2.mul(hi, hi));
  }
  let t = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1) + f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1);
  for (; i < len; i++) {
    const d = <f64>load<f32>(x + (<usize>i << 2)) - m;
    t += d * d;
  }
  return t;
}

/** Σ x·y over [0..len) in f64. */
export function dotF64(x: usize, y: usize, len: i32): f64 {
  let a = f64x2.splat(0);
  let b = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    const u = v128.load(x + o);
    const v = v128.load(y + o);
    a = f64x2.add(a, f64x2.mul(f64x2.promote_low_f32x4(u), f64x2.promote_low_f32x4(v)));
    b = f64x2.add(b, f64x2.mul(f64x2.promote_low_f32x4(hi2(u)), f64x2.promote_low_f32x4(hi2(v))));
  }
  let t = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1) + f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1);
  for (; i < len; i++) {
    const o = <usize>i << 2;
    t += <f64>load<f32>(x + o) * <f64>load<f32>(y + o);
  }
  return t;
}
