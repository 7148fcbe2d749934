// GEMM in WebAssembly SIMD: C (+)= A·B with A read through strides (NN and TN), and C (+)= A·Bᵀ
// (NT). The reference is ../js/gemm.ts.

import { hsum, madd } from './simd.as';

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
