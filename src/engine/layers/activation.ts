// Pointwise activations and softmax. Backward uses the cached output y, since every one of
// these has a derivative expressible in y: tanh' = 1−y², σ' = y(1−y), relu' = [y>0].

import type { Kernels } from '../kernels/types';
import type { ActivationFn } from '../spec';
import { BatchBuffer, shapeSize, type Shape } from '../tensor';
import { EMPTY, JS_RUNTIME, type Layer, type LayerRuntime, type ParamSpec } from './layer';

export class Activation implements Layer {
  readonly kind = 'activation';
  readonly params: ParamSpec[] = [];
  readonly buffers: ParamSpec[] = [];
  private readonly k: Kernels;
  readonly macs = 0;
  private readonly out: BatchBuffer;
  private readonly dxBuf: BatchBuffer;
  private y = EMPTY;
  private readonly size: number;

  constructor(
    readonly name: string,
    readonly inShape: Shape,
    readonly outShape: Shape,
    readonly fn: ActivationFn,
    rt: LayerRuntime = JS_RUNTIME,
  ) {
    this.k = rt.kernels;
    this.size = shapeSize(inShape);
    this.out = new BatchBuffer(this.size, rt.memory);
    this.dxBuf = new BatchBuffer(this.size, rt.memory);
  }

  bind(): void {}
  init(): void {}
  constrain(): void {}

  forward(x: Float32Array, n: number, _training = false): Float32Array {
    const y = this.out.get(n);
    const len = n * this.size;
    switch (this.fn) {
      case 'tanh':
        this.k.tanhForward(y, x, len);
        break;
      case 'relu':
        this.k.reluForward(y, x, len);
        break;
      case 'sigmoid':
        this.k.sigmoidForward(y, x, len);
        break;
      case 'softmax':
        softmaxRows(y, x, n, this.size);
        break;
    }
    this.y = y;
    return y;
  }

  backward(dy: Float32Array, n: number, needDx: boolean): Float32Array {
    if (!needDx) return EMPTY;
    const dx = this.dxBuf.get(n);
    const y = this.y;
    const len = n * this.size;
    switch (this.fn) {
      case 'tanh':
        this.k.tanhBackward(dx, dy, y, len);
        break;
      case 'relu':
        this.k.reluBackward(dx, dy, y, len);
        break;
      case 'sigmoid':
        this.k.sigmoidBackward(dx, dy, y, len);
        break;
      case 'softmax': {
        // dx = y ⊙ (dy − Σ dy·y), per row
        const F = this.size;
        for (let s = 0; s < n; s++) {
          const b = s * F;
          let dot = 0;
          for (let k = 0; k < F; k++) dot += dy[b + k] * y[b + k];
          for (let k = 0; k < F; k++) dx[b + k] = y[b + k] * (dy[b + k] - dot);
        }
        break;
      }
    }
    return dx;
  }
}

/** Numerically stable softmax of each row of x (n×F). */
export function softmaxRows(y: Float32Array, x: Float32Array, n: number, F: number): void {
  for (let s = 0; s < n; s++) {
    const b = s * F;
    let max = -Infinity;
    for (let k = 0; k < F; k++) if (x[b + k] > max) max = x[b + k];
    let sum = 0;
    for (let k = 0; k < F; k++) {
      const e = Math.exp(x[b + k] - max);
      y[b + k] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let k = 0; k < F; k++) y[b + k] *= inv;
  }
}
