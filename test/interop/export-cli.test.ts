// `npm run export`: writes a model onnxruntime runs, and refuses bad input with one clear line.

import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModelFile } from '../../src/engine/formats/modelfile';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { mulberry32 } from '../helpers/prng';
import { engineOutputs, maxAbsDiff, predictions, runCliScript, runOnnx, torchStateDict, torchStyleSafetensors } from './helpers';
import { testKernels } from '../helpers/kernels';

let dir: string;
let model: Model;
let x: Float32Array;
const N = 16;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-export-'));
  model = new Model(PRESETS['lenet5-tanh-mse-bn'].spec, testKernels()).init(11);
  // Batch norm statistics away from 0/1 so that using them (or not) shows in the outputs.
  const rng = mulberry32(5);
  for (const t of model.namedTensors()) {
    if (t.name.endsWith('running_mean')) t.data.forEach((_, i) => (t.data[i] = rng.next() - 0.5));
    if (t.name.endsWith('running_var')) t.data.forEach((_, i) => (t.data[i] = 0.5 + rng.next()));
  }
  x = Float32Array.from({ length: N * 784 }, () => rng.next());
  await writeFile(join(dir, 'm.lenet'), encodeModelFile(model, { preset: 'lenet5-tanh-mse-bn' }));
  await writeFile(join(dir, 'state_dict.safetensors'), torchStyleSafetensors(torchStateDict(model)));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectSameAsEngine(onnxPath: string): Promise<void> {
  const expected = engineOutputs(model, x, N);
  const { output } = await runOnnx(new Uint8Array(await readFile(onnxPath)), x, [N, 1, 28, 28]);
  expect(Array.from(predictions(output, N, 10))).toEqual(Array.from(predictions(expected, N, 10)));
  expect(maxAbsDiff(output, expected)).toBeLessThanOrEqual(1e-4);
}

describe('npm run export', () => {
  it('--help explains the command', () => {
    const r = runCliScript('export', ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: npm run export -- MODEL\.lenet/);
    expect(r.stdout).toContain('--format');
  });

  it('writes MODEL.onnx atomically (no temp file left) and onnxruntime agrees with the engine', async () => {
    const out = join(dir, 'exported.onnx');
    const r = runCliScript('export', [join(dir, 'm.lenet'), '--format', 'onnx', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/exported\.onnx: ONNX opset 13, .* \(lenet5-tanh-mse-bn\), [\d,]+ bytes\n$/);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await expectSameAsEngine(out);
  });

  it('defaults to onnx next to the model', async () => {
    const r = runCliScript('export', [join(dir, 'm.lenet')]);
    expect(r.status).toBe(0);
    await expectSameAsEngine(join(dir, 'm.onnx'));
  });

  it('exports a PyTorch state_dict with --preset', async () => {
    const out = join(dir, 'sd.onnx');
    const r = runCliScript('export', [join(dir, 'state_dict.safetensors'), '--preset', 'lenet5-tanh-mse-bn', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    await expectSameAsEngine(out);
  });

  describe('refuses bad input with one line', () => {
    beforeAll(async () => {
      const lenet = await readFile(join(dir, 'm.lenet'));
      await writeFile(join(dir, 'truncated.lenet'), lenet.subarray(0, lenet.length - 100));
      await writeFile(join(dir, 'notes.lenet'), 'not a model\n');
    });

    const cases: [string, () => string[], number, RegExp][] = [
      [
        'a truncated file',
        () => [join(dir, 'truncated.lenet')],
        1,
        /^export: .*truncated\.lenet: tensor bn5\.bias needs bytes \d+\.\.\d+ of the data section but the file holds only \d+ \(truncated\?\)\n$/,
      ],
      ['a text file', () => [join(dir, 'notes.lenet')], 1, /^export: .*notes\.lenet is not a LeNet Studio model \(it looks like text\)\n$/],
      [
        'a state_dict without --preset',
        () => [join(dir, 'state_dict.safetensors')],
        1,
        /^export: .*state_dict\.safetensors: a safetensors file without LeNet Studio metadata; import it with a preset \(e\.g\. --preset lenet5-relu-ce-bn\)\n$/,
      ],
      [
        'a state_dict with the wrong --preset',
        () => [join(dir, 'state_dict.safetensors'), '--preset', 'lenet5-tanh-mse'],
        1,
        /^export: .*state_dict\.safetensors: tensor bn1\.bias does not belong to this model\n$/,
      ],
      ['an unwritable --out', () => [join(dir, 'm.lenet'), '--out', join(dir, 'no', 'such', 'dir', 'x.onnx')], 1, /^export: could not write .*x\.onnx: ENOENT/],
      [
        'an unknown --format',
        () => [join(dir, 'm.lenet'), '--format', 'tflite'],
        2,
        /^export: unknown --format "tflite"; supported: onnx\nTry 'export --help'\.\n$/,
      ],
      [
        'an --out that is not .onnx',
        () => [join(dir, 'm.lenet'), '--out', join(dir, 'm.txt')],
        2,
        /^export: --out must name a \.onnx file, got ".*m\.txt"\nTry/,
      ],
      [
        'an unknown --preset',
        () => [join(dir, 'state_dict.safetensors'), '--preset', 'alexnet'],
        2,
        /^export: unknown preset "alexnet"; choose one of lenet5-tanh-mse, /,
      ],
      [
        'a --preset that contradicts the file',
        () => [join(dir, 'm.lenet'), '--preset', 'lenet5-relu-ce'],
        2,
        /^export: .*m\.lenet is a LeNet Studio model of preset lenet5-tanh-mse-bn; --preset is only for plain safetensors files\n/,
      ],
      ['no model', () => [], 2, /^export: name the model file to export\nTry 'export --help'\.\n$/],
    ];
    it.each(cases)('%s', (_what, args, status, stderr) => {
      const r = runCliScript('export', args());
      expect(r.stderr).toMatch(stderr);
      expect(r.status).toBe(status);
      expect(r.stdout).toBe('');
    });

    it('a missing model file', () => {
      const r = runCliScript('export', [join(dir, 'absent.lenet')]);
      expect(r.stderr.split('\n')[0]).toBe(`export: model file ${join(dir, 'absent.lenet')} does not exist`);
      expect(r.status === 1 || r.status === 2).toBe(true); // a usage error or a file error, as common.ts classes it
    });
  });
});
