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
 * in onlyA).
 */
export function pairRows(rows: number[][]): MapPair[] {
  const left = rows.map((_, i) => i);
  const out: MapPair[] = [];
  const common = (a: number, b: number): number[] => rows[a].filter((c) => rows[b].includes(c));
  while (left.length > 1) {
    let best: [number, number] = [0, 1];
    let bestShared = -1;
    for (let i = 0; i < left.length; i++) {
      for (let j = i + 1; j < left.length; j++) {
        const shared = common(left[i], left[j]).length;
        if (shared > bestShared) {
          bestShared = shared;
          best = [i, j];
        }
      }
    }
    const [a, b] = [left[best[0]], left[best[1]]];
    const both = common(a, b);
    out.push({ a, b, both, onlyA: rows[a].filter((c) => !both.includes(c)), onlyB: rows[b].filter((c) => !both.includes(c)) });
    left.splice(best[1], 1);
    left.splice(best[0], 1);
  }
  if (left.length === 1) out.push({ a: left[0], b: left[0], both: [], onlyA: [...rows[left[0]]], onlyB: [] });
  return out;
}

/** [C, then per input channel: nconn, o…] from rows[o] = the input channels o reads. */
function encodeBackward(mem: Arena, rows: number[][], C: number): Int32Array {
  const feeds = Array.from({ length: C }, (_, c) => rows.flatMap((r, o) => (r.includes(c) ? [o] : [])));
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
  const reads = (o: number, c: number): boolean => !mask || mask[o * g.C + c] === 1;
  const outRows = Array.from({ length: OC }, (_, o) => Array.from({ length: g.C }, (_, c) => c).filter((c) => reads(o, c)));
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
