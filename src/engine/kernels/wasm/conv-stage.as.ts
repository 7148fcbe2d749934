// Direct convolution (stride 1) in WebAssembly SIMD, forward (conv-forward.as.ts), weight gradient
// (conv-weights.as.ts) and input gradient (conv-input.as.ts): no im2col, whole batches per call.
// The reference is im2col + GEMM (../js/conv-batch.ts); tests compare the two. This file holds
// what they share: the staging of inputs, the flat layout, and the scratch each call needs
// (conv_scratch_floats, the one definition the TypeScript side asks for).
//
// Output channels are processed in pairs ("plan" entries, built by ../conv-plan.ts):
// the input channels both maps read share their loads, those only one reads run for that map
// alone, so LeCun's C3 table skips all the work on masked weights. A plan is an i32 array:
//   [count, then per entry: oa, ob, nboth, both…, nA, onlyA…, nB, onlyB…]   (oa = ob: one map)
// The input gradient has a plan of its own, per input channel (see conv_bwd_input).
//
// Each sample's input is staged first: padded (when there is padding) into a zero-bordered copy,
// then into KW shifted copies of every plane (the "flat layout" below), so that the kernels run
// over all OH·OW positions of a map as one run of vectors.

import { storeLanes } from './simd.as';

/** Floats of zeroed slack after staged planes: reads of the last vector past their end stay in it. */
export const SLACK: i32 = 32;

/**
 * Floats from one shifted copy of a staged plane to the next (the "flat layout" below). Fixed, so
 * that the kernels address a kernel row's taps as immediate offsets of one pointer; 64 bytes past
 * 4 KiB, so that the copies do not share L1 sets. A copy holds Hp·OW floats then a zeroed tail of
 * OW + 8, written in whole vectors (reads run up to a row and a vector past the plane): geometries
 * where that does not fit go through im2col instead (direct_conv_fits).
 */
export const KXS: i32 = 1040;
export const KXB: usize = 4160;

/** Zero-fills len floats at p. */
export function zero(p: usize, len: i32): void {
  memory.fill(p, 0, <usize>len << 2);
}

/**
 * Copies C planes of H×W at src into C planes of (H+2·pad)×(W+2·pad) at dst, offset by pad. The
 * border is not written: the caller zeroes dst once per call.
 */
export function stage(dst: usize, src: usize, C: i32, H: i32, W: i32, pad: i32): void {
  const Wp = W + 2 * pad;
  const Hp = H + 2 * pad;
  const rowBytes = <usize>W << 2;
  for (let c = 0; c < C; c++) {
    let d = dst + ((<usize>(c * Hp + pad) * Wp + pad) << 2);
    let s = src + (<usize>(c * H * W) << 2);
    for (let y = 0; y < H; y++) {
      memory.copy(d, s, rowBytes);
      d += <usize>Wp << 2;
      s += rowBytes;
    }
  }
}

// @ts-ignore: decorator
@inline export function blockStore(p: usize, acc: v128, bias: v128, valid: i32): void {
  storeLanes(p, f32x4.add(acc, bias), valid);
}

// @ts-ignore: decorator
@inline export function laneMask(valid: i32): v128 {
  // lanes < valid all ones, others zero
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(valid));
}

// ---------------------------------------------------------------------------------------------
// Flat layout. Output positions are numbered i = oy·OW + ox, 0 ≤ i < P = OH·OW, and each input
// plane is staged KW times, shifted: xs[c][kx][r·OW + ox] = xpad[c][r][ox + kx] for r < Hp. Then
// xpad[c][oy + ky][ox + kx] = xs[c][kx][i + ky·OW]: every tap reads a contiguous run of xs, so
// the kernels run over all P positions at once, without row ends (a 10-wide row wasted 2 of 12
// lanes) and with one loop instead of one per row.

/**
 * Stages the shifted copies of C planes of Hp×Wp at src (xpad) into xs, copy (c, kx) at
 * (c·KW + kx)·KXS, each followed by OW + 8 zeros. Rows are copied a vector at a time; a row's
 * last vector may spill up to 3 floats into the next row, which the next row's copy overwrites
 * (the last row's, the zeroed tail).
 */
export function stageShifted(xs: usize, src: usize, C: i32, Hp: i32, Wp: i32, KW: i32, OW: i32): void {
  const rowOut = <usize>OW << 2;
  const rowIn = <usize>Wp << 2;
  const tail = <usize>(OW + 8) << 2;
  const z = f32x4.splat(0);
  for (let c = 0; c < C; c++) {
    const plane = src + (<usize>(c * Hp * Wp) << 2);
    for (let kx = 0; kx < KW; kx++) {
      let d = xs + <usize>(c * KW + kx) * KXB;
      let s = plane + (<usize>kx << 2);
      for (let r = 0; r < Hp; r++) {
        for (let o: usize = 0; o < rowOut; o += 16) v128.store(d + o, v128.load(s + o));
        d += rowOut;
        s += rowIn;
      }
      for (let o: usize = 0; o < tail; o += 16) v128.store(d + o, z);
    }
  }
}

/** Where a call's staged input goes: after xpad when there is padding to stage, else at scratch. */
export function shiftedAt(scratch: usize, C: i32, Hp: i32, Wp: i32, pad: i32): usize {
  return pad ? scratch + (<usize>(C * Hp * Wp + SLACK) << 2) : scratch;
}

/**
 * Whether the direct forward and weight-gradient kernels take this geometry: stride 1, and a
 * shifted copy of a padded plane (Hp·OW floats, then a zeroed tail of OW + 8 written in whole
 * vectors, so up to OW + 11) within KXS, which holds planes up to about 30×30 (LeNet-5's 32×28
 * and 14×10 copies). The last copy's tail must not reach the forward's tap records after it.
 */
export function direct_conv_fits(H: i32, pad: i32, stride: i32, OW: i32): i32 {
  return stride == 1 && (H + 2 * pad) * OW + OW + 12 <= KXS ? 1 : 0;
}

/** Floats of the forward's staged input and tap records (see conv_scratch_floats). */
function forwardFloats(C: i32, H: i32, W: i32, OC: i32, KH: i32, KW: i32, pad: i32): i32 {
  const padded = pad ? C * (H + 2 * pad) * (W + 2 * pad) + SLACK : 0;
  return padded + C * KW * KXS + OC * 5 + 3 * OC * C * KH * KW;
}

/**
 * Where the forward keeps a fused batch norm's statistics (2·OC f64, conv_fwd): after its staged
 * input and tap records, 8-byte aligned.
 */
export function forwardPostAt(scratch: usize, C: i32, H: i32, W: i32, OC: i32, KH: i32, KW: i32, pad: i32): usize {
  return (scratch + (<usize>forwardFloats(C, H, W, OC, KH, KW, pad) << 2) + 7) & ~(<usize>7);
}

/**
 * Scratch floats the direct kernels need for a geometry (0 for the forward and weight gradient
 * when they do not apply). The forward and weight gradient stage a sample's padded planes (when
 * there is padding; then SLACK floats) and KW shifted copies of each, KXS floats apart, then the
 * forward's tap records: per map pair 5 words, per connection and tap up to 3; then a fused batch
 * norm's statistics (4·OC floats after up to 1 of alignment). The input
 * gradient (conv_bwd_input) stages dy planes with (KH−1)·OW zeros on each side, KW shifted
 * gradient planes, one padded input plane, then its weight records (8 floats per connection,
 * kernel row and group of five columns) and the column pass's masks (4 floats per group of 4
 * columns and kx), each after up to 3 floats of alignment.
 */
export function conv_scratch_floats(C: i32, H: i32, W: i32, OC: i32, KH: i32, KW: i32, stride: i32, pad: i32, OH: i32, OW: i32): i32 {
  const Hp = H + 2 * pad;
  const Wp = W + 2 * pad;
  const staged = direct_conv_fits(H, pad, stride, OW) ? forwardFloats(C, H, W, OC, KH, KW, pad) + 1 + 4 * OC : 0;
  const P = OH * OW;
  const records = (KW / 5) * KH * OC * C * 8;
  const masks = ((Wp + 3) / 4) * KW * 4;
  const gradient = stride == 1 ? OC * (P + 2 * (KH - 1) * OW + 8) + SLACK + KW * (Hp * OW + 8) + SLACK + Hp * Wp + 4 + records + 4 + masks : 0;
  return max(staged, gradient);
}
