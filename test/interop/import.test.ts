// Import: a .lenet's weights saved as plain safetensors (as any safetensors tool or PyTorch would
// re-save them) load into a preset and predict exactly as before; foreign files that do not fit
// are refused naming the first tensor that does not fit.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitSet } from '../../src/engine/data';
import { ModelFileError } from '../../src/engine/errors';
import { encodeIdxImages, encodeIdxLabels } from '../../src/engine/formats/idx';
import { decodeModelFile, encodeModelFile } from '../../src/engine/formats/modelfile';
import { decodeSafetensors, encodeSafetensors } from '../../src/engine/formats/safetensors';
import { Model } from '../../src/engine/model';
import { PRESETS, presetNames } from '../../src/engine/presets';
import { loadMnist, type MnistData } from '../../src/node/datasets';
import {
  engineOutputs,
  maxAbsDiff,
  predictions,
  runCliScript,
  scaledPixels,
  torchStateDict,
  torchStyleSafetensors,
  trainBriefly,
  type TorchTensor,
} from './helpers';
import { testKernels, testModels } from '../helpers/kernels';

const newModel = testModels();

const N_TEST = 1000;
const BN = 'lenet5-relu-ce-bn';

let data: MnistData;
let x: Float32Array;
let bnModel: Model;

beforeAll(async () => {
  data = await loadMnist();
  x = scaledPixels(data.test, N_TEST);
  bnModel = trainBriefly(BN, data.train);
});

// Each test builds models; with the wasm kernels their tensors live in a fixed memory that
// only a collection hands back.

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.every((v, i) => v === ub[i]);
}

function mismatch(fn: () => unknown): ModelFileError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFileError);
    return e as ModelFileError;
  }
  throw new Error('expected a ModelFileError, but the import succeeded');
}

describe.each(presetNames())('%s: .lenet → plain safetensors → import', (name) => {
  it('predicts identically (outputs bit for bit) from the .lenet and from its weights alone', () => {
    // Batch norm presets trained (so the running statistics are not just 0 and 1), the others
    // freshly initialised: the round trip does not care how good the weights are.
    const model = name === BN ? bnModel : name.includes('-bn') ? trainBriefly(name, data.train) : newModel(PRESETS[name].spec).init(7);
    const expected = engineOutputs(model, x, N_TEST);
    const lenet = encodeModelFile(model, { preset: name });

    const native = decodeModelFile(lenet, `${name}.lenet`, undefined, testKernels());
    expect(native.native).toBe(true);
    expect(native.preset).toBe(name);
    expect(bitsEqual(engineOutputs(native.model, x, N_TEST), expected)).toBe(true);

    // Only the tensors, no LeNet Studio metadata: needs the preset to say what network it is.
    const { tensors } = decodeSafetensors(lenet, `${name}.lenet`);
    const plain = encodeSafetensors(
      tensors.map((t) => ({ name: t.name, shape: t.shape, data: t.data as Float32Array })),
      {},
    );
    const imported = decodeModelFile(plain, `${name}.safetensors`, PRESETS[name].spec, testKernels());
    expect(imported.native).toBe(false);
    const out = engineOutputs(imported.model, x, N_TEST);
    expect(Array.from(predictions(out, N_TEST, 10))).toEqual(Array.from(predictions(expected, N_TEST, 10)));
    expect(bitsEqual(out, expected)).toBe(true);
    native.model.dispose();
    imported.model.dispose();
    if (name !== BN && name.includes('-bn')) model.dispose(); // trained here, not by newModel
  });
});

describe('a PyTorch-style state_dict (F32 weights + I64 num_batches_tracked) for lenet5-relu-ce-bn', () => {
  it('imports into the preset and predicts identically', () => {
    const sd = torchStateDict(bnModel);
    expect(sd.filter((t) => t.dtype === 'I64').map((t) => t.name)).toEqual([1, 2, 3, 4, 5].map((i) => `bn${i}.num_batches_tracked`));
    const bytes = torchStyleSafetensors(sd);
    const imported = decodeModelFile(bytes, 'state_dict.safetensors', PRESETS[BN].spec, testKernels());
    expect(imported.native).toBe(false);
    const expected = engineOutputs(bnModel, x, N_TEST);
    expect(bitsEqual(engineOutputs(imported.model, x, N_TEST), expected)).toBe(true);
    imported.model.dispose();
  });

  it('is refused without a preset, with a hint', () => {
    const e = mismatch(() => decodeModelFile(torchStyleSafetensors(torchStateDict(bnModel)), 'sd.safetensors'));
    expect(e.code).toBe('MODEL_FOREIGN');
    expect(e.message).toContain('--preset');
  });

  const variants: [string, (sd: TorchTensor[]) => TorchTensor[], string][] = [
    [
      'a transposed fc1.weight',
      (sd) => sd.map((t) => (t.name === 'fc1.weight' ? { ...t, shape: [400, 120] } : t)),
      'sd.safetensors: tensor fc1.weight has shape 400×120, the model needs 120×400',
    ],
    [
      'two bad shapes (the first in network order is named)',
      (sd) => sd.map((t) => (t.name === 'fc3.bias' ? { ...t, shape: [5, 2] } : t.name === 'conv2.weight' ? { ...t, shape: [16, 150] } : t)),
      'sd.safetensors: tensor conv2.weight has shape 16×150, the model needs 16×6×5×5',
    ],
    ['no batch norm (a lenet5-relu-ce state_dict)', (sd) => sd.filter((t) => !t.name.startsWith('bn')), 'sd.safetensors: tensor bn1.weight (6) is missing'],
    [
      'nn.Sequential names',
      (sd) => sd.map((t) => ({ ...t, name: t.name.replace('conv1.', 'features.0.').replace('bn1.', 'features.1.') })),
      'sd.safetensors: tensor conv1.weight (6×1×5×5) is missing; the file has 6 tensors this model does not, e.g. features.0.bias, features.0.weight, features.1.bias',
    ],
    [
      'an extra tensor',
      (sd) => [...sd, { name: 'fc4.weight', dtype: 'F32', shape: [2], values: [1, 2] }],
      'sd.safetensors: tensor fc4.weight does not belong to this model',
    ],
    [
      'an I64 tensor that is not num_batches_tracked',
      (sd) => sd.map((t) => (t.name === 'bn2.running_mean' ? { ...t, dtype: 'I64', values: Array.from(t.values, Math.round) } : t)),
      'sd.safetensors: tensor bn2.running_mean is I64; LeNet Studio models hold F32 tensors only',
    ],
  ];
  it.each(variants)('with %s is refused, naming the first tensor that does not fit', (_what, change, message) => {
    const bytes = torchStyleSafetensors(change(torchStateDict(bnModel)));
    const e = mismatch(() => decodeModelFile(bytes, 'sd.safetensors', PRESETS[BN].spec));
    expect(e.code).toBe('MODEL_MISMATCH');
    expect(e.message).toBe(message);
  });
});

describe('npm run train -- --init STATE_DICT.safetensors', () => {
  let dir: string;

  beforeAll(async () => {
    // A small MNIST-format folder keeps the CLI's per-epoch test evaluation short.
    dir = await mkdtemp(join(tmpdir(), 'lenet-init-'));
    const small = (set: typeof data.train, n: number): { images: Uint8Array; labels: Uint8Array } => {
      const s = limitSet(set, n);
      return { images: encodeIdxImages({ count: n, rows: s.rows, cols: s.cols, pixels: s.pixels }), labels: encodeIdxLabels(s.labels) };
    };
    const train = small(data.train, 64);
    const test = small(data.test, 50);
    await writeFile(join(dir, 'train-images-idx3-ubyte'), train.images);
    await writeFile(join(dir, 'train-labels-idx1-ubyte'), train.labels);
    await writeFile(join(dir, 't10k-images-idx3-ubyte'), test.images);
    await writeFile(join(dir, 't10k-labels-idx1-ubyte'), test.labels);
    await writeFile(join(dir, 'sd.safetensors'), torchStyleSafetensors(torchStateDict(bnModel)));
    const bad = torchStateDict(bnModel).map((t) => (t.name === 'bn3.running_var' ? { ...t, shape: [84], values: Array.from(t.values).slice(0, 84) } : t));
    await writeFile(join(dir, 'bad.safetensors'), torchStyleSafetensors(bad));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts training from the state_dict weights', async () => {
    const out = join(dir, 'out.lenet');
    // A vanishing learning rate and no momentum: the saved weights are the imported ones.
    const args = ['--preset', BN, '--init', join(dir, 'sd.safetensors'), '--data', dir, '--epochs', '1', '--lr', '1e-20', '--momentum', '0', '--out', out];
    const r = runCliScript('train', args);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`init from ${join(dir, 'sd.safetensors')}`);
    const saved = decodeModelFile(new Uint8Array(await readFile(out)), out).model;
    for (const name of ['conv1.weight', 'conv2.weight', 'fc1.weight', 'fc3.bias', 'bn5.weight']) {
      expect(maxAbsDiff(saved.tensor(name), bnModel.tensor(name)), name).toBeLessThan(1e-9);
    }
  });

  it('refuses a state_dict that does not fit the preset in one line naming the tensor', () => {
    const r = runCliScript('train', ['--preset', BN, '--init', join(dir, 'bad.safetensors'), '--data', dir, '--epochs', '1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`train: ${join(dir, 'bad.safetensors')}: tensor bn3.running_var has shape 84, the model needs 120\n`);
  });
});
