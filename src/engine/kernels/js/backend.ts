// The plain TypeScript kernels: the reference the wasm kernels are tested against, and the
// fallback where WebAssembly SIMD is missing (or LENET_KERNELS=js). Their memory is ordinary
// arrays, so an arena here only hands out new arrays and the garbage collector reclaims them.

import type { Arena, Kernels } from '../types';
import { col2im, im2col } from './conv';
import { columnsScratchSize, convBackwardInputVia, convBackwardWeightsVia, convForwardVia } from './conv-batch';
import { gemmNN, gemmNT, gemmTN } from './gemm';
import { bnBackwardApply, bnBackwardSums, bnForwardApply, bnForwardInfer, bnStats, channelSumAdd } from './norm';
import { addDecay, allFinite, scaleAdd, sgdStep } from './optimizer';
import { addBias, gatherPixels, reluBackward, reluForward, sigmoidBackward, sigmoidForward, tanhBackward, tanhForward } from './pointwise';
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward } from './pool';

const jsArena: Arena = {
  alloc: (length) => new Float32Array(length),
  allocI32: (length) => new Int32Array(length),
  free: () => {},
  dispose: () => {},
};

export const jsKernels: Kernels = {
  name: 'js',
  arena: () => jsArena,
  convScratchSize: (g) => columnsScratchSize(g),
  bnScratchSize: (C) => 4 * C,
  gemmNN,
  gemmNT,
  gemmTN,
  im2col,
  col2im,
  maxPoolForward,
  maxPoolBackward,
  avgPoolForward,
  avgPoolBackward,
  gatherPixels,
  reluForward,
  reluBackward,
  tanhForward,
  tanhBackward,
  sigmoidForward,
  sigmoidBackward,
  addBias,
  channelSumAdd,
  bnStats,
  bnForwardApply,
  bnForwardInfer,
  bnBackwardSums,
  bnBackwardApply,
  allFinite,
  addDecay,
  sgdStep,
  scaleAdd,
  convForward: (y, x, w, bias, n, g, plan, bn, act) => convForwardVia(jsKernels, y, x, w, bias, n, g, plan, bn, act),
  convBackwardWeights: (dw, x, dy, n, g, plan) => convBackwardWeightsVia(jsKernels, dw, x, dy, n, g, plan),
  convBackwardInput: (dx, dy, w, n, g, plan) => convBackwardInputVia(jsKernels, dx, dy, w, n, g, plan),
};
