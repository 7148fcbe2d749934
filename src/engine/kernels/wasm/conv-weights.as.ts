// Direct convolution weight gradient (stride 1) in WebAssembly SIMD over whole batches; the
// staging and the flat layout are in conv-stage.as.ts.

import { addHsum, addHsum4, addHsum4At, madd } from './simd.as';
import { KXB, SLACK, laneMask, shiftedAt, stage, stageShifted, zero } from './conv-stage.as';

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
      addHsum4(dwA + (<usize>(ky * KW + kx) << 2), a0, a1, a2, a3);
      addHsum4(dwB + (<usize>(ky * KW + kx) << 2), b0, b1, b2, b3);
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
      const t = <usize>(ky * KW + kx) << 2;
      const kwB = <usize>KW << 2;
      addHsum4At(dwA + t, kwB, a0, a1, a2, a3);
      addHsum4At(dwB + t, kwB, b0, b1, b2, b3);
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
      addHsum4At(dwA + (<usize>(ky * KW + kx) << 2), kwB, a0, a1, a2, a3);
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
 * are left alone). scratch: conv_scratch_floats (conv-stage.as.ts).
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
