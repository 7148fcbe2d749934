// im2col / col2im for one sample in WebAssembly. The reference is ../js/conv.ts.

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
