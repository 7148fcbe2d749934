// Model-level checks: backward against finite differences of the batch-mean loss through a
// whole network, spec validation, and the model's own API. The RNG, SGD and schedules are in
// rng.test.ts and optim.test.ts, the trainer and evaluation in train.test.ts.

import { describe, expect, it } from 'vitest';
import { SpecError } from '../../../src/engine/errors';
import type { Model } from '../../../src/engine/model';
import { LECUN_C3_TABLE, lenet5Spec } from '../../../src/engine/presets';
import { Rng } from '../../../src/engine/rng';
import { validateSpec, type LayerSpec, type ModelSpec } from '../../../src/engine/spec';
import { checkTensorGrad, describeChecks, randomArray, type TensorCheck } from '../../helpers/gradcheck';
import { testModels } from '../../helpers/kernels';

const newModel = testModels();

// --- model-level gradient check ------------------------------------------------------------

function tinySpec(head: 'softmax' | 'tanh', pool: 'max' | 'avg'): ModelSpec {
  return {
    input: [1, 8, 8],
    loss: head === 'softmax' ? 'cross-entropy' : 'mse',
    init: 'xavier-uniform',
    layers: [
      { type: 'conv2d', filters: 3, kernel: 3, padding: 1 },
      { type: 'batchnorm' },
      { type: 'activation', fn: 'tanh' },
      { type: 'pool2d', mode: pool, size: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 5 },
      { type: 'activation', fn: head },
    ],
  };
}

/**
 * Analytic gradients from model.backward(labels, true) against central differences of
 * lossSum/n, for the input and every parameter tensor. Training mode: batch norm's loss depends
 * on the whole batch, so every forward here runs over all n samples. Max pooling is only
 * piecewise smooth: a step of 1e-2 on a conv weight moves every map enough to change some
 * windows' winners, so those variants use 1e-3.
 */
function modelGradCheck(model: Model, x: Float32Array, labels: Uint8Array, n: number, seed: number, step: number): TensorCheck[] {
  const rng = new Rng(seed);
  model.forward(x, n, true);
  model.zeroGrad();
  const dx = model.backward(labels, true).slice();
  const grads = model.grads.slice();
  const loss = (): number => {
    model.forward(x, n, true);
    return model.lossSum(labels) / n;
  };
  const tol = { step, rtol: 2e-2, atol: 2e-4, samples: 100 };
  const checks = [checkTensorGrad('input', x, dx, loss, rng, tol)];
  for (const e of model.index) {
    if (e.store !== 'param') continue;
    const p = model.params.subarray(e.offset, e.offset + e.length);
    checks.push(checkTensorGrad(e.name, p, grads.subarray(e.offset, e.offset + e.length), loss, rng, tol));
  }
  return checks;
}

describe.each([
  { name: 'model x=[4,1,8,8] conv3@3×3 p=1 → bn → tanh → maxpool2 → dense5 → softmax, cross-entropy', head: 'softmax' as const, pool: 'max' as const },
  { name: 'model x=[4,1,8,8] conv3@3×3 p=1 → bn → tanh → avgpool2 → dense5 → tanh, mse', head: 'tanh' as const, pool: 'avg' as const },
  { name: 'model x=[4,1,8,8] conv3@3×3 p=1 → bn → tanh → maxpool2 → dense5 → tanh, mse', head: 'tanh' as const, pool: 'max' as const },
])('$name', ({ head, pool }) => {
  it('backward matches finite differences of lossSum/n for the input and every parameter', () => {
    const n = 4;
    const model = newModel(tinySpec(head, pool)).init(21);
    // Non-trivial γ and β so their gradients are not at a special point.
    const rng = new Rng(22);
    model.tensor('bn1.weight').set(randomArray(rng, 3, 0.5, 1.5));
    model.tensor('bn1.bias').set(randomArray(rng, 3, -0.3, 0.3));
    model.tensor('fc1.bias').set(randomArray(rng, 5, -0.3, 0.3));
    const x = randomArray(rng, n * 64, 0, 1);
    const labels = Uint8Array.from([0, 3, 4, 1]);
    const checks = modelGradCheck(model, x, labels, n, 23, pool === 'max' ? 1e-3 : 1e-2);
    expect(checks.map((c) => c.name)).toEqual(['input', 'conv1.weight', 'conv1.bias', 'bn1.weight', 'bn1.bias', 'fc1.weight', 'fc1.bias']);
    expect(
      checks.every((c) => c.failures === 0),
      describeChecks(checks),
    ).toBe(true);
    // conv1.bias feeds batch norm, which removes any per-channel constant: its gradient is ~0.
    const convBias = checks.find((c) => c.name === 'conv1.bias')!;
    expect(convBias.maxAbsNumeric).toBeLessThan(1e-3);
    expect(Math.max(...checks.filter((c) => c.name !== 'conv1.bias').map((c) => c.maxAbsNumeric))).toBeGreaterThan(1e-2);
  });
});

// --- spec validation -------------------------------------------------------------------------

const conv = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ type: 'conv2d', filters: 4, kernel: 3, ...extra });
const head: LayerSpec[] = [{ type: 'flatten' }, { type: 'dense', units: 3 }, { type: 'activation', fn: 'softmax' }];
const spec = (layers: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  input: [1, 8, 8],
  loss: 'cross-entropy',
  layers,
  ...extra,
});
const c3 = (table: unknown): Record<string, unknown> => ({
  input: [6, 14, 14],
  loss: 'cross-entropy',
  layers: [{ type: 'conv2d', filters: 16, kernel: 5, table }, ...head],
});

const INVALID: [string, unknown][] = [
  ['null', null],
  ['an array', []],
  ['a string', 'lenet5'],
  ['a number', 5],
  ['unknown top-level key', spec([conv(), ...head], { optimizer: 'sgd' })],
  ['unknown layer key', spec([conv({ dilation: 2 }), ...head])],
  ['input not [C,H,W]', { input: [8, 8], loss: 'mse', layers: head }],
  ['input channels 0', { input: [0, 8, 8], loss: 'cross-entropy', layers: head }],
  ['input height 2.5', { input: [1, 2.5, 8], loss: 'cross-entropy', layers: head }],
  ['unknown loss', spec(head, { loss: 'hinge' })],
  ['unknown init', spec(head, { init: 'orthogonal' })],
  ['initScale 0', spec(head, { initScale: 0 })],
  ['no layers', spec([])],
  ['layers not a list', spec({ 0: conv() } as unknown as unknown[])],
  ['a layer that is not an object', spec([42, ...head])],
  ['unknown layer type', spec([{ type: 'dropout' }, ...head])],
  ['unknown activation', spec([conv(), { type: 'activation', fn: 'gelu' }, ...head])],
  ['kernel 0', spec([conv({ kernel: 0 }), ...head])],
  ['kernel 9 larger than an 8×8 input', spec([conv({ kernel: 9 }), ...head])],
  ['kernel 5 on a 4×4 input, stride 2', { input: [1, 4, 4], loss: 'cross-entropy', layers: [conv({ kernel: 5, stride: 2 }), ...head] }],
  ['kernel larger than a pooled map', spec([conv({ kernel: 3 }), { type: 'pool2d', mode: 'max', size: 2 }, conv({ kernel: 5 }), ...head])],
  ['pool window 9 on an 8×8 map', spec([{ type: 'pool2d', mode: 'avg', size: 9 }, ...head])],
  ['pool mode median', spec([{ type: 'pool2d', mode: 'median', size: 2 }, ...head])],
  ['dense on a map without flatten', spec([conv(), { type: 'dense', units: 3 }, { type: 'activation', fn: 'softmax' }])],
  ['conv on a vector', spec([{ type: 'flatten' }, conv(), ...head])],
  ['softmax on a map', spec([conv(), { type: 'activation', fn: 'softmax' }, ...head])],
  ['cross-entropy without softmax', spec([conv(), { type: 'flatten' }, { type: 'dense', units: 3 }, { type: 'activation', fn: 'tanh' }])],
  ['cross-entropy ending in a dense layer', spec([{ type: 'flatten' }, { type: 'dense', units: 3 }])],
  ['mse with softmax', spec(head, { loss: 'mse' })],
  ['a map as the output', spec([conv(), { type: 'activation', fn: 'tanh' }], { loss: 'mse' })],
  ['one output class', spec([{ type: 'flatten' }, { type: 'dense', units: 1 }, { type: 'activation', fn: 'tanh' }], { loss: 'mse' })],
  ['duplicate layer names', spec([conv({ name: 'a' }), { type: 'activation', fn: 'relu', name: 'a' }, ...head])],
  ['a layer name that is not an identifier', spec([conv({ name: 'conv 1' }), ...head])],
  ['batchnorm momentum 2', spec([conv(), { type: 'batchnorm', momentum: 2 }, ...head])],
  ['batchnorm eps 0', spec([conv(), { type: 'batchnorm', eps: 0 }, ...head])],
  ['table with 5 rows for 6 input maps', c3(LECUN_C3_TABLE.slice(0, 5))],
  ['table rows of 15 for 16 filters', c3(LECUN_C3_TABLE.map((r) => r.slice(0, 15)))],
  ['table entry 2', c3(LECUN_C3_TABLE.map((r, i) => (i === 0 ? [2, ...r.slice(1)] : r)))],
  ['table that is not a list', c3({ rows: 6 })],
  ['empty table', c3([])],
  ['table leaving an output map unconnected', c3(LECUN_C3_TABLE.map((r) => [0, ...r.slice(1)]))],
];

describe('spec validation', () => {
  it.each(INVALID)('rejects %s with SPEC_INVALID', (_what, raw) => {
    let caught: unknown;
    try {
      newModel(raw);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SpecError);
    expect((caught as SpecError).code).toBe('SPEC_INVALID');
    expect((caught as SpecError).message).toMatch(/^model spec: /);
  });

  it('accepts LeNet-5 with the C3 table and infers every shape', () => {
    const model = newModel(lenet5Spec({ act: 'relu', bn: true }));
    expect(model.layers.map((l) => `${l.name}:${l.outShape.join('×')}`)).toEqual([
      'conv1:6×28×28',
      'bn1:6×28×28',
      'act1:6×28×28',
      'pool1:6×14×14',
      'conv2:16×10×10',
      'bn2:16×10×10',
      'act2:16×10×10',
      'pool2:16×5×5',
      'flatten1:400',
      'fc1:120',
      'bn3:120',
      'act3:120',
      'fc2:84',
      'bn4:84',
      'act4:84',
      'fc3:10',
      'bn5:10',
      'output:10',
    ]);
    expect(model.classes).toBe(10);
  });

  it('LeNet-5 counts 60,806 free parameters with the C3 table and 61,706 without', () => {
    expect(newModel(lenet5Spec({ act: 'tanh', bn: false })).parameterCount).toBe(60806);
    expect(newModel(lenet5Spec({ act: 'tanh', bn: false, table: false })).parameterCount).toBe(61706);
  });

  it('validation fills in defaults once: a validated spec re-validates to itself through JSON', () => {
    const once = validateSpec(JSON.parse(JSON.stringify(lenet5Spec({ act: 'tanh', bn: true }))));
    expect(once.layers[0]).toEqual({ type: 'conv2d', filters: 6, kernel: 5, stride: 1, padding: 2 });
    expect(once.layers[3]).toEqual({ type: 'pool2d', mode: 'avg', size: 2, stride: 2 });
    expect(validateSpec(JSON.parse(JSON.stringify(once)))).toEqual(once);
  });
});

// --- model API -------------------------------------------------------------------------------

describe('model x=[3,1,8,8] tiny spec', () => {
  it('forwardPixels scales bytes by 1/255 and follows the index order', () => {
    const model = newModel(tinySpec('softmax', 'max')).init(1);
    const pixels = Uint8Array.from({ length: 3 * 64 }, (_, i) => (i * 37) % 256);
    const viaPixels = model.forwardPixels(pixels, [2, 0], 2, false).slice();
    const x = new Float32Array(2 * 64);
    for (let i = 0; i < 64; i++) {
      x[i] = pixels[128 + i] / 255;
      x[64 + i] = pixels[i] / 255;
    }
    expect(Array.from(model.forward(x, 2, false))).toEqual(Array.from(viaPixels));
  });

  it('backward adds into grads (two backward passes give twice the gradient)', () => {
    const model = newModel(tinySpec('tanh', 'avg')).init(2);
    const x = randomArray(new Rng(3), 3 * 64, 0, 1);
    const labels = Uint8Array.from([1, 2, 0]);
    model.forward(x, 3, true);
    model.zeroGrad();
    model.backward(labels);
    const once = model.grads.slice();
    model.backward(labels);
    for (let i = 0; i < once.length; i++) expect(model.grads[i]).toBeCloseTo(2 * once[i], 6);
    expect(once.some((v) => v !== 0)).toBe(true);
  });
});
