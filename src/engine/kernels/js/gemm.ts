// Matrix products on flat row-major Float32Arrays with offsets, the engine's hot loops.
// Outputs come first, then inputs, then dimensions (llm.c style). `acc` adds into C instead of
// overwriting it, which is how parameter gradients accumulate over a batch.
//
// Plain TypeScript, blocked over rows of C so each B row loaded is used several times. These
// are also the fallback when WebAssembly SIMD is unavailable; `reference.ts` holds the naive
// versions the tests treat as the specification.

/** C[M×N] (+)= A[M×K] · B[K×N] */
export function gemmNN(
  C: Float32Array,
  cOff: number,
  A: Float32Array,
  aOff: number,
  B: Float32Array,
  bOff: number,
  M: number,
  N: number,
  K: number,
  acc: boolean,
): void {
  if (!acc) C.fill(0, cOff, cOff + M * N);
  let i = 0;
  for (; i + 1 < M; i += 2) {
    const c0 = cOff + i * N;
    const c1 = c0 + N;
    const a0 = aOff + i * K;
    const a1 = a0 + K;
    for (let k = 0; k < K; k++) {
      const x0 = A[a0 + k];
      const x1 = A[a1 + k];
      if (x0 === 0 && x1 === 0) continue; // masked (C3) or dead (ReLU) entries are common
      const b = bOff + k * N;
      for (let j = 0; j < N; j++) {
        const bv = B[b + j];
        C[c0 + j] += x0 * bv;
        C[c1 + j] += x1 * bv;
      }
    }
  }
  for (; i < M; i++) {
    const c0 = cOff + i * N;
    const a0 = aOff + i * K;
    for (let k = 0; k < K; k++) {
      const x0 = A[a0 + k];
      if (x0 === 0) continue;
      const b = bOff + k * N;
      for (let j = 0; j < N; j++) C[c0 + j] += x0 * B[b + j];
    }
  }
}

/** C[M×N] (+)= A[M×K] · B[N×K]ᵀ — each entry a dot product of two contiguous rows. */
export function gemmNT(
  C: Float32Array,
  cOff: number,
  A: Float32Array,
  aOff: number,
  B: Float32Array,
  bOff: number,
  M: number,
  N: number,
  K: number,
  acc: boolean,
): void {
  for (let i = 0; i < M; i++) {
    const a = aOff + i * K;
    const c = cOff + i * N;
    let j = 0;
    for (; j + 1 < N; j += 2) {
      const b0 = bOff + j * K;
      const b1 = b0 + K;
      let s0 = 0;
      let s1 = 0;
      for (let k = 0; k < K; k++) {
        const av = A[a + k];
        s0 += av * B[b0 + k];
        s1 += av * B[b1 + k];
      }
      if (acc) {
        C[c + j] += s0;
        C[c + j + 1] += s1;
      } else {
        C[c + j] = s0;
        C[c + j + 1] = s1;
      }
    }
    for (; j < N; j++) {
      const b0 = bOff + j * K;
      let s0 = 0;
      for (let k = 0; k < K; k++) s0 += A[a + k] * B[b0 + k];
      C[c + j] = acc ? C[c + j] + s0 : s0;
    }
  }
}

/** C[M×N] (+)= A[K×M]ᵀ · B[K×N] */
export function gemmTN(
  C: Float32Array,
  cOff: number,
  A: Float32Array,
  aOff: number,
  B: Float32Array,
  bOff: number,
  M: number,
  N: number,
  K: number,
  acc: boolean,
): void {
  if (!acc) C.fill(0, cOff, cOff + M * N);
  for (let k = 0; k < K; k++) {
    const a = aOff + k * M;
    const b = bOff + k * N;
    let i = 0;
    for (; i + 1 < M; i += 2) {
      const x0 = A[a + i];
      const x1 = A[a + i + 1];
      if (x0 === 0 && x1 === 0) continue;
      const c0 = cOff + i * N;
      const c1 = c0 + N;
      for (let j = 0; j < N; j++) {
        const bv = B[b + j];
        C[c0 + j] += x0 * bv;
        C[c1 + j] += x1 * bv;
      }
    }
    for (; i < M; i++) {
      const x0 = A[a + i];
      if (x0 === 0) continue;
      const c0 = cOff + i * N;
      for (let j = 0; j < N; j++) C[c0 + j] += x0 * B[b + j];
    }
  }
}
