// Average and max pooling (window, stride; no padding).

import type { Arena, Kernels, PoolGeometry } from '../kernels/types';
import type { PoolSpec } from '../spec';
import { BatchBuffer, shapeSize, type Shape } from '../tensor';
import { EMPTY, JS_RUNTIME, type Layer, type LayerRuntime, type ParamSpec } from './layer';

export class Pool2D implements Layer {
  readonly kind = 'pool2d';
  readonly params: ParamSpec[] = [];
  readonly buffers: ParamSpec[] = [];
  private readonly k: Kernels;
  private readonly mem: Arena;
  readonly macs = 0;
  readonly mode: 'max' | 'avg';
  readonly geom: PoolGeometry;
  private readonly out: BatchBuffer;
  private readonly dxBuf: BatchBuffer;
  /** Max pooling: the flat input index (within the batch) of each output's winner. */
  argmax: Int32Array = new Int32Array(0);
  /** Max pooling after an inference forward: its input, whose winners backward must still find. */
  private winnersFrom: Float32Array | null = null;

  constructor(
    readonly name: string,
    readonly inShape: Shape,
    readonly outShape: Shape,
    spec: PoolSpec,
    rt: LayerRuntime = JS_RUNTIME,
  ) {
    this.k = rt.kernels;
    this.mem = rt.memory;
    const [C, H, W] = inShape;
    this.mode = spec.mode;
    this.geom = { C, H, W, size: spec.size, stride: spec.stride ?? spec.size, OH: outShape[1], OW: outShape[2] };
    this.out = new BatchBuffer(shapeSize(outShape), rt.memory);
    this.dxBuf = new BatchBuffer(shapeSize(inShape), rt.memory);
  }

  private ensureArgmax(length: number): void {
    if (this.argmax.length >= length) return;
    if (this.argmax.length) this.mem.free(this.argmax);
    this.argmax = new Int32Array(0);
    this.argmax = this.mem.allocI32(length);
  }

  bind(): void {}
  init(): void {}
  constrain(): void {}

  forward(x: Float32Array, n: number, training = false): Float32Array {
    const y = this.out.get(n);
    if (this.mode === 'max') {
      // Inference skips the winners' indices (a third of an inference pass's pooling work) and
      // keeps the input, so that a backward after it (saliency, gradient checks) can find them.
      if (training) {
        this.ensureArgmax(y.length);
        this.k.maxPoolForward(y, this.argmax, x, n, this.geom);
        this.winnersFrom = null;
      } else {
        this.k.maxPoolForward(y, null, x, n, this.geom);
        this.winnersFrom = x;
      }
    } else {
      this.k.avgPoolForward(y, x, n, this.geom);
    }
    return y;
  }

  backward(dy: Float32Array, n: number, needDx: boolean): Float32Array {
    if (!needDx) return EMPTY;
    if (this.mode === 'max' && this.winnersFrom) {
      // After an inference forward: the same pass again, with indices (it rewrites the same y).
      const y = this.out.get(n);
      this.ensureArgmax(y.length);
      this.k.maxPoolForward(y, this.argmax, this.winnersFrom, n, this.geom);
      this.winnersFrom = null;
    }
    const dx = this.dxBuf.get(n);
    dx.fill(0);
    if (this.mode === 'max') this.k.maxPoolBackward(dx, dy, this.argmax, n * shapeSize(this.outShape));
    else this.k.avgPoolBackward(dx, dy, n, this.geom);
    return dx;
  }
}
