// Flatten: NCHW per sample is already contiguous, so data pass through untouched.

import type { Shape } from '../tensor';
import type { Layer, ParamSpec } from './layer';

export class Flatten implements Layer {
  readonly kind = 'flatten';
  readonly params: ParamSpec[] = [];
  readonly buffers: ParamSpec[] = [];
  readonly macs = 0;
  constructor(
    readonly name: string,
    readonly inShape: Shape,
    readonly outShape: Shape,
  ) {}
  bind(): void {}
  init(): void {}
  constrain(): void {}
  forward(x: Float32Array, _n = 0, _training = false): Float32Array {
    return x;
  }
  backward(dy: Float32Array, _n = 0, _needDx = true): Float32Array {
    return dy;
  }
}
