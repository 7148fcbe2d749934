// The studio's model files: a large one decoded on a worker thread (never on the event loop that
// answers the window; the tests pass workerAbove 0 to send small hostile files there too), refused
// by size before they are read, and payloads with values no model holds refused.

import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModelFileError } from '../../src/engine/errors';
import { encodeModelFile } from '../../src/engine/formats/modelfile';
import { encodeSafetensors } from '../../src/engine/formats/safetensors';
import { jsKernels } from '../../src/engine/kernels/js/backend';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { buildModel, MAX_MODEL_BYTES, readModelFile, toPayload, WORKER_ABOVE_BYTES } from '../../src/node/studio/models';
import { StudioError } from '../../src/node/studio/errors';

// On this (the event loop's) thread, decoding a model file is forbidden: only the worker may.
vi.mock('../../src/engine/formats/modelfile', async (original) => {
  const real = await original<typeof import('../../src/engine/formats/modelfile')>();
  const forbidden = (): never => {
    throw new Error('a model file was decoded on the event loop');
  };
  return { ...real, decodeModelFile: forbidden, importStateDict: forbidden };
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-studio-models-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const noop = async (): Promise<void> => {};

describe('readModelFile', () => {
  it(`decodes a file above ${WORKER_ABOVE_BYTES} bytes on a worker thread and hands back the spec, values and preset`, async () => {
    const spec = { ...PRESETS['lenet5-relu-ce-bn'].spec };
    spec.layers = spec.layers.map((l) => (l.type === 'dense' && l.units === 120 ? { ...l, units: 3000 } : l));
    const model = new Model(spec, jsKernels).init(4);
    const file = join(dir, 'good.lenet');
    const bytes = encodeModelFile(model, { preset: 'lenet5-relu-ce-bn' });
    expect(bytes.length).toBeGreaterThan(WORKER_ABOVE_BYTES);
    await writeFile(file, bytes);
    const m = await readModelFile(file, undefined, noop);
    expect(m.preset).toBe('lenet5-relu-ce-bn');
    expect(m.spec).toEqual(model.spec);
    expect(Array.from(m.params)).toEqual(Array.from(model.params));
    expect(Array.from(m.buffers)).toEqual(Array.from(model.buffers));
    expect(toPayload(m, { kind: 'file', path: file })).toMatchObject({ preset: 'lenet5-relu-ce-bn', source: { kind: 'file', path: file } });
  });

  it('a refusal crosses back as a ModelFileError with its code and detail', async () => {
    const file = join(dir, 'notes.lenet');
    await writeFile(file, 'not a model at all\n');
    const e = await readModelFile(file, undefined, noop, 0).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ModelFileError);
    expect((e as ModelFileError).message).toBe(`${file} is not a LeNet Studio model (it looks like text)`);
    expect((e as ModelFileError).code).toBe('MODEL_FOREIGN');
    expect((e as ModelFileError).detail).toMatch(/header length \d+ bytes is above the 16 MiB cap/);
  });

  it('a spec bomb is refused by the worker with the cap it breaks', async () => {
    const spec = {
      input: [1, 1024, 1024],
      layers: [{ type: 'conv2d', filters: 1024, kernel: 32, stride: 32 }, { type: 'conv2d', filters: 1024, kernel: 32 }, { type: 'flatten' }],
      loss: 'mse',
    };
    const file = join(dir, 'bomb.lenet');
    await writeFile(file, encodeSafetensors([], { format: 'lenet-studio-model/1', preset: '', spec: JSON.stringify(spec) }));
    await expect(readModelFile(file, undefined, noop, 0)).rejects.toThrow(/bomb\.lenet: model spec: .* above the cap of \d+/);
  });

  it('a missing file runs `missing` and says so', async () => {
    const missing = vi.fn(noop);
    await expect(readModelFile(join(dir, 'gone.lenet'), undefined, missing, 0)).rejects.toThrow(/gone\.lenet: the file does not exist/);
    expect(missing).toHaveBeenCalledOnce();
  });

  it(`a file larger than any model within the caps (${MAX_MODEL_BYTES} bytes) is refused before it is read`, async () => {
    const file = join(dir, 'huge.lenet');
    await writeFile(file, '');
    await truncate(file, MAX_MODEL_BYTES + 1); // sparse: no disk space used
    const e = await readModelFile(file, undefined, noop, 0).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StudioError);
    expect((e as StudioError).code).toBe('TOO_LARGE');
    expect(MAX_MODEL_BYTES).toBeLessThan(100 * 1024 * 1024);
  });
});

describe('buildModel', () => {
  it('refuses a payload with NaN or a negative batch-norm variance, naming the tensor', () => {
    const model = new Model(PRESETS['lenet5-relu-ce-bn'].spec, jsKernels).init(1);
    const { params, buffers } = model.snapshot();
    const source = { kind: 'file' as const, path: '/x.lenet' };
    const nan = params.slice();
    nan[model.entry('fc2.weight')!.offset + 5] = Number.NaN;
    expect(() => buildModel({ spec: model.spec, params: nan, buffers, source })).toThrow(
      'the model cannot be used: snapshot: tensor fc2.weight holds NaN at index 5',
    );
    const neg = buffers.slice();
    neg[model.entry('bn5.running_var')!.offset] = -1;
    expect(() => buildModel({ spec: model.spec, params, buffers: neg, source })).toThrow(
      'the model cannot be used: snapshot: tensor bn5.running_var holds the negative variance -1 at index 0',
    );
  });
});
