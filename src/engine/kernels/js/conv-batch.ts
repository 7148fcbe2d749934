// Whole-batch convolution from im2col + GEMM, one sample at a time, through whichever kernels it is
// given: the TypeScript backend runs every convolution this way, the wasm backend those its direct
// kernels (wasm/conv-*.as.ts) do not take: strides other than 1, and forward and weight gradient
// for planes too large for its staged copies (direct_conv_fits).

import type { BatchNormInfer, ConvGeometry, ConvPlan, FusedActivation, Kernels } from '../types';
import { activateInPlace } from './pointwise';

/** Scratch floats this path needs: a sample's columns, and a second set for the input gradient. */
export function columnsScratchSize(g: ConvGeometry): number {
  return 2 * g.C * g.KH * g.KW * g.OH * g.OW;
}

/** y (n×OC×P) = W · im2col(x) + bias, then what inference fuses into it (Kernels.convForward). */
export function convForwardVia(
  k: Kernels,
  y: Float32Array,
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array,
  n: number,
  g: ConvGeometry,
  plan: ConvPlan,
  bn: BatchNormInfer | null = null,
  act: FusedActivation | null = null,
): void {
  const OC = bias.length;
  const kSize = g.C * g.KH * g.KW;
  const P = g.OH * g.OW;
  const inSize = g.C * g.H * g.W;
  const cols = plan.scratch;
  for (let s = 0; s < n; s++) {
    k.im2col(cols, 0, x, s * inSize, g);
    k.gemmNN(y, s * OC * P, w, 0, cols, 0, OC, P, kSize, false);
  }
  k.addBias(y, bias, n, OC, P);
  if (bn) k.bnForwardInfer(y, y, bn.gamma, bn.beta, bn.runMean, bn.runVar, bn.invStd, bn.scratch, n, OC, P, bn.eps, act);
  else if (act) activateInPlace(y, n * OC * P, act, k);
}

/** dw (OC×C·KH·KW) += Σ_s dY_s · im2col(x_s)ᵀ */
export function convBackwardWeightsVia(k: Kernels, dw: Float32Array, x: Float32Array, dy: Float32Array, n: number, g: ConvGeometry, plan: ConvPlan): void {
  const kSize = g.C * g.KH * g.KW;
  const P = g.OH * g.OW;
  const OC = dw.length / kSize;
  const inSize = g.C * g.H * g.W;
  const cols = plan.scratch;
  for (let s = 0; s < n; s++) {
    k.im2col(cols, 0, x, s * inSize, g);
    k.gemmNT(dw, 0, dy, s * OC * P, cols, 0, OC, kSize, P, true);
  }
}

/** dx (n×C×H×W) = col2im(Wᵀ · dY_s) */
export function convBackwardInputVia(k: Kernels, dx: Float32Array, dy: Float32Array, w: Float32Array, n: number, g: ConvGeometry, plan: ConvPlan): void {
  const kSize = g.C * g.KH * g.KW;
  const P = g.OH * g.OW;
  const OC = w.length / kSize;
  const inSize = g.C * g.H * g.W;
  const dcol = plan.dcol;
  dx.fill(0, 0, n * inSize);
  for (let s = 0; s < n; s++) {
    k.gemmTN(dcol, 0, w, 0, dy, s * OC * P, kSize, P, OC, false);
    k.col2im(dx, s * inSize, dcol, 0, g);
  }
}
