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
