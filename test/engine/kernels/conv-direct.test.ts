// The direct convolution kernels (wasm/conv-*.as.ts: forward, weight gradient and input gradient
// over whole batches, skipping unconnected maps) against the im2col + GEMM
// reference (js/conv-batch.ts through the TypeScript kernels), over the map sizes that exercise
// every block size and partial store, paddings, kernel sizes, odd map counts and masks.

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type MapPair, makeConvPlan, pairRows } from '../../../src/engine/kernels/conv-plan';
import { jsKernels } from '../../../src/engine/kernels/js/backend';
import { convOutSize, type ConvGeometry } from '../../../src/engine/kernels/types';
import { createWasmKernels } from '../../../src/engine/kernels/wasm/backend';
import { LECUN_C3_TABLE } from '../../../src/engine/presets';
import { DEFAULT_WASM_PATH } from '../../../src/node/load-kernels';
import { compareTensors } from '../../helpers/close';
import { mulberry32 } from '../../helpers/prng';

const W = createWasmKernels(new WebAssembly.Module(readFileSync(DEFAULT_WASM_PATH)), 32 * 1024 * 1024);
/** The tests' arrays in wasm memory, handed back after each test. */
let M = W.arena();
afterEach(() => {
  M.dispose();
  M = W.arena();
});
const rnd = mulberry32(11);

function fill(a: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = rnd.next() * 2 - 1;
  return a;
}

function expectClose(name: string, got: Float32Array, want: Float32Array): void {
  const r = compareTensors(name, got, want, 1e-5, 1e-5);
  expect(r.ok, r.message).toBe(true);
}

function c3Mask(): Uint8Array {
  const m = new Uint8Array(16 * 6);
  for (let o = 0; o < 16; o++) for (let c = 0; c < 6; c++) m[o * 6 + c] = LECUN_C3_TABLE[c][o];
  return m;
}

function randomMask(OC: number, C: number): Uint8Array {
  const m = new Uint8Array(OC * C);
  for (let o = 0; o < OC; o++) {
    for (let c = 0; c < C; c++) m[o * C + c] = rnd.next() < 0.5 ? 1 : 0;
    m[o * C + Math.floor(rnd.next() * C)] = 1;
  }
  return m;
}

/** Runs forward, weight and input gradient through wasm and the reference; masked weights are zero. */
function check(label: string, C: number, H: number, Wd: number, OC: number, Kk: number, pad: number, n: number, mask: Uint8Array | null): void {
  const OH = convOutSize(H, Kk, 1, pad);
  const OW = convOutSize(Wd, Kk, 1, pad);
  const g: ConvGeometry = { C, H, W: Wd, KH: Kk, KW: Kk, stride: 1, pad, OH, OW };
  const k2 = Kk * Kk;
  const x = fill(M.alloc(n * C * H * Wd));
  const w = fill(M.alloc(OC * C * k2));
  if (mask) for (let oc = 0; oc < OC * C; oc++) if (!mask[oc]) w.fill(0, oc * k2, oc * k2 + k2);
  const bias = fill(M.alloc(OC));
  const dy = fill(M.alloc(n * OC * OH * OW));
  // Garbage after dy: the kernel reads past a row's end and must ignore what it finds.
  const dyPadded = M.alloc(dy.length + 8);
  dyPadded.set(dy);
  dyPadded.fill(Number.NaN, dy.length);
  const dyView = dyPadded.subarray(0, dy.length);

  const wantY = new Float32Array(n * OC * OH * OW);
  const wantDw = fill(new Float32Array(OC * C * k2));
  const jsPlan = makeConvPlan(jsKernels, jsKernels.arena(), g, OC, mask);
  jsKernels.convForward(wantY, x, w, bias, n, g, jsPlan);
  const dw0 = wantDw.slice();
  jsKernels.convBackwardWeights(wantDw, x, dy, n, g, jsPlan);

  const plan = makeConvPlan(W, M, g, OC, mask);
  // The kernels must not depend on what the scratch holds: whatever they read, they wrote or zeroed.
  plan.scratch.fill(Number.NaN);
  const y = M.alloc(n * OC * OH * OW + 4);
  y.fill(7);
  W.convForward(y, x, w, bias, n, g, plan);
  expectClose(`${label} forward`, y.subarray(0, wantY.length), wantY);
  expect(Array.from(y.subarray(wantY.length)), `${label}: nothing written past y`).toEqual([7, 7, 7, 7]);

  const dw = M.alloc(OC * C * k2);
  dw.set(dw0);
  plan.scratch.fill(Number.NaN);
  W.convBackwardWeights(dw, x, dyView, n, g, plan);
  // Entries of masked connections are left for the layer to zero: compare the connected ones.
  for (let oc = 0; oc < OC * C; oc++) {
    if (mask && !mask[oc]) continue;
    expectClose(`${label} dw[${oc}]`, dw.subarray(oc * k2, oc * k2 + k2), wantDw.subarray(oc * k2, oc * k2 + k2));
  }

  const wantDx = new Float32Array(n * C * H * Wd);
  jsKernels.convBackwardInput(wantDx, dy, w, n, g, jsPlan);
  const dx = M.alloc(wantDx.length + 4);
  dx.fill(Number.NaN, 0, wantDx.length); // overwritten, not accumulated into
  dx.fill(7, wantDx.length);
  plan.scratch.fill(Number.NaN);
  W.convBackwardInput(dx.subarray(0, wantDx.length), dyView, w, n, g, plan);
  expectClose(`${label} input gradient`, dx.subarray(0, wantDx.length), wantDx);
  expect(Array.from(dx.subarray(wantDx.length)), `${label}: nothing written past dx`).toEqual([7, 7, 7, 7]);
}

describe('direct convolution (wasm) against im2col + GEMM', () => {
  it('LeNet-5 conv1 (pad 2, 28 wide) and conv2 with the C3 table, batch 3', () => {
    check('conv1', 1, 28, 28, 6, 5, 2, 3, null);
    check('conv2 C3', 6, 14, 14, 16, 5, 0, 3, c3Mask());
    check('conv2 full', 6, 14, 14, 16, 5, 0, 2, null);
  });

  // Output widths 1…21 and 28 cover the 16-, 8- and 4-position blocks and every partial store.
  for (const OW of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 20, 21, 28]) {
    it(`output width ${OW}, 5×5 and 3×3 kernels, odd map counts`, () => {
      check(`w${OW} k5`, 2, 6, OW + 4, 3, 5, 0, 2, null);
      check(`w${OW} k3 pad1`, 3, 4, OW, 5, 3, 1, 1, null);
    });
  }

  // The kernels run over all OH·OW positions of a map at once: every count mod 16 (blocks of 16
  // and 4, a partial last vector of 1–3 lanes), with odd kernel heights (a single last kernel row).
  it('output maps of 1 to 121 positions (OH·OW ≡ every residue mod 16)', () => {
    for (const [OH, OW] of [
      [1, 1],
      [1, 2],
      [1, 3],
      [2, 2],
      [1, 5],
      [2, 3],
      [1, 7],
      [3, 3],
      [2, 5],
      [1, 11],
      [3, 4],
      [1, 13],
      [2, 7],
      [3, 5],
      [4, 4],
      [1, 17],
      [5, 5],
      [7, 7],
      [9, 9],
      [11, 11],
    ]) {
      check(`${OH}×${OW} k5`, 2, OH + 4, OW + 4, 3, 5, 0, 2, null);
      check(`${OH}×${OW} k3 pad1`, 1, OH, OW, 2, 3, 1, 2, null);
    }
  });

  it('kernel sizes 1, 2, 4, 6, 7 (the one-tap and five-tap weight-gradient paths)', () => {
    for (const Kk of [1, 2, 4, 6, 7]) check(`k${Kk}`, 2, 9, 11, 4, Kk, Math.floor(Kk / 2), 2, null);
  });

  it('kernel sizes 1 to 7 with a map on its own (the single-map weight-gradient blocks)', () => {
    for (const Kk of [1, 2, 3, 4, 5, 6, 7]) check(`k${Kk} odd maps`, 2, 9, 12, 3, Kk, Math.floor(Kk / 2), 2, null);
  });

  it("planes up to the staged copies' size go direct, larger ones through im2col, both right", () => {
    const geometry = (H: number, K: number, pad: number): ConvGeometry => {
      const O = H + 2 * pad - K + 1;
      return { C: 1, H, W: H, KH: K, KW: K, stride: 1, pad, OH: O, OW: O };
    };
    expect(W.directConvFits(geometry(28, 5, 2))).toBe(true); // LeNet-5 conv1
    expect(W.directConvFits(geometry(30, 3, 1))).toBe(true); // 32·30 + 30 + 12 = 1002 floats
    expect(W.directConvFits(geometry(32, 3, 1))).toBe(false); // 34·32 + 32 + 12 = 1132
    expect(W.directConvFits({ ...geometry(14, 5, 0), stride: 2 })).toBe(false);
    check('30×30 k3 pad1 (direct)', 2, 30, 30, 3, 3, 1, 2, null);
    expect(W.directConvFits({ C: 2, H: 30, W: 29, KH: 5, KW: 5, stride: 1, pad: 2, OH: 30, OW: 29 })).toBe(true); // 34·29 + 29 + 12 = 1027
    check('30×29 k5 pad2 (direct, near the limit)', 2, 30, 29, 3, 5, 2, 2, null);
    // 23·43 + 43 + 8 = 1040: the copies would just fit, but the last one's zero tail, written in
    // whole vectors, would run a float into the forward's tap records (here the first pair's
    // first map, 1, as maps 1 and 2 share both inputs): this geometry must go through im2col.
    const edge: ConvGeometry = { C: 2, H: 17, W: 39, KH: 3, KW: 3, stride: 1, pad: 3, OH: 21, OW: 43 };
    expect(W.directConvFits(edge)).toBe(false);
    check('17×39 k3 pad3 (just past the limit)', 2, 17, 39, 3, 3, 3, 2, Uint8Array.from([1, 0, 1, 1, 1, 1]));
    check('32×32 k3 pad1 (im2col)', 2, 32, 32, 3, 3, 1, 2, null);
  });

  it('an input channel no output map reads gets a zero gradient, with and without padding', () => {
    const mask = Uint8Array.from([1, 0, 1, 1, 0, 0]); // 2 maps × 3 inputs; input 1 feeds neither
    check('unused input, pad 1', 3, 6, 6, 2, 3, 1, 2, mask);
    check('unused input, pad 0', 3, 6, 6, 2, 3, 0, 2, mask);
  });

  it('random connection tables', () => {
    for (let t = 0; t < 5; t++) {
      const OC = 3 + t;
      const C = 2 + (t % 3);
      check(`mask ${t}`, C, 8, 9, OC, 3, t % 2, 2, randomMask(OC, C));
    }
  });

  it('an input that does not live in wasm memory is copied in and gives the same result', () => {
    const g: ConvGeometry = { C: 1, H: 6, W: 6, KH: 3, KW: 3, stride: 1, pad: 1, OH: 6, OW: 6 };
    const x = fill(new Float32Array(36));
    const w = fill(new Float32Array(9 * 2));
    const bias = fill(new Float32Array(2));
    const want = new Float32Array(72);
    jsKernels.convForward(want, x, w, bias, 1, g, makeConvPlan(jsKernels, jsKernels.arena(), g, 2, null));
    const y = new Float32Array(72);
    W.convForward(y, x, w, bias, 1, g, makeConvPlan(W, M, g, 2, null));
    expectClose('copy path', y, want);
  });
});

describe('pairRows', () => {
  it("pairs LeCun's C3 maps into 8 pairs sharing 23 inputs (46 of the 60 connections load x once for two maps), wasting none", () => {
    const rows = Array.from({ length: 16 }, (_, o) => [0, 1, 2, 3, 4, 5].filter((c) => LECUN_C3_TABLE[c][o]));
    const pairs = pairRows(rows);
    expect(pairs).toHaveLength(8);
    expect(pairs.flatMap((p) => [p.a, p.b]).sort((p, q) => p - q)).toEqual([...Array(16).keys()]);
    for (const p of pairs) {
      // Each map reads exactly its own inputs: the shared ones and its own, no others.
      expect([...p.both, ...p.onlyA].sort()).toEqual(rows[p.a]);
      expect([...p.both, ...p.onlyB].sort()).toEqual(rows[p.b]);
      for (const c of p.onlyA) expect(p.onlyB).not.toContain(c);
    }
    expect(pairs.reduce((n, p) => n + p.both.length, 0)).toBe(23);
    // conv2's 10×10 outputs: exactly the 60 connections' multiply-adds, with the table or without.
    const g: ConvGeometry = { C: 6, H: 14, W: 14, KH: 5, KW: 5, stride: 1, pad: 0, OH: 10, OW: 10 };
    expect(makeConvPlan(jsKernels, jsKernels.arena(), g, 16, c3Mask()).forwardMacs).toBe(60 * 25 * 100);
    expect(makeConvPlan(jsKernels, jsKernels.arena(), g, 16, null).forwardMacs).toBe(96 * 25 * 100);
  });

  /** The first implementation, kept as the spec: repeatedly take the remaining pair sharing most inputs. */
  function pairRowsReference(rows: number[][]): MapPair[] {
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

  it('gives the same pairs as the repeated best-pair search, for 200 random tables of 1..40 maps × 1..70 inputs', () => {
    const rng = mulberry32(0xc3);
    for (let t = 0; t < 200; t++) {
      const n = 1 + rng.int(40);
      const C = 1 + rng.int(70);
      const density = rng.next();
      const rows = Array.from({ length: n }, () => [...Array(C).keys()].filter(() => rng.next() < density));
      if (t % 10 === 0) for (let i = 1; i < n; i++) rows[i] = [...rows[0]]; // identical rows
      expect(pairRows(rows), `table ${t}: ${n}×${C}`).toEqual(pairRowsReference(rows));
    }
  });

  it('pairs a full 1024×1024 connection table and a 512-map plan over 64 inputs without the cubic search', () => {
    // The repeated search needs hours for the first and ~25 s for the second: past the timeout.
    const rows = Array.from({ length: 1024 }, (_, o) => [...Array(1024).keys()].filter((c) => (c + o) % 3 !== 0));
    const pairs = pairRows(rows);
    expect(pairs).toHaveLength(512);
    expect(new Set(pairs.flatMap((p) => [p.a, p.b])).size).toBe(1024);
    const g: ConvGeometry = { C: 64, H: 8, W: 8, KH: 1, KW: 1, stride: 1, pad: 0, OH: 8, OW: 8 };
    expect(makeConvPlan(jsKernels, jsKernels.arena(), g, 512, null).forwardMacs).toBe(512 * 64 * 64);
  }, 30_000);

  it('an odd row out stays on its own, with all its inputs as its own', () => {
    const rows = [[0], [1], [0, 1]];
    const pairs = pairRows(rows);
    expect(pairs).toHaveLength(2);
    const single = pairs.find((p) => p.a === p.b)!;
    expect(single.both).toEqual([]);
    expect(single.onlyB).toEqual([]);
    expect(single.onlyA).toEqual(rows[single.a]);
  });
});
