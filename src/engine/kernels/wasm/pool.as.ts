// Pooling over nC maps of H×W in WebAssembly SIMD. The reference is ../js/pool.ts.

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
