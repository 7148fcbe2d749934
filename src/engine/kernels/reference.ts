// Naive kernels: the specification the fast kernels are tested against. Written for
// obviousness, not speed; nothing in training calls them.

/** y (n, OC, OH, OW) = conv(x (n, C, H, W), w (OC, C, KH, KW)) + b, zero padding. */
export function refConv2d(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | null,
  n: number,
  C: number,
  H: number,
  W: number,
  OC: number,
  KH: number,
  KW: number,
  stride: number,
  pad: number,
): { y: Float32Array; OH: number; OW: number } {
  const OH = Math.floor((H + 2 * pad - KH) / stride) + 1;
  const OW = Math.floor((W + 2 * pad - KW) / stride) + 1;
  const y = new Float32Array(n * OC * OH * OW);
  for (let s = 0; s < n; s++) {
    for (let o = 0; o < OC; o++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let acc = b ? b[o] : 0;
          for (let c = 0; c < C; c++) {
            for (let i = 0; i < KH; i++) {
              for (let j = 0; j < KW; j++) {
                const ih = oh * stride + i - pad;
                const iw = ow * stride + j - pad;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += x[((s * C + c) * H + ih) * W + iw] * w[((o * C + c) * KH + i) * KW + j];
              }
            }
          }
          y[((s * OC + o) * OH + oh) * OW + ow] = acc;
        }
      }
    }
  }
  return { y, OH, OW };
}

/** C = A (M×K) · B (K×N), all row-major. */
export function refMatmul(A: Float32Array, B: Float32Array, M: number, N: number, K: number): Float32Array {
  const C = new Float32Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[i * K + k] * B[k * N + j];
      C[i * N + j] = s;
    }
  }
  return C;
}

/** Transpose of a row-major R×C matrix. */
export function refTranspose(A: Float32Array, R: number, C: number): Float32Array {
  const T = new Float32Array(R * C);
  for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) T[j * R + i] = A[i * C + j];
  return T;
}

export function refPool(x: Float32Array, n: number, C: number, H: number, W: number, size: number, stride: number, mode: 'max' | 'avg'): Float32Array {
  const OH = Math.floor((H - size) / stride) + 1;
  const OW = Math.floor((W - size) / stride) + 1;
  const y = new Float32Array(n * C * OH * OW);
  for (let m = 0; m < n * C; m++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const vals: number[] = [];
        for (let i = 0; i < size; i++) {
          for (let j = 0; j < size; j++) vals.push(x[m * H * W + (oh * stride + i) * W + ow * stride + j]);
        }
        y[(m * OH + oh) * OW + ow] = mode === 'max' ? Math.max(...vals) : vals.reduce((a, v) => a + v, 0) / vals.length;
      }
    }
  }
  return y;
}
