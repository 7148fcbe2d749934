// WebAssembly SIMD kernels, written in AssemblyScript and compiled at build time by
// `scripts/build-wasm.mjs` (asc --enable simd -O3 --runtime stub --importMemory) twice: kernels.wasm,
// and kernels-relaxed.wasm with --enable relaxed-simd, where `madd` (simd.as.ts) is a fused
// multiply-add. The host picks the relaxed build when its runtime accepts it.
// This file is the module's entry: it holds GEMM, im2col, pooling, batch norm and the optimizer
// step, and re-exports the kernels kept in their own files (direct convolution, activations).
// Every pointer is a byte offset into the memory the engine allocates tensors from, so JS keeps
// Float32Array views on the same bytes and nothing is copied per call. The plain TypeScript
// kernels (gemm.ts, conv.ts, pool.ts) define what each function computes; tests compare.

export * from './conv.as';
export * from './activations.as';
import { hsum, madd } from './simd.as';

/** 1 in the relaxed-SIMD build (kernels-relaxed.wasm), 0 in the plain one: the module says which it is. */
export function relaxed_simd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// GEMM with A read through strides: element A(i,k) at a + 4·(i·rsA + k·csA).
//   NN: C (M×N) (+)= A (M×K) · B (K×N)      rsA = K, csA = 1
//   TN: C (M×N) (+)= Aᵀ, A stored (K×M)      rsA = 1, csA = M
// Register block: 4 rows × 8 columns of C in eight f32x4 accumulators; each B load serves 4 rows.

// @ts-ignore: decorator
@inline function splat(p: usize): v128 {
  return f32x4.splat(load<f32>(p));
}

export function gemm_xn(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, rsA: i32, csA: i32, acc: i32): void {
  const rowB = <usize>N << 2;
  const sa = <usize>rsA << 2;
  const ca = <usize>csA << 2;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const c0 = c + (<usize>(i * N) << 2);
    const a0 = a + <usize>i * sa;
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      const cj = c0 + (<usize>j << 2);
      let x00 = f32x4.splat(0), x01 = f32x4.splat(0), x10 = f32x4.splat(0), x11 = f32x4.splat(0);
      let x20 = f32x4.splat(0), x21 = f32x4.splat(0), x30 = f32x4.splat(0), x31 = f32x4.splat(0);
      let pb = b + (<usize>j << 2);
      let pa = a0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        const v0 = splat(pa);
        const v1 = splat(pa + sa);
        const v2 = splat(pa + 2 * sa);
        const v3 = splat(pa + 3 * sa);
        x00 = madd(v0, b0, x00);
        x01 = madd(v0, b1, x01);
        x10 = madd(v1, b0, x10);
        x11 = madd(v1, b1, x11);
        x20 = madd(v2, b0, x20);
        x21 = madd(v2, b1, x21);
        x30 = madd(v3, b0, x30);
        x31 = madd(v3, b1, x31);
        pb += rowB;
        pa += ca;
      }
      const r = rowB;
      if (acc) {
        x00 = f32x4.add(x00, v128.load(cj));
        x01 = f32x4.add(x01, v128.load(cj, 16));
        x10 = f32x4.add(x10, v128.load(cj + r));
        x11 = f32x4.add(x11, v128.load(cj + r, 16));
        x20 = f32x4.add(x20, v128.load(cj + 2 * r));
        x21 = f32x4.add(x21, v128.load(cj + 2 * r, 16));
        x30 = f32x4.add(x30, v128.load(cj + 3 * r));
        x31 = f32x4.add(x31, v128.load(cj + 3 * r, 16));
      }
      v128.store(cj, x00);
      v128.store(cj, x01, 16);
      v128.store(cj + r, x10);
      v128.store(cj + r, x11, 16);
      v128.store(cj + 2 * r, x20);
      v128.store(cj + 2 * r, x21, 16);
      v128.store(cj + 3 * r, x30);
      v128.store(cj + 3 * r, x31, 16);
    }
    for (; j + 4 <= N; j += 4) {
      const cj = c0 + (<usize>j << 2);
      let x0 = f32x4.splat(0), x1 = f32x4.splat(0), x2 = f32x4.splat(0), x3 = f32x4.splat(0);
      let pb = b + (<usize>j << 2);
      let pa = a0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        x0 = madd(splat(pa), b0, x0);
        x1 = madd(splat(pa + sa), b0, x1);
        x2 = madd(splat(pa + 2 * sa), b0, x2);
        x3 = madd(splat(pa + 3 * sa), b0, x3);
        pb += rowB;
        pa += ca;
      }
      if (acc) {
        x0 = f32x4.add(x0, v128.load(cj));
        x1 = f32x4.add(x1, v128.load(cj + rowB));
        x2 = f32x4.add(x2, v128.load(cj + 2 * rowB));
        x3 = f32x4.add(x3, v128.load(cj + 3 * rowB));
      }
      v128.store(cj, x0);
      v128.store(cj + rowB, x1);
      v128.store(cj + 2 * rowB, x2);
      v128.store(cj + 3 * rowB, x3);
    }
    for (; j < N; j++) {
      for (let r = 0; r < 4; r++) {
        let s: f32 = 0;
        let pa = a0 + <usize>r * sa;
        let pb = b + (<usize>j << 2);
        for (let k = 0; k < K; k++) {
          s += load<f32>(pa) * load<f32>(pb);
          pa += ca;
          pb += rowB;
        }
        const pc = c0 + <usize>r * rowB + (<usize>j << 2);
        store<f32>(pc, acc ? load<f32>(pc) + s : s);
      }
    }
  }
  // Leftover rows, one at a time.
  for (; i < M; i++) {
    const c0 = c + (<usize>(i * N) << 2);
    const a0 = a + <usize>i * sa;
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      const cj = c0 + (<usize>j << 2);
      let x0 = f32x4.splat(0), x1 = f32x4.splat(0);
      let pb = b + (<usize>j << 2);
      let pa = a0;
      for (let k = 0; k < K; k++) {
        const v = splat(pa);
        x0 = madd(v, v128.load(pb), x0);
        x1 = madd(v, v128.load(pb, 16), x1);
        pb += rowB;
        pa += ca;
      }
      if (acc) {
        x0 = f32x4.add(x0, v128.load(cj));
        x1 = f32x4.add(x1, v128.load(cj, 16));
      }
      v128.store(cj, x0);
      v128.store(cj, x1, 16);
    }
    for (; j < N; j++) {
      let s: f32 = 0;
      let pa = a0;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        s += load<f32>(pa) * load<f32>(pb);
        pa += ca;
        pb += rowB;
      }
      const pc = c0 + (<usize>j << 2);
      store<f32>(pc, acc ? load<f32>(pc) + s : s);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// NT: C (M×N) (+)= A (M×K) · Bᵀ, B stored (N×K). Every entry is a dot product of two contiguous
// rows; blocks of 2×4 entries share loads, the K loop runs 4 lanes wide.

function dotTail(pa: usize, pb: usize, k0: i32, K: i32): f32 {
  let s: f32 = 0;
  for (let k = k0; k < K; k++) s += load<f32>(pa + (<usize>k << 2)) * load<f32>(pb + (<usize>k << 2));
  return s;
}

export function gemm_nt(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  const rk = <usize>K << 2;
  const K4 = K & ~3;
  let i = 0;
  for (; i + 2 <= M; i += 2) {
    const a0 = a + <usize>i * rk;
    const a1 = a0 + rk;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const b0 = b + <usize>j * rk;
      const b1 = b0 + rk;
      const b2 = b1 + rk;
      const b3 = b2 + rk;
      let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
      let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        const va0 = v128.load(a0 + o);
        const va1 = v128.load(a1 + o);
        const vb0 = v128.load(b0 + o);
        const vb1 = v128.load(b1 + o);
        const vb2 = v128.load(b2 + o);
        const vb3 = v128.load(b3 + o);
        s00 = madd(va0, vb0, s00);
        s01 = madd(va0, vb1, s01);
        s02 = madd(va0, vb2, s02);
        s03 = madd(va0, vb3, s03);
        s10 = madd(va1, vb0, s10);
        s11 = madd(va1, vb1, s11);
        s12 = madd(va1, vb2, s12);
        s13 = madd(va1, vb3, s13);
      }
      const c0 = c + (<usize>(i * N + j) << 2);
      const c1 = c0 + (<usize>N << 2);
      let r00 = hsum(s00) + dotTail(a0, b0, K4, K);
      let r01 = hsum(s01) + dotTail(a0, b1, K4, K);
      let r02 = hsum(s02) + dotTail(a0, b2, K4, K);
      let r03 = hsum(s03) + dotTail(a0, b3, K4, K);
      let r10 = hsum(s10) + dotTail(a1, b0, K4, K);
      let r11 = hsum(s11) + dotTail(a1, b1, K4, K);
      let r12 = hsum(s12) + dotTail(a1, b2, K4, K);
      let r13 = hsum(s13) + dotTail(a1, b3, K4, K);
      if (acc) {
        r00 += load<f32>(c0);
        r01 += load<f32>(c0, 4);
        r02 += load<f32>(c0, 8);
        r03 += load<f32>(c0, 12);
        r10 += load<f32>(c1);
        r11 += load<f32>(c1, 4);
        r12 += load<f32>(c1, 8);
        r13 += load<f32>(c1, 12);
      }
      store<f32>(c0, r00);
      store<f32>(c0, r01, 4);
      store<f32>(c0, r02, 8);
      store<f32>(c0, r03, 12);
      store<f32>(c1, r10);
      store<f32>(c1, r11, 4);
      store<f32>(c1, r12, 8);
      store<f32>(c1, r13, 12);
    }
    for (; j < N; j++) {
      const b0 = b + <usize>j * rk;
      ntSingle(c + (<usize>(i * N + j) << 2), a0, b0, K, K4, acc);
      ntSingle(c + (<usize>((i + 1) * N + j) << 2), a1, b0, K, K4, acc);
    }
  }
  for (; i < M; i++) {
    const a0 = a + <usize>i * rk;
    for (let j = 0; j < N; j++) ntSingle(c + (<usize>(i * N + j) << 2), a0, b + <usize>j * rk, K, K4, acc);
  }
}

function ntSingle(pc: usize, pa: usize, pb: usize, K: i32, K4: i32, acc: i32): void {
  let s = f32x4.splat(0);
  for (let k = 0; k < K4; k += 4) {
    const o = <usize>k << 2;
    s = madd(v128.load(pa + o), v128.load(pb + o), s);
  }
  const r = hsum(s) + dotTail(pa, pb, K4, K);
  store<f32>(pc, acc ? load<f32>(pc) + r : r);
}

// ---------------------------------------------------------------------------------------------
// im2col / col2im for one sample (see conv.ts for the definition).

export function im2col(col: usize, x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, stride: i32, pad: i32, OH: i32, OW: i32): void {
  let o = col;
  const rowBytes = <usize>OW << 2;
  for (let c = 0; c < C; c++) {
    const xc = x + (<usize>(c * H * W) << 2);
    for (let ki = 0; ki < KH; ki++) {
      for (let kj = 0; kj < KW; kj++) {
        const iw0 = kj - pad;
        // Output columns whose input column lies inside the image (stride 1): [lo, hi).
        const lo = iw0 < 0 ? -iw0 : 0;
        const hi = min(OW, W - iw0);
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * stride + ki - pad;
          if (ih < 0 || ih >= H) {
            memory.fill(o, 0, rowBytes);
            o += rowBytes;
            continue;
          }
          const xr = xc + (<usize>(ih * W) << 2);
          if (stride == 1) {
            if (lo > 0) memory.fill(o, 0, <usize>lo << 2);
            if (hi > lo) memory.copy(o + (<usize>lo << 2), xr + (<usize>(lo + iw0) << 2), <usize>(hi - lo) << 2);
            if (hi < OW) memory.fill(o + (<usize>max(hi, lo) << 2), 0, <usize>(OW - max(hi, lo)) << 2);
            o += rowBytes;
            continue;
          }
          let iw = iw0;
          for (let ow = 0; ow < OW; ow++) {
            store<f32>(o, iw >= 0 && iw < W ? load<f32>(xr + (<usize>iw << 2)) : 0);
            o += 4;
            iw += stride;
          }
        }
      }
    }
  }
}

/** dx += col2im(dcol); dx zeroed by the caller. */
export function col2im(dx: usize, col: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, stride: i32, pad: i32, OH: i32, OW: i32): void {
  let o = col;
  const rowBytes = <usize>OW << 2;
  for (let c = 0; c < C; c++) {
    const xc = dx + (<usize>(c * H * W) << 2);
    for (let ki = 0; ki < KH; ki++) {
      for (let kj = 0; kj < KW; kj++) {
        const iw0 = kj - pad;
        const lo = iw0 < 0 ? -iw0 : 0;
        const hi = min(OW, W - iw0);
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * stride + ki - pad;
          if (ih < 0 || ih >= H) {
            o += rowBytes;
            continue;
          }
          const xr = xc + (<usize>(ih * W) << 2);
          if (stride == 1) {
            let p = xr + (<usize>(lo + iw0) << 2);
            let q = o + (<usize>lo << 2);
            let ow = lo;
            for (; ow + 4 <= hi; ow += 4) {
              v128.store(p, f32x4.add(v128.load(p), v128.load(q)));
              p += 16;
              q += 16;
            }
            for (; ow < hi; ow++) {
              store<f32>(p, load<f32>(p) + load<f32>(q));
              p += 4;
              q += 4;
            }
            o += rowBytes;
            continue;
          }
          let iw = iw0;
          for (let ow = 0; ow < OW; ow++) {
            if (iw >= 0 && iw < W) {
              const p = xr + (<usize>iw << 2);
              store<f32>(p, load<f32>(p) + load<f32>(o));
            }
            o += 4;
            iw += stride;
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Pooling over nC maps of H×W (see pool.ts).

/** argmax = 0: the values only (inference), the same ones. */
export function maxpool_fwd(y: usize, argmax: usize, x: usize, nC: i32, H: i32, W: i32, size: i32, stride: i32, OH: i32, OW: i32): void {
  if (size == 2 && stride == 2) {
    if (argmax) maxpool2(y, argmax, x, nC, H, W, OH, OW);
    else maxpool2Values(y, x, nC, H, W, OH, OW);
    return;
  }
  let o: usize = 0;
  for (let m = 0; m < nC; m++) {
    const base = m * H * W;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const h0 = oh * stride;
        const w0 = ow * stride;
        let best: f32 = -Infinity;
        let bi = base + h0 * W + w0;
        for (let i = 0; i < size; i++) {
          const r = base + (h0 + i) * W + w0;
          for (let j = 0; j < size; j++) {
            const v = load<f32>(x + (<usize>(r + j) << 2));
            if (v > best) {
              best = v;
              bi = r + j;
            }
          }
        }
        store<f32>(y + (o << 2), best);
        if (argmax) store<i32>(argmax + (o << 2), bi);
        o++;
      }
    }
  }
}

/**
 * maxpool2 without the winners' indices (inference): each step of the general loop, "v wins when
 * v > best", is f32x4.pmax(best, v) (best < v ? v : best), so the values are the same, NaN and
 * signed zeros included.
 */
function maxpool2Values(y: usize, x: usize, nC: i32, H: i32, W: i32, OH: i32, OW: i32): void {
  let py = y;
  const lowest = f32x4.splat(-Infinity);
  for (let m = 0; m < nC; m++) {
    const plane = x + (<usize>(m * H * W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      let p = plane + (<usize>(2 * oh * W) << 2);
      let ow = 0;
      for (; ow + 4 <= OW; ow += 4) {
        const q = p + (<usize>W << 2);
        const r0 = v128.load(p);
        const r1 = v128.load(p, 16);
        const s0 = v128.load(q);
        const s1 = v128.load(q, 16);
        let best = f32x4.pmax(lowest, v128.shuffle<f32>(r0, r1, 0, 2, 4, 6));
        best = f32x4.pmax(best, v128.shuffle<f32>(r0, r1, 1, 3, 5, 7));
        best = f32x4.pmax(best, v128.shuffle<f32>(s0, s1, 0, 2, 4, 6));
        best = f32x4.pmax(best, v128.shuffle<f32>(s0, s1, 1, 3, 5, 7));
        v128.store(py, best);
        py += 16;
        p += 32;
      }
      for (; ow < OW; ow++) {
        const q = p + (<usize>W << 2);
        let best: f32 = -Infinity;
        const a = load<f32>(p);
        if (a > best) best = a;
        const b = load<f32>(p, 4);
        if (b > best) best = b;
        const c = load<f32>(q);
        if (c > best) best = c;
        const d = load<f32>(q, 4);
        if (d > best) best = d;
        store<f32>(py, best);
        py += 4;
        p += 8;
      }
    }
  }
}

/** The common 2×2 stride-2 case; same winners as the general loop (first maximum in scan order). */
// Four outputs at a time: two rows of 8 inputs split into even and odd columns, then the
// general loop's comparisons as lane masks: from −∞, the first strictly greater value wins, so
// a NaN never does.
function maxpool2(y: usize, argmax: usize, x: usize, nC: i32, H: i32, W: i32, OH: i32, OW: i32): void {
  let py = y;
  let pa = argmax;
  const step = i32x4(0, 2, 4, 6);
  for (let m = 0; m < nC; m++) {
    const base = m * H * W;
    for (let oh = 0; oh < OH; oh++) {
      let i0 = base + 2 * oh * W;
      let ow = 0;
      for (; ow + 4 <= OW; ow += 4) {
        const p = x + (<usize>i0 << 2);
        const q = p + (<usize>W << 2);
        const r0 = v128.load(p);
        const r1 = v128.load(p, 16);
        const s0 = v128.load(q);
        const s1 = v128.load(q, 16);
        const a = v128.shuffle<f32>(r0, r1, 0, 2, 4, 6);
        const b = v128.shuffle<f32>(r0, r1, 1, 3, 5, 7);
        const c = v128.shuffle<f32>(s0, s1, 0, 2, 4, 6);
        const d = v128.shuffle<f32>(s0, s1, 1, 3, 5, 7);
        const ia = i32x4.add(i32x4.splat(i0), step);
        let t = f32x4.gt(a, f32x4.splat(-Infinity));
        let best = v128.bitselect(a, f32x4.splat(-Infinity), t);
        let bi = ia;
        t = f32x4.gt(b, best);
        best = v128.bitselect(b, best, t);
        bi = v128.bitselect(i32x4.add(ia, i32x4.splat(1)), bi, t);
        t = f32x4.gt(c, best);
        best = v128.bitselect(c, best, t);
        bi = v128.bitselect(i32x4.add(ia, i32x4.splat(W)), bi, t);
        t = f32x4.gt(d, best);
        best = v128.bitselect(d, best, t);
        bi = v128.bitselect(i32x4.add(ia, i32x4.splat(W + 1)), bi, t);
        v128.store(py, best);
        v128.store(pa, bi);
        py += 16;
        pa += 16;
        i0 += 8;
      }
      for (; ow < OW; ow++) {
        const p = x + (<usize>i0 << 2);
        const q = p + (<usize>W << 2);
        let best: f32 = -Infinity;
        let bi = i0;
        const a = load<f32>(p);
        if (a > best) best = a;
        const b = load<f32>(p, 4);
        if (b > best) {
          best = b;
          bi = i0 + 1;
        }
        const c = load<f32>(q);
        if (c > best) {
          best = c;
          bi = i0 + W;
        }
        const d = load<f32>(q, 4);
        if (d > best) {
          best = d;
          bi = i0 + W + 1;
        }
        store<f32>(py, best);
        store<i32>(pa, bi);
        py += 4;
        pa += 4;
        i0 += 2;
      }
    }
  }
}

export function maxpool_bwd(dx: usize, dy: usize, argmax: usize, count: i32): void {
  for (let o = 0; o < count; o++) {
    const p = dx + (<usize>load<i32>(argmax + (<usize>o << 2)) << 2);
    store<f32>(p, load<f32>(p) + load<f32>(dy + (<usize>o << 2)));
  }
}

export function avgpool_fwd(y: usize, x: usize, nC: i32, H: i32, W: i32, size: i32, stride: i32, OH: i32, OW: i32): void {
  const inv: f32 = 1.0 / <f32>(size * size);
  const fast = size == 2 && stride == 2;
  const vinv = f32x4.splat(inv);
  let o = y;
  for (let m = 0; m < nC; m++) {
    const base = x + (<usize>(m * H * W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      let ow = 0;
      // 2×2, stride 2: four outputs at a time, summed in the scalar loop's order.
      if (fast) {
        for (; ow + 4 <= OW; ow += 4) {
          const p = base + (<usize>(2 * oh * W + 2 * ow) << 2);
          const q = p + (<usize>W << 2);
          const r0 = v128.load(p);
          const r1 = v128.load(p, 16);
          const s0 = v128.load(q);
          const s1 = v128.load(q, 16);
          let t = f32x4.add(v128.shuffle<f32>(r0, r1, 0, 2, 4, 6), v128.shuffle<f32>(r0, r1, 1, 3, 5, 7));
          t = f32x4.add(t, v128.shuffle<f32>(s0, s1, 0, 2, 4, 6));
          t = f32x4.add(t, v128.shuffle<f32>(s0, s1, 1, 3, 5, 7));
          v128.store(o, f32x4.mul(t, vinv));
          o += 16;
        }
        // the last 1–3 outputs of the row, in the same order, without the general loops
        for (; ow < OW; ow++) {
          const p = base + (<usize>(2 * oh * W + 2 * ow) << 2);
          const q = p + (<usize>W << 2);
          store<f32>(o, (load<f32>(p) + load<f32>(p, 4) + load<f32>(q) + load<f32>(q, 4)) * inv);
          o += 4;
        }
      }
      for (; ow < OW; ow++) {
        let s: f32 = 0;
        for (let i = 0; i < size; i++) {
          const r = base + (<usize>((oh * stride + i) * W + ow * stride) << 2);
          for (let j = 0; j < size; j++) s += load<f32>(r + (<usize>j << 2));
        }
        store<f32>(o, s * inv);
        o += 4;
      }
    }
  }
}

export function avgpool_bwd(dx: usize, dy: usize, nC: i32, H: i32, W: i32, size: i32, stride: i32, OH: i32, OW: i32): void {
  const inv: f32 = 1.0 / <f32>(size * size);
  const fast = size == 2 && stride == 2;
  const vinv = f32x4.splat(inv);
  let o = dy;
  for (let m = 0; m < nC; m++) {
    const base = dx + (<usize>(m * H * W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      let ow = 0;
      // 2×2, stride 2: every input gets one share; four outputs' shares at a time.
      if (fast) {
        for (; ow + 4 <= OW; ow += 4) {
          const v = f32x4.mul(v128.load(o), vinv);
          o += 16;
          const lo = v128.shuffle<f32>(v, v, 0, 0, 1, 1);
          const hi = v128.shuffle<f32>(v, v, 2, 2, 3, 3);
          const p = base + (<usize>(2 * oh * W + 2 * ow) << 2);
          const q = p + (<usize>W << 2);
          v128.store(p, f32x4.add(v128.load(p), lo));
          v128.store(p, f32x4.add(v128.load(p, 16), hi), 16);
          v128.store(q, f32x4.add(v128.load(q), lo));
          v128.store(q, f32x4.add(v128.load(q, 16), hi), 16);
        }
        for (; ow < OW; ow++) {
          const v = load<f32>(o) * inv;
          o += 4;
          const p = base + (<usize>(2 * oh * W + 2 * ow) << 2);
          const q = p + (<usize>W << 2);
          store<f32>(p, load<f32>(p) + v);
          store<f32>(p, load<f32>(p, 4) + v, 4);
          store<f32>(q, load<f32>(q) + v);
          store<f32>(q, load<f32>(q, 4) + v, 4);
        }
      }
      for (; ow < OW; ow++) {
        const v = load<f32>(o) * inv;
        o += 4;
        for (let i = 0; i < size; i++) {
          const r = base + (<usize>((oh * stride + i) * W + ow * stride) << 2);
          for (let j = 0; j < size; j++) {
            const p = r + (<usize>j << 2);
            store<f32>(p, load<f32>(p) + v);
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Input batches: y[i] = src[i] / 255 for len bytes at src (a batch's pixels, gathered by the host),
// 16 at a time. f32 division is correctly rounded, as the reference's pixel·(1/255) in f64 rounded
// to f32 turns out to be for all 256 byte values (a test checks every one).

export function pixels_to_f32(y: usize, src: usize, len: i32): void {
  const d = f32x4.splat(255);
  let i = 0;
  for (; i + 16 <= len; i += 16) {
    const b = v128.load(src + <usize>i);
    const lo = i16x8.extend_low_i8x16_u(b);
    const hi = i16x8.extend_high_i8x16_u(b);
    const o = y + (<usize>i << 2);
    v128.store(o, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(lo)), d));
    v128.store(o, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(lo)), d), 16);
    v128.store(o, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(hi)), d), 32);
    v128.store(o, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(hi)), d), 48);
  }
  for (; i < len; i++) store<f32>(y + (<usize>i << 2), <f32>load<u8>(src + <usize>i) / 255);
}

// ---------------------------------------------------------------------------------------------
// Pointwise: ReLU forward/backward (tanh and sigmoid: activations.as.ts).

export function relu_fwd(y: usize, x: usize, len: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.max(v128.load(x + o), z));
  }
  for (; i < len; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(y + (<usize>i << 2), v > 0 ? v : 0);
  }
}

export function relu_bwd(dx: usize, dy: usize, y: usize, len: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    const mask = f32x4.gt(v128.load(y + o), z);
    v128.store(dx + o, v128.and(v128.load(dy + o), mask));
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

/** y[s, c, p] += bias[c] over n samples of C channels × P positions. */
export function add_bias(y: usize, bias: usize, n: i32, C: i32, P: i32): void {
  let o = y;
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < C; c++) {
      const v = f32x4.splat(load<f32>(bias + (<usize>c << 2)));
      const b = load<f32>(bias + (<usize>c << 2));
      let p = 0;
      for (; p + 4 <= P; p += 4) {
        v128.store(o, f32x4.add(v128.load(o), v));
        o += 16;
      }
      for (; p < P; p++) {
        store<f32>(o, load<f32>(o) + b);
        o += 4;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Batch norm over n samples of C channels × HW positions (HW = 1 after a dense layer).
// Reductions accumulate in f64 (as the TypeScript reference does): a channel of conv1 spans
// n·784 values and the backward formula cancels large terms, so f32 sums lose digits.
// scratch: 4·C floats, used as two f64 arrays of C.

// @ts-ignore: decorator
@inline function hi2(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 2, 3, 0, 1);
}

/** Σ x[0..len) in f64. */
function sumF64(x: usize, len: i32): f64 {
  let a = f64x2.splat(0);
  let b = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    a = f64x2.add(a, f64x2.promote_low_f32x4(v));
    b = f64x2.add(b, f64x2.promote_low_f32x4(hi2(v)));
  }
  let t = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1) + f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1);
  for (; i < len; i++) t += <f64>load<f32>(x + (<usize>i << 2));
  return t;
}

/** Σ (x − m)² over x[0..len) in f64. */
function sumSqF64(x: usize, len: i32, m: f64): f64 {
  const M = f64x2.splat(m);
  let a = f64x2.splat(0);
  let b = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const lo = f64x2.sub(f64x2.promote_low_f32x4(v), M);
    const hi = f64x2.sub(f64x2.promote_low_f32x4(hi2(v)), M);
    a = f64x2.add(a, f64x2.mul(lo, lo));
    b = f64x2.add(b, f64x2.mul(hi, hi));
  }
  let t = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1) + f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1);
  for (; i < len; i++) {
    const d = <f64>load<f32>(x + (<usize>i << 2)) - m;
    t += d * d;
  }
  return t;
}

/** Σ x·y over [0..len) in f64. */
function dotF64(x: usize, y: usize, len: i32): f64 {
  let a = f64x2.splat(0);
  let b = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    const u = v128.load(x + o);
    const v = v128.load(y + o);
    a = f64x2.add(a, f64x2.mul(f64x2.promote_low_f32x4(u), f64x2.promote_low_f32x4(v)));
    b = f64x2.add(b, f64x2.mul(f64x2.promote_low_f32x4(hi2(u)), f64x2.promote_low_f32x4(hi2(v))));
  }
  let t = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1) + f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1);
  for (; i < len; i++) {
    const o = <usize>i << 2;
    t += <f64>load<f32>(x + o) * <f64>load<f32>(y + o);
  }
  return t;
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
 *  depends on x, and rounding the statistics to f32 first would swamp what little it does. */
function channelNormalize(y: usize, xhat: usize, x: usize, mean: usize, inv: usize, gamma: usize, beta: usize, n: i32, C: i32, HW: i32): void {
  if (HW == 1) {
    normalizeColumns(y, xhat, x, mean, inv, gamma, beta, n, C);
    return;
  }
  if (HW >= F32_MIN_HW) {
    normalizeF32(y, xhat, x, mean, inv, gamma, beta, n, C, HW);
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
    }
  }
}

/** channelNormalize in f32 for maps of HW ≥ F32_MIN_HW positions. */
function normalizeF32(y: usize, xhat: usize, x: usize, mean: usize, inv: usize, gamma: usize, beta: usize, n: i32, C: i32, HW: i32): void {
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < C; c++) {
      const co = <usize>c << 2;
      const off = <usize>((s * C + c) * HW) << 2;
      const mv = <f32>load<f64>(f64at(mean, c));
      const iv = <f32>load<f64>(f64at(inv, c));
      const gv = load<f32>(gamma + co);
      const bv = load<f32>(beta + co);
      const Mv = f32x4.splat(mv), Iv = f32x4.splat(iv), Gv = f32x4.splat(gv), Bv = f32x4.splat(bv);
      let i = 0;
      for (; i + 4 <= HW; i += 4) {
        const o = off + (<usize>i << 2);
        const h = f32x4.mul(f32x4.sub(v128.load(x + o), Mv), Iv);
        v128.store(y + o, f32x4.add(f32x4.mul(h, Gv), Bv));
        if (xhat) v128.store(xhat + o, h);
      }
      for (; i < HW; i++) {
        const o = off + (<usize>i << 2);
        const h = (load<f32>(x + o) - mv) * iv;
        store<f32>(y + o, h * gv + bv);
        if (xhat) store<f32>(xhat + o, h);
      }
    }
  }
}

/**
 * channelNormalize for HW = 1 (the n×C output of a dense layer): the same f64 arithmetic, two
 * channels at a time across a row instead of one call per value.
 */
function normalizeColumns(y: usize, xhat: usize, x: usize, mean: usize, inv: usize, gamma: usize, beta: usize, n: i32, C: i32): void {
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

/**
 * Training-mode forward: batch mean and biased variance per channel, y = γ·x̂ + β, running
 * statistics updated with the unbiased variance.
 */
export function bn_fwd_train(y: usize, xhat: usize, x: usize, gamma: usize, beta: usize, runMean: usize, runVar: usize, mean: usize, invStd: usize, scratch: usize, n: i32, C: i32, HW: i32, eps: f32, momentum: f32): void {
  const count = <f64>(n * HW);
  const sums = scratch; // f64[C]
  const sqs = scratch + (<usize>C << 3); // f64[C]
  memory.fill(scratch, 0, <usize>C << 4);
  if (HW == 1) {
    columnSums(sums, x, 0, n, C);
    columnSquares(sqs, x, sums, count, n, C);
  } else {
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
  channelNormalize(y, xhat, x, sums, sqs, gamma, beta, n, C, HW);
}

/** Inference: y = γ·(x − μ_run)/√(σ²_run + ε) + β; invStd gets 1/√(σ²_run + ε). */
export function bn_fwd_infer(y: usize, x: usize, gamma: usize, beta: usize, runMean: usize, runVar: usize, invStd: usize, scratch: usize, n: i32, C: i32, HW: i32, eps: f32): void {
  const means = scratch; // f64[C]
  const invs = scratch + (<usize>C << 3); // f64[C]
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const inv = 1.0 / Math.sqrt(<f64>load<f32>(runVar + o) + <f64>eps);
    store<f32>(invStd + o, <f32>inv);
    store<f64>(f64at(invs, c), inv);
    store<f64>(f64at(means, c), <f64>load<f32>(runMean + o));
  }
  channelNormalize(y, 0, x, means, invs, gamma, beta, n, C, HW);
}

/** bn_bwd_train's dx for HW = 1: the same f64 arithmetic, two channels at a time across a row. */
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

/** Training-mode backward: dγ += Σ dy·x̂, dβ += Σ dy; dx = γσ⁻¹/m · (m·dy − Σdy − x̂·Σ(dy·x̂)). */
export function bn_bwd_train(dx: usize, dgamma: usize, dbeta: usize, dy: usize, xhat: usize, gamma: usize, invStd: usize, scratch: usize, n: i32, C: i32, HW: i32, needDx: i32): void {
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
  const count = <f64>(n * HW);
  for (let c = 0; c < C; c++) {
    const co = <usize>c << 2;
    store<f32>(dgamma + co, <f32>(<f64>load<f32>(dgamma + co) + load<f64>(f64at(sdyx, c))));
    store<f32>(dbeta + co, <f32>(<f64>load<f32>(dbeta + co) + load<f64>(f64at(sdy, c))));
  }
  if (!needDx) return;
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

// ---------------------------------------------------------------------------------------------
// Optimizer and checks over flat parameter arrays.

/** 1 when every value of x[0..len) is finite. */
export function all_finite(x: usize, len: i32): i32 {
  // x − x is 0 for finite x and NaN for ±Inf and NaN: OR the bits together (a one-cycle chain;
  // adding them up waited on the adder's latency every step).
  let acc = i32x4.splat(0);
  let i = 0;
  for (; i + 8 <= len; i += 8) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const u = v128.load(x + o, 16);
    acc = v128.or(acc, v128.or(f32x4.sub(v, v), f32x4.sub(u, u)));
  }
  let t: f32 = 0;
  for (; i < len; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    t += v - v;
  }
  return !v128.any_true(acc) && t == t ? 1 : 0;
}

/** out = a·out + b·x over len values; a = 0 ignores out (NaN included): out = b·x. */
export function scale_add(out: usize, a: f32, x: usize, b: f32, len: i32): void {
  const A = f32x4.splat(a);
  const B = f32x4.splat(b);
  let i = 0;
  if (a == 0) {
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.mul(B, v128.load(x + o)));
    }
    for (; i < len; i++) store<f32>(out + (<usize>i << 2), b * load<f32>(x + (<usize>i << 2)));
    return;
  }
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(f32x4.mul(A, v128.load(out + o)), f32x4.mul(B, v128.load(x + o))));
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, a * load<f32>(out + o) + b * load<f32>(x + o));
  }
}

export function add_decay(g: usize, p: usize, len: i32, decay: f32): void {
  const D = f32x4.splat(decay);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    v128.store(g + o, f32x4.add(v128.load(g + o), f32x4.mul(D, v128.load(p + o))));
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    store<f32>(g + o, load<f32>(g + o) + decay * load<f32>(p + o));
  }
}

/** v = μ·v + g; p −= lr·v (μ = 0: p −= lr·g, v untouched). */
export function sgd_step(p: usize, g: usize, v: usize, len: i32, lr: f32, momentum: f32): void {
  const L = f32x4.splat(lr);
  const M = f32x4.splat(momentum);
  let i = 0;
  if (momentum != 0) {
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      const nv = f32x4.add(f32x4.mul(M, v128.load(v + o)), v128.load(g + o));
      v128.store(v + o, nv);
      v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(L, nv)));
    }
    for (; i < len; i++) {
      const o = <usize>i << 2;
      const nv = momentum * load<f32>(v + o) + load<f32>(g + o);
      store<f32>(v + o, nv);
      store<f32>(p + o, load<f32>(p + o) - lr * nv);
    }
    return;
  }
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(L, v128.load(g + o))));
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    store<f32>(p + o, load<f32>(p + o) - lr * load<f32>(g + o));
  }
}

/** out[c] += Σ over n samples and P positions of x[s, c, p] (bias gradients), summed in f64. */
export function channel_sum_add(out: usize, x: usize, n: i32, C: i32, P: i32): void {
  if (P == 1) {
    // After a dense layer: the same f64 sums, without a reduction call per value.
    for (let c = 0; c < C; c++) {
      let t: f64 = 0;
      for (let s = 0; s < n; s++) t += <f64>load<f32>(x + (<usize>(s * C + c) << 2));
      const o = out + (<usize>c << 2);
      store<f32>(o, <f32>(<f64>load<f32>(o) + t));
    }
    return;
  }
  for (let c = 0; c < C; c++) {
    let t: f64 = 0;
    for (let s = 0; s < n; s++) t += sumF64(x + (<usize>((s * C + c) * P) << 2), P);
    const o = out + (<usize>c << 2);
    store<f32>(o, <f32>(<f64>load<f32>(o) + t));
  }
}
