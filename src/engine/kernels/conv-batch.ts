// Whole-batch convolution kernels and their plans.
//
// The kernel interface has three batch-level conv operations (forward, weight gradient, input
// gradient). The reference below builds them from im2col + GEMM one sample at a time, through
// whichever kernels it is given: the TypeScript backend uses it for everything, the wasm backend
// where its direct convolution (wasm/conv.as.ts) does not apply: strides other than 1, and forward
// and weight gradient for planes too large for its staged copies (directConvFits).
//
// A ConvPlan says which input channels each output map reads (LeCun's C3 table leaves 36 of 96
// connections out), grouped into pairs of maps that share a register block in the direct kernels,
// which output maps each input channel feeds (for the input gradient), and carries the scratch
// memory the kernels work in.

import type { Kernels } from './backend';
import type { ConvGeometry } from './conv';

export interface ConvPlan {
  /**
   * [count, then per entry: oa, ob, nboth, both…, nA, onlyA…, nB, onlyB…]: output maps in pairs,
   * the inputs both maps read, then those only oa or only ob reads (oa = ob: a map on its own).
   */
  readonly forward: Int32Array;
  /** [C, then per input channel: nconn, o…]: the output maps each input channel feeds (input gradient). */
  readonly backward: Int32Array;
  /** Scratch floats for whichever kernels run (staged input planes, or columns). */
  readonly scratch: Float32Array;
  /** The second half of the columns' scratch, for the input gradient (a view made once). */
  readonly dcol: Float32Array;
  /** Multiply-adds per sample the direct forward kernel performs (one per connection, tap and position). */
  readonly forwardMacs: number;
}

/** Floats of slack the direct kernels keep after staged planes (wasm/conv.as.ts SLACK). */
const SLACK = 32;
/** Floats between the shifted copies the direct kernels stage (wasm/conv.as.ts KXS). */
const KXS = 1040;

/**
 * Whether the direct forward and weight-gradient kernels take this geometry: stride 1, and a
 * shifted copy of a padded plane (Hp·OW floats, then a zeroed tail of OW + 8 written in whole
 * vectors, so up to OW + 11) within KXS, which holds planes up to about 30×30 (LeNet-5's 32×28
 * and 14×10 copies). The last copy's tail must not reach the forward's tap records after it.
 */
export function directConvFits(g: ConvGeometry): boolean {
  return g.stride === 1 && (g.H + 2 * g.pad) * g.OW + g.OW + 12 <= KXS;
}

/** A pair of output maps: the inputs both read (their loads shared), then those only one reads. */
export interface MapPair {
  a: number;
  /** Equal to a for a map left on its own. */
  b: number;
  both: number[];
  onlyA: number[];
  onlyB: number[];
}

/**
 * Pairs rows of a connection matrix so that paired rows share as many inputs as possible (a
 * shared input's loads serve both maps): the pair with the most common inputs is taken first
 * (then lowest indices). With an odd count the last row stays on its own (a = b, all its inputs
 * in onlyA).
 */
export function pairRows(rows: number[][]): MapPair[] {
  const left = rows.map((_, i) => i);
  const out: MapPair[] = [];
  const common = (a: number, b: number): number[] => rows[a].filter((c) => rows[b].includes(c));
  while (left.length > 1) {
    let best: [number, number] = [0, 1];
    let bestShared = -1;
    for (let i = 0; i < left.length; i++) {
      for (let j = i + 1; j < left.length; j++) {
        const shared = common(left[i], left[j]).length;
        if (shared > bestShared) {
          bestShared = shared;
          best = [i, j];
        }
      }
    }
    const [a, b] = [left[best[0]], left[best[1]]];
    const both = common(a, b);
    out.push({ a, b, both, onlyA: rows[a].filter((c) => !both.includes(c)), onlyB: rows[b].filter((c) => !both.includes(c)) });
    left.splice(best[1], 1);
    left.splice(best[0], 1);
  }
  if (left.length === 1) out.push({ a: left[0], b: left[0], both: [], onlyA: [...rows[left[0]]], onlyB: [] });
  return out;
}

/** [C, then per input channel: nconn, o…] from rows[o] = the input channels o reads. */
function encodeBackward(k: Kernels, rows: number[][], C: number): Int32Array {
  const feeds = Array.from({ length: C }, (_, c) => rows.flatMap((r, o) => (r.includes(c) ? [o] : [])));
  const plan = k.allocI32(1 + C + feeds.reduce((a, f) => a + f.length, 0));
  let i = 0;
  plan[i++] = C;
  for (const f of feeds) {
    plan[i++] = f.length;
    for (const o of f) plan[i++] = o;
  }
  return plan;
}

function encode(k: Kernels, pairs: MapPair[]): Int32Array {
  const len = 1 + pairs.reduce((n, p) => n + 5 + p.both.length + p.onlyA.length + p.onlyB.length, 0);
  const plan = k.allocI32(len);
  let i = 0;
  plan[i++] = pairs.length;
  for (const p of pairs) {
    plan[i++] = p.a;
    plan[i++] = p.b;
    for (const list of [p.both, p.onlyA, p.onlyB]) {
      plan[i++] = list.length;
      for (const c of list) plan[i++] = c;
    }
  }
  return plan;
}

/**
 * Scratch floats the direct kernels and the im2col reference need for this geometry. The direct
 * kernels stage a sample's padded planes (when there is padding; then SLACK floats) and KW
 * shifted copies of each, KXS floats apart (wasm/conv.as.ts, "flat layout"), then the
 * forward's tap records.
 */
export function convScratchSize(g: ConvGeometry, OC: number): number {
  const k2 = g.KH * g.KW;
  const Hp = g.H + 2 * g.pad;
  const Wp = g.W + 2 * g.pad;
  const padded = g.pad ? g.C * Hp * Wp + SLACK : 0;
  // then the forward's tap records: per map pair 5 words, per connection and tap up to 3
  const staged = directConvFits(g) ? padded + g.C * g.KW * KXS + OC * 5 + 3 * OC * g.C * k2 : 0;
  // The input gradient: dy planes with (KH−1)·OW zeros on each side, KW shifted gradient planes,
  const P = g.OH * g.OW;
  // one padded input plane, then its weight records (8 floats per connection, kernel row and group
  // of five columns) and the column pass's masks (4 floats per group of 4 columns and kx), each
  // after up to 3 floats of alignment.
  const records = Math.floor(g.KW / 5) * g.KH * OC * g.C * 8;
  const masks = Math.ceil(Wp / 4) * g.KW * 4;
  const gradient = OC * (P + 2 * (g.KH - 1) * g.OW + 8) + SLACK + g.KW * (Hp * g.OW + 8) + SLACK + Hp * Wp + 4 + records + 4 + masks;
  const columns = 2 * g.C * k2 * g.OH * g.OW;
  return Math.max(staged, gradient, columns);
}

/** mask[o·C + c] = 1 when output map o reads input map c; null means every connection. */
export function makeConvPlan(k: Kernels, g: ConvGeometry, OC: number, mask: Uint8Array | null): ConvPlan {
  const reads = (o: number, c: number): boolean => !mask || mask[o * g.C + c] === 1;
  const outRows = Array.from({ length: OC }, (_, o) => Array.from({ length: g.C }, (_, c) => c).filter((c) => reads(o, c)));
  const fwd = pairRows(outRows);
  const scratch = k.alloc(convScratchSize(g, OC));
  const columns = g.C * g.KH * g.KW * g.OH * g.OW;
  return {
    forward: encode(k, fwd),
    backward: encodeBackward(k, outRows, g.C),
    scratch,
    dcol: scratch.subarray(columns, 2 * columns),
    forwardMacs: fwd.reduce((n, p) => n + 2 * p.both.length + p.onlyA.length + p.onlyB.length, 0) * g.KH * g.KW * g.OH * g.OW,
  };
}

// ---------------------------------------------------------------------------------------------
// The reference: im2col + GEMM per sample, through the kernels given.

/** y (n×OC×P) = W · im2col(x) + bias */
export function convForwardVia(
  k: Kernels,
  y: Float32Array,
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array,
  n: number,
  g: ConvGeometry,
  plan: ConvPlan,
): void {
  const OC = bias.length;
  const kSize = g.C * g.KH * g.KW;
  const P = g.OH * g.OW;
  const inSize = g.C * g.H * g.W;
  const cols = plan.scratch;
  for (let s = 0; s < n; s++) {
    k.im2col(cols, 0, x, s * inSize, g);
    k.gemmNN(y, s * OC * P, w, 0, cols, 0, OC, P, kSize, false);
  }
  k.addBias(y, bias, n, OC, P);
}

/** dw (OC×C·KH·KW) += Σ_s dY_s · im2col(x_s)ᵀ */
export function convBackwardWeightsVia(k: Kernels, dw: Float32Array, x: Float32Array, dy: Float32Array, n: number, g: ConvGeometry, plan: ConvPlan): void {
  const kSize = g.C * g.KH * g.KW;
  const P = g.OH * g.OW;
  const OC = dw.length / kSize;
  const inSize = g.C * g.H * g.W;
  const cols = plan.scratch;
  for (let s = 0; s < n; s++) {
    k.im2col(cols, 0, x, s * inSize, g);
    k.gemmNT(dw, 0, dy, s * OC * P, cols, 0, OC, kSize, P, true);
  }
}

/** dx (n×C×H×W) = col2im(Wᵀ · dY_s) */
export function convBackwardInputVia(k: Kernels, dx: Float32Array, dy: Float32Array, w: Float32Array, n: number, g: ConvGeometry, plan: ConvPlan): void {
  const kSize = g.C * g.KH * g.KW;
  const P = g.OH * g.OW;
  const OC = w.length / kSize;
  const inSize = g.C * g.H * g.W;
  const dcol = plan.dcol;
  dx.fill(0, 0, n * inSize);
  for (let s = 0; s < n; s++) {
    k.gemmTN(dcol, 0, w, 0, dy, s * OC * P, kSize, P, OC, false);
    k.col2im(dx, s * inSize, dcol, 0, g);
  }
}
