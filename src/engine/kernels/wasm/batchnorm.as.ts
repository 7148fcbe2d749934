// Batch norm over n samples of C channels × HW positions (HW = 1 after a dense layer) in
// WebAssembly SIMD. The reference is ../js/norm.ts. Reductions accumulate in f64 (as the reference
// does): a channel of conv1 spans n·784 values and the backward formula cancels large terms, so f32
// sums lose digits. scratch: bn_scratch_floats(C) floats, used as two f64 arrays of C.

import { dotF64, hi2, sumF64, sumSqF64 } from './simd.as';
import { ACT_NONE, ACT_RELU, activate_in_place, reluv } from './activations.as';

/** Scratch floats the batch norm kernels need for C channels: two f64 arrays of C. */
export function bn_scratch_floats(C: i32): i32 {
  return 4 * C;
}

// @ts-ignore: decorator
@inline function f64at(base: usize, c: i32): usize {
  return base + (<usize>c << 3);
}

/**
 * Maps of at least this many positions are normalised in f32 (four values a step instead of two):
 * a channel then spans n·HW ≥ 16n values, its statistics are well determined, and rounding them to
 * f32 adds an error of the order of x's own rounding. Smaller maps, and the vectors after a dense
 * layer, stay in f64 (see channelNormalize).
 */
const F32_MIN_HW: i32 = 16;

/** x̂ = (x − mean[c])·inv[c], y = γ[c]·x̂ + β[c], with mean and inv f64[C]; x̂ stored when xhat ≠ 0.
 *  Evaluated in f64 like the reference when HW < F32_MIN_HW: with few values per channel x̂ hardly
 *  depends on x, and rounding the statistics to f32 first would swamp what little it does.
 *  y may be x. With act ≠ ACT_NONE (inference only) y then gets that activation, a channel's
 *  plane (a sample's row when HW = 1) at a time while it is in cache: activate_in_place. */
export function channelNormalize(y: usize, xhat: usize, x: usize, mean: usize, inv: usize, gamma: usize, beta: usize, n: i32, C: i32, HW: i32, act: i32): void {
  if (HW == 1) {
    normalizeColumns(y, xhat, x, mean, inv, gamma, beta, n, C, act);
    return;
  }
  if (HW >= F32_MIN_HW) {
    normalizeF32(y, xhat, x, mean, inv, gamma, beta, n, C, HW, act);
    return;
  }
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < C; c++) {
      const co = <usize>c << 2;
      const off = <usize>((s * C + c) * HW) << 2;
      const mv = load<f64>(f64at(mean, c));
      const iv = load<f64>(f64at(inv, c));
      const gv = <f64>load<f32>(gamma + co);
      const bv = <f64>load<f32>(beta + co);
      let i = 0;
      if (HW >= 4) {
        const Mv = f64x2.splat(mv), Iv = f64x2.splat(iv), Gv = f64x2.splat(gv), Bv = f64x2.splat(bv);
        for (; i + 4 <= HW; i += 4) {
          const o = off + (<usize>i << 2);
          const v = v128.load(x + o);
          const hl = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v), Mv), Iv);
          const hh = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(hi2(v)), Mv), Iv);
          v128.store(y + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(hl, Gv), Bv)), f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(hh, Gv), Bv)), 0, 1, 4, 5));
          if (xhat) v128.store(xhat + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(hl), f32x4.demote_f64x2_zero(hh), 0, 1, 4, 5));
        }
      }
      for (; i < HW; i++) {
        const o = off + (<usize>i << 2);
        const h = (<f64>load<f32>(x + o) - mv) * iv;
        store<f32>(y + o, <f32>(h * gv + bv));
        if (xhat) store<f32>(xhat + o, <f32>h);
      }
      if (act != ACT_NONE) activate_in_place(y + off, HW, act);
    }
  }
}

/** channelNormalize in f32 for maps of HW ≥ F32_MIN_HW positions. */
function normalizeF32(y: usize, xhat: usize, x: usize, mean: usize, inv: usize, gamma: usize, beta: usize, n: i32, C: i32, HW: i32, act: i32): void {
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < C; c++) {
      const co = <usize>c << 2;
      const off = <usize>((s * C + c) * HW) << 2;
      const mv = <f32>load<f64>(f64at(mean, c));
      const iv = <f32>load<f64>(f64at(inv, c));
      const gv = load<f32>(gamma + co);
      const bv = load<f32>(beta + co);
      const Mv = f32x4.splat(mv), Iv = f32x4.splat(iv), Gv = f32x4.splat(gv), Bv = f32x4.splat(bv);
      const end = off + (<usize>(HW & ~3) << 2);
      // One loop per case, so that none tests a flag per vector; ReLU in the same pass.
      if (xhat) {
        for (let o = off; o < end; o += 16) {
          const h = f32x4.mul(f32x4.sub(v128.load(x + o), Mv), Iv);
          v128.store(y + o, f32x4.add(f32x4.mul(h, Gv), Bv));
          v128.store(xhat + o, h);
        }
      } else if (act == ACT_RELU) {
        for (let o = off; o < end; o += 16) v128.store(y + o, reluv(f32x4.add(f32x4.mul(f32x4.mul(f32x4.sub(v128.load(x + o), Mv), Iv), Gv), Bv)));
      } else {
        for (let o = off; o < end; o += 16) v128.store(y + o, f32x4.add(f32x4.mul(f32x4.mul(f32x4.sub(v128.load(x + o), Mv), Iv), Gv), Bv));
      }
      for (let i = HW & ~3; i < HW; i++) {
        const o = off + (<usize>i << 2);
        const h = (load<f32>(x + o) - mv) * iv;
        const v = h * gv + bv;
        store<f32>(y + o, act == ACT_RELU && !(v > 0) && v == v ? 0 : v);
        if (xhat) store<f32>(xhat + o, h);
      }
      if (act != ACT_NONE && act != ACT_RELU) activate_in_place(y + off, HW, act);
    }
  }
}

/**
 * channelNormalize for HW = 1 (the n×C output of a dense layer): the same f64 arithmetic, two
 * channels at a time across a row instead of one call per value.
 */
function normalizeColumns(y: usize, xhat: usize, x: usize, mean: usize, inv: usize, gamma: usize, beta: usize, n: i32, C: i32, act: i32): void {
  for (let s = 0; s < n; s++) {
    const row = <usize>(s * C) << 2;
    let c = 0;
    for (; c + 2 <= C; c += 2) {
      const co = <usize>c << 2;
      const Mv = v128.load(f64at(mean, c));
      const Iv = v128.load(f64at(inv, c));
      const Gv = f64x2.promote_low_f32x4(v128.load64_zero(gamma + co));
      const Bv = f64x2.promote_low_f32x4(v128.load64_zero(beta + co));
      const h = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(x + row + co)), Mv), Iv);
      v128.store64_lane(y + row + co, f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(h, Gv), Bv)), 0);
      if (xhat) v128.store64_lane(xhat + row + co, f32x4.demote_f64x2_zero(h), 0);
    }
    for (; c < C; c++) {
      const co = <usize>c << 2;
      const h = (<f64>load<f32>(x + row + co) - load<f64>(f64at(mean, c))) * load<f64>(f64at(inv, c));
      store<f32>(y + row + co, <f32>(h * <f64>load<f32>(gamma + co) + <f64>load<f32>(beta + co)));
      if (xhat) store<f32>(xhat + row + co, <f32>h);
    }
    if (act != ACT_NONE) activate_in_place(y + row, C, act);
  }
}

/** sums[c] += Σ_s x[s·C + c] (f64; with y ≠ 0, of x·y), two channels at a time: HW = 1. */
function columnSums(sums: usize, x: usize, y: usize, n: i32, C: i32): void {
  for (let s = 0; s < n; s++) {
    const row = <usize>(s * C) << 2;
    let c = 0;
    for (; c + 2 <= C; c += 2) {
      const p = f64at(sums, c);
      let v = f64x2.promote_low_f32x4(v128.load64_zero(x + row + (<usize>c << 2)));
      if (y) v = f64x2.mul(v, f64x2.promote_low_f32x4(v128.load64_zero(y + row + (<usize>c << 2))));
      v128.store(p, f64x2.add(v128.load(p), v));
    }
    for (; c < C; c++) {
      const p = f64at(sums, c);
      let v = <f64>load<f32>(x + row + (<usize>c << 2));
      if (y) v *= <f64>load<f32>(y + row + (<usize>c << 2));
      store<f64>(p, load<f64>(p) + v);
    }
  }
}

/** sqs[c] += Σ_s (x[s·C + c] − sums[c]/count)² (f64), two channels at a time: HW = 1. */
function columnSquares(sqs: usize, x: usize, sums: usize, count: f64, n: i32, C: i32): void {
  const N = f64x2.splat(count);
  for (let s = 0; s < n; s++) {
    const row = <usize>(s * C) << 2;
    let c = 0;
    for (; c + 2 <= C; c += 2) {
      const p = f64at(sqs, c);
      const d = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(x + row + (<usize>c << 2))), f64x2.div(v128.load(f64at(sums, c)), N));
      v128.store(p, f64x2.add(v128.load(p), f64x2.mul(d, d)));
    }
    for (; c < C; c++) {
      const p = f64at(sqs, c);
      const d = <f64>load<f32>(x + row + (<usize>c << 2)) - load<f64>(f64at(sums, c)) / count;
      store<f64>(p, load<f64>(p) + d * d);
    }
  }
}

/** scratch (f64) = [Σx per channel, Σ(x − mean)² per channel] over this batch's n·HW values of each. */
export function bn_stats(scratch: usize, x: usize, n: i32, C: i32, HW: i32): void {
  const count = <f64>(n * HW);
  const sums = scratch; // f64[C]
  const sqs = scratch + (<usize>C << 3); // f64[C]
  memory.fill(scratch, 0, <usize>C << 4);
  if (HW == 1) {
    columnSums(sums, x, 0, n, C);
    columnSquares(sqs, x, sums, count, n, C);
    return;
  }
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < C; c++) {
      const p = f64at(sums, c);
      store<f64>(p, load<f64>(p) + sumF64(x + (<usize>((s * C + c) * HW) << 2), HW));
    }
  }
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < C; c++) {
      const p = f64at(sqs, c);
      store<f64>(p, load<f64>(p) + sumSqF64(x + (<usize>((s * C + c) * HW) << 2), HW, load<f64>(f64at(sums, c)) / count));
    }
  }
}

/**
 * Training-mode forward from the statistics bn_stats left in scratch, over `count` values a channel
 * (n·HW, or more when data-parallel shards combined theirs): batch mean and biased variance
 * normalise, the running statistics take the unbiased variance.
 */
export function bn_fwd_apply(y: usize, xhat: usize, x: usize, gamma: usize, beta: usize, runMean: usize, runVar: usize, mean: usize, invStd: usize, scratch: usize, n: i32, C: i32, HW: i32, count: f64, eps: f32, momentum: f32): void {
  const sums = scratch; // f64[C]
  const sqs = scratch + (<usize>C << 3); // f64[C]
  const m32 = <f64>momentum;
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const m = load<f64>(f64at(sums, c)) / count;
    const variance = load<f64>(f64at(sqs, c)) / count;
    const inv = 1.0 / Math.sqrt(variance + <f64>eps);
    store<f32>(mean + o, <f32>m);
    store<f32>(invStd + o, <f32>inv);
    const unbiased = count > 1 ? (variance * count) / (count - 1) : variance;
    store<f32>(runMean + o, <f32>((1 - m32) * <f64>load<f32>(runMean + o) + m32 * m));
    store<f32>(runVar + o, <f32>((1 - m32) * <f64>load<f32>(runVar + o) + m32 * unbiased));
    store<f64>(f64at(sums, c), m); // the sums become the f64 mean and 1/σ for normalising
    store<f64>(f64at(sqs, c), inv);
  }
  channelNormalize(y, xhat, x, sums, sqs, gamma, beta, n, C, HW, ACT_NONE);
}

/**
 * Inference's statistics: scratch (bn_scratch_floats(C), as f64) gets the running means, then
 * 1/√(σ²_run + ε), per channel; invStd gets the latter in f32. What channelNormalize takes.
 */
export function inferStats(scratch: usize, runMean: usize, runVar: usize, invStd: usize, C: i32, eps: f32): void {
  const means = scratch; // f64[C]
  const invs = scratch + (<usize>C << 3); // f64[C]
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const inv = 1.0 / Math.sqrt(<f64>load<f32>(runVar + o) + <f64>eps);
    store<f32>(invStd + o, <f32>inv);
    store<f64>(f64at(invs, c), inv);
    store<f64>(f64at(means, c), <f64>load<f32>(runMean + o));
  }
}

/**
 * Inference: y = act(γ·(x − μ_run)/√(σ²_run + ε) + β) (act: an ACT_ code, ACT_NONE for none);
 * invStd gets 1/√(σ²_run + ε). y may be x.
 */
export function bn_fwd_infer(y: usize, x: usize, gamma: usize, beta: usize, runMean: usize, runVar: usize, invStd: usize, scratch: usize, n: i32, C: i32, HW: i32, eps: f32, act: i32): void {
  inferStats(scratch, runMean, runVar, invStd, C, eps);
  channelNormalize(y, 0, x, scratch, scratch + (<usize>C << 3), gamma, beta, n, C, HW, act);
}

/** bn_bwd_apply's dx for HW = 1: the same f64 arithmetic, two channels at a time across a row. */
function dxColumns(dx: usize, dy: usize, xhat: usize, gamma: usize, invStd: usize, sdy: usize, sdyx: usize, count: f64, n: i32, C: i32): void {
  const N = f64x2.splat(count);
  for (let s = 0; s < n; s++) {
    const row = <usize>(s * C) << 2;
    let c = 0;
    for (; c + 2 <= C; c += 2) {
      const co = <usize>c << 2;
      const k = f64x2.div(f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(gamma + co)), f64x2.promote_low_f32x4(v128.load64_zero(invStd + co))), N);
      const a = f64x2.mul(k, N);
      const b = f64x2.mul(k, v128.load(f64at(sdy, c)));
      const cc = f64x2.mul(k, v128.load(f64at(sdyx, c)));
      const d = f64x2.promote_low_f32x4(v128.load64_zero(dy + row + co));
      const h = f64x2.promote_low_f32x4(v128.load64_zero(xhat + row + co));
      v128.store64_lane(dx + row + co, f32x4.demote_f64x2_zero(f64x2.sub(f64x2.sub(f64x2.mul(a, d), b), f64x2.mul(cc, h))), 0);
    }
    for (; c < C; c++) {
      const co = <usize>c << 2;
      const k = (<f64>load<f32>(gamma + co) * <f64>load<f32>(invStd + co)) / count;
      const a = k * count;
      const b = k * load<f64>(f64at(sdy, c));
      const cc = k * load<f64>(f64at(sdyx, c));
      store<f32>(dx + row + co, <f32>(a * <f64>load<f32>(dy + row + co) - b - cc * <f64>load<f32>(xhat + row + co)));
    }
  }
}

/** scratch (f64) = [Σdy per channel, Σdy·x̂ per channel]; dγ += Σ dy·x̂, dβ += Σ dy. */
export function bn_bwd_sums(dgamma: usize, dbeta: usize, dy: usize, xhat: usize, scratch: usize, n: i32, C: i32, HW: i32): void {
  const sdy = scratch; // f64[C]
  const sdyx = scratch + (<usize>C << 3); // f64[C]
  memory.fill(scratch, 0, <usize>C << 4);
  if (HW == 1) {
    columnSums(sdy, dy, 0, n, C);
    columnSums(sdyx, dy, xhat, n, C);
  } else {
    for (let s = 0; s < n; s++) {
      for (let c = 0; c < C; c++) {
        const off = <usize>((s * C + c) * HW) << 2;
        const p = f64at(sdy, c);
        store<f64>(p, load<f64>(p) + sumF64(dy + off, HW));
        const q = f64at(sdyx, c);
        store<f64>(q, load<f64>(q) + dotF64(dy + off, xhat + off, HW));
      }
    }
  }
  for (let c = 0; c < C; c++) {
    const co = <usize>c << 2;
    store<f32>(dgamma + co, <f32>(<f64>load<f32>(dgamma + co) + load<f64>(f64at(sdyx, c))));
    store<f32>(dbeta + co, <f32>(<f64>load<f32>(dbeta + co) + load<f64>(f64at(sdy, c))));
  }
}

/** dx = γσ⁻¹/m · (m·dy − Σdy − x̂·Σ(dy·x̂)) with the sums bn_bwd_sums left in scratch and m = `count`. */
export function bn_bwd_apply(dx: usize, dy: usize, xhat: usize, gamma: usize, invStd: usize, scratch: usize, n: i32, C: i32, HW: i32, count: f64): void {
  const sdy = scratch; // f64[C]
  const sdyx = scratch + (<usize>C << 3); // f64[C]
  if (HW == 1) {
    dxColumns(dx, dy, xhat, gamma, invStd, sdy, sdyx, count, n, C);
    return;
  }
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < C; c++) {
      // dx = k·(m·dy − Σdy − x̂·Σ(dy·x̂)), the terms evaluated in f64 and, for maps of at least
      // F32_MIN_HW positions, combined in f32 (as channelNormalize). In f64 throughout, the sum of
      // dx over a channel (what a conv bias before batch norm receives) stayed ≈ 1e-16 rather
      // than ≈ 1e-7 of the terms; either way far below anything training notices.
      const k = (<f64>load<f32>(gamma + (<usize>c << 2)) * <f64>load<f32>(invStd + (<usize>c << 2))) / count;
      const a = k * count;
      const b = k * load<f64>(f64at(sdy, c));
      const cc = k * load<f64>(f64at(sdyx, c));
      const off = <usize>((s * C + c) * HW) << 2;
      let i = 0;
      if (HW >= F32_MIN_HW) {
        const Av = f32x4.splat(<f32>a), Bv = f32x4.splat(<f32>b), Cv = f32x4.splat(<f32>cc);
        for (; i + 4 <= HW; i += 4) {
          const o = off + (<usize>i << 2);
          v128.store(dx + o, f32x4.sub(f32x4.sub(f32x4.mul(Av, v128.load(dy + o)), Bv), f32x4.mul(Cv, v128.load(xhat + o))));
        }
      } else if (HW >= 4) {
        const Av = f64x2.splat(a), Bv = f64x2.splat(b), Cv = f64x2.splat(cc);
        for (; i + 4 <= HW; i += 4) {
          const o = off + (<usize>i << 2);
          const d = v128.load(dy + o);
          const h = v128.load(xhat + o);
          const lo = f64x2.sub(f64x2.sub(f64x2.mul(Av, f64x2.promote_low_f32x4(d)), Bv), f64x2.mul(Cv, f64x2.promote_low_f32x4(h)));
          const hi = f64x2.sub(f64x2.sub(f64x2.mul(Av, f64x2.promote_low_f32x4(hi2(d))), Bv), f64x2.mul(Cv, f64x2.promote_low_f32x4(hi2(h))));
          v128.store(dx + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
        }
      }
      for (; i < HW; i++) {
        const o = off + (<usize>i << 2);
        store<f32>(dx + o, <f32>(a * <f64>load<f32>(dy + o) - b - cc * <f64>load<f32>(xhat + o)));
      }
    }
  }
}

