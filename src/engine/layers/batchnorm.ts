// Batch normalisation (Ioffe & Szegedy 2015), PyTorch's definition: per channel over (N,H,W)
// after a conv, per unit over N after a dense layer. Training uses the batch mean and biased
// variance and updates running statistics with the unbiased variance; inference uses the
// running statistics. Data-parallel shards normalise with the whole batch's statistics
// (synchronised batch norm) through a BatchNormSync, so a thread count changes only the order of
// float sums.

import { bnStatsView } from '../kernels/js/norm';
import type { BatchNormInfer, FusedActivation, Kernels } from '../kernels/types';
import type { Shape } from '../tensor';
import { BatchBuffer, shapeSize } from '../tensor';
import { EMPTY, JS_RUNTIME, type Layer, type LayerRuntime, type ParamSpec, view, type Views } from './layer';

/**
 * What lets a data-parallel shard's batch norm see the whole batch. Between the two halves of
 * each training pass the shard hands over its own per-channel figures and gets the whole batch's
 * back; every shard of a step makes the same calls in the same order. The engine itself never
 * runs threads (src/node/parallel does).
 */
export interface BatchNormSync {
  /**
   * stats holds this shard's Σx and Σ(x − mean)² per channel (f64, C each) over `count` values a
   * channel; replaced by the whole batch's. Returns the whole batch's count a channel.
   */
  stats(stats: Float64Array, C: number, count: number): number;
  /**
   * sums holds this shard's Σdy and Σdy·x̂ per channel, dy being the gradient of the shard's own
   * mean loss; replaced by the whole batch's, in the same scale.
   */
  gradSums(sums: Float64Array, C: number): void;
}

export class BatchNorm implements Layer {
  readonly kind = 'batchnorm';
  readonly params: ParamSpec[];
  readonly buffers: ParamSpec[];
  private readonly k: Kernels;
  readonly macs: number;
  private gamma = EMPTY;
  private beta = EMPTY;
  private dgamma = EMPTY;
  private dbeta = EMPTY;
  private runMean = EMPTY;
  private runVar = EMPTY;
  /** Channels (maps) or units (vectors), and the spatial size each channel spans. */
  private readonly C: number;
  private readonly HW: number;
  private readonly out: BatchBuffer;
  private readonly xhat: BatchBuffer;
  private readonly dxBuf: BatchBuffer;
  private readonly invStd: Float32Array;
  private readonly mean: Float32Array;
  private readonly scratch: Float32Array;
  private lastTraining = false;
  /** The f64 view of `scratch` the sync exchanges. */
  private readonly stats64: Float64Array;
  /** Set while this layer runs as one shard of a data-parallel batch (Model.setBatchNormSync). */
  sync: BatchNormSync | null = null;
  /** Values a channel the last training forward normalised over: n·HW, or the whole batch's with a sync. */
  private count = 0;
  /** Input of the last inference-mode forward (backward in that mode needs x̂). */
  private x = EMPTY;

  constructor(
    readonly name: string,
    readonly inShape: Shape,
    readonly outShape: Shape,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
    rt: LayerRuntime = JS_RUNTIME,
  ) {
    this.k = rt.kernels;
    this.C = inShape[0];
    this.HW = inShape.length === 3 ? inShape[1] * inShape[2] : 1;
    const C = this.C;
    this.params = [
      { name: 'weight', shape: [C], decay: false },
      { name: 'bias', shape: [C], decay: false },
    ];
    this.buffers = [
      { name: 'running_mean', shape: [C], decay: false },
      { name: 'running_var', shape: [C], decay: false },
    ];
    this.macs = shapeSize(inShape);
    this.out = new BatchBuffer(shapeSize(inShape), rt.memory);
    this.xhat = new BatchBuffer(shapeSize(inShape), rt.memory);
    this.dxBuf = new BatchBuffer(shapeSize(inShape), rt.memory);
    this.invStd = rt.memory.alloc(C);
    this.mean = rt.memory.alloc(C);
    this.scratch = rt.memory.alloc(rt.kernels.bnScratchSize(C));
    this.stats64 = bnStatsView(this.scratch, C);
  }

  bind(p: Views, g: Views, b: Views): void {
    this.gamma = view(p, 'weight', this.name);
    this.beta = view(p, 'bias', this.name);
    this.dgamma = view(g, 'weight', this.name);
    this.dbeta = view(g, 'bias', this.name);
    this.runMean = view(b, 'running_mean', this.name);
    this.runVar = view(b, 'running_var', this.name);
  }

  init(): void {
    this.gamma.fill(1);
    this.beta.fill(0);
    this.runMean.fill(0);
    this.runVar.fill(1);
  }

  constrain(): void {}

  forward(x: Float32Array, n: number, training: boolean): Float32Array {
    const y = this.out.get(n);
    const { C, HW } = this;
    this.lastTraining = training;
    if (training) {
      // Statistics of this batch, or with a sync of the whole batch this shard is part of.
      this.k.bnStats(this.scratch, x, n, C, HW);
      this.count = this.sync ? this.sync.stats(this.stats64, C, n * HW) : n * HW;
      this.k.bnForwardApply(
        y,
        this.xhat.get(n),
        x,
        this.gamma,
        this.beta,
        this.runMean,
        this.runVar,
        this.mean,
        this.invStd,
        this.scratch,
        n,
        C,
        HW,
        this.count,
        this.eps,
        this.momentum,
      );
    } else {
      this.forwardInfer(x, n, null, y);
    }
    return y;
  }

  /**
   * The inference forward, then activation `act` (null: none) on its output, in one pass: what
   * Model.inferPixels runs for a batch norm and the activation after it.
   */
  forwardInfer(x: Float32Array, n: number, act: FusedActivation | null, y: Float32Array = this.out.get(n)): Float32Array {
    this.lastTraining = false;
    this.x = x;
    this.k.bnForwardInfer(y, x, this.gamma, this.beta, this.runMean, this.runVar, this.invStd, this.scratch, n, this.C, this.HW, this.eps, act);
    return y;
  }

  /**
   * This layer in inference mode, for a convolution to apply to its own output
   * (Model.inferPixels); with it the layer's output is not computed, and its input is not kept.
   * Views of the arrays bound to the layer, so one made after bind() serves every call.
   */
  inference(): BatchNormInfer {
    const { gamma, beta, runMean, runVar, invStd, scratch, eps } = this;
    return { gamma, beta, runMean, runVar, invStd, scratch, eps };
  }

  backward(dy: Float32Array, n: number, needDx: boolean): Float32Array {
    const { C, HW } = this;
    const dx = needDx ? this.dxBuf.get(n) : EMPTY;
    if (this.lastTraining) {
      const xhat = this.xhat.get(n);
      this.k.bnBackwardSums(this.dgamma, this.dbeta, dy, xhat, this.scratch, n, C, HW);
      if (!needDx) return dx; // the same for every shard: none of them exchanges
      this.sync?.gradSums(this.stats64, C);
      this.k.bnBackwardApply(dx, dy, xhat, this.gamma, this.invStd, this.scratch, n, C, HW, this.count);
      return dx;
    }
    // Inference mode is an affine map per channel (used for saliency on a trained model).
    for (let c = 0; c < C; c++) {
      const inv = this.invStd[c];
      const scale = this.gamma[c] * inv;
      const mean = this.runMean[c];
      let sdy = 0;
      let sdyx = 0;
      for (let s = 0; s < n; s++) {
        const b = (s * C + c) * HW;
        for (let p = 0; p < HW; p++) {
          sdy += dy[b + p];
          sdyx += dy[b + p] * (this.x[b + p] - mean) * inv;
          if (needDx) dx[b + p] = dy[b + p] * scale;
        }
      }
      this.dbeta[c] += sdy;
      this.dgamma[c] += sdyx;
    }
    return dx;
  }
}
