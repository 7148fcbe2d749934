// Conv plans: which input channels each output map reads (LeCun's C3 table leaves 36 of 96
// connections out), grouped into pairs of maps that share a register block in the direct wasm
// kernels, which output maps each input channel feeds (for the input gradient), and the scratch
// memory the kernels work in. A plan is built once per conv layer, from the kernels and the memory
// of the model that owns the layer.

import type { Arena, ConvGeometry, ConvPlan, Kernels } from './types';

/** A pair of output maps: the inputs both read (their loads shared), then those only one reads. */
export interface MapPair {
  a: number;
  /** Equal to a for a map left on its own. */
  b: number;
  both: number[];
  onlyA: number[];
  onlyB: number[];
}

/**
 * Pairs rows of a connection matrix so that paired rows share as many inputs as possible (a
 * shared input's loads serve both maps): the pair with the most common inputs is taken first
 * (then lowest indices). With an odd count the last row stays on its own (a = b, all its inputs
 * in onlyA). Rows list input channels in ascending order.
 *
 * Greedy in one pass: every pair's common count (a popcount of two bitsets), the pairs bucketed by
 * that count from most to fewest (lowest indices first within a count), then each pair taken
 * when both its rows are still free. That is the repeated "best remaining pair" choice, in
 * O(rows² · channels/32) instead of O(rows³ · channels²).
 */
export function pairRows(rows: readonly (readonly number[])[]): MapPair[] {
  const n = rows.length;
  const out: MapPair[] = [];
  const split = (a: number, b: number, inB: (c: number) => boolean, inA: (c: number) => boolean): MapPair => {
    const both = rows[a].filter(inB);
    return { a, b, both, onlyA: rows[a].filter((c) => !inB(c)), onlyB: rows[b].filter((c) => !inA(c)) };
  };
  if (rows.every((r) => r.length === rows[0].length && r.every((c, i) => c === rows[0][i]))) {
    // Every map reads the same inputs (no table): any pairing shares all of them.
    for (let a = 0; a + 1 < n; a += 2) out.push({ a, b: a + 1, both: [...rows[a]], onlyA: [], onlyB: [] });
    if (n % 2 === 1) out.push({ a: n - 1, b: n - 1, both: [], onlyA: [...rows[n - 1]], onlyB: [] });
    return out;
  }
  let C = 0;
  for (const r of rows) for (const c of r) C = Math.max(C, c + 1);
  const words = (C + 31) >>> 5;
  const bits = new Uint32Array(n * words);
  rows.forEach((r, i) => {
    for (const c of r) bits[i * words + (c >>> 5)] |= 1 << (c & 31);
  });
  const has = (row: number) => (c: number) => (bits[row * words + (c >>> 5)] & (1 << (c & 31))) !== 0;
  const pairCount = (n * (n - 1)) / 2;
  const shared = new Uint16Array(pairCount);
  const counts = new Uint32Array(C + 2);
  for (let i = 0, p = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, p++) {
      let s = 0;
      for (let w = 0; w < words; w++) s += popcount(bits[i * words + w] & bits[j * words + w]);
      shared[p] = s;
      counts[s]++;
    }
  }
  // Bucket starts, most shared first; within a bucket pairs keep (i, j) order.
  const start = new Uint32Array(C + 2);
  for (let s = C, at = 0; s >= 0; s--) {
    start[s] = at;
    at += counts[s];
  }
  const order = new Uint32Array(pairCount); // i·n + j
  for (let i = 0, p = 0; i < n; i++) for (let j = i + 1; j < n; j++, p++) order[start[shared[p]]++] = i * n + j;
  const used = new Uint8Array(n);
  let left = n;
  for (let k = 0; k < pairCount && left > 1; k++) {
    const a = Math.floor(order[k] / n);
    const b = order[k] % n;
    if (used[a] || used[b]) continue;
    used[a] = used[b] = 1;
    left -= 2;
    out.push(split(a, b, has(b), has(a)));
  }
  const single = used.indexOf(0);
  if (single >= 0) out.push({ a: single, b: single, both: [], onlyA: [...rows[single]], onlyB: [] });
  return out;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** [C, then per input channel: nconn, o…] from rows[o] = the input channels o reads. */
function encodeBackward(mem: Arena, rows: readonly (readonly number[])[], C: number): Int32Array {
  const feeds: number[][] = Array.from({ length: C }, () => []);
  rows.forEach((r, o) => {
    for (const c of r) feeds[c].push(o);
  });
  const plan = mem.allocI32(1 + C + feeds.reduce((a, f) => a + f.length, 0));
  let i = 0;
  plan[i++] = C;
  for (const f of feeds) {
    plan[i++] = f.length;
    for (const o of f) plan[i++] = o;
  }
  return plan;
}

function encode(mem: Arena, pairs: MapPair[]): Int32Array {
  const len = 1 + pairs.reduce((n, p) => n + 5 + p.both.length + p.onlyA.length + p.onlyB.length, 0);
  const plan = mem.allocI32(len);
  let i = 0;
  plan[i++] = pairs.length;
  for (const p of pairs) {
    plan[i++] = p.a;
    plan[i++] = p.b;
    for (const list of [p.both, p.onlyA, p.onlyB]) {
      plan[i++] = list.length;
      for (const c of list) plan[i++] = c;
    }
  }
  return plan;
}

/** mask[o·C + c] = 1 when output map o reads input map c; null means every connection. */
export function makeConvPlan(k: Kernels, mem: Arena, g: ConvGeometry, OC: number, mask: Uint8Array | null): ConvPlan {
  const all = Array.from({ length: g.C }, (_, c) => c);
  const outRows = Array.from({ length: OC }, (_, o) => (mask ? all.filter((c) => mask[o * g.C + c] === 1) : all));
  const fwd = pairRows(outRows);
  const scratch = mem.alloc(k.convScratchSize(g, OC));
  const columns = g.C * g.KH * g.KW * g.OH * g.OW;
  return {
    forward: encode(mem, fwd),
    backward: encodeBackward(mem, outRows, g.C),
    scratch,
    dcol: scratch.subarray(columns, 2 * columns),
    forwardMacs: fwd.reduce((n, p) => n + 2 * p.both.length + p.onlyA.length + p.onlyB.length, 0) * g.KH * g.KW * g.OH * g.OW,
  };
}
