// Conv2D through im2col + GEMM, one sample at a time (per-sample GEMMs are already large:
// conv1 6×25×784, conv2 16×150×100). An optional connection table (LeCun 1998, Table 1)
// masks conv.weight: masked weights stay zero and receive zero gradient.

import { K } from '../kernels/backend';
import type { ConvGeometry } from '../kernels/conv';
import { initWeights } from '../init';
import type { Rng } from '../rng';
import type { ConvSpec, InitName } from '../spec';
import { BatchBuffer, shapeSize, type Shape } from '../tensor';
import { EMPTY, view, type Layer, type ParamSpec, type Views } from './layer';

export class Conv2D implements Layer {
  readonly kind = 'conv2d';
  readonly params: ParamSpec[];
  readonly buffers: ParamSpec[] = [];
  readonly macs: number;
  readonly geom: ConvGeometry;
  /** mask[o·C + c] = 1 when output map o reads input map c. */
  readonly mask: Uint8Array | null;
  private w = EMPTY;
  private b = EMPTY;
  private dw = EMPTY;
  private db = EMPTY;
  private readonly kSize: number; // C·KH·KW
  private readonly P: number; // OH·OW
  private readonly out: BatchBuffer;
  private readonly cols: BatchBuffer;
  private readonly dxBuf: BatchBuffer;
  private readonly dcol: Float32Array;
  /** Input of the last forward, and whether its columns were kept for every sample. */
  private x: Float32Array = EMPTY;
  private colsOfAll = false;

  constructor(
    readonly name: string,
    readonly inShape: Shape,
    readonly outShape: Shape,
    spec: ConvSpec,
    private readonly initName: InitName,
    private readonly initScale: number,
  ) {
    const [C, H, W] = inShape;
    const [OC, OH, OW] = outShape;
    this.geom = { C, H, W, KH: spec.kernel, KW: spec.kernel, stride: spec.stride ?? 1, pad: spec.padding ?? 0, OH, OW };
    this.kSize = C * spec.kernel * spec.kernel;
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
    this.out = new BatchBuffer(shapeSize(outShape));
    this.cols = new BatchBuffer(this.kSize * this.P);
    this.dxBuf = new BatchBuffer(shapeSize(inShape));
    this.dcol = K.alloc(this.kSize * this.P);
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

  forward(x: Float32Array, n: number, training = false): Float32Array {
    const y = this.out.get(n);
    this.x = x;
    this.colsOfAll = training;
    // Backward needs every sample's columns; inference reuses one sample's worth.
    const cols = training ? this.cols.get(n) : this.cols.get(1);
    const OC = this.outShape[0];
    const { kSize, P } = this;
    const inSize = shapeSize(this.inShape);
    for (let s = 0; s < n; s++) {
      const colOff = training ? s * kSize * P : 0;
      K.im2col(cols, colOff, x, s * inSize, this.geom);
      // y_s (OC×P) = W (OC×K) · col_s (K×P)
      K.gemmNN(y, s * OC * P, this.w, 0, cols, colOff, OC, P, kSize, false);
    }
    K.addBias(y, this.b, n, OC, P);
    return y;
  }

  backward(dy: Float32Array, n: number, needDx: boolean): Float32Array {
    // After an inference forward (saliency), columns are rebuilt one sample at a time.
    const cols = this.colsOfAll ? this.cols.get(n) : this.cols.get(1);
    const OC = this.outShape[0];
    const { kSize, P } = this;
    const dx = needDx ? this.dxBuf.get(n) : EMPTY;
    if (needDx) dx.fill(0);
    const inSize = shapeSize(this.inShape);
    for (let s = 0; s < n; s++) {
      const dyOff = s * OC * P;
      const colOff = this.colsOfAll ? s * kSize * P : 0;
      if (!this.colsOfAll) K.im2col(cols, 0, this.x, s * inSize, this.geom);
      // dW (OC×K) += dY_s (OC×P) · col_sᵀ
      K.gemmNT(this.dw, 0, dy, dyOff, cols, colOff, OC, kSize, P, true);
      if (needDx) {
        // dcol (K×P) = Wᵀ · dY_s, then scattered back to the pixels it came from.
        K.gemmTN(this.dcol, 0, this.w, 0, dy, dyOff, kSize, P, OC, false);
        K.col2im(dx, s * inSize, this.dcol, 0, this.geom);
      }
    }
    K.channelSumAdd(this.db, dy, n, OC, P);
    if (this.mask) {
      const k2 = this.geom.KH * this.geom.KW;
      for (let oc = 0; oc < this.mask.length; oc++) if (!this.mask[oc]) this.dw.fill(0, oc * k2, oc * k2 + k2);
    }
    return dx;
  }
}
