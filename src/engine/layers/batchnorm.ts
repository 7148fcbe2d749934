// Batch normalisation (Ioffe & Szegedy 2015), PyTorch's definition: per channel over (N,H,W)
// after a conv, per unit over N after a dense layer. Training uses the batch mean and biased
// variance and updates running statistics with the unbiased variance; inference uses the
// running statistics.

import type { Shape } from '../tensor';
import { BatchBuffer, shapeSize } from '../tensor';
import { EMPTY, view, type Layer, type ParamSpec, type Views } from './layer';

export class BatchNorm implements Layer {
  readonly kind = 'batchnorm';
  readonly params: ParamSpec[];
  readonly buffers: ParamSpec[];
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
  private lastTraining = false;
  /** Input of the last inference-mode forward (backward in that mode needs x̂). */
  private x = EMPTY;

  constructor(
    readonly name: string,
    readonly inShape: Shape,
    readonly outShape: Shape,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
  ) {
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
    this.out = new BatchBuffer(shapeSize(inShape));
    this.xhat = new BatchBuffer(shapeSize(inShape));
    this.dxBuf = new BatchBuffer(shapeSize(inShape));
    this.invStd = new Float32Array(C);
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
    if (!training) {
      this.x = x;
      for (let c = 0; c < C; c++) {
        const inv = 1 / Math.sqrt(this.runVar[c] + this.eps);
        const scale = this.gamma[c] * inv;
        const shift = this.beta[c] - this.runMean[c] * scale;
        this.invStd[c] = inv;
        for (let s = 0; s < n; s++) {
          const b = (s * C + c) * HW;
          for (let p = 0; p < HW; p++) y[b + p] = x[b + p] * scale + shift;
        }
      }
      return y;
    }
    const xhat = this.xhat.get(n);
    const count = n * HW;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let s = 0; s < n; s++) {
        const b = (s * C + c) * HW;
        for (let p = 0; p < HW; p++) sum += x[b + p];
      }
      const mean = sum / count;
      let sq = 0;
      for (let s = 0; s < n; s++) {
        const b = (s * C + c) * HW;
        for (let p = 0; p < HW; p++) {
          const d = x[b + p] - mean;
          sq += d * d;
        }
      }
      const variance = sq / count; // biased: what normalises the batch
      const inv = 1 / Math.sqrt(variance + this.eps);
      this.invStd[c] = inv;
      const g = this.gamma[c];
      const bt = this.beta[c];
      for (let s = 0; s < n; s++) {
        const b = (s * C + c) * HW;
        for (let p = 0; p < HW; p++) {
          const h = (x[b + p] - mean) * inv;
          xhat[b + p] = h;
          y[b + p] = g * h + bt;
        }
      }
      const m = this.momentum;
      const unbiased = count > 1 ? (variance * count) / (count - 1) : variance;
      this.runMean[c] = (1 - m) * this.runMean[c] + m * mean;
      this.runVar[c] = (1 - m) * this.runVar[c] + m * unbiased;
    }
    return y;
  }

  backward(dy: Float32Array, n: number, needDx: boolean): Float32Array {
    const { C, HW } = this;
    const dx = needDx ? this.dxBuf.get(n) : EMPTY;
    if (!this.lastTraining) {
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
    const xhat = this.xhat.get(n);
    const count = n * HW;
    for (let c = 0; c < C; c++) {
      let sdy = 0;
      let sdyx = 0;
      for (let s = 0; s < n; s++) {
        const b = (s * C + c) * HW;
        for (let p = 0; p < HW; p++) {
          sdy += dy[b + p];
          sdyx += dy[b + p] * xhat[b + p];
        }
      }
      this.dgamma[c] += sdyx;
      this.dbeta[c] += sdy;
      if (!needDx) continue;
      // dx = γ·σ⁻¹/m · (m·dy − Σdy − x̂·Σ(dy·x̂))
      const k = (this.gamma[c] * this.invStd[c]) / count;
      const mdy = sdy;
      for (let s = 0; s < n; s++) {
        const b = (s * C + c) * HW;
        for (let p = 0; p < HW; p++) dx[b + p] = k * (count * dy[b + p] - mdy - xhat[b + p] * sdyx);
      }
    }
    return dx;
  }
}
