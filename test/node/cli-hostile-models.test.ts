// Hostile model files through the real command-line tools: each is refused in one line on stderr
// naming the file and the reason, with a non-zero exit and no stack trace.

import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/cli';
import { encodeModelFile } from '../../src/engine/formats/modelfile';
import { encodeSafetensors } from '../../src/engine/formats/safetensors';
import { jsKernels } from '../../src/engine/kernels/js/backend';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { mnistSubset } from '../helpers/mnist-subset';

const cli = (script: 'train' | 'evaluate', args: string[]): Promise<CliRun> => runCli(script, args, { timeout: 60_000 });

let dir: string;
let data: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-hostile-'));
  data = await mnistSubset(200, 100);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hostile model files on the command line', () => {
  it('train --init with a model of another preset (tanh into relu) is refused, naming what differs', async () => {
    const file = join(dir, 'tanh.lenet');
    await writeFile(file, encodeModelFile(new Model(PRESETS['lenet5-tanh-mse'].spec, jsKernels).init(1), { preset: 'lenet5-tanh-mse' }));
    const r = await cli('train', ['--preset', 'lenet5-relu-ce', '--init', file, '--data', data, '--epochs', '1', '--limit', '100']);
    expect(r.stderr).toBe(
      `train: ${file}: not a lenet5-relu-ce model (--init): layer 2 is tanh activation in the file, relu activation in lenet5-relu-ce; use --preset lenet5-tanh-mse\n`,
    );
    expect(r.code).toBe(1);
  }, 60_000);

  it('evaluate refuses a 408-byte spec bomb in one line, exit 1', async () => {
    const file = join(dir, 'bomb.lenet');
    const spec = {
      input: [1, 1024, 1024],
      layers: [{ type: 'conv2d', filters: 1024, kernel: 32, stride: 32 }, { type: 'conv2d', filters: 1024, kernel: 32 }, { type: 'flatten' }],
      loss: 'mse',
    };
    await writeFile(file, encodeSafetensors([], { format: 'lenet-studio-model/1', preset: '', spec: JSON.stringify(spec) }));
    const r = await cli('evaluate', [file, '--data', data]);
    expect(r.stderr).toBe(`evaluate: ${file}: model spec: input 1×1024×1024 is above the cap of 262144 values per image\n`);
    expect(r.code).toBe(1);
  }, 60_000);

  it('evaluate names a text file plainly', async () => {
    const file = join(dir, 'notes.lenet');
    await writeFile(file, 'These are my notes, not a model.\n');
    const r = await cli('evaluate', [file, '--data', data]);
    expect(r.stderr).toBe(`evaluate: ${file} is not a LeNet Studio model (it looks like text)\n`);
    expect(r.code).toBe(1);
  }, 60_000);

  it('evaluate refuses a file larger than any model by its size, before reading it', async () => {
    // A sparse 3 GiB file: reading it whole would fail (or fill memory) before any cap applied.
    const file = join(dir, 'huge.lenet');
    await writeFile(file, '');
    await truncate(file, 3 * 1024 ** 3);
    const r = await cli('evaluate', [file, '--data', data]);
    expect(r.stderr).toBe(`evaluate: ${file} is too large for a model file: 3,221,225,472 bytes, the largest model within the caps is 84,934,664\n`);
    expect(r.code).toBe(1);
  }, 60_000);
});
