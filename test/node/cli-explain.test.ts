// `npm run explain`: the --json shape, the text summary, --png, and one-line errors with exit 2
// for bad options. Runs the real CLI entry point in a child process on a small MNIST folder.

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Explainer } from '../../src/engine/explain';
import { encodeModelFile } from '../../src/engine/formats/modelfile';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { loadMnist } from '../../src/node/datasets';
import { runCli, type CliRun } from '../helpers/cli';
import { testKernels } from '../helpers/kernels';
import { mnistSubset } from '../helpers/mnist-subset';

const cli = (args: string[]): Promise<CliRun> => runCli('explain', args);

let dir: string;
let data: string;
let file: string;
let model: Model;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-explain-'));
  data = await mnistSubset(100, 50);
  model = new Model(PRESETS['lenet5-tanh-mse-bn'].spec, testKernels()).init(5);
  file = join(dir, 'm.lenet');
  await writeFile(file, encodeModelFile(model, { preset: 'lenet5-tanh-mse-bn' }));
});

afterAll(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function image(split: 'test' | 'train', i: number): Promise<Float32Array> {
  const d = await loadMnist(data);
  const set = split === 'test' ? d.test : d.train;
  return Float32Array.from(set.pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
}

describe('npm run explain', () => {
  it('--json prints {method, target, score, baselineScore, attributions} for IG, the same numbers as the engine', async () => {
    const r = await cli([
      file,
      '--data',
      data,
      '--split',
      'train',
      '--index',
      '3',
      '--method',
      'ig',
      '--steps',
      '32',
      '--baseline',
      'blur',
      '--target',
      '4',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const o = JSON.parse(r.stdout);
    expect(Object.keys(o)).toEqual(['method', 'target', 'score', 'baselineScore', 'attributions']);
    expect(o.method).toBe('ig');
    expect(o.target).toBe(4);
    expect(o.attributions).toHaveLength(784);
    const want = new Explainer(model).explain('ig', await image('train', 3), 4, { steps: 32, baseline: 'blur' });
    expect(o.score).toBeCloseTo(want.score, 5);
    expect(o.baselineScore).toBeCloseTo(want.baselineScore!, 5);
    for (let i = 0; i < 784; i++) expect(o.attributions[i]).toBeCloseTo(want.attributions[i], 6);
  });

  it('omits baselineScore for other methods and defaults the target to the predicted class', async () => {
    const x = await image('test', 1);
    const ex = new Explainer(model);
    for (const method of ['gradient', 'gradxinput', 'smoothgrad', 'occlusion', 'gradcam']) {
      const r = await cli([file, '--data', data, '--index', '1', '--method', method, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const o = JSON.parse(r.stdout);
      expect(Object.keys(o)).toEqual(['method', 'target', 'score', 'attributions']);
      expect(o.target).toBe(ex.predict(x));
    }
  });

  it('--png writes a PNG heat map; the text summary shows the completeness gap', async () => {
    const png = join(dir, 'map.png');
    const r = await cli([file, '--data', data, '--index', '0', '--method', 'ig', '--png', png]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/completeness gap/);
    expect(r.stdout).toContain(`wrote ${png}`);
    const b = await readFile(png);
    expect(b.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(b.readUInt32BE(16)).toBe(224); // 28 × 8
    const idat = b.indexOf('IDAT');
    const raw = inflateSync(b.subarray(idat + 4, idat + 4 + b.readUInt32BE(idat - 4)));
    expect(raw.length).toBe(224 * (1 + 3 * 224));
  });

  it.each([
    [['--index', '0'], /--method is required/],
    [['--index', '0', '--method', 'lime'], /--method must be one of gradient, gradxinput, ig, smoothgrad, occlusion, gradcam, got "lime"/],
    [['--method', 'ig'], /--index is required/],
    [['--index', '50', '--method', 'ig'], /--index must be an integer in 0\.\.49 for the test split/],
    [['--index', '0', '--method', 'ig', '--split', 'val'], /--split must be test or train/],
    [['--index', '0', '--method', 'ig', '--steps', '0'], /--steps must be an integer in 1\.\.1024/],
    [['--index', '0', '--method', 'ig', '--baseline', 'white'], /--baseline must be black or blur/],
    [['--index', '0', '--method', 'gradient', '--steps', '8'], /--steps does not apply to --method gradient/],
    [['--index', '0', '--method', 'gradcam', '--layer', 'fc1'], /--layer must be a convolution of .*: conv1 or conv2, got "fc1"/],
    [['--index', '0', '--method', 'ig', '--target', '10'], /--target must be an integer in 0\.\.9/],
    [['--index', '0', '--method', 'smoothgrad', '--noise', '2'], /--noise must be a number/],
  ])('bad options %j: one line on stderr, exit 2', async (args, msg) => {
    const r = await cli([file, '--data', data, ...(args as string[])]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^explain: ${(msg as RegExp).source}`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('Grad-CAM on a model without a convolution: one line, exit 2', async () => {
    const mlp = new Model(PRESETS['mlp-500-150'].spec, testKernels()).init(2);
    const f = join(dir, 'mlp.lenet');
    await writeFile(f, encodeModelFile(mlp, { preset: 'mlp-500-150' }));
    mlp.dispose();
    const r = await cli([f, '--data', data, '--index', '0', '--method', 'gradcam']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`explain: --method gradcam needs a convolution, and ${f} has none`);
    const ok = await cli([f, '--data', data, '--index', '0', '--method', 'occlusion', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    await rm(f);
  });

  it('a missing model or an unwritable --png folder: one line, exit 1, no files left', async () => {
    const m = await cli([join(dir, 'nope.lenet'), '--data', data, '--index', '0', '--method', 'ig']);
    expect(m.code).toBe(1);
    expect(m.stderr.trim().split('\n')).toHaveLength(1);
    const p = await cli([file, '--data', data, '--index', '0', '--method', 'ig', '--png', join(dir, 'no', 'map.png')]);
    expect(p.code).toBe(1);
    expect(p.stderr.trim()).toMatch(/^explain: cannot write .*map\.png: the folder .* does not exist$/);
    expect((await readdir(dir)).filter((n) => n !== 'm.lenet' && n !== 'map.png')).toEqual([]);
  });
});
