// Whole-batch convolution kernels and their plans.
//
// The kernel interface has three batch-level conv operations (forward, weight gradient, input
// gradient). The reference below builds them from im2col + GEMM one sample at a time, through
// whichever kernels it is given: the TypeScript backend uses it for everything, the wasm backend
// for strides other than 1 (its direct convolution, wasm/conv.as.ts, covers all three at stride 1).
//
// A ConvPlan says which input channels each output map reads (LeCun's C3 table leaves 36 of 96
// connections out), grouped into pairs of maps that share a register block in the direct kernels,
// which output maps each input channel feeds (for the input gradient), and carries the scratch
// memory the kernels work in.

import type { Kernels } from './backend';
import type { ConvGeometry } from './conv';

export interface ConvPlan {
  /** [count, then per entry: oa, ob, nconn, conn…]: output maps in pairs, the inputs each pair reads. */
  readonly forward: Int32Array;
  /** [C, then per input channel: nconn, o…]: the output maps each input channel feeds (input gradient). */
  readonly backward: Int32Array;
  /** Scratch floats for whichever kernels run (staged input planes, or columns). */
  readonly scratch: Float32Array;
  /** The second half of the columns' scratch, for the input gradient (a view made once). */
  readonly dcol: Float32Array;
  /** Multiply-adds per sample the direct forward kernel performs, pair unions included. */
  readonly forwardMacs: number;
}

/** Floats of slack the direct kernels keep after staged planes (wasm/conv.as.ts SLACK). */
const SLACK = 32;

/**
 * Pairs rows of a connection matrix so that each pair's union of connections is small: the
 * pair wasting least work on connections only one of its rows has is taken first (then lowest
 * indices). With an odd count the last row pairs with itself.
 */
export function pairRows(rows: number[][]): [number, number, number[]][] {
  const left = rows.map((_, i) => i);
  const out: [number, number, number[]][] = [];
  const union = (a: number, b: number): number[] => [...new Set([...rows[a], ...rows[b]])].sort((x, y) => x - y);
  while (left.length > 1) {
    let best: [number, number] = [0, 1];
    let bestSize = Infinity;
    for (let i = 0; i < left.length; i++) {
      for (let j = i + 1; j < left.length; j++) {
        // work wasted on the maps' unconnected inputs
        const size = 2 * union(left[i], left[j]).length - rows[left[i]].length - rows[left[j]].length;
        if (size < bestSize) {
          bestSize = size;
          best = [i, j];
        }
      }
    }
    const [a, b] = [left[best[0]], left[best[1]]];
    out.push([a, b, union(a, b)]);
    left.splice(best[1], 1);
    left.splice(best[0], 1);
  }
  if (left.length === 1) out.push([left[0], left[0], [...rows[left[0]]]]);
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

function encode(k: Kernels, pairs: [number, number, number[]][]): Int32Array {
  const len = 1 + pairs.reduce((a, [, , c]) => a + 3 + c.length, 0);
  const plan = k.allocI32(len);
  let i = 0;
  plan[i++] = pairs.length;
  for (const [a, b, conn] of pairs) {
    plan[i++] = a;
    plan[i++] = b;
    plan[i++] = conn.length;
    for (const c of conn) plan[i++] = c;
  }
  return plan;
}

/**
 * Scratch floats the direct kernels and the im2col reference need for this geometry. The direct
 * kernels stage a sample's padded planes (when there is padding; then SLACK floats) and KW
 * shifted copies of each, OW wide (wasm/conv.as.ts, "flat layout"; then OW + SLACK floats).
 */
export function convScratchSize(g: ConvGeometry, OC: number): number {
  const k2 = g.KH * g.KW;
  const Hp = g.H + 2 * g.pad;
  const Wp = g.W + 2 * g.pad;
  const padded = g.pad ? g.C * Hp * Wp + SLACK : 0;
  const staged = padded + g.C * g.KW * Hp * g.OW + g.OW + SLACK;
  // The input gradient: dy planes with (KH−1)·OW zeros on each side, KW shifted gradient planes,
  // one padded input plane.
  const P = g.OH * g.OW;
  const gradient = OC * (P + 2 * (g.KH - 1) * g.OW + 8) + SLACK + g.KW * (Hp * g.OW + 8) + SLACK + Hp * Wp;
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
    forwardMacs: fwd.reduce((a, [x, y, conn]) => a + (x === y ? 1 : 2) * conn.length, 0) * g.KH * g.KW * g.OH * g.OW,
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
