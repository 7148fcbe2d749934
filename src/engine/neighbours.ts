// The nearest training digits: brute-force Euclidean search over embeddings (embedding.ts).

export interface Neighbour {
  /** 0-based position in the searched set. */
  index: number;
  distance: number;
}

/**
 * The k rows of `embeddings` (count × dim, row after row) nearest to `query` (dim values) by
 * Euclidean distance, nearest first; equal distances in row order.
 */
export function nearest(embeddings: Float32Array, dim: number, query: ArrayLike<number>, k: number): Neighbour[] {
  const count = Math.floor(embeddings.length / dim);
  k = Math.max(0, Math.min(k, count));
  if (!k) return [];
  // A max-heap of the k best so far (squared distances), worst at the top.
  const heapD = new Float64Array(k);
  const heapI = new Int32Array(k);
  let size = 0;
  const worse = (a: number, b: number): boolean => heapD[a] > heapD[b] || (heapD[a] === heapD[b] && heapI[a] > heapI[b]);
  const swap = (a: number, b: number): void => {
    const d = heapD[a];
    heapD[a] = heapD[b];
    heapD[b] = d;
    const i = heapI[a];
    heapI[a] = heapI[b];
    heapI[b] = i;
  };
  for (let r = 0; r < count; r++) {
    let d2 = 0;
    const off = r * dim;
    for (let j = 0; j < dim; j++) {
      const t = embeddings[off + j] - query[j];
      d2 += t * t;
    }
    if (size === k && d2 >= heapD[0]) continue; // not better than the worst kept (ties keep the earlier row)
    let c: number;
    if (size < k) {
      c = size++;
      heapD[c] = d2;
      heapI[c] = r;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!worse(c, p)) break;
        swap(c, p);
        c = p;
      }
    } else {
      heapD[0] = d2;
      heapI[0] = r;
      c = 0;
      for (;;) {
        const l = 2 * c + 1;
        const rr = l + 1;
        let m = c;
        if (l < size && worse(l, m)) m = l;
        if (rr < size && worse(rr, m)) m = rr;
        if (m === c) break;
        swap(c, m);
        c = m;
      }
    }
  }
  const out: Neighbour[] = [];
  for (let i = 0; i < size; i++) out.push({ index: heapI[i], distance: Math.sqrt(heapD[i]) });
  return out.sort((a, b) => a.distance - b.distance || a.index - b.index);
}
