// The command-line contract: flags, --json output, one-line errors and exit codes, save → evaluate.
// Runs the real CLI entry points in child processes on a small MNIST-format folder.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/cli';
import { decodeModelFile } from '../../src/engine/formats/modelfile';
import { mnistSubset } from '../helpers/mnist-subset';

const cli = (script: 'train' | 'evaluate', args: string[]): Promise<CliRun> => runCli(script, args);

let dir: string;
let data: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-cli-'));
  // Real digits (the first images of MNIST) so a short run learns something.
  data = await mnistSubset(600, 200);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm run train', () => {
  it('--json prints exactly one JSON object per epoch with the documented keys, and --out saves a loadable model', async () => {
    const out = join(dir, 'm.lenet');
    const r = await cli('train', ['--data', data, '--epochs', '2', '--batch', '20', '--json', '--out', out, '--preset', 'lenet5-relu-ce']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    const recs = lines.map((l) => JSON.parse(l));
    for (const [i, rec] of recs.entries()) {
      expect(rec.epoch).toBe(i + 1);
      for (const k of ['trainLoss', 'trainAccuracy', 'testLoss', 'testAccuracy', 'seconds', 'imagesPerSecond']) expect(typeof rec[k]).toBe('number');
      expect(rec.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(rec.testAccuracy).toBeLessThanOrEqual(1);
    }
    expect(recs[1].testAccuracy).toBeGreaterThan(0.5); // 2 epochs on 600 real digits
    const loaded = decodeModelFile(await readFile(out), out);
    expect(loaded.preset).toBe('lenet5-relu-ce');
    expect((loaded.training as { epochsDone: number }).epochsDone).toBe(2);

    const e = await cli('evaluate', [out, '--data', data, '--json']);
    expect(e.code, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout);
    expect(ev.predictions).toHaveLength(200);
    expect(ev.confusion.flat().reduce((a: number, v: number) => a + v, 0)).toBe(200);
    // The evaluation of the saved model is the last epoch's test accuracy.
    expect(ev.accuracy).toBeCloseTo(recs[1].testAccuracy, 10);
    const human = await cli('evaluate', [out, '--data', data]);
    expect(human.stdout).toMatch(/accuracy \d+\.\d\d%/);
    expect(human.stdout).toMatch(/confusion matrix/);
  });

  it('the same seed gives the same model file weights', async () => {
    const a = join(dir, 'a.lenet');
    const b = join(dir, 'b.lenet');
    for (const out of [a, b]) {
      const r = await cli('train', ['--data', data, '--epochs', '1', '--limit', '200', '--seed', '7', '--out', out, '--json']);
      expect(r.code, r.stderr).toBe(0);
    }
    const ma = decodeModelFile(await readFile(a), a).model;
    const mb = decodeModelFile(await readFile(b), b).model;
    expect(
      Buffer.from(ma.params.buffer, ma.params.byteOffset, ma.params.byteLength).equals(
        Buffer.from(mb.params.buffer, mb.params.byteOffset, mb.params.byteLength),
      ),
    ).toBe(true);
  });

  it('--help documents every flag and preset', async () => {
    const r = await cli('train', ['--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--preset',
      '--epochs',
      '--batch',
      '--lr',
      '--decay',
      '--momentum',
      '--seed',
      '--data',
      '--out',
      '--init',
      '--no-shuffle',
      '--limit',
      '--json',
      '--schedule',
    ]) {
      expect(r.stdout).toContain(flag);
    }
    for (const p of [
      'lenet5-tanh-mse',
      'lenet5-tanh-mse-l2',
      'lenet5-relu-ce',
      'lenet5-relu-ce-l2',
      'lenet5-tanh-mse-bn',
      'lenet5-relu-ce-bn',
      'mlp-500-150',
    ]) {
      expect(r.stdout).toContain(p);
    }
  });

  it.each([
    [['--preset', 'lenet6'], 2, /unknown preset "lenet6"/],
    [['--epochs', 'ten'], 2, /--epochs must be a whole number from 1 to 10,000, got "ten"/],
    [['--lr=-1'], 2, /--lr must be a number/],
    [['--lr', '-1'], 2, /--lr must be a number above 0, at most 1,000,000, got "-1"/],
    [['--lr', '-0.1'], 2, /--lr must be a number above 0, at most 1,000,000, got "-0.1"/],
    [['--epochs', '-1'], 2, /--epochs must be a whole number from 1 to 10,000, got "-1"/],
    [['--threads', '-2'], 2, /--threads must be an integer in 1\.\.64, got "-2"/],
    [['--bogus'], 2, /Unknown option '--bogus'/],
    [['--schedule', 'linear'], 2, /--schedule: schedule must be constant, cosine or step/],
    [['--schedule', 'bogus'], 2, /--schedule: schedule must be constant, cosine or step/],
    [['--out', 'model.bin'], 2, /--out must name a \.lenet file/],
    [['--data', '/nonexistent/folder'], 1, /--data: the folder \/nonexistent\/folder does not exist/],
    [['--data', '/etc/hostname'], 1, /--data: \/etc\/hostname is a file; give the folder that holds the MNIST IDX files/],
    [['--init', '/nonexistent/m.lenet'], 1, /does not exist/],
  ])('%j fails with one clear line (exit %i), no stack trace', async (args, code, message) => {
    const r = await cli('train', ['--data', data, ...(args as string[])]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('a malformed dataset file is named in the error', async () => {
    const bad = join(dir, 'bad');
    const { cp } = await import('node:fs/promises');
    await cp(data, bad, { recursive: true });
    const labels = await readFile(join(bad, 't10k-labels-idx1-ubyte'));
    await writeFile(join(bad, 't10k-labels-idx1-ubyte'), labels.subarray(0, labels.length - 7));
    const r = await cli('train', ['--data', bad, '--epochs', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('t10k-labels-idx1-ubyte');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.each(['lenet5-relu-ce', 'lenet5-relu-ce-bn', 'lenet5-tanh-mse'])(
    'divergence of %s (lr 100) stops in the first epoch with "diverged" on stderr, also with --json',
    async (preset) => {
      const r = await cli('train', ['--data', data, '--preset', preset, '--lr', '100', '--epochs', '3', '--json']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/diverged at epoch 1/);
      expect(r.stdout).toBe('');
    },
  );
});

describe('npm run evaluate', () => {
  it.each([
    [[], /name the model file/],
    [['/nonexistent.lenet'], /does not exist/],
  ])('%j fails clearly', async (args, message) => {
    const r = await cli('evaluate', args as string[]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it('a file that is not a model is rejected with its name', async () => {
    const junk = join(dir, 'junk.lenet');
    await writeFile(junk, 'this is not a model');
    const r = await cli('evaluate', [junk, '--data', data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('junk.lenet');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
