// Training-time augmentation: the warp is exact for the identity, moves pixels where a shift,
// rotation or scale says, and the whole augmented run is reproducible from its seed — in one
// thread and, with the coordinator's draws shared, in two.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_AUGMENT,
  ELASTIC_GRID,
  TRANSFORM_SIZE,
  describeAugment,
  drawTransforms,
  isIdentityAugment,
  warpBatch,
  warpImage,
} from '../../src/engine/augment';
import { validateAugment } from '../../src/engine/train-config';
import { limitSet, type ImageSet } from '../../src/engine/data';
import { EngineError } from '../../src/engine/errors';
import { PRESETS } from '../../src/engine/presets';
import { Rng } from '../../src/engine/rng';
import { Trainer } from '../../src/engine/train';
import type { TrainConfig } from '../../src/engine/train-config';
import { loadMnist, type MnistData } from '../../src/node/datasets';
import { ParallelGradients } from '../../src/node/parallel/gradients';
import { testModels } from '../helpers/kernels';

const newModel = testModels();

const R = 28;
let mnist: MnistData;
let digit: Uint8Array; // the first training image
beforeAll(async () => {
  mnist = await loadMnist();
  digit = mnist.train.pixels.slice(0, R * R);
});

const pools: ParallelGradients[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

function warp(src: Uint8Array, dx: number, dy: number, deg: number, scale: number): Float32Array {
  const out = new Float32Array(R * R);
  warpImage(src, 0, 1, R, R, [dx, dy, (deg * Math.PI) / 180, scale], 0, out, 0);
  return out;
}

/** A blank image with one lit pixel. */
function dot(x: number, y: number): Uint8Array {
  const img = new Uint8Array(R * R);
  img[y * R + x] = 255;
  return img;
}

describe('warpImage', () => {
  it('the identity reproduces byte/255 exactly, as Model.forwardPixels scales it', () => {
    const out = warp(digit, 0, 0, 0, 1);
    const expected = new Float32Array(R * R);
    for (let i = 0; i < R * R; i++) expected[i] = digit[i] * (1 / 255);
    expect(Array.from(out)).toEqual(Array.from(expected));
    expect(out.some((v) => v > 0)).toBe(true);
  });

  it('a whole-pixel shift moves every pixel by that much and brings in background at the edge', () => {
    const out = warp(digit, 2, -1, 0, 1);
    for (let y = 0; y < R; y++) {
      for (let x = 0; x < R; x++) {
        const sx = x - 2;
        const sy = y + 1;
        const expected = sx >= 0 && sy < R ? digit[sy * R + sx] / 255 : 0;
        expect(out[y * R + x]).toBeCloseTo(expected, 6);
      }
    }
  });

  it('a half-pixel shift splits a pixel between its two neighbours (bilinear)', () => {
    const out = warp(dot(10, 12), 0.5, 0, 0, 1);
    expect(out[12 * R + 10]).toBeCloseTo(0.5, 6);
    expect(out[12 * R + 11]).toBeCloseTo(0.5, 6);
    expect(out.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6);
  });

  it('rotates about the centre: a quarter turn takes a point right of centre to below it (y down)', () => {
    // Centre (13.5, 13.5): (18, 13) is (+4.5, −0.5) from it; +90° takes that to (+0.5, +4.5) = (14, 18).
    const out = warp(dot(18, 13), 0, 0, 90, 1);
    expect(out[18 * R + 14]).toBeCloseTo(1, 5);
    expect(out.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 4);
  });

  it('scales about the centre: ×2 moves a point twice as far from it', () => {
    // (16, 13) is (+2.5, −0.5) from the centre → (+5, −1): (18.5, 12.5), between pixels, so
    // check the centre of mass of the (bilinearly spread) result.
    const out = warp(dot(16, 13), 0, 0, 0, 2);
    let m = 0;
    let mx = 0;
    let my = 0;
    for (let y = 0; y < R; y++) {
      for (let x = 0; x < R; x++) {
        m += out[y * R + x];
        mx += x * out[y * R + x];
        my += y * out[y * R + x];
      }
    }
    expect(mx / m).toBeCloseTo(13.5 + 2 * 2.5, 1);
    expect(my / m).toBeCloseTo(13.5 + 2 * -0.5, 1);
  });

  it('warpBatch warps image indices[s] with transform s', () => {
    const idx = [3, 0];
    const t = new Float64Array([0, 0, 0, 1, 1, 0, 0, 1]);
    const out = new Float32Array(2 * R * R);
    warpBatch(mnist.train.pixels, idx, 2, [1, R, R], t, out);
    expect(out[100]).toBe(mnist.train.pixels[3 * R * R + 100] / 255);
    expect(out[R * R + 5 * R + 11]).toBeCloseTo(digit[5 * R + 10] / 255, 6);
  });
});

describe('warpImage: the elastic displacement', () => {
  const G = ELASTIC_GRID;
  /** A transform with no affine part and the control points' displacements given. */
  function field(fx: (i: number, j: number) => number, fy: (i: number, j: number) => number = () => 0): Float64Array {
    const t = new Float64Array(TRANSFORM_SIZE);
    t[3] = 1;
    for (let j = 0; j < G; j++) {
      for (let i = 0; i < G; i++) {
        t[4 + j * G + i] = fx(i, j);
        t[4 + G * G + j * G + i] = fy(i, j);
      }
    }
    return t;
  }
  const apply = (t: Float64Array): Float32Array => {
    const out = new Float32Array(R * R);
    warpImage(digit, 0, 1, R, R, t, 0, out, 0);
    return out;
  };

  it('all control points displaced alike: every pixel samples that far away (a shift the other way)', () => {
    // Sampling one pixel to the right and two up moves the image one left and two down.
    expect(
      Array.from(
        apply(
          field(
            () => 1,
            () => -2,
          ),
        ),
      ),
    ).toEqual(Array.from(warp(digit, -1, 2, 0, 1)));
  });

  it('a zero field is the identity, exactly', () => {
    expect(Array.from(apply(field(() => 0)))).toEqual(Array.from(warp(digit, 0, 0, 0, 1)));
  });

  it('one control point moves its corner of the image and leaves the cells away from it alone', () => {
    const t = field((i, j) => (i === 0 && j === 0 ? 3 : 0));
    const out = apply(t);
    const plain = warp(digit, 0, 0, 0, 1);
    const cell = (R - 1) / (G - 1); // 9 pixels between control points
    for (let y = 0; y < R; y++) {
      for (let x = 0; x < R; x++) if (x >= cell || y >= cell) expect(out[y * R + x], `(${x}, ${y})`).toBe(plain[y * R + x]);
    }
    // On the control point the whole displacement: pixel (0, 0) reads (3, 0); halfway to the
    // next control point along x, half of it: (4.5, 0) reads (6, 0).
    const d = new Float32Array(R * R);
    warpImage(dot(3, 0), 0, 1, R, R, t, 0, d, 0);
    expect(d[0]).toBeCloseTo(1, 6);
    const h = new Float32Array(R * R);
    warpImage(dot(6, 0), 0, 1, R, R, t, 0, h, 0);
    // x = 4 reads 4 + 3·(1 − 4/9) = 5.67 and x = 5 reads 5 + 3·(1 − 5/9) = 6.33: both take part of (6, 0).
    expect(h[4]).toBeCloseTo(2 / 3, 5);
    expect(h[5]).toBeCloseTo(2 / 3, 5);
  });
});

describe('drawTransforms', () => {
  it('with an elastic displacement draws the control points within ±elastic after the affine four, reproducibly', () => {
    const a = { ...DEFAULT_AUGMENT, elastic: 2 };
    const t1 = new Float64Array(3 * TRANSFORM_SIZE);
    const t2 = new Float64Array(3 * TRANSFORM_SIZE);
    const r1 = new Rng(4);
    const r2 = new Rng(4);
    drawTransforms(r1, a, 3, t1);
    drawTransforms(r2, a, 3, t2);
    expect(Array.from(t1)).toEqual(Array.from(t2));
    const f = t1.subarray(4, TRANSFORM_SIZE);
    expect(f.every((v) => Math.abs(v) <= 2)).toBe(true);
    expect(new Set(f).size).toBe(f.length);
    // The affine part is drawn first, as without elastic; then 2 × G² numbers more per image.
    const plain = new Float64Array(TRANSFORM_SIZE);
    drawTransforms(new Rng(4), DEFAULT_AUGMENT, 1, plain);
    expect(Array.from(t1.subarray(0, 4))).toEqual(Array.from(plain.subarray(0, 4)));
    const r3 = new Rng(4);
    for (let k = 0; k < 3 * TRANSFORM_SIZE; k++) r3.next();
    expect(r1.nextU32()).toBe(r3.nextU32());
    expect(isIdentityAugment({ shift: 0, rotateDeg: 0, scale: 0, elastic: 1 })).toBe(false);
    expect(isIdentityAugment({ shift: 0, rotateDeg: 0, scale: 0, elastic: 0 })).toBe(true);
    expect(describeAugment(a)).toBe('±2 px, ±10°, ±10 %, elastic ±2 px');
    expect(() => validateAugment({ ...a, elastic: 7 })).toThrow(/elastic displacement must be/);
  });

  it('is deterministic for a seed, stays in range, and always draws four numbers per image', () => {
    const a = new Float64Array(50 * TRANSFORM_SIZE);
    const b = new Float64Array(50 * TRANSFORM_SIZE);
    const r1 = new Rng(9);
    const r2 = new Rng(9);
    drawTransforms(r1, DEFAULT_AUGMENT, 50, a);
    drawTransforms(r2, DEFAULT_AUGMENT, 50, b);
    expect(Array.from(a)).toEqual(Array.from(b));
    for (let s = 0; s < 50; s++) {
      const [dx, dy, ang, sc] = a.subarray(s * TRANSFORM_SIZE, s * TRANSFORM_SIZE + 4);
      expect(Math.abs(dx)).toBeLessThanOrEqual(2);
      expect(Math.abs(dy)).toBeLessThanOrEqual(2);
      expect(Math.abs(ang)).toBeLessThanOrEqual((10 * Math.PI) / 180);
      expect(Math.abs(sc - 1)).toBeLessThanOrEqual(0.1);
    }
    // Zero settings draw as many numbers: the streams stay in step.
    const r3 = new Rng(9);
    drawTransforms(r3, { shift: 0, rotateDeg: 0, scale: 0 }, 50, b);
    expect(r3.nextU32()).toBe(r1.nextU32());
    expect(Array.from(b.subarray(0, 4))).toEqual([0, 0, 0, 1]);
  });

  it('validateAugment refuses out-of-range settings with a config error', () => {
    expect(() => validateAugment({ shift: -1, rotateDeg: 0, scale: 0 })).toThrow(EngineError);
    expect(() => validateAugment({ shift: 0, rotateDeg: 90, scale: 0 })).toThrow(/rotation/);
    expect(() => validateAugment({ shift: 0, rotateDeg: 0, scale: Number.NaN })).toThrow(/scale/);
    expect(validateAugment({ ...DEFAULT_AUGMENT })).toEqual(DEFAULT_AUGMENT);
  });
});

describe('Trainer with augmentation', () => {
  const spec = PRESETS['lenet5-relu-ce'].spec;
  const config = (augment: TrainConfig['augment']): TrainConfig => ({
    ...PRESETS['lenet5-relu-ce'].defaults,
    epochs: 1,
    batchSize: 16,
    seed: 4,
    shuffle: true,
    augment,
  });

  function steps(t: Trainer, k: number): void {
    for (let i = 0; i < k; i++) t.step();
  }

  it('the same seed reproduces bit for bit; augmentation changes the run; the identity does not', () => {
    const train: ImageSet = limitSet(mnist.train, 256);
    const run = (augment: TrainConfig['augment']): Float32Array => {
      const m = newModel(spec).init(4);
      steps(new Trainer(m, train, config(augment)), 8);
      return m.params.slice();
    };
    const a = run(DEFAULT_AUGMENT);
    const b = run({ ...DEFAULT_AUGMENT });
    const plain = run(null);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(plain));
    // The identity warp builds exactly forwardPixels' input. Its draws move the RNG, which only
    // the next epoch's shuffle would notice: within the first epoch the runs are identical.
    const ident = run({ shift: 0, rotateDeg: 0, scale: 0 });
    expect(Array.from(ident)).toEqual(Array.from(plain));
  });

  it('state()/restore() mid-epoch continues with the same distortions', () => {
    const train = limitSet(mnist.train, 256);
    const m1 = newModel(spec).init(4);
    const t1 = new Trainer(m1, train, config(DEFAULT_AUGMENT));
    steps(t1, 3);
    const saved = { state: t1.state(), weights: m1.snapshot() };
    steps(t1, 4);
    const m2 = newModel(spec).init(99);
    m2.restore(saved.weights);
    const t2 = new Trainer(m2, train, config(DEFAULT_AUGMENT));
    t2.restore(saved.state);
    steps(t2, 4);
    expect(Array.from(m2.params)).toEqual(Array.from(m1.params));
  });

  it('two threads reproduce bit for bit, and match one thread closely (the workers warp with the shared draws)', async () => {
    const train = limitSet(mnist.train, 256);
    const run = async (threads: number): Promise<Float32Array> => {
      const m = newModel(spec).init(4);
      const p = await ParallelGradients.create(m, train, threads, 16);
      pools.push(p);
      steps(new Trainer(m, train, config(DEFAULT_AUGMENT), p), 6);
      return m.params.slice();
    };
    const a = await run(2);
    const b = await run(2);
    const one = await run(1);
    expect(Array.from(a)).toEqual(Array.from(b));
    // No batch norm in this preset: shards only change float rounding. Had a worker drawn its own
    // distortions (or none), its half of every batch would differ and the weights would move far.
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - one[i]));
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
