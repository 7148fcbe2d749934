// Direct convolution (stride 1) in WebAssembly SIMD, forward, weight gradient and input gradient:
// no im2col, whole batches per call. The reference is im2col + GEMM (conv.ts, gemm.ts,
// conv-batch.ts); tests compare the two.
//
// Output channels are processed in pairs ("plan" entries, built by conv-batch.ts's makeConvPlan):
// the input channels both maps read share their loads, those only one reads run for that map
// alone, so LeCun's C3 table skips all the work on masked weights. A plan is an i32 array:
//   [count, then per entry: oa, ob, nboth, both…, nA, onlyA…, nB, onlyB…]   (oa = ob: one map)
// The input gradient has a plan of its own, per input channel (see conv_bwd_input).
//
// Each sample's input is staged first: padded (when there is padding) into a zero-bordered copy,
// then into KW shifted copies of every plane (the "flat layout" below), so that the kernels run
// over all OH·OW positions of a map as one run of vectors.

import { addHsum, madd, splatAt, storeLanes } from './simd.as';

/** Floats of zeroed slack after staged planes: reads of the last vector past their end stay in it. */
const SLACK: i32 = 32;

/**
 * Floats from one shifted copy of a staged plane to the next (the "flat layout" below). Fixed, so
 * that the kernels address a kernel row's taps as immediate offsets of one pointer; 64 bytes past
 * 4 KiB, so that the copies do not share L1 sets. A copy holds Hp·OW floats then a zeroed tail of
 * OW + 8, written in whole vectors (reads run up to a row and a vector past the plane): geometries
 * where that does not fit go through im2col instead (conv-batch.ts directConvFits).
 */
const KXS: i32 = 1040;
const KXB: usize = 4160;

/** Zero-fills len floats at p. */
function zero(p: usize, len: i32): void {
  memory.fill(p, 0, <usize>len << 2);
}

/**
 * Copies C planes of H×W at src into C planes of (H+2·pad)×(W+2·pad) at dst, offset by pad. The
 * border is not written: the caller zeroes dst once per call.
 */
function stage(dst: usize, src: usize, C: i32, H: i32, W: i32, pad: i32): void {
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
@inline function blockStore(p: usize, acc: v128, bias: v128, valid: i32): void {
  storeLanes(p, f32x4.add(acc, bias), valid);
}

// @ts-ignore: decorator
@inline function laneMask(valid: i32): v128 {
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
function stageShifted(xs: usize, src: usize, C: i32, Hp: i32, Wp: i32, KW: i32, OW: i32): void {
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

/**
 * The forward's tap records, built once per call from the plan and the weights: per plan entry
 * [oa, ob, nboth, na, nb] (i32) and then, for every tap of every input the pair reads,
 *   both maps: [x offset (i32 bytes), w[oa] (f32), w[ob] (f32)]   nboth of these,
 *   one map:   [x offset, w[oa]] na of these, then [x offset, w[ob]] nb,
 * the x offset being c·KW·KXB + ky·OW·4 + kx·KXB, where the tap reads xs for position 0. One flat
 * loop over a pair's records then replaces the loops over inputs, kernel rows and taps, whose
 * set-up cost as much as the multiply-adds on 5-tap rows.
 */
function buildTaps(tp: usize, w: usize, plan: usize, KH: i32, KW: i32, wsO: i32, wsC: i32, OW: i32): void {
  const count = load<i32>(plan);
  const rowB = <usize>OW << 2;
  const cB = <usize>KW * KXB;
  let e = plan + 4;
  let d = tp;
  for (let q = 0; q < count; q++) {
    const oa = load<i32>(e);
    const ob = load<i32>(e, 4);
    const nBoth = load<i32>(e, 8);
    const both = e + 12;
    const nA = load<i32>(both + (<usize>nBoth << 2));
    const onlyA = both + (<usize>nBoth << 2) + 4;
    const nB = load<i32>(onlyA + (<usize>nA << 2));
    const onlyB = onlyA + (<usize>nA << 2) + 4;
    e = onlyB + (<usize>nB << 2);
    const T = KH * KW;
    store<i32>(d, oa);
    store<i32>(d, ob, 4);
    store<i32>(d, nBoth * T, 8);
    store<i32>(d, nA * T, 12);
    store<i32>(d, nB * T, 16);
    d += 20;
    const wA = w + (<usize>(oa * wsO) << 2);
    const wB = w + (<usize>(ob * wsO) << 2);
    for (let j = 0; j < nBoth; j++) {
      const c = load<i32>(both + (<usize>j << 2));
      for (let ky = 0; ky < KH; ky++) {
        for (let kx = 0; kx < KW; kx++) {
          const k = <usize>(c * wsC + ky * KW + kx) << 2;
          store<i32>(d, <i32>(<usize>c * cB + <usize>ky * rowB + <usize>kx * KXB));
          store<f32>(d, load<f32>(wA + k), 4);
          store<f32>(d, load<f32>(wB + k), 8);
          d += 12;
        }
      }
    }
    for (let m = 0; m < 2; m++) {
      const list = m ? onlyB : onlyA;
      const n = m ? nB : nA;
      const wM = m ? wB : wA;
      for (let j = 0; j < n; j++) {
        const c = load<i32>(list + (<usize>j << 2));
        for (let ky = 0; ky < KH; ky++) {
          for (let kx = 0; kx < KW; kx++) {
            store<i32>(d, <i32>(<usize>c * cB + <usize>ky * rowB + <usize>kx * KXB));
            store<f32>(d, load<f32>(wM + (<usize>(c * wsC + ky * KW + kx) << 2)), 4);
            d += 8;
          }
        }
      }
    }
  }
}

/**
 * Forward over flat positions: for each plan entry (oa, ob) and 0 ≤ i < P,
 *   out[o][i] = bias[o] + Σ_{c ∈ conn(o)} Σ_{ky,kx} w[o·wsO + c·wsC + ky·KW + kx] · xs[c][kx][i + ky·OW]
 * from the tap records (buildTaps): the taps of inputs both maps read share each x load between
 * them; those only one map reads run in a loop for that map alone, into the same accumulators.
 */
function convFlat(out: usize, xs: usize, taps: usize, count: i32, bias: usize, P: i32): void {
  const plane = <usize>P << 2;
  let e = taps;
  for (let q = 0; q < count; q++) {
    const oa = load<i32>(e);
    const ob = load<i32>(e, 4);
    const both = e + 20;
    const onlyA = both + <usize>load<i32>(e, 8) * 12;
    const onlyB = onlyA + (<usize>load<i32>(e, 12) << 3);
    e = onlyB + (<usize>load<i32>(e, 16) << 3);
    const ba = bias ? f32x4.splat(load<f32>(bias + (<usize>oa << 2))) : f32x4.splat(0);
    const bb = bias ? f32x4.splat(load<f32>(bias + (<usize>ob << 2))) : f32x4.splat(0);
    const outA = out + <usize>oa * plane;
    const outB = out + <usize>ob * plane;
    let i = 0;
    // 16 positions: 4 vectors × 2 maps = 8 accumulators.
    for (; i + 16 <= P; i += 16) {
      const xi = xs + (<usize>i << 2);
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
      for (let r = both; r < onlyA; r += 12) {
        const p = xi + <usize>load<i32>(r);
        const va = v128.load32_splat(r, 4);
        const vb = v128.load32_splat(r, 8);
        const x0 = v128.load(p);
        const x1 = v128.load(p, 16);
        const x2 = v128.load(p, 32);
        const x3 = v128.load(p, 48);
        a0 = madd(va, x0, a0);
        a1 = madd(va, x1, a1);
        a2 = madd(va, x2, a2);
        a3 = madd(va, x3, a3);
        b0 = madd(vb, x0, b0);
        b1 = madd(vb, x1, b1);
        b2 = madd(vb, x2, b2);
        b3 = madd(vb, x3, b3);
      }
      for (let r = onlyA; r < onlyB; r += 8) {
        const p = xi + <usize>load<i32>(r);
        const va = v128.load32_splat(r, 4);
        a0 = madd(va, v128.load(p), a0);
        a1 = madd(va, v128.load(p, 16), a1);
        a2 = madd(va, v128.load(p, 32), a2);
        a3 = madd(va, v128.load(p, 48), a3);
      }
      for (let r = onlyB; r < e; r += 8) {
        const p = xi + <usize>load<i32>(r);
        const vb = v128.load32_splat(r, 4);
        b0 = madd(vb, v128.load(p), b0);
        b1 = madd(vb, v128.load(p, 16), b1);
        b2 = madd(vb, v128.load(p, 32), b2);
        b3 = madd(vb, v128.load(p, 48), b3);
      }
      const qa = outA + (<usize>i << 2);
      v128.store(qa, f32x4.add(a0, ba));
      v128.store(qa, f32x4.add(a1, ba), 16);
      v128.store(qa, f32x4.add(a2, ba), 32);
      v128.store(qa, f32x4.add(a3, ba), 48);
      if (ob != oa) {
        const qb = outB + (<usize>i << 2);
        v128.store(qb, f32x4.add(b0, bb));
        v128.store(qb, f32x4.add(b1, bb), 16);
        v128.store(qb, f32x4.add(b2, bb), 32);
        v128.store(qb, f32x4.add(b3, bb), 48);
      }
    }
    // 4 positions at a time (the last may be partial).
    for (; i < P; i += 4) {
      const xi = xs + (<usize>i << 2);
      let a0 = f32x4.splat(0);
      let b0 = f32x4.splat(0);
      for (let r = both; r < onlyA; r += 12) {
        const x0 = v128.load(xi + <usize>load<i32>(r));
        a0 = madd(v128.load32_splat(r, 4), x0, a0);
        b0 = madd(v128.load32_splat(r, 8), x0, b0);
      }
      for (let r = onlyA; r < onlyB; r += 8) a0 = madd(v128.load32_splat(r, 4), v128.load(xi + <usize>load<i32>(r)), a0);
      for (let r = onlyB; r < e; r += 8) b0 = madd(v128.load32_splat(r, 4), v128.load(xi + <usize>load<i32>(r)), b0);
      const valid = P - i;
      blockStore(outA + (<usize>i << 2), a0, ba, valid);
      if (ob != oa) blockStore(outB + (<usize>i << 2), b0, bb, valid);
    }
  }
}

/** Where a call's staged input goes: after xpad when there is padding to stage, else at scratch. */
function shiftedAt(scratch: usize, C: i32, Hp: i32, Wp: i32, pad: i32): usize {
  return pad ? scratch + (<usize>(C * Hp * Wp + SLACK) << 2) : scratch;
}

/**
 * y (n×OC×OH×OW) = conv(x (n×C×H×W), w (OC×C×KH×KW), stride 1, padding pad) + bias.
 * scratch: convScratchSize floats (conv-batch.ts).
 */
export function conv_fwd(y: usize, x: usize, w: usize, bias: usize, plan: usize, scratch: usize, n: i32, C: i32, H: i32, W: i32, OC: i32, KH: i32, KW: i32, pad: i32, OH: i32, OW: i32): void {
  const Hp = H + 2 * pad;
  const Wp = W + 2 * pad;
  const xs = shiftedAt(scratch, C, Hp, Wp, pad);
  if (pad) zero(scratch, C * Hp * Wp + SLACK);
  const inBytes = <usize>(C * H * W) << 2;
  const outBytes = <usize>(OC * OH * OW) << 2;
  const taps = xs + <usize>(C * KW) * KXB;
  buildTaps(taps, w, plan, KH, KW, C * KH * KW, KH * KW, OW);
  const count = load<i32>(plan);
  for (let s = 0; s < n; s++) {
    const xsrc = x + <usize>s * inBytes;
    if (pad) stage(scratch, xsrc, C, H, W, pad);
    stageShifted(xs, pad ? scratch : xsrc, C, Hp, Wp, KW, OW);
    convFlat(y + <usize>s * outBytes, xs, taps, count, bias, OH * OW);
  }
}

// ---------------------------------------------------------------------------------------------
// Weight gradient over flat positions: dw[o][c][ky][kx] += Σ_s Σ_i dy[s][o][i] · xs[s][c][kx][i + ky·OW]
// for every (o, c) a plan entry visits. dy is read 4 positions at a time; when P is not a multiple
// of 4 the last vector's extra lanes are masked to zero (the staged x they meet is finite: staged
// rows or a copy's zeroed tail). The shifted copies sit KXB bytes apart, so the taps of a kernel
// row are immediate offsets of one pointer.

function dwFlat(dwA: usize, dwB: usize, dyA: usize, dyB: usize, xsc: usize, KH: i32, KW: i32, OW: i32, P: i32): void {
  const full = <usize>(P & ~3) << 2;
  const pairs = <usize>(P & ~7) << 2;
  const end = <usize>P << 2;
  const mask = laneMask(P & 3);
  const rowB = <usize>OW << 2;
  for (let ky = 0; ky < KH; ky++) {
    // Four taps: 8 accumulators, 2 dy and 4 x vectors fit the 16 registers V8 gives SIMD on x64
    // (five taps did not: two accumulators went to the stack every iteration).
    for (let kx = 0; kx + 4 <= KW; kx += 4) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
      const px = xsc + <usize>ky * rowB + <usize>kx * KXB;
      // whole vectors, then the partial one with its extra lanes masked
      let o: usize = 0;
      for (; o < full; o += 16) {
        const da = v128.load(dyA + o);
        const db = v128.load(dyB + o);
        const p = px + o;
        const x0 = v128.load(p);
        const x1 = v128.load(p, KXB);
        const x2 = v128.load(p, 2 * KXB);
        const x3 = v128.load(p, 3 * KXB);
        a0 = madd(da, x0, a0);
        a1 = madd(da, x1, a1);
        a2 = madd(da, x2, a2);
        a3 = madd(da, x3, a3);
        b0 = madd(db, x0, b0);
        b1 = madd(db, x1, b1);
        b2 = madd(db, x2, b2);
        b3 = madd(db, x3, b3);
      }
      if (o < end) {
        const da = v128.and(v128.load(dyA + o), mask);
        const db = v128.and(v128.load(dyB + o), mask);
        const p = px + o;
        const x0 = v128.load(p);
        const x1 = v128.load(p, KXB);
        const x2 = v128.load(p, 2 * KXB);
        const x3 = v128.load(p, 3 * KXB);
        a0 = madd(da, x0, a0);
        a1 = madd(da, x1, a1);
        a2 = madd(da, x2, a2);
        a3 = madd(da, x3, a3);
        b0 = madd(db, x0, b0);
        b1 = madd(db, x1, b1);
        b2 = madd(db, x2, b2);
        b3 = madd(db, x3, b3);
      }
      const qa = dwA + (<usize>(ky * KW + kx) << 2);
      const qb = dwB + (<usize>(ky * KW + kx) << 2);
      addHsum(qa, a0);
      addHsum(qa + 4, a1);
      addHsum(qa + 8, a2);
      addHsum(qa + 12, a3);
      addHsum(qb, b0);
      addHsum(qb + 4, b1);
      addHsum(qb + 8, b2);
      addHsum(qb + 12, b3);
    }
  }
  // The taps left of each kernel row (kx ≥ KW − KW % 4: one for LeNet's 5×5): four rows at a
  // time (8 accumulators), then the rest one row at a time.
  for (let kx = KW & ~3; kx < KW; kx++) {
    let ky = 0;
    for (; ky + 4 <= KH; ky += 4) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
      const px = xsc + <usize>ky * rowB + <usize>kx * KXB;
      for (let o: usize = 0; o < end; o += 16) {
        let da = v128.load(dyA + o);
        let db = v128.load(dyB + o);
        if (o >= full) {
          da = v128.and(da, mask);
          db = v128.and(db, mask);
        }
        const p = px + o;
        const x0 = v128.load(p);
        const x1 = v128.load(p + rowB);
        const x2 = v128.load(p + 2 * rowB);
        const x3 = v128.load(p + 3 * rowB);
        a0 = madd(da, x0, a0);
        a1 = madd(da, x1, a1);
        a2 = madd(da, x2, a2);
        a3 = madd(da, x3, a3);
        b0 = madd(db, x0, b0);
        b1 = madd(db, x1, b1);
        b2 = madd(db, x2, b2);
        b3 = madd(db, x3, b3);
      }
      const t = ky * KW + kx;
      const qa = dwA + (<usize>t << 2);
      const qb = dwB + (<usize>t << 2);
      const kwB = <usize>KW << 2;
      addHsum(qa, a0);
      addHsum(qa + kwB, a1);
      addHsum(qa + 2 * kwB, a2);
      addHsum(qa + 3 * kwB, a3);
      addHsum(qb, b0);
      addHsum(qb + kwB, b1);
      addHsum(qb + 2 * kwB, b2);
      addHsum(qb + 3 * kwB, b3);
    }
    for (; ky < KH; ky++) {
      // two vectors of positions into separate accumulators, so the chains overlap
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0);
      const px = xsc + <usize>ky * rowB + <usize>kx * KXB;
      let o: usize = 0;
      for (; o < pairs; o += 32) {
        const p = px + o;
        const x0 = v128.load(p);
        const x1 = v128.load(p, 16);
        a0 = madd(v128.load(dyA + o), x0, a0);
        a1 = madd(v128.load(dyA + o, 16), x1, a1);
        b0 = madd(v128.load(dyB + o), x0, b0);
        b1 = madd(v128.load(dyB + o, 16), x1, b1);
      }
      for (; o < end; o += 16) {
        let da = v128.load(dyA + o);
        let db = v128.load(dyB + o);
        if (o >= full) {
          da = v128.and(da, mask);
          db = v128.and(db, mask);
        }
        const x0 = v128.load(px + o);
        a0 = madd(da, x0, a0);
        b0 = madd(db, x0, b0);
      }
      const t = ky * KW + kx;
      addHsum(dwA + (<usize>t << 2), f32x4.add(a0, a1));
      addHsum(dwB + (<usize>t << 2), f32x4.add(b0, b1));
    }
  }
}

/**
 * dwFlat for one map alone (an input only one map of a pair reads): blocks of three taps of a
 * kernel row and two rows, 6 accumulators (eight, with their x vectors, did not fit V8's
 * registers); the taps left of each row, one column at a time, four rows then two.
 */
function dwOne(dwA: usize, dyA: usize, xsc: usize, KH: i32, KW: i32, OW: i32, P: i32): void {
  const full = <usize>(P & ~3) << 2;
  const end = <usize>P << 2;
  const mask = laneMask(P & 3);
  const rowB = <usize>OW << 2;
  const kwB = <usize>KW << 2;
  let kx = 0;
  for (; kx + 3 <= KW; kx += 3) {
    for (let ky = 0; ky < KH; ky += 2) {
      // A single last row reads the row below too (finite: staged rows or a zeroed tail) and
      // discards it.
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0);
      const px = xsc + <usize>ky * rowB + <usize>kx * KXB;
      let o: usize = 0;
      for (; o < full; o += 16) {
        const da = v128.load(dyA + o);
        const p = px + o;
        const r = p + rowB;
        a0 = madd(da, v128.load(p), a0);
        a1 = madd(da, v128.load(p, KXB), a1);
        a2 = madd(da, v128.load(p, 2 * KXB), a2);
        c0 = madd(da, v128.load(r), c0);
        c1 = madd(da, v128.load(r, KXB), c1);
        c2 = madd(da, v128.load(r, 2 * KXB), c2);
      }
      if (o < end) {
        const da = v128.and(v128.load(dyA + o), mask);
        const p = px + o;
        const r = p + rowB;
        a0 = madd(da, v128.load(p), a0);
        a1 = madd(da, v128.load(p, KXB), a1);
        a2 = madd(da, v128.load(p, 2 * KXB), a2);
        c0 = madd(da, v128.load(r), c0);
        c1 = madd(da, v128.load(r, KXB), c1);
        c2 = madd(da, v128.load(r, 2 * KXB), c2);
      }
      const qa = dwA + (<usize>(ky * KW + kx) << 2);
      addHsum(qa, a0);
      addHsum(qa + 4, a1);
      addHsum(qa + 8, a2);
      if (ky + 1 < KH) {
        addHsum(qa + kwB, c0);
        addHsum(qa + kwB + 4, c1);
        addHsum(qa + kwB + 8, c2);
      }
    }
  }
  for (; kx < KW; kx++) {
    let ky = 0;
    for (; ky + 4 <= KH; ky += 4) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      const px = xsc + <usize>ky * rowB + <usize>kx * KXB;
      for (let o: usize = 0; o < end; o += 16) {
        let da = v128.load(dyA + o);
        if (o >= full) da = v128.and(da, mask);
        const p = px + o;
        a0 = madd(da, v128.load(p), a0);
        a1 = madd(da, v128.load(p + rowB), a1);
        a2 = madd(da, v128.load(p + 2 * rowB), a2);
        a3 = madd(da, v128.load(p + 3 * rowB), a3);
      }
      const t = dwA + (<usize>(ky * KW + kx) << 2);
      addHsum(t, a0);
      addHsum(t + kwB, a1);
      addHsum(t + 2 * kwB, a2);
      addHsum(t + 3 * kwB, a3);
    }
    for (; ky < KH; ky += 2) {
      // two rows; a single last row reads the row below too and discards it
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
      const px = xsc + <usize>ky * rowB + <usize>kx * KXB;
      for (let o: usize = 0; o < end; o += 16) {
        let da = v128.load(dyA + o);
        if (o >= full) da = v128.and(da, mask);
        a0 = madd(da, v128.load(px + o), a0);
        a1 = madd(da, v128.load(px + rowB + o), a1);
      }
      const t = dwA + (<usize>(ky * KW + kx) << 2);
      addHsum(t, a0);
      if (ky + 1 < KH) addHsum(t + kwB, a1);
    }
  }
}

/**
 * dw (OC×C×KH×KW) += Σ over n samples of dy ⋆ x, for the (o, c) pairs the plan visits (others
 * are left alone). scratch: convScratchSize floats (conv-batch.ts).
 */
export function conv_bwd_weights(dw: usize, x: usize, dy: usize, plan: usize, scratch: usize, n: i32, C: i32, H: i32, W: i32, OC: i32, KH: i32, KW: i32, pad: i32, OH: i32, OW: i32): void {
  const Hp = H + 2 * pad;
  const Wp = W + 2 * pad;
  const xs = shiftedAt(scratch, C, Hp, Wp, pad);
  if (pad) zero(scratch, C * Hp * Wp + SLACK);
  const inBytes = <usize>(C * H * W) << 2;
  const dyBytes = <usize>(OC * OH * OW) << 2;
  const P = OH * OW;
  const plane = <usize>P << 2;
  const cB = <usize>KW * KXB;
  const k2 = KH * KW;
  const count = load<i32>(plan);
  for (let s = 0; s < n; s++) {
    const xsrc = x + <usize>s * inBytes;
    if (pad) stage(scratch, xsrc, C, H, W, pad);
    stageShifted(xs, pad ? scratch : xsrc, C, Hp, Wp, KW, OW);
    const dys = dy + <usize>s * dyBytes;
    let e = plan + 4;
    for (let q = 0; q < count; q++) {
      const oa = load<i32>(e);
      const ob = load<i32>(e, 4);
      const nBoth = load<i32>(e, 8);
      const both = e + 12;
      const nA = load<i32>(both + (<usize>nBoth << 2));
      const onlyA = both + (<usize>nBoth << 2) + 4;
      const nB = load<i32>(onlyA + (<usize>nA << 2));
      const onlyB = onlyA + (<usize>nA << 2) + 4;
      e = onlyB + (<usize>nB << 2);
      const dyA = dys + <usize>oa * plane;
      const dyB = dys + <usize>ob * plane;
      for (let i = 0; i < nBoth; i++) {
        const c = load<i32>(both + (<usize>i << 2));
        dwFlat(dw + (<usize>((oa * C + c) * k2) << 2), dw + (<usize>((ob * C + c) * k2) << 2), dyA, dyB, xs + <usize>c * cB, KH, KW, OW, P);
      }
      for (let i = 0; i < nA; i++) {
        const c = load<i32>(onlyA + (<usize>i << 2));
        dwOne(dw + (<usize>((oa * C + c) * k2) << 2), dyA, xs + <usize>c * cB, KH, KW, OW, P);
      }
      for (let i = 0; i < nB; i++) {
        const c = load<i32>(onlyB + (<usize>i << 2));
        dwOne(dw + (<usize>((ob * C + c) * k2) << 2), dyB, xs + <usize>c * cB, KH, KW, OW, P);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Input gradient, the transpose of the flat forward. The forward reads xs[c][kx][i + ky·OW], so
// the gradient reaching the shifted copy xs[c][kx] at j = r·OW + ox is
//   G[kx][j] = Σ_{o ∋ c} Σ_ky w[o][c][ky][kx] · dy[o][j − ky·OW]   (terms with j − ky·OW ∉ [0, P) are 0)
// and the padded input's gradient is dxpad[c][r][x] = Σ_kx G[kx][r·OW + x − kx] (0 ≤ x − kx < OW).
// dy is staged with (KH−1)·OW zeros before and after each plane, so the first sum needs no bounds;
// each block of 8 positions visits only the ky whose rows it can reach. A backward plan lists, per
// input channel, the output maps connected to it:
//   [C, then per channel: nconn, o_0 … o_{nconn−1}]

/**
 * The input gradient's weight records, built once per call: for each input channel c, each group
 * of five kernel columns kx0 (LeNet's kernels: one), each kernel row ky and each output map o
 * connected to c (ky-major, so the rows a block of positions reaches are one run), 32 bytes:
 *   [w[o][c][ky][kx0 … kx0+3] (v128), w[o][c][ky][kx0+4] (f32), dy offset (i32), 0, 0]
 * where the dy offset is o·Lp·4 + (KH−1−ky)·OW·4 (from the staged dy at the block's position).
 * Returns the end of the records.
 */
function gradRecords(d: usize, w: usize, plan: usize, C: i32, KH: i32, KW: i32, Lp: i32, OW: i32): usize {
  let e = plan + 4;
  for (let c = 0; c < C; c++) {
    const nconn = load<i32>(e);
    const conn = e + 4;
    e = conn + (<usize>nconn << 2);
    for (let kx0 = 0; kx0 + 5 <= KW; kx0 += 5) {
      for (let ky = 0; ky < KH; ky++) {
        for (let q = 0; q < nconn; q++) {
          const o = load<i32>(conn + (<usize>q << 2));
          const src = w + (<usize>(((o * C + c) * KH + ky) * KW + kx0) << 2);
          v128.store(d, v128.load(src));
          store<f32>(d, load<f32>(src, 16), 16);
          store<i32>(d, (o * Lp + (KH - 1 - ky) * OW) << 2, 20);
          store<i64>(d, 0, 24);
          d += 32;
        }
      }
    }
  }
  return d;
}

function gradShifted(G: usize, GS: i32, dyp: usize, Lp: i32, w: usize, recs: usize, conn: usize, nconn: i32, c: i32, C: i32, KH: i32, KW: i32, OH: i32, OW: i32, len: i32): void {
  const GB = <usize>GS << 2;
  const rowB = <usize>OW << 2;
  const kwB = <usize>KW << 2;
  const planeB = <usize>Lp << 2;
  const wcB = <usize>(C * KH * KW) << 2; // from w[o][c] to w[o+1][c]
  const wc = w + (<usize>(c * KH * KW) << 2);
  for (let j0 = 0; j0 < len; j0 += 8) {
    const r0 = j0 / OW;
    const kyLo = max(0, r0 - OH + 1);
    const nky = min(KH - 1, (j0 + 7) / OW) - kyLo + 1;
    // dy at row offset (KH − 1 − ky)·OW for ky = kyLo, then one row less per ky.
    const d0 = dyp + (<usize>(j0 + (KH - 1 - kyLo) * OW) << 2);
    const w0 = wc + (<usize>(kyLo * KW) << 2);
    let kx0 = 0;
    // Five taps of a kernel row (LeNet's kernels): 10 accumulators and 2 dy vectors; the weights
    // come as one vector load and lane shuffles, used as they are made. One flat loop over the
    // records (gradRecords) of the kernel rows this block reaches, all connected maps.
    const recB = <usize>nconn << 5; // the records of one kernel row
    let rg = recs;
    for (; kx0 + 5 <= KW; kx0 += 5) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0), a4 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0), b4 = f32x4.splat(0);
      const base = dyp + (<usize>j0 << 2);
      const rEnd = rg + <usize>(kyLo + nky) * recB;
      for (let r = rg + <usize>kyLo * recB; r < rEnd; r += 32) {
        const pd = base + <usize>load<i32>(r, 20);
        const e0 = v128.load(pd);
        const e1 = v128.load(pd, 16);
        const wv = v128.load(r);
        let sp = i32x4.shuffle(wv, wv, 0, 0, 0, 0);
        a0 = madd(sp, e0, a0);
        b0 = madd(sp, e1, b0);
        sp = i32x4.shuffle(wv, wv, 1, 1, 1, 1);
        a1 = madd(sp, e0, a1);
        b1 = madd(sp, e1, b1);
        sp = i32x4.shuffle(wv, wv, 2, 2, 2, 2);
        a2 = madd(sp, e0, a2);
        b2 = madd(sp, e1, b2);
        sp = i32x4.shuffle(wv, wv, 3, 3, 3, 3);
        a3 = madd(sp, e0, a3);
        b3 = madd(sp, e1, b3);
        sp = v128.load32_splat(r, 16);
        a4 = madd(sp, e0, a4);
        b4 = madd(sp, e1, b4);
      }
      rg += <usize>KH * recB;
      const g = G + <usize>kx0 * GB + (<usize>j0 << 2);
      v128.store(g, a0);
      v128.store(g, b0, 16);
      v128.store(g + GB, a1);
      v128.store(g + GB, b1, 16);
      v128.store(g + 2 * GB, a2);
      v128.store(g + 2 * GB, b2, 16);
      v128.store(g + 3 * GB, a3);
      v128.store(g + 3 * GB, b3, 16);
      v128.store(g + 4 * GB, a4);
      v128.store(g + 4 * GB, b4, 16);
    }
    // Four taps: 8 accumulators, 2 dy and 4 splat vectors.
    for (; kx0 + 4 <= KW; kx0 += 4) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
      for (let q = 0; q < nconn; q++) {
        const o = <usize>load<i32>(conn + (<usize>q << 2));
        let pd = d0 + o * planeB;
        let pw = w0 + o * wcB + (<usize>kx0 << 2);
        for (let t = nky; t > 0; t--) {
          const e0 = v128.load(pd);
          const e1 = v128.load(pd, 16);
          const s0 = splatAt(pw);
          const s1 = splatAt(pw + 4);
          const s2 = splatAt(pw + 8);
          const s3 = splatAt(pw + 12);
          a0 = madd(s0, e0, a0);
          b0 = madd(s0, e1, b0);
          a1 = madd(s1, e0, a1);
          b1 = madd(s1, e1, b1);
          a2 = madd(s2, e0, a2);
          b2 = madd(s2, e1, b2);
          a3 = madd(s3, e0, a3);
          b3 = madd(s3, e1, b3);
          pd -= rowB;
          pw += kwB;
        }
      }
      const g = G + <usize>kx0 * GB + (<usize>j0 << 2);
      v128.store(g, a0);
      v128.store(g, b0, 16);
      v128.store(g + GB, a1);
      v128.store(g + GB, b1, 16);
      v128.store(g + 2 * GB, a2);
      v128.store(g + 2 * GB, b2, 16);
      v128.store(g + 3 * GB, a3);
      v128.store(g + 3 * GB, b3, 16);
    }
    for (; kx0 < KW; kx0++) {
      let a0 = f32x4.splat(0);
      let b0 = f32x4.splat(0);
      for (let q = 0; q < nconn; q++) {
        const o = <usize>load<i32>(conn + (<usize>q << 2));
        let pd = d0 + o * planeB;
        let pw = w0 + o * wcB + (<usize>kx0 << 2);
        for (let t = nky; t > 0; t--) {
          const s = splatAt(pw);
          a0 = madd(s, v128.load(pd), a0);
          b0 = madd(s, v128.load(pd, 16), b0);
          pd -= rowB;
          pw += kwB;
        }
      }
      const g = G + <usize>kx0 * GB + (<usize>j0 << 2);
      v128.store(g, a0);
      v128.store(g, b0, 16);
    }
  }
}

/**
 * The column pass's lane masks: masks[xb·KW + kx] has lane l all ones when 0 ≤ 4·xb + l − kx < OW,
 * i.e. when output column x = 4·xb + l of a padded row takes a term from G[kx].
 */
function columnMasks(masks: usize, Wp: i32, KW: i32, OW: i32): void {
  let m = masks;
  for (let x0 = 0; x0 < Wp; x0 += 4) {
    for (let kx = 0; kx < KW; kx++) {
      for (let l = 0; l < 4; l++) {
        const u = x0 + l - kx;
        store<i32>(m + (<usize>l << 2), u >= 0 && u < OW ? -1 : 0);
      }
      m += 16;
    }
  }
}

/**
 * target[r][x] = Σ_kx G[kx][r·OW + x − kx] over the kx with 0 ≤ x − kx < OW, for each of the Hp
 * rows of Wp: four columns at a time, each G[kx] run read as one vector and masked (what it reads
 * outside its row is finite or not, scratch either way, and dropped). Every target value is
 * written, the last vector of a row only in its valid lanes; terms are added in kx order, as a
 * row-by-row accumulation would.
 */
function columnPass(target: usize, G: usize, GB: usize, masks: usize, Hp: i32, Wp: i32, KW: i32, OW: i32): void {
  for (let r = 0; r < Hp; r++) {
    const gRow = G + (<usize>(r * OW) << 2);
    const tRow = target + (<usize>(r * Wp) << 2);
    let mk = masks;
    for (let x0 = 0; x0 < Wp; x0 += 4) {
      let acc = f32x4.splat(0);
      let g = gRow + (<usize>x0 << 2);
      for (let kx = 0; kx < KW; kx++) {
        acc = f32x4.add(acc, v128.and(v128.load(g), v128.load(mk)));
        g += GB - 4;
        mk += 16;
      }
      storeLanes(tRow + (<usize>x0 << 2), acc, min(4, Wp - x0));
    }
  }
}

/**
 * dx (n×C×H×W) = the input gradient of conv(x, w) at stride 1 (overwritten), from dy (n×OC×OH×OW).
 * plan: the backward plan (above). scratch: convScratchSize floats (conv-batch.ts).
 */
export function conv_bwd_input(dx: usize, dy: usize, w: usize, plan: usize, scratch: usize, n: i32, C: i32, H: i32, W: i32, OC: i32, KH: i32, KW: i32, pad: i32, OH: i32, OW: i32): void {
  const Hp = H + 2 * pad;
  const Wp = W + 2 * pad;
  const P = OH * OW;
  const lead = (KH - 1) * OW;
  const Lp = P + 2 * lead + 8;
  const len = Hp * OW;
  const GS = len + 8;
  const dyp = scratch;
  const G = dyp + (<usize>(OC * Lp + SLACK) << 2);
  const dxpad = G + (<usize>(KW * GS + SLACK) << 2);
  zero(dyp, OC * Lp + SLACK);
  const dyBytes = <usize>(OC * P) << 2;
  const dxBytes = <usize>(C * H * W) << 2;
  const planeB = <usize>(H * W) << 2;
  const GB = <usize>GS << 2;
  const recs = (dxpad + (<usize>(Hp * Wp) << 2) + 15) & ~(<usize>15);
  const masks = (gradRecords(recs, w, plan, C, KH, KW, Lp, OW) + 15) & ~(<usize>15);
  columnMasks(masks, Wp, KW, OW);
  const recsC = <usize>((KW / 5) * KH) << 5; // per connected map, per channel
  for (let s = 0; s < n; s++) {
    const dys = dy + <usize>s * dyBytes;
    for (let o = 0; o < OC; o++) memory.copy(dyp + (<usize>(o * Lp + lead) << 2), dys + (<usize>(o * P) << 2), <usize>P << 2);
    let e = plan + 4;
    let rc = recs;
    for (let c = 0; c < C; c++) {
      const nconn = load<i32>(e);
      const conn = e + 4;
      e = conn + (<usize>nconn << 2);
      const rcc = rc;
      rc += <usize>nconn * recsC;
      const dxc = dx + <usize>s * dxBytes + <usize>c * planeB;
      if (nconn === 0) {
        zero(dxc, H * W); // no output map reads channel c
        continue;
      }
      // The padded gradient of channel c; without padding, dx's own plane.
      const target = pad ? dxpad : dxc;
      gradShifted(G, GS, dyp, Lp, w, rcc, conn, nconn, c, C, KH, KW, OH, OW, len);
      columnPass(target, G, GB, masks, Hp, Wp, KW, OW);
      if (pad) for (let y = 0; y < H; y++) memory.copy(dxc + (<usize>(y * W) << 2), dxpad + (<usize>((y + pad) * Wp + pad) << 2), <usize>W << 2);
    }
  }
}
