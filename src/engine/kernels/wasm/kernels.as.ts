// WebAssembly SIMD kernels, written in AssemblyScript and compiled at build time by
// `scripts/build-wasm.mjs` (asc --enable simd -O3 --runtime stub --importMemory) twice: kernels.wasm,
// and kernels-relaxed.wasm with --enable relaxed-simd, where `madd` (simd.as.ts) is a fused
// multiply-add. The host picks the relaxed build when its runtime accepts it.
//
// This file is the module's entry: it lists what the module exports, one file per concern. Only
// the kernels are exported; helpers shared between files (simd.as.ts, conv-stage.as.ts) stay
// internal, so the optimizer may inline them. Every pointer is a byte offset into the memory the
// host allocates tensors from (backend.ts, heap.ts), so JS keeps Float32Array views on the same
// bytes and nothing is copied per call. The plain TypeScript kernels (../js) define what each
// function computes; tests compare.

export { gemm_xn, gemm_nt } from './gemm.as';
export { im2col, col2im } from './im2col.as';
export { direct_conv_fits, conv_scratch_floats } from './conv-stage.as';
export { conv_fwd } from './conv-forward.as';
export { conv_bwd_weights } from './conv-weights.as';
export { conv_bwd_input } from './conv-input.as';
export { maxpool_fwd, maxpool_bwd, avgpool_fwd, avgpool_bwd } from './pool.as';
export { bn_scratch_floats, bn_stats, bn_fwd_apply, bn_fwd_infer, bn_bwd_sums, bn_bwd_apply } from './batchnorm.as';
export { relu_fwd, relu_bwd, tanh_fwd, tanh_bwd, sigmoid_fwd, sigmoid_bwd } from './activations.as';
export { add_bias, channel_sum_add, all_finite, scale_add, add_decay, sgd_step } from './elementwise.as';
export { pixels_to_f32 } from './pixels.as';

/** 1 in the relaxed-SIMD build (kernels-relaxed.wasm), 0 in the plain one: the module says which it is. */
export function relaxed_simd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
