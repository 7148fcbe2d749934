// Direct convolution input gradient (stride 1) in WebAssembly SIMD over whole batches.

import { madd, splatAt, storeLanes } from './simd.as';
import { SLACK, zero } from './conv-stage.as';

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
 * plan: the backward plan (above). scratch: conv_scratch_floats (conv-stage.as.ts).
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
