// `npm run robustness`: the --json shape {"results":[{"eps","accuracy"}…]} with the engine's
// numbers, --limit, the text table, and one-line errors (exit 2 for bad options, 1 otherwise).
// Runs the real CLI entry point in a child process on a small MNIST folder.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { robustAccuracy } from '../../src/engine/adversarial';
import { encodeModelFile } from '../../src/engine/formats/modelfile';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { loadMnist } from '../../src/node/datasets';
import { runCli, type CliRun } from '../helpers/cli';
import { testKernels } from '../helpers/kernels';
import { mnistSubset } from '../helpers/mnist-subset';

const cli = (args: string[]): Promise<CliRun> => runCli('robustness', args);

let dir: string;
let data: string;
let file: string;
let model: Model;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-robustness-'));
  data = await mnistSubset(100, 80);
  model = new Model(PRESETS['lenet5-relu-ce'].spec, testKernels()).init(5);
  file = join(dir, 'm.lenet');
  await writeFile(file, encodeModelFile(model, { preset: 'lenet5-relu-ce' }));
});

afterAll(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('npm run robustness', () => {
  it('--json prints {"results":[{"eps","accuracy"}…]}, the engine’s numbers, on the first --limit test images', async () => {
    const r = await cli([file, '--data', data, '--attack', 'pgd', '--eps', '0,0.1', '--steps', '2', '--limit', '40', '--seed', '3', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { results: { eps: number; accuracy: number }[] };
    expect(Object.keys(out)).toEqual(['results']);
    expect(out.results.map((p) => Object.keys(p))).toEqual([
      ['eps', 'accuracy'],
      ['eps', 'accuracy'],
    ]);
    const d = await loadMnist(data);
    expect(out.results).toEqual(robustAccuracy(model, d.test, [0, 0.1], { attack: 'pgd', steps: 2, seed: 3 }, 40));
  });

  it('prints a table without --json', async () => {
    const r = await cli([file, '--data', data, '--attack', 'fgsm', '--eps', '0.05', '--limit', '10']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/on 10 test images, fgsm/);
    expect(r.stdout).toMatch(/^0\.05\s+\d+\.\d\d%$/m);
  });

  it.each([
    [['--attack', 'fgsm'], /--eps is required/],
    [['--attack', 'cw', '--eps', '0.1'], /--attack must be fgsm or pgd/],
    [['--attack', 'fgsm', '--eps', '0.1,x'], /--eps values must each be from 0 to 1, got "x"/],
    [['--attack', 'pgd', '--eps', '0.1', '--steps', '0'], /--steps must be a whole number from 1 to 100,/],
  ])('%j is a usage error: one line, exit 2', async (args, msg) => {
    const r = await cli([file, '--data', data, ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toMatch(msg);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('a missing model file is one line and exit 1', async () => {
    const r = await cli([join(dir, 'none.lenet'), '--attack', 'fgsm', '--eps', '0.1']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
