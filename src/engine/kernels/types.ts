// The kernel interface the layers call, and the geometry its convolution and pooling kernels take.
// Two implementations: js/backend.ts (plain TypeScript, the reference-tested fallback) and
// wasm/backend.ts (WebAssembly SIMD, plain or relaxed). A Model is built with one of them and
// hands it to its layers; nothing chooses kernels globally.
//
// Kernels run on arrays from an Arena (`Kernels.arena()`): for wasm these are views of the wasm
// memory, so the hot path passes byte offsets and copies nothing. Whoever creates an arena owns
// what it hands out and returns all of it with `dispose()` (a Model does, in Model.dispose).

export type KernelName = 'js' | 'wasm-simd' | 'wasm-relaxed-simd';

/**
 * Memory the kernels run on in place, owned by whoever created it. `alloc` throws a
 * KernelMemoryError (code KERNEL_MEMORY_FULL) when the kernels' memory cannot hold the block.
 */
export interface Arena {
  /** A zeroed Float32Array of `length` floats. */
  alloc(length: number): Float32Array;
  allocI32(length: number): Int32Array;
  /** Hands back one array `alloc` returned (not a subarray of it); it must not be used after. */
  free(a: Float32Array | Int32Array): void;
  /** Hands back everything still allocated; the arena allocates nothing after. */
  dispose(): void;
}

export interface ConvGeometry {
  /** input channels and size */
  C: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  stride: number;
  pad: number;
  OH: number;
  OW: number;
}

export function convOutSize(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

export interface PoolGeometry {
  C: number;
  H: number;
  W: number;
  size: number;
  stride: number;
  OH: number;
  OW: number;
}

/**
 * An activation the inference kernels can apply to what they write, while it is in cache
 * (Kernels.convForward, Kernels.bnForwardInfer): the values of the activation's own kernel.
 */
export type FusedActivation = 'relu' | 'tanh' | 'sigmoid';

/** A batch norm layer in inference mode, as Kernels.convForward applies it to its output. */
export interface BatchNormInfer {
  gamma: Float32Array;
  beta: Float32Array;
  runMean: Float32Array;
  runVar: Float32Array;
  /** Gets 1/√(σ²_run + ε), as bnForwardInfer's does. */
  invStd: Float32Array;
  /** bnScratchSize(C) floats. */
  scratch: Float32Array;
  eps: number;
}

/** Built once per conv layer (conv-plan.ts), from the memory of the model that owns the layer. */
export interface ConvPlan {
  /**
   * [count, then per entry: oa, ob, nboth, both…, nA, onlyA…, nB, onlyB…]: output maps in pairs,
   * the inputs both maps read, then those only oa or only ob reads (oa = ob: a map on its own).
   */
  readonly forward: Int32Array;
  /** [C, then per input channel: nconn, o…]: the output maps each input channel feeds (input gradient). */
  readonly backward: Int32Array;
  /** Kernels.convScratchSize floats for whichever kernels run (staged input planes, or columns). */
  readonly scratch: Float32Array;
  /** The second half of the columns' scratch, for the im2col input gradient (a view made once). */
  readonly dcol: Float32Array;
  /** Multiply-adds per sample the direct forward kernel performs (one per connection, tap and position). */
  readonly forwardMacs: number;
}

export interface Kernels {
  readonly name: KernelName;
  /** A new owner of memory these kernels run on (see Arena). */
  arena(): Arena;
  /** Scratch floats the conv kernels need for this geometry (ConvPlan.scratch). */
  convScratchSize(g: ConvGeometry, OC: number): number;
  /** Scratch floats the batch norm kernels need for C channels. */
  bnScratchSize(C: number): number;
  gemmNN(C: Float32Array, cOff: number, A: Float32Array, aOff: number, B: Float32Array, bOff: number, M: number, N: number, K: number, acc: boolean): void;
  gemmNT(C: Float32Array, cOff: number, A: Float32Array, aOff: number, B: Float32Array, bOff: number, M: number, N: number, K: number, acc: boolean): void;
  gemmTN(C: Float32Array, cOff: number, A: Float32Array, aOff: number, B: Float32Array, bOff: number, M: number, N: number, K: number, acc: boolean): void;
  im2col(col: Float32Array, colOff: number, x: Float32Array, xOff: number, g: ConvGeometry): void;
  col2im(dx: Float32Array, dxOff: number, dcol: Float32Array, colOff: number, g: ConvGeometry): void;
  /** argmax null: the values only (inference). */
  maxPoolForward(y: Float32Array, argmax: Int32Array | null, x: Float32Array, n: number, g: PoolGeometry): void;
  maxPoolBackward(dx: Float32Array, dy: Float32Array, argmax: Int32Array, count: number): void;
  avgPoolForward(y: Float32Array, x: Float32Array, n: number, g: PoolGeometry): void;
  avgPoolBackward(dx: Float32Array, dy: Float32Array, n: number, g: PoolGeometry): void;
  /**
   * x[s·size + i] = pixels[indices[s]·size + i] / 255 for n samples of size bytes: a batch built
   * from a dataset that stays uint8 (the same f32 values as the division, for every byte).
   */
  gatherPixels(x: Float32Array, pixels: Uint8Array, indices: ArrayLike<number>, n: number, size: number): void;
  reluForward(y: Float32Array, x: Float32Array, len: number): void;
  reluBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, len: number): void;
  tanhForward(y: Float32Array, x: Float32Array, len: number): void;
  /** dx = dy·(1 − y²), from the forward output y */
  tanhBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, len: number): void;
  sigmoidForward(y: Float32Array, x: Float32Array, len: number): void;
  /** dx = dy·y·(1 − y), from the forward output y */
  sigmoidBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, len: number): void;
  /** y[s,c,p] += bias[c] for n samples of C channels × P positions. */
  addBias(y: Float32Array, bias: Float32Array, n: number, C: number, P: number): void;
  /** out[c] += Σ over samples and positions of x[s,c,p] (bias gradients). */
  channelSumAdd(out: Float32Array, x: Float32Array, n: number, C: number, P: number): void;
  /**
   * Batch norm's training forward, over n samples of C channels × HW positions (HW = 1 after a
   * dense layer), in two halves so that data-parallel shards can combine their statistics between
   * them. This first half: scratch (bnScratchSize(C) floats, viewed as f64) gets Σx per channel,
   * then Σ(x − mean)² per channel, over these n·HW values of each.
   */
  bnStats(scratch: Float32Array, x: Float32Array, n: number, C: number, HW: number): void;
  /**
   * The second half: batch mean and biased variance from the statistics in scratch, which cover
   * `count` values a channel (n·HW for this batch alone, more when shards combined theirs),
   * normalise x; the running statistics take the unbiased variance. mean and invStd (C floats) are
   * saved for the backward; scratch is left holding other values.
   */
  bnForwardApply(
    y: Float32Array,
    xhat: Float32Array,
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    runMean: Float32Array,
    runVar: Float32Array,
    mean: Float32Array,
    invStd: Float32Array,
    scratch: Float32Array,
    n: number,
    C: number,
    HW: number,
    count: number,
    eps: number,
    momentum: number,
  ): void;
  /**
   * Batch norm, inference forward, from the running statistics; then activation `act` when one
   * is given (inference fuses the two). y may be x.
   */
  bnForwardInfer(
    y: Float32Array,
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    runMean: Float32Array,
    runVar: Float32Array,
    invStd: Float32Array,
    scratch: Float32Array,
    n: number,
    C: number,
    HW: number,
    eps: number,
    act?: FusedActivation | null,
  ): void;
  /** Batch norm's training backward, first half: scratch (f64) gets Σdy, then Σdy·x̂, per channel; dγ, dβ accumulate them. */
  bnBackwardSums(
    dgamma: Float32Array,
    dbeta: Float32Array,
    dy: Float32Array,
    xhat: Float32Array,
    scratch: Float32Array,
    n: number,
    C: number,
    HW: number,
  ): void;
  /** The second half: dx = γσ⁻¹/m · (m·dy − Σdy − x̂·Σ(dy·x̂)) with the sums in scratch and m = `count`. */
  bnBackwardApply(
    dx: Float32Array,
    dy: Float32Array,
    xhat: Float32Array,
    gamma: Float32Array,
    invStd: Float32Array,
    scratch: Float32Array,
    n: number,
    C: number,
    HW: number,
    count: number,
  ): void;
  allFinite(x: Float32Array, len: number): boolean;
  /** g[off..off+len) += λ·p[off..off+len) */
  addDecay(g: Float32Array, p: Float32Array, off: number, len: number, decay: number): void;
  /** v = μ·v + g; p −= lr·v over whole arrays */
  sgdStep(p: Float32Array, g: Float32Array, v: Float32Array, lr: number, momentum: number): void;
  /** out = a·out + b·x over len values; a = 0 ignores out (NaN included): out = b·x. */
  scaleAdd(out: Float32Array, a: number, x: Float32Array, b: number, len: number): void;
  /**
   * y (n×OC×OH×OW) = conv(x, w) + bias over a whole batch. Inference may fuse a batch norm `bn`
   * and then an activation `act` into it: the values of bnForwardInfer(y, y, …, act) after it.
   */
  convForward(
    y: Float32Array,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array,
    n: number,
    g: ConvGeometry,
    plan: ConvPlan,
    bn?: BatchNormInfer | null,
    act?: FusedActivation | null,
  ): void;
  /** dw += Σ over the batch of the weight gradient; entries the plan skips may be left alone. */
  convBackwardWeights(dw: Float32Array, x: Float32Array, dy: Float32Array, n: number, g: ConvGeometry, plan: ConvPlan): void;
  /** dx (n×C×H×W) = the input gradient (overwritten). */
  convBackwardInput(dx: Float32Array, dy: Float32Array, w: Float32Array, n: number, g: ConvGeometry, plan: ConvPlan): void;
}
