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
