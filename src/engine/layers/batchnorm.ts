// Batch normalisation (Ioffe & Szegedy 2015), PyTorch's definition: per channel over (N,H,W)
// after a conv, per unit over N after a dense layer. Training uses the batch mean and biased
// variance and updates running statistics with the unbiased variance; inference uses the
// running statistics.

import type { Kernels } from '../kernels/types';
import type { Shape } from '../tensor';
import { BatchBuffer, shapeSize } from '../tensor';
import { EMPTY, JS_RUNTIME, type Layer, type LayerRuntime, type ParamSpec, view, type Views } from './layer';

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
      this.k.bnForwardTrain(
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
        this.eps,
        this.momentum,
      );
    } else {
      this.x = x;
      this.k.bnForwardInfer(y, x, this.gamma, this.beta, this.runMean, this.runVar, this.invStd, this.scratch, n, C, HW, this.eps);
    }
    return y;
  }

  backward(dy: Float32Array, n: number, needDx: boolean): Float32Array {
    const { C, HW } = this;
    const dx = needDx ? this.dxBuf.get(n) : EMPTY;
    if (this.lastTraining) {
      this.k.bnBackwardTrain(dx, this.dgamma, this.dbeta, dy, this.xhat.get(n), this.gamma, this.invStd, this.scratch, n, C, HW, needDx);
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
