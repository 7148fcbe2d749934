// Fully connected layer, PyTorch's nn.Linear: y = x·Wᵀ + b with W [out, in].

import type { Kernels } from '../kernels/types';
import { initWeights } from '../init';
import type { Rng } from '../rng';
import type { InitName } from '../spec';
import { BatchBuffer, type Shape } from '../tensor';
import { EMPTY, JS_RUNTIME, type Layer, type LayerRuntime, type ParamSpec, view, type Views } from './layer';

export class Dense implements Layer {
  readonly kind = 'dense';
  readonly params: ParamSpec[];
  readonly buffers: ParamSpec[] = [];
  private readonly k: Kernels;
  readonly macs: number;
  private w = EMPTY;
  private b = EMPTY;
  private dw = EMPTY;
  private db = EMPTY;
  private x = EMPTY;
  private readonly I: number;
  private readonly O: number;
  private readonly out: BatchBuffer;
  private readonly dxBuf: BatchBuffer;

  constructor(
    readonly name: string,
    readonly inShape: Shape,
    readonly outShape: Shape,
    private readonly initName: InitName,
    private readonly initScale: number,
    rt: LayerRuntime = JS_RUNTIME,
  ) {
    this.k = rt.kernels;
    this.I = inShape[0];
    this.O = outShape[0];
    this.params = [
      { name: 'weight', shape: [this.O, this.I], decay: true },
      { name: 'bias', shape: [this.O], decay: false },
    ];
    this.macs = this.I * this.O;
    this.out = new BatchBuffer(this.O, rt.memory);
    this.dxBuf = new BatchBuffer(this.I, rt.memory);
  }

  bind(p: Views, g: Views): void {
    this.w = view(p, 'weight', this.name);
    this.b = view(p, 'bias', this.name);
    this.dw = view(g, 'weight', this.name);
    this.db = view(g, 'bias', this.name);
  }

  init(rng: Rng): void {
    initWeights(this.w, { init: this.initName, scale: this.initScale, fanIn: this.I, fanOut: this.O }, rng);
    this.b.fill(0);
  }

  constrain(): void {}

  forward(x: Float32Array, n: number, _training = false): Float32Array {
    this.x = x;
    const y = this.out.get(n);
    this.k.gemmNT(y, 0, x, 0, this.w, 0, n, this.O, this.I, false); // y (n×O) = x (n×I) · Wᵀ
    this.k.addBias(y, this.b, n, this.O, 1);
    return y;
  }

  backward(dy: Float32Array, n: number, needDx: boolean): Float32Array {
    this.k.gemmTN(this.dw, 0, dy, 0, this.x, 0, this.O, this.I, n, true); // dW (O×I) += dYᵀ · x
    this.k.channelSumAdd(this.db, dy, n, this.O, 1);
    if (!needDx) return EMPTY;
    const dx = this.dxBuf.get(n);
    this.k.gemmNN(dx, 0, dy, 0, this.w, 0, n, this.I, this.O, false); // dx (n×I) = dY · W
    return dx;
  }
}
