// Trainer on a tiny synthetic image set (64 random 8×8 images, label = brightest band of rows):
// bit-exact determinism, exact resumption from state()/restore(), divergence detection, and
// evaluate()'s confusion matrix.

import { describe, expect, it } from 'vitest';
import type { ImageSet } from '../../../src/engine/data';
import { DivergedError, EngineError, SpecError } from '../../../src/engine/errors';
import { evaluate } from '../../../src/engine/evaluate';
import { Model } from '../../../src/engine/model';
import { Rng } from '../../../src/engine/rng';
import type { ModelSpec } from '../../../src/engine/spec';
import { Trainer, type BatchResult } from '../../../src/engine/train';
import { validateTrainConfig, type TrainConfig } from '../../../src/engine/train-config';
import { testModels } from '../../helpers/kernels';

const newModel = testModels();

/** count random 8×8 images; label = which of rows 0–2, 3–5, 6–7 is brightest on average. */
function syntheticSet(count: number, seed: number): ImageSet {
  const rng = new Rng(seed);
  const pixels = new Uint8Array(count * 64);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const band = [0, 0, 0];
    for (let p = 0; p < 64; p++) {
      const v = rng.int(256);
      pixels[i * 64 + p] = v;
      const row = Math.floor(p / 8);
      band[row < 3 ? 0 : row < 6 ? 1 : 2] += v / (row < 6 ? 3 : 2);
    }
    labels[i] = band.indexOf(Math.max(...band));
  }
  return { count, rows: 8, cols: 8, pixels, labels };
}

/** LeNet-like: conv → bn → relu → maxpool → dense → bn → relu → dense → softmax. */
const LENET_TINY: ModelSpec = {
  input: [1, 8, 8],
  loss: 'cross-entropy',
  layers: [
    { type: 'conv2d', filters: 4, kernel: 3 },
    { type: 'batchnorm' },
    { type: 'activation', fn: 'relu' },
    { type: 'pool2d', mode: 'max', size: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 8 },
    { type: 'batchnorm' },
    { type: 'activation', fn: 'relu' },
    { type: 'dense', units: 3 },
    { type: 'activation', fn: 'softmax' },
  ],
};

const TANH_TINY: ModelSpec = {
  input: [1, 8, 8],
  loss: 'mse',
  init: 'lecun-uniform',
  layers: [
    { type: 'conv2d', filters: 4, kernel: 3 },
    { type: 'activation', fn: 'tanh' },
    { type: 'pool2d', mode: 'avg', size: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 3 },
    { type: 'activation', fn: 'tanh' },
  ],
};

const DATA = syntheticSet(64, 100);

function config(over: Partial<TrainConfig> = {}): TrainConfig {
  // batch 24 does not divide 64: every epoch ends with a batch of 16
  return { epochs: 2, batchSize: 24, lr: 0.05, momentum: 0.9, decay: 0.001, schedule: { type: 'cosine' }, seed: 7, shuffle: true, ...over };
}

function runToEnd(t: Trainer): BatchResult[] {
  const results: BatchResult[] = [];
  while (!t.done) {
    const r = t.step();
    if (r) results.push(r);
  }
  return results;
}

function train(spec: ModelSpec, initSeed: number, cfg: TrainConfig): { model: Model; results: BatchResult[] } {
  const model = newModel(spec).init(initSeed);
  const results = runToEnd(new Trainer(model, DATA, cfg));
  return { model, results };
}

/** Bit-for-bit equality of two float arrays (distinguishes −0 and NaN payloads too). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('Trainer 64×[1,8,8] batch 24', () => {
  it('steps through epochs: 3 batches of 24, 24, 16, then null, epochs times', () => {
    const t = new Trainer(newModel(LENET_TINY).init(1), DATA, config({ epochs: 2 }));
    expect(t.batchesPerEpoch).toBe(3);
    const seen: (number | null)[] = [];
    while (!t.done) {
      const r = t.step();
      seen.push(r ? r.n : null);
      if (r) {
        expect(Number.isFinite(r.loss)).toBe(true);
        expect(r.correct).toBeGreaterThanOrEqual(0);
        expect(r.correct).toBeLessThanOrEqual(r.n);
      }
    }
    expect(seen).toEqual([24, 24, 16, null, 24, 24, 16, null]);
    expect(t.epoch).toBe(2);
    expect(t.step()).toBeNull();
  });

  it('the same seed gives bit-identical parameters and buffers after 2 epochs', () => {
    const a = train(LENET_TINY, 3, config());
    const b = train(LENET_TINY, 3, config());
    expect(sameBits(a.model.params, b.model.params)).toBe(true);
    expect(sameBits(a.model.buffers, b.model.buffers)).toBe(true);
    expect(a.results).toEqual(b.results);
    // and training moved the weights
    expect(sameBits(a.model.params, newModel(LENET_TINY).init(3).params)).toBe(false);
  });

  it('a different trainer seed (same initial weights) shuffles differently and ends elsewhere', () => {
    const a = train(LENET_TINY, 3, config({ seed: 7 }));
    const b = train(LENET_TINY, 3, config({ seed: 8 }));
    expect(sameBits(a.model.params, b.model.params)).toBe(false);
  });

  it('without shuffling the trainer seed changes nothing (it only drives the shuffle)', () => {
    const a = train(LENET_TINY, 3, config({ seed: 7, shuffle: false }));
    const b = train(LENET_TINY, 3, config({ seed: 8, shuffle: false }));
    expect(sameBits(a.model.params, b.model.params)).toBe(true);
  });

  it('state()/restore() at an epoch boundary continues to bit-identical weights', () => {
    const cfg = config({ epochs: 3, momentum: 0.9, shuffle: true });
    const full = train(LENET_TINY, 4, cfg);

    const first = newModel(LENET_TINY).init(4);
    const t1 = new Trainer(first, DATA, cfg);
    const head: BatchResult[] = [];
    for (;;) {
      const r = t1.step();
      if (!r) break;
      head.push(r);
    }
    const state = t1.state();
    expect(state.epoch).toBe(1);
    expect(state.position).toBe(0);
    expect(state.velocity.some((v) => v !== 0)).toBe(true);
    const snap = first.snapshot();

    // A fresh process: other initial weights, a trainer that has already shuffled once.
    const second = newModel(LENET_TINY).init(99);
    const t2 = new Trainer(second, DATA, cfg);
    second.restore(snap);
    t2.restore(state);
    expect(t2.epoch).toBe(1);
    const tail = runToEnd(t2);
    expect(sameBits(second.params, full.model.params)).toBe(true);
    expect(sameBits(second.buffers, full.model.buffers)).toBe(true);
    expect([...head, ...tail]).toEqual(full.results);
  });

  it('state()/restore() mid-epoch continues to bit-identical weights', () => {
    const cfg = config({ epochs: 2, momentum: 0.9, shuffle: true });
    const full = train(LENET_TINY, 5, cfg);
    const first = newModel(LENET_TINY).init(5);
    const t1 = new Trainer(first, DATA, cfg);
    for (let i = 0; i < 5; i++) t1.step(); // 3 batches, the epoch's end, 1 batch of epoch 2
    const state = t1.state();
    expect([state.epoch, state.position]).toEqual([1, 24]);
    const second = newModel(LENET_TINY).init(6);
    const t2 = new Trainer(second, DATA, cfg);
    second.restore(first.snapshot());
    t2.restore(state);
    runToEnd(t2);
    expect(sameBits(second.params, full.model.params)).toBe(true);
  });

  it('state() is a copy: training on does not change a saved state', () => {
    const t = new Trainer(newModel(LENET_TINY).init(1), DATA, config());
    t.step();
    const s = t.state();
    const order = s.order.slice();
    const velocity = s.velocity.slice();
    t.step();
    expect(Array.from(s.order)).toEqual(Array.from(order));
    expect(sameBits(s.velocity, velocity)).toBe(true);
    expect(s.position).toBe(24);
  });

  it('restore() rejects a state from another dataset or model with CONFIG_INVALID', () => {
    const t = new Trainer(newModel(LENET_TINY).init(1), DATA, config());
    const other = new Trainer(newModel(LENET_TINY).init(1), syntheticSet(32, 1), config());
    expect(() => t.restore(other.state())).toThrow(SpecError);
    const tanh = new Trainer(newModel(TANH_TINY).init(1), DATA, config());
    try {
      t.restore(tanh.state());
      expect.unreachable();
    } catch (e) {
      expect((e as SpecError).code).toBe('CONFIG_INVALID');
    }
  });

  it('lr 1e6 on the LeNet-like net throws DivergedError with code DIVERGED', () => {
    const t = new Trainer(newModel(LENET_TINY).init(1), DATA, config({ lr: 1e6, epochs: 5 }));
    let caught: unknown;
    try {
      runToEnd(t);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(DivergedError);
    expect(caught).toBeInstanceOf(EngineError);
    expect((caught as DivergedError).code).toBe('DIVERGED');
    expect((caught as DivergedError).message).toMatch(/^training diverged at epoch 1, batch \d+: .*try a smaller learning rate/);
  });

  it('a non-finite weight stops training at the loss, before any weight is touched', () => {
    const model = newModel(LENET_TINY).init(1);
    model.tensor('fc2.weight')[0] = Number.POSITIVE_INFINITY;
    const before = model.params.slice();
    const t = new Trainer(model, DATA, config());
    expect(() => t.step()).toThrow(/epoch 1, batch 1: loss is NaN/);
    expect(sameBits(model.params, before)).toBe(true);
    expect(t.epochPosition).toBe(0);
  });

  it('learns the band rule: training loss falls over 10 epochs', () => {
    const { results } = train(TANH_TINY, 2, config({ epochs: 10, lr: 0.1, decay: 0 }));
    const epochLoss = (e: number): number => {
      const rs = results.slice(3 * e, 3 * e + 3);
      return rs.reduce((a, r) => a + r.loss * r.n, 0) / 64;
    };
    expect(epochLoss(9)).toBeLessThan(0.8 * epochLoss(0));
  });
});

describe('validateTrainConfig', () => {
  it.each<[string, Partial<TrainConfig>]>([
    ['epochs 0', { epochs: 0 }],
    ['batch size 1.5', { batchSize: 1.5 }],
    ['batch size 5000', { batchSize: 5000 }],
    ['lr 0', { lr: 0 }],
    ['lr NaN', { lr: Number.NaN }],
    ['lr Infinity', { lr: Number.POSITIVE_INFINITY }],
    ['momentum 1', { momentum: 1 }],
    ['decay −0.1', { decay: -0.1 }],
    ['seed −1', { seed: -1 }],
    ['seed 2³²', { seed: 2 ** 32 }],
  ])('rejects %s with CONFIG_INVALID', (_what, over) => {
    try {
      validateTrainConfig(config(over));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SpecError);
      expect((e as SpecError).code).toBe('CONFIG_INVALID');
    }
    expect(() => new Trainer(newModel(TANH_TINY), DATA, config(over))).toThrow(SpecError);
  });
});

describe('evaluate 64×[1,8,8]', () => {
  function trained(spec: ModelSpec): Model {
    return train(spec, 2, config({ epochs: 3, lr: 0.05 })).model;
  }

  it.each([
    ['LeNet-like, softmax + cross-entropy', LENET_TINY],
    ['tanh + mse', TANH_TINY],
  ])('%s: confusion rows sum to class counts and accuracy = trace/count', (_what, spec) => {
    const model = trained(spec);
    const buffers = model.buffers.slice();
    const ev = evaluate(model, DATA, 10); // 64 = 6·10 + 4: a short last batch
    const K = 3;
    expect(ev.count).toBe(64);
    for (let k = 0; k < K; k++) {
      const classCount = DATA.labels.filter((l) => l === k).length;
      expect(ev.confusion[k].reduce((a, v) => a + v, 0)).toBe(classCount);
    }
    const trace = ev.confusion.reduce((a, row, k) => a + row[k], 0);
    expect(ev.accuracy).toBe(trace / 64);
    // predictions agree with the matrix and with a direct inference-mode forward
    const y = model.forward(
      Float32Array.from(DATA.pixels, (p) => p / 255),
      64,
      false,
    );
    const fromMatrix = ev.confusion.map((row) => row.slice().fill(0));
    for (let i = 0; i < 64; i++) {
      fromMatrix[DATA.labels[i]][ev.predictions[i]]++;
      const row = Array.from(y.subarray(i * K, i * K + K));
      expect(ev.predictions[i]).toBe(row.indexOf(Math.max(...row)));
      const scores = ev.scores.subarray(i * K, i * K + K);
      expect(scores.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
    }
    expect(fromMatrix).toEqual(ev.confusion);
    expect(ev.loss).toBeCloseTo(model.lossSum(DATA.labels) / 64, 6);
    // inference mode: batch norm's running statistics are untouched
    expect(sameBits(model.buffers, buffers)).toBe(true);
  });

  it('results do not depend on the evaluation batch size', () => {
    const model = trained(LENET_TINY);
    const a = evaluate(model, DATA, 7);
    const b = evaluate(model, DATA, 500);
    expect(Array.from(a.predictions)).toEqual(Array.from(b.predictions));
    expect(sameBits(a.scores, b.scores)).toBe(true);
    expect(a.confusion).toEqual(b.confusion);
    expect(a.loss).toBeCloseTo(b.loss, 10);
  });

  it('an empty set gives zero counts and no NaN', () => {
    const ev = evaluate(newModel(TANH_TINY).init(1), { count: 0, rows: 8, cols: 8, pixels: new Uint8Array(0), labels: new Uint8Array(0) });
    expect([ev.count, ev.loss, ev.accuracy]).toEqual([0, 0, 0]);
    expect(ev.confusion).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });
});
