// SGD (PyTorch semantics: g += λp on weights only; v = μv + g; p −= lr·v) against a two-step
// example worked by hand, and the learning-rate schedules.

import { describe, expect, it } from 'vitest';
import { SpecError } from '../../../src/engine/errors';
import { Model } from '../../../src/engine/model';
import { Sgd } from '../../../src/engine/optim';
import { formatSchedule, learningRate, parseSchedule, type Schedule } from '../../../src/engine/schedule';
import { testModels } from '../../helpers/kernels';

const newModel = testModels();

// fc1.weight [2,2] (decay), fc1.bias [2], bn1.weight [2], bn1.bias [2] (no decay); bn1 buffers.
const SPEC = {
  input: [1, 1, 2],
  loss: 'mse',
  layers: [{ type: 'flatten' }, { type: 'dense', units: 2 }, { type: 'batchnorm' }, { type: 'activation', fn: 'tanh' }],
};

function model(): Model {
  const m = newModel(SPEC).init(1);
  m.params.fill(1);
  return m;
}

function twoSteps(m: Model, opt: Sgd): number[][] {
  const after: number[][] = [];
  for (let step = 0; step < 2; step++) {
    m.grads.fill(0.5);
    opt.step(0.1);
    after.push(Array.from(m.params));
  }
  return after;
}

describe('Sgd', () => {
  it('decays only the tensors marked for decay (dense/conv weights)', () => {
    const m = model();
    expect(m.index.filter((e) => e.store === 'param').map((e) => [e.name, e.decay])).toEqual([
      ['fc1.weight', true],
      ['fc1.bias', false],
      ['bn1.weight', false],
      ['bn1.bias', false],
    ]);
  });

  it('momentum 0.9, decay 0.1, lr 0.1, p₀ = 1, grad 0.5 twice: hand-computed values', () => {
    // weights: g₁ = 0.5 + 0.1·1 = 0.6, v₁ = 0.6, p₁ = 0.94
    //          g₂ = 0.5 + 0.1·0.94 = 0.594, v₂ = 0.9·0.6 + 0.594 = 1.134, p₂ = 0.94 − 0.1134 = 0.8266
    // others:  v₁ = 0.5, p₁ = 0.95; v₂ = 0.45 + 0.5 = 0.95, p₂ = 0.855
    const m = model();
    const buffers = m.buffers.slice();
    const opt = new Sgd(m, { momentum: 0.9, decay: 0.1 });
    const [p1, p2] = twoSteps(m, opt);
    const expect1 = [0.94, 0.94, 0.94, 0.94, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95];
    const expect2 = [0.8266, 0.8266, 0.8266, 0.8266, 0.855, 0.855, 0.855, 0.855, 0.855, 0.855];
    p1.forEach((v, i) => expect(v).toBeCloseTo(expect1[i], 6));
    p2.forEach((v, i) => expect(v).toBeCloseTo(expect2[i], 6));
    const vExpected = [1.134, 1.134, 1.134, 1.134, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95];
    Array.from(opt.velocity).forEach((v, i) => expect(v).toBeCloseTo(vExpected[i], 6));
    expect(Array.from(m.buffers)).toEqual(Array.from(buffers)); // running statistics are not trained
  });

  it('momentum 0, decay 0.1: plain p −= lr·(g + λp) on weights, p −= lr·g elsewhere', () => {
    // weights: 1 − 0.1·0.6 = 0.94; 0.94 − 0.1·(0.5 + 0.094) = 0.8806. others: 0.95, 0.90
    const m = model();
    const opt = new Sgd(m, { momentum: 0, decay: 0.1 });
    const [p1, p2] = twoSteps(m, opt);
    p1.forEach((v, i) => expect(v).toBeCloseTo(i < 4 ? 0.94 : 0.95, 6));
    p2.forEach((v, i) => expect(v).toBeCloseTo(i < 4 ? 0.8806 : 0.9, 6));
    expect(opt.velocity.every((v) => v === 0)).toBe(true);
  });

  it('momentum 0.5, decay 0: the first step is plain SGD (v starts at 0)', () => {
    // v₁ = 0.5, p₁ = 0.95; v₂ = 0.25 + 0.5 = 0.75, p₂ = 0.875 — for every tensor
    const m = model();
    const [p1, p2] = twoSteps(m, new Sgd(m, { momentum: 0.5, decay: 0 }));
    p1.forEach((v) => expect(v).toBeCloseTo(0.95, 6));
    p2.forEach((v) => expect(v).toBeCloseTo(0.875, 6));
  });
});

describe('learningRate', () => {
  it('constant is the base rate every epoch', () => {
    for (let e = 0; e < 5; e++) expect(learningRate(0.1, { type: 'constant' }, e, 5)).toBe(0.1);
  });

  it('step:2:0.5 halves every 2 epochs', () => {
    const s: Schedule = { type: 'step', every: 2, gamma: 0.5 };
    expect([0, 1, 2, 3, 4, 5].map((e) => learningRate(0.8, s, e, 6))).toEqual([0.8, 0.8, 0.4, 0.4, 0.2, 0.2]);
  });

  it('cosine runs from the base rate at epoch 0 to minFactor·base at the last epoch', () => {
    const s: Schedule = { type: 'cosine' };
    expect(learningRate(0.1, s, 0, 11)).toBeCloseTo(0.1, 12);
    expect(learningRate(0.1, s, 10, 11)).toBeCloseTo(0.001, 12); // default minFactor 0.01
    expect(learningRate(0.1, s, 5, 11)).toBeCloseTo((0.1 + 0.001) / 2, 12);
    expect(learningRate(0.1, { type: 'cosine', minFactor: 0.5 }, 10, 11)).toBeCloseTo(0.05, 12);
    // monotone decreasing
    const lrs = Array.from({ length: 11 }, (_, e) => learningRate(0.1, s, e, 11));
    for (let e = 1; e < 11; e++) expect(lrs[e]).toBeLessThan(lrs[e - 1]);
    // a single epoch trains at the base rate
    expect(learningRate(0.1, s, 0, 1)).toBe(0.1);
  });
});

describe('parseSchedule', () => {
  it.each<[string, Schedule]>([
    ['constant', { type: 'constant' }],
    ['cosine', { type: 'cosine' }],
    ['step:5:0.5', { type: 'step', every: 5, gamma: 0.5 }],
    ['step:1:.1', { type: 'step', every: 1, gamma: 0.1 }],
    ['step:10:2', { type: 'step', every: 10, gamma: 2 }],
  ])('parses %s', (text, expected) => {
    expect(parseSchedule(text)).toEqual(expected);
  });

  it.each(['', 'linear', 'Cosine', 'step', 'step:5', 'step:0:0.5', 'step:5:0', 'step:-1:0.5', 'step:1.5:0.5', 'step:5:0.5:1', 'step:5:-0.5', ' constant'])(
    'rejects "%s" with CONFIG_INVALID',
    (text) => {
      let caught: unknown;
      try {
        parseSchedule(text);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(SpecError);
      expect((caught as SpecError).code).toBe('CONFIG_INVALID');
      expect((caught as SpecError).message).toContain(`"${text}"`);
    },
  );

  it('formatSchedule round-trips through parseSchedule', () => {
    for (const text of ['constant', 'cosine', 'step:3:0.25']) expect(formatSchedule(parseSchedule(text))).toBe(text);
  });
});
