// Direct convolution forward (stride 1) in WebAssembly SIMD over whole batches; the staging and
// the flat layout are in conv-stage.as.ts.

import { madd } from './simd.as';
import { KXB, SLACK, blockStore, forwardPostAt, shiftedAt, stage, stageShifted, zero } from './conv-stage.as';
import { ACT_NONE, activate_in_place } from './activations.as';
import { channelNormalize, inferStats } from './batchnorm.as';


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

/**
 * y (n×OC×OH×OW) = conv(x (n×C×H×W), w (OC×C×KH×KW), stride 1, padding pad) + bias.
 * scratch: conv_scratch_floats (conv-stage.as.ts).
 *
 * Inference may fuse what follows the convolution into it: with gamma ≠ 0, a batch norm in
 * inference mode (gamma, beta, runMean, runVar: OC floats each; invStd gets 1/√(σ²_run + ε), as
 * bn_fwd_infer), then activation `act` (an ACT_ code), applied to each sample's maps right after
 * they are computed, while they are in cache: the same values as conv_fwd, bn_fwd_infer and the
 * activation kernel one after another.
 */
export function conv_fwd(
  y: usize,
  x: usize,
  w: usize,
  bias: usize,
  plan: usize,
  scratch: usize,
  n: i32,
  C: i32,
  H: i32,
  W: i32,
  OC: i32,
  KH: i32,
  KW: i32,
  pad: i32,
  OH: i32,
  OW: i32,
  gamma: usize,
  beta: usize,
  runMean: usize,
  runVar: usize,
  invStd: usize,
  eps: f32,
  act: i32,
): void {
  const Hp = H + 2 * pad;
  const Wp = W + 2 * pad;
  const xs = shiftedAt(scratch, C, Hp, Wp, pad);
  if (pad) zero(scratch, C * Hp * Wp + SLACK);
  const inBytes = <usize>(C * H * W) << 2;
  const outBytes = <usize>(OC * OH * OW) << 2;
  const taps = xs + <usize>(C * KW) * KXB;
  buildTaps(taps, w, plan, KH, KW, C * KH * KW, KH * KW, OW);
  const count = load<i32>(plan);
  const P = OH * OW;
  // The batch norm's f64 statistics (means, then inverse deviations), after the tap records.
  const stats = forwardPostAt(scratch, C, H, W, OC, KH, KW, pad);
  if (gamma) inferStats(stats, runMean, runVar, invStd, OC, eps);
  for (let s = 0; s < n; s++) {
    const xsrc = x + <usize>s * inBytes;
    if (pad) stage(scratch, xsrc, C, H, W, pad);
    stageShifted(xs, pad ? scratch : xsrc, C, Hp, Wp, KW, OW);
    const ys = y + <usize>s * outBytes;
    convFlat(ys, xs, taps, count, bias, P);
    if (gamma) channelNormalize(ys, 0, ys, stats, stats + (<usize>OC << 3), gamma, beta, 1, OC, P, act);
    else if (act != ACT_NONE) activate_in_place(ys, OC * P, act);
  }
}
