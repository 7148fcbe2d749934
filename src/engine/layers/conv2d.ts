// Conv2D over whole batches through the kernels' convForward / convBackwardWeights /
// convBackwardInput: direct convolution in wasm (stride 1), im2col + GEMM in the reference
// (kernels/js/conv-batch.ts). An optional connection table (LeCun 1998, Table 1) masks conv.weight:
// masked weights stay zero and receive zero gradient, and the direct kernels skip most of them.

import { makeConvPlan } from '../kernels/conv-plan';
import type { BatchNormInfer, ConvGeometry, ConvPlan, FusedActivation, Kernels } from '../kernels/types';
import { initWeights } from '../init';
import type { Rng } from '../rng';
import type { ConvSpec, InitName } from '../spec';
import { BatchBuffer, shapeSize, type Shape } from '../tensor';
import { EMPTY, JS_RUNTIME, type Layer, type LayerRuntime, type ParamSpec, view, type Views } from './layer';

export class Conv2D implements Layer {
  readonly kind = 'conv2d';
  readonly params: ParamSpec[];
  readonly buffers: ParamSpec[] = [];
  private readonly k: Kernels;
  readonly macs: number;
  readonly geom: ConvGeometry;
  /** mask[o·C + c] = 1 when output map o reads input map c. */
  readonly mask: Uint8Array | null;
  private w = EMPTY;
  private b = EMPTY;
  private dw = EMPTY;
  private db = EMPTY;
  private readonly P: number; // OH·OW
  private readonly out: BatchBuffer;
  private readonly dxBuf: BatchBuffer;
  private readonly plan: ConvPlan;
  /** Input of the last forward. */
  private x: Float32Array = EMPTY;

  constructor(
    readonly name: string,
    readonly inShape: Shape,
    readonly outShape: Shape,
    spec: ConvSpec,
    private readonly initName: InitName,
    private readonly initScale: number,
    rt: LayerRuntime = JS_RUNTIME,
  ) {
    this.k = rt.kernels;
    const [C, H, W] = inShape;
    const [OC, OH, OW] = outShape;
    this.geom = { C, H, W, KH: spec.kernel, KW: spec.kernel, stride: spec.stride ?? 1, pad: spec.padding ?? 0, OH, OW };
    this.P = OH * OW;
    this.params = [
      { name: 'weight', shape: [OC, C, spec.kernel, spec.kernel], decay: true },
      { name: 'bias', shape: [OC], decay: false },
    ];
    if (spec.table) {
      const table = spec.table;
      this.mask = new Uint8Array(OC * C);
      for (let o = 0; o < OC; o++) for (let c = 0; c < C; c++) this.mask[o * C + c] = table[c][o];
    } else {
      this.mask = null;
    }
    const connections = this.mask ? this.mask.reduce((a, v) => a + v, 0) : OC * C;
    this.macs = connections * spec.kernel * spec.kernel * this.P;
    this.out = new BatchBuffer(shapeSize(outShape), rt.memory);
    this.dxBuf = new BatchBuffer(shapeSize(inShape), rt.memory);
    this.plan = makeConvPlan(rt.kernels, rt.memory, this.geom, OC, this.mask);
  }

  bind(p: Views, g: Views): void {
    this.w = view(p, 'weight', this.name);
    this.b = view(p, 'bias', this.name);
    this.dw = view(g, 'weight', this.name);
    this.db = view(g, 'bias', this.name);
  }

  init(rng: Rng): void {
    const { C, KH, KW } = this.geom;
    const OC = this.outShape[0];
    const k2 = KH * KW;
    const mask = this.mask;
    const plan = { init: this.initName, scale: this.initScale, fanIn: C * k2, fanOut: OC * k2 };
    const rowFanIn = mask ? (o: number): number => k2 * mask.subarray(o * C, o * C + C).reduce((a, v) => a + v, 0) : undefined;
    initWeights(this.w, plan, rng, rowFanIn, C * k2);
    this.b.fill(0);
    this.constrain();
  }

  constrain(): void {
    if (!this.mask) return;
    const k2 = this.geom.KH * this.geom.KW;
    for (let oc = 0; oc < this.mask.length; oc++) if (!this.mask[oc]) this.w.fill(0, oc * k2, oc * k2 + k2);
  }

  forward(x: Float32Array, n: number, _training = false): Float32Array {
    return this.forwardInfer(x, n, null, null);
  }

  /**
   * The forward, then a batch norm in inference mode (`bn`) and activation `act` on its output,
   * each sample's while it is in cache: what Model.inferPixels runs for a convolution and the
   * layers after it.
   */
  forwardInfer(x: Float32Array, n: number, bn: BatchNormInfer | null, act: FusedActivation | null): Float32Array {
    const y = this.out.get(n);
    this.x = x;
    this.k.convForward(y, x, this.w, this.b, n, this.geom, this.plan, bn, act);
    return y;
  }

  backward(dy: Float32Array, n: number, needDx: boolean): Float32Array {
    this.k.convBackwardWeights(this.dw, this.x, dy, n, this.geom, this.plan);
    this.k.channelSumAdd(this.db, dy, n, this.outShape[0], this.P);
    if (this.mask) {
      // Direct kernels visit some masked (o, c) pairs and the reference visits all: masked
      // weights get zero gradient either way.
      const k2 = this.geom.KH * this.geom.KW;
      for (let oc = 0; oc < this.mask.length; oc++) if (!this.mask[oc]) this.dw.fill(0, oc * k2, oc * k2 + k2);
    }
    if (!needDx) return EMPTY;
    const dx = this.dxBuf.get(n);
    this.k.convBackwardInput(dx, dy, this.w, n, this.geom, this.plan);
    return dx;
  }
}
