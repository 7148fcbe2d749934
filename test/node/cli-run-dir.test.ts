// `npm run train -- --run-dir DIR` / `--resume DIR`: the CLI writes and continues the same run
// folders as the app. Real CLI processes on a small slice of MNIST: the folder's contents, a
// SIGKILL mid-run then --resume ending bit-identical to an unbroken run, Ctrl+C, divergence,
// and the flags --resume refuses.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModelFile } from '../../src/engine/formats/modelfile';
import { readCheckpoint } from '../../src/node/runs/checkpoint';
import { readRunConfig, readRunStatus, readRunSummary } from '../../src/node/runs/folder';
import { RUN_FILES } from '../../src/node/runs/layout';
import { mnistSubset } from '../helpers/mnist-subset';

// One process (node --import tsx), not the tsx wrapper: a SIGKILL must reach the trainer itself.
const NODE_ARGS = ['--import', 'tsx', 'src/node/cli/train.ts'];
let root: string;
let data: string;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `onLine` sees each stdout line and may signal the process. */
function cli(args: string[], onLine?: (line: string, kill: (s: NodeJS.Signals) => void) => void): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: process.cwd(), env: { ...process.env, LENET_KERNELS: 'wasm' } });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b;
      pending += b;
      let i: number;
      while ((i = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        onLine?.(line, (s) => child.kill(s));
      }
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const BASE = ['--preset', 'lenet5-relu-ce', '--batch', '16', '--lr', '0.02', '--momentum', '0.9', '--threads', '1', '--seed', '5'];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-cli-run-'));
  data = await mnistSubset(2400, 200);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('train --run-dir / --resume', () => {
  it('--run-dir writes the run folder; --json stays one 8-key object per epoch', async () => {
    const dir = join(root, 'plain-run');
    const r = await cli([...BASE, '--data', data, '--epochs', '2', '--run-dir', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(Object.keys(JSON.parse(l) as object).sort()).toEqual([
        'epoch',
        'imagesPerSecond',
        'lr',
        'seconds',
        'testAccuracy',
        'testLoss',
        'trainAccuracy',
        'trainLoss',
      ]);
    }
    const run = await readRunConfig(dir);
    expect(run).toMatchObject({ id: 'plain-run', preset: 'lenet5-relu-ce', validation: 200, trainCount: 2200, threads: 1 });
    expect(run.dataset.path).toBe(data);
    const summary = await readRunSummary(dir);
    expect(summary).toMatchObject({ status: 'done', epochsDone: 2 });
    expect(summary.bestEpoch).not.toBeNull();
    const metrics = JSON.parse(await readFile(join(dir, RUN_FILES.metrics), 'utf8')) as { validationAccuracy: number; testAccuracy: number }[];
    expect(metrics[1].testAccuracy).toBeCloseTo(JSON.parse(lines[1]).testAccuracy, 12);
    expect(metrics[1].validationAccuracy).toBeGreaterThan(0.5);
    expect(JSON.parse(await readFile(join(dir, RUN_FILES.confusion), 'utf8'))).toHaveLength(10);
    expect(decodeModelFile(await readFile(join(dir, RUN_FILES.best)), 'best.lenet').preset).toBe('lenet5-relu-ce');
  });

  it('SIGKILL after epoch 1, then --resume: the final weights are bit-identical to an unbroken run', async () => {
    const straight = join(root, 'straight');
    const a = await cli([...BASE, '--data', data, '--epochs', '4', '--run-dir', straight, '--json']);
    expect(a.code, a.stderr).toBe(0);

    const broken = join(root, 'broken');
    const b = await cli([...BASE, '--data', data, '--epochs', '4', '--run-dir', broken, '--json'], (_line, kill) => kill('SIGKILL'));
    expect(b.signal).toBe('SIGKILL');
    // It really was interrupted: the checkpoint is mid-run, and the folder, left "running" by a
    // process that is gone (its run.lock names it), reads as failed, interrupted, as the app marks it.
    expect(JSON.parse(await readFile(join(broken, RUN_FILES.status), 'utf8')).status).toBe('running');
    expect(await readRunStatus(broken)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^interrupted: process \d+ stopped during the run/) });
    expect(JSON.parse(await readFile(join(broken, RUN_FILES.status), 'utf8')).status).toBe('failed');
    const mid = await readCheckpoint(broken, 2200);
    expect(mid!.resume.history.length).toBeGreaterThanOrEqual(1);
    expect(mid!.resume.history.length).toBeLessThan(4);

    const c = await cli(['--resume', broken, '--json']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout.trim().split('\n')).toHaveLength(4 - mid!.resume.history.length);
    const ca = await readCheckpoint(straight, 2200);
    const cb = await readCheckpoint(broken, 2200);
    expect(sameBits(cb!.loaded.model.params, ca!.loaded.model.params)).toBe(true);
    expect(sameBits(cb!.resume.velocity, ca!.resume.velocity)).toBe(true);
    expect((await readRunStatus(broken)).status).toBe('done');
  });

  it('Ctrl+C checkpoints and exits 130; --resume finishes the run', async () => {
    const dir = join(root, 'interrupted');
    // Batches of 2 (~1,100 steps an epoch): the interrupt lands inside epoch 2 however fast the
    // engine gets, rather than after a run that already ended.
    const slow = BASE.map((a, i) => (BASE[i - 1] === '--batch' ? '2' : BASE[i - 1] === '--lr' ? '0.005' : a));
    const r = await cli([...slow, '--data', data, '--epochs', '3', '--run-dir', dir], (line, kill) => {
      if (line.startsWith('epoch 1/3')) kill('SIGINT');
    });
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/--resume/);
    expect((await readRunStatus(dir)).status).toBe('cancelled');
    const c = await cli(['--resume', dir]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/resuming .* after epoch [12] of 3/);
    expect((await readRunSummary(dir)).epochsDone).toBe(3);
  });

  it('divergence exits 1 with "diverged"; the folder says so and keeps a loadable checkpoint', async () => {
    const dir = join(root, 'diverged');
    const r = await cli([...BASE, '--data', data, '--epochs', '2', '--lr', '100', '--momentum', '0', '--run-dir', dir, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/diverged/);
    expect(r.stdout).toBe('');
    expect((await readRunStatus(dir)).status).toBe('diverged');
    expect(decodeModelFile(await readFile(join(dir, RUN_FILES.checkpoint)), 'checkpoint.lenet').model.isFinite()).toBe(true);
  });

  it('refuses what cannot work: new settings on --resume, a folder that is not a run, a folder that holds one', async () => {
    const lr = await cli(['--resume', join(root, 'plain-run'), '--lr', '0.1']);
    expect(lr.code).toBe(2);
    expect(lr.stderr).toMatch(/--resume continues a run with its own settings; drop --lr/);
    const notRun = await cli(['--resume', root]);
    expect(notRun.code).toBe(1);
    expect(notRun.stderr).toMatch(/is not a run folder/);
    const exists = await cli([...BASE, '--data', data, '--epochs', '1', '--run-dir', join(root, 'plain-run')]);
    expect(exists.code).toBe(1);
    expect(exists.stderr).toMatch(/already holds a run/);
    const tooMany = await cli([...BASE, '--data', data, '--limit', '100', '--validation', '100', '--run-dir', join(root, 'nope')]);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(/cannot hold out 100 validation images from 100/);
  });

  it('--help documents the run-folder flags', async () => {
    const r = await cli(['--help']);
    for (const flag of ['--run-dir DIR', '--resume DIR', '--validation N']) expect(r.stdout).toContain(flag);
  });
});
