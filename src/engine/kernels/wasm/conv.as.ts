// Direct convolution (stride 1) in WebAssembly SIMD, forward and weight gradient: no im2col,
// whole batches per call. The input gradient stays GEMM + col2im (conv-batch.ts): as a full
// correlation over a zero-bordered dy it does twice the work, and measured slower. The
// reference is im2col + GEMM (conv.ts, gemm.ts); tests compare the two.
//
// Output channels are processed in pairs ("plan" entries, built by conv-batch.ts's makeConvPlan): a
// pair reads only the input channels either of its two maps is connected to, so LeCun's C3 table
// skips most of the work on masked weights. A plan is an i32 array:
//   [count, then per entry: oa, ob, nconn, c_0 … c_{nconn−1}]
// Output rows are cut into blocks of 16, 8 and 4 positions (4, 2, 1 vectors per map); the last
// vector of a row may cover positions past its end, which are computed and not stored.
//
// Inputs are staged, one sample at a time, in a zero-bordered copy (the padding, plus zeroed slack
// after the last row so that reads past a row's end stay finite).

import { addHsum, madd, splatAt, storeLanes } from './simd.as';

/** Floats of slack after a staged plane set: reads of the last row's last vector stay inside it. */
const SLACK: i32 = 32;

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

// ---------------------------------------------------------------------------------------------
// Forward core: for each plan entry (oa, ob), out[o][oy][ox] (+ bias[o]) =
//   Σ_{c ∈ conn} Σ_{ky,kx} w[o·wsO + c·wsC + ky·KW + kx] · src[c][oy+ky][ox+kx]
// for oy < OH, ox < OW, src planes Hs×Ws. out planes are OH×OW.

// @ts-ignore: decorator
@inline function blockStore(p: usize, acc: v128, bias: v128, valid: i32): void {
  storeLanes(p, f32x4.add(acc, bias), valid);
}

function convCore(
  out: usize,
  src: usize,
  w: usize,
  bias: usize,
  plan: usize,
  Hs: i32,
  Ws: i32,
  KH: i32,
  KW: i32,
  wsO: i32,
  wsC: i32,
  OH: i32,
  OW: i32,
): void {
  const count = load<i32>(plan);
  let e = plan + 4;
  const plane = <usize>(OH * OW) << 2;
  const srcPlane = <usize>(Hs * Ws) << 2;
  const rowS = <usize>Ws << 2;
  for (let q = 0; q < count; q++) {
    const oa = load<i32>(e);
    const ob = load<i32>(e, 4);
    const nconn = load<i32>(e, 8);
    const conn = e + 12;
    e = conn + (<usize>nconn << 2);
    const ba = bias ? f32x4.splat(load<f32>(bias + (<usize>oa << 2))) : f32x4.splat(0);
    const bb = bias ? f32x4.splat(load<f32>(bias + (<usize>ob << 2))) : f32x4.splat(0);
    const outA = out + <usize>oa * plane;
    const outB = out + <usize>ob * plane;
    const wA = w + (<usize>(oa * wsO) << 2);
    const wB = w + (<usize>(ob * wsO) << 2);
    for (let oy = 0; oy < OH; oy++) {
      const rowOut = <usize>(oy * OW) << 2;
      const srcRow = src + (<usize>(oy * Ws) << 2);
      let ox = 0;
      // 16 positions: 4 vectors × 2 maps = 8 accumulators.
      for (; ox + 16 <= OW; ox += 16) {
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
        const base = srcRow + (<usize>ox << 2);
        for (let i = 0; i < nconn; i++) {
          const c = load<i32>(conn + (<usize>i << 2));
          let ps = base + <usize>c * srcPlane;
          let pa = wA + (<usize>(c * wsC) << 2);
          let pb = wB + (<usize>(c * wsC) << 2);
          for (let ky = 0; ky < KH; ky++) {
            for (let kx = 0; kx < KW; kx++) {
              const va = splatAt(pa);
              const vb = splatAt(pb);
              const p = ps + (<usize>kx << 2);
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
              pa += 4;
              pb += 4;
            }
            ps += rowS;
          }
        }
        const qa = outA + rowOut + (<usize>ox << 2);
        const qb = outB + rowOut + (<usize>ox << 2);
        v128.store(qa, f32x4.add(a0, ba));
        v128.store(qa, f32x4.add(a1, ba), 16);
        v128.store(qa, f32x4.add(a2, ba), 32);
        v128.store(qa, f32x4.add(a3, ba), 48);
        v128.store(qb, f32x4.add(b0, bb));
        v128.store(qb, f32x4.add(b1, bb), 16);
        v128.store(qb, f32x4.add(b2, bb), 32);
        v128.store(qb, f32x4.add(b3, bb), 48);
      }
      // 8 positions (the last may run past the row).
      for (; ox + 4 < OW; ox += 8) {
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
        let b0 = f32x4.splat(0), b1 = f32x4.splat(0);
        const base = srcRow + (<usize>ox << 2);
        for (let i = 0; i < nconn; i++) {
          const c = load<i32>(conn + (<usize>i << 2));
          let ps = base + <usize>c * srcPlane;
          let pa = wA + (<usize>(c * wsC) << 2);
          let pb = wB + (<usize>(c * wsC) << 2);
          for (let ky = 0; ky < KH; ky++) {
            for (let kx = 0; kx < KW; kx++) {
              const va = splatAt(pa);
              const vb = splatAt(pb);
              const p = ps + (<usize>kx << 2);
              const x0 = v128.load(p);
              const x1 = v128.load(p, 16);
              a0 = madd(va, x0, a0);
              a1 = madd(va, x1, a1);
              b0 = madd(vb, x0, b0);
              b1 = madd(vb, x1, b1);
              pa += 4;
              pb += 4;
            }
            ps += rowS;
          }
        }
        const qa = outA + rowOut + (<usize>ox << 2);
        const qb = outB + rowOut + (<usize>ox << 2);
        const valid = OW - ox - 4;
        v128.store(qa, f32x4.add(a0, ba));
        v128.store(qb, f32x4.add(b0, bb));
        blockStore(qa + 16, a1, ba, valid);
        blockStore(qb + 16, b1, bb, valid);
      }
      // 4 positions (or fewer at the row's end).
      for (; ox < OW; ox += 4) {
        let a0 = f32x4.splat(0);
        let b0 = f32x4.splat(0);
        const base = srcRow + (<usize>ox << 2);
        for (let i = 0; i < nconn; i++) {
          const c = load<i32>(conn + (<usize>i << 2));
          let ps = base + <usize>c * srcPlane;
          let pa = wA + (<usize>(c * wsC) << 2);
          let pb = wB + (<usize>(c * wsC) << 2);
          for (let ky = 0; ky < KH; ky++) {
            for (let kx = 0; kx < KW; kx++) {
              const x0 = v128.load(ps + (<usize>kx << 2));
              a0 = madd(splatAt(pa), x0, a0);
              b0 = madd(splatAt(pb), x0, b0);
              pa += 4;
              pb += 4;
            }
            ps += rowS;
          }
        }
        const valid = OW - ox;
        blockStore(outA + rowOut + (<usize>ox << 2), a0, ba, valid);
        blockStore(outB + rowOut + (<usize>ox << 2), b0, bb, valid);
      }
    }
  }
}

/**
 * y (n×OC×OH×OW) = conv(x (n×C×H×W), w (OC×C×KH×KW), stride 1, padding pad) + bias.
 * scratch: C·(H+2pad)·(W+2pad) + SLACK floats.
 */
export function conv_fwd(y: usize, x: usize, w: usize, bias: usize, plan: usize, scratch: usize, n: i32, C: i32, H: i32, W: i32, OC: i32, KH: i32, KW: i32, pad: i32, OH: i32, OW: i32): void {
  const Hp = H + 2 * pad;
  const Wp = W + 2 * pad;
  zero(scratch, C * Hp * Wp + SLACK);
  const inBytes = <usize>(C * H * W) << 2;
  const outBytes = <usize>(OC * OH * OW) << 2;
  for (let s = 0; s < n; s++) {
    stage(scratch, x + <usize>s * inBytes, C, H, W, pad);
    convCore(y + <usize>s * outBytes, scratch, w, bias, plan, Hp, Wp, KH, KW, C * KH * KW, KH * KW, OH, OW);
  }
}

// ---------------------------------------------------------------------------------------------
// Weight gradient: dw[o][c][ky][kx] += Σ_s Σ_{oy,ox} dy[s][o][oy][ox] · xpad[s][c][oy+ky][ox+kx]
// for every (o, c) a plan entry visits. Rows of dy are read 4 at a time; lanes past a row's end
// are masked to zero (the staged x they meet is finite). Taps go 5 at a time (LeNet's kernels),
// then one at a time.

// @ts-ignore: decorator
@inline function laneMask(valid: i32): v128 {
  // lanes < valid all ones, others zero
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(valid));
}

function dwPair(dwA: usize, dwB: usize, dyA: usize, dyB: usize, xc: usize, KH: i32, KW: i32, Ws: i32, OH: i32, OW: i32): void {
  const rowS = <usize>Ws << 2;
  const rowD = <usize>OW << 2;
  const full = OW & ~3;
  const tail = OW - full;
  const mask = laneMask(tail);
  for (let ky = 0; ky < KH; ky++) {
    let kx = 0;
    for (; kx + 5 <= KW; kx += 5) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0), a4 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0), b4 = f32x4.splat(0);
      let pxRow = xc + (<usize>(ky * Ws + kx) << 2);
      let pdA = dyA;
      let pdB = dyB;
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox += 4) {
          const o = <usize>ox << 2;
          let da = v128.load(pdA + o);
          let db = v128.load(pdB + o);
          if (ox >= full) {
            da = v128.and(da, mask);
            db = v128.and(db, mask);
          }
          const p = pxRow + o;
          const x0 = v128.load(p);
          const x1 = v128.load(p, 4);
          const x2 = v128.load(p, 8);
          const x3 = v128.load(p, 12);
          const x4 = v128.load(p, 16);
          a0 = madd(da, x0, a0);
          a1 = madd(da, x1, a1);
          a2 = madd(da, x2, a2);
          a3 = madd(da, x3, a3);
          a4 = madd(da, x4, a4);
          b0 = madd(db, x0, b0);
          b1 = madd(db, x1, b1);
          b2 = madd(db, x2, b2);
          b3 = madd(db, x3, b3);
          b4 = madd(db, x4, b4);
        }
        pxRow += rowS;
        pdA += rowD;
        pdB += rowD;
      }
      const qa = dwA + (<usize>(ky * KW + kx) << 2);
      const qb = dwB + (<usize>(ky * KW + kx) << 2);
      addHsum(qa, a0);
      addHsum(qa + 4, a1);
      addHsum(qa + 8, a2);
      addHsum(qa + 12, a3);
      addHsum(qa + 16, a4);
      if (dwB != dwA) {
        addHsum(qb, b0);
        addHsum(qb + 4, b1);
        addHsum(qb + 8, b2);
        addHsum(qb + 12, b3);
        addHsum(qb + 16, b4);
      }
    }
    for (; kx < KW; kx++) {
      let a0 = f32x4.splat(0);
      let b0 = f32x4.splat(0);
      let pxRow = xc + (<usize>(ky * Ws + kx) << 2);
      let pdA = dyA;
      let pdB = dyB;
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox += 4) {
          const o = <usize>ox << 2;
          let da = v128.load(pdA + o);
          let db = v128.load(pdB + o);
          if (ox >= full) {
            da = v128.and(da, mask);
            db = v128.and(db, mask);
          }
          const x0 = v128.load(pxRow + o);
          a0 = madd(da, x0, a0);
          b0 = madd(db, x0, b0);
        }
        pxRow += rowS;
        pdA += rowD;
        pdB += rowD;
      }
      addHsum(dwA + (<usize>(ky * KW + kx) << 2), a0);
      if (dwB != dwA) addHsum(dwB + (<usize>(ky * KW + kx) << 2), b0);
    }
  }
}

/**
 * dw (OC×C×KH×KW) += Σ over n samples of dy ⋆ x, for the (o, c) pairs the plan visits (others
 * are left alone). scratch: C·(H+2pad)·(W+2pad) + SLACK floats.
 */
export function conv_bwd_weights(dw: usize, x: usize, dy: usize, plan: usize, scratch: usize, n: i32, C: i32, H: i32, W: i32, OC: i32, KH: i32, KW: i32, pad: i32, OH: i32, OW: i32): void {
  const Hp = H + 2 * pad;
  const Wp = W + 2 * pad;
  zero(scratch, C * Hp * Wp + SLACK);
  const inBytes = <usize>(C * H * W) << 2;
  const dyBytes = <usize>(OC * OH * OW) << 2;
  const plane = <usize>(OH * OW) << 2;
  const srcPlane = <usize>(Hp * Wp) << 2;
  const k2 = KH * KW;
  const count = load<i32>(plan);
  for (let s = 0; s < n; s++) {
    stage(scratch, x + <usize>s * inBytes, C, H, W, pad);
    const dys = dy + <usize>s * dyBytes;
    let e = plan + 4;
    for (let q = 0; q < count; q++) {
      const oa = load<i32>(e);
      const ob = load<i32>(e, 4);
      const nconn = load<i32>(e, 8);
      const conn = e + 12;
      e = conn + (<usize>nconn << 2);
      for (let i = 0; i < nconn; i++) {
        const c = load<i32>(conn + (<usize>i << 2));
        dwPair(
          dw + (<usize>((oa * C + c) * k2) << 2),
          dw + (<usize>((ob * C + c) * k2) << 2),
          dys + <usize>oa * plane,
          dys + <usize>ob * plane,
          scratch + <usize>c * srcPlane,
          KH,
          KW,
          Wp,
          OH,
          OW,
        );
      }
    }
  }
}
