// The studio checks and encodes a model from the window (Save, Export, the check before Evaluate)
// on a worker thread when it is large, so a hand-made 16 M-value payload never stalls the event
// loop that answers the window. On this (the event loop's) thread, encoding is forbidden here:
// only the worker may do it.

import { describe, expect, it, vi } from 'vitest';
import { decodeModelFile } from '../../src/engine/formats/modelfile';
import { jsKernels } from '../../src/engine/kernels/js/backend';
import { Model } from '../../src/engine/model';
import type { ModelSpec } from '../../src/engine/spec';
import { ENCODE_ON_WORKER_ABOVE_VALUES, encodeModel } from '../../src/node/studio/models';

vi.mock('../../src/engine/formats/modelfile', async (original) => {
  const real = await original<typeof import('../../src/engine/formats/modelfile')>();
  return {
    ...real,
    encodeModelFile: (): never => {
      throw new Error('a model was encoded on the event loop');
    },
  };
});
vi.mock('../../src/node/onnx', async (original) => {
  const real = await original<typeof import('../../src/node/onnx')>();
  return {
    ...real,
    exportOnnx: (): never => {
      throw new Error('a model was exported on the event loop');
    },
  };
});

// 784 × 1400 weights: more values than the largest preset, above the worker threshold.
const BIG: ModelSpec = {
  input: [1, 28, 28],
  layers: [
    { type: 'flatten' },
    { type: 'dense', units: 1400 },
    { type: 'activation', fn: 'relu' },
    { type: 'dense', units: 10 },
    { type: 'activation', fn: 'softmax' },
  ],
  loss: 'cross-entropy',
} as ModelSpec;

function big(): { spec: ModelSpec; params: Float32Array; buffers: Float32Array } {
  const m = new Model(BIG, jsKernels).init(3);
  const { params, buffers } = m.snapshot();
  expect(params.length).toBeGreaterThan(ENCODE_ON_WORKER_ABOVE_VALUES);
  return { spec: m.spec, params, buffers };
}

describe('encodeModel', () => {
  it('writes a large model as a .lenet file on a worker: the file decodes to the same spec, values and preset', async () => {
    const m = big();
    const bytes = await encodeModel({ kind: 'encode', format: 'lenet', ...m, meta: { preset: 'wide-mlp' } });
    const back = decodeModelFile(bytes, 'wide.lenet');
    expect(back.preset).toBe('wide-mlp');
    expect(back.model.spec).toEqual(m.spec);
    expect(Array.from(back.model.snapshot().params)).toEqual(Array.from(m.params));
  });

  it('exports a large model as ONNX on a worker', async () => {
    const bytes = await encodeModel({ kind: 'encode', format: 'onnx', ...big() });
    expect(bytes.length).toBeGreaterThan(4 * ENCODE_ON_WORKER_ABOVE_VALUES);
  });

  it('refuses a large payload holding NaN on the worker, with the tensor and index', async () => {
    const m = big();
    m.params[12345] = Number.NaN;
    await expect(encodeModel({ kind: 'encode', format: 'check', ...m })).rejects.toThrow(/^the model cannot be used: .*NaN at index/);
  });

  it('leaves the payload it was given untouched (the worker gets copies)', async () => {
    const m = big();
    const before = m.params[0];
    await encodeModel({ kind: 'encode', format: 'check', ...m });
    expect(m.params.length).toBeGreaterThan(0);
    expect(m.params[0]).toBe(before);
  });
});
