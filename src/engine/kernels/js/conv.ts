// im2col / col2im for one sample: a convolution becomes one GEMM.
//   col[(c·KH + ki)·KW + kj][oh·OW + ow] = x[c][oh·S + ki − P][ow·S + kj − P]  (0 outside)
// col2im is its adjoint: it adds each column entry back into the pixel it came from.

import type { ConvGeometry } from '../types';

/** col (C·KH·KW, OH·OW) ← x (C, H, W) */
export function im2col(col: Float32Array, colOff: number, x: Float32Array, xOff: number, g: ConvGeometry): void {
  const { C, H, W, KH, KW, stride, pad, OH, OW } = g;
  const P = OH * OW;
  let row = colOff;
  for (let c = 0; c < C; c++) {
    const xc = xOff + c * H * W;
    for (let ki = 0; ki < KH; ki++) {
      for (let kj = 0; kj < KW; kj++, row += P) {
        let o = row;
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * stride + ki - pad;
          if (ih < 0 || ih >= H) {
            col.fill(0, o, o + OW);
            o += OW;
            continue;
          }
          const xr = xc + ih * W;
          let iw = kj - pad;
          for (let ow = 0; ow < OW; ow++, o++, iw += stride) {
            col[o] = iw >= 0 && iw < W ? x[xr + iw] : 0;
          }
        }
      }
    }
  }
}

/** dx (C, H, W) += col2im(dcol (C·KH·KW, OH·OW)); dx must be zeroed by the caller. */
export function col2im(dx: Float32Array, dxOff: number, dcol: Float32Array, colOff: number, g: ConvGeometry): void {
  const { C, H, W, KH, KW, stride, pad, OH, OW } = g;
  const P = OH * OW;
  let row = colOff;
  for (let c = 0; c < C; c++) {
    const xc = dxOff + c * H * W;
    for (let ki = 0; ki < KH; ki++) {
      for (let kj = 0; kj < KW; kj++, row += P) {
        let o = row;
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * stride + ki - pad;
          if (ih < 0 || ih >= H) {
            o += OW;
            continue;
          }
          const xr = xc + ih * W;
          let iw = kj - pad;
          for (let ow = 0; ow < OW; ow++, o++, iw += stride) {
            if (iw >= 0 && iw < W) dx[xr + iw] += dcol[o];
          }
        }
      }
    }
  }
}
