// The time machine in a run folder: epochs/NNN.lenet after every epoch (--keep-epochs), each one
// evaluating with `npm run evaluate` to exactly the test accuracy metrics.json recorded for it,
// and history.bin, whose test predictions for epoch N are evaluate's predictions of epoch N's
// snapshot. Real CLI processes on a small slice of MNIST.

import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModelFile } from '../../src/engine/formats/modelfile';
import { RUN_FILES } from '../../src/node/runs/layout';
import { HISTORY_FILE, ROLE_VALIDATION, readSampleHistory } from '../../src/node/runs/history';
import { loadMnist } from '../../src/node/datasets';
import { mnistSubset } from '../helpers/mnist-subset';

let root: string;
let data: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI; `onData` sees stdout as it comes and may kill the process. */
function cli(script: string, args: string[], onData?: (stdout: string, kill: () => void) => void): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `src/node/cli/${script}.ts`, ...args], {
      cwd: process.cwd(),
      env: { ...process.env, LENET_KERNELS: 'wasm' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b;
      onData?.(stdout, () => child.kill('SIGKILL'));
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Two threads: the run evaluates on worker threads, `evaluate` on one; the numbers must agree exactly.
const BASE = ['--preset', 'lenet5-relu-ce', '--batch', '32', '--lr', '0.02', '--momentum', '0.9', '--threads', '2', '--seed', '3', '--validation', '300'];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-run-epochs-'));
  data = await mnistSubset(1500, 500);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('epochs/NNN.lenet', () => {
  it('a 3-epoch run keeps every epoch; each evaluates to exactly the recorded test accuracy and history.bin holds its predictions', async () => {
    const dir = join(root, 'all');
    const r = await cli('train', [...BASE, '--data', data, '--epochs', '3', '--run-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect((await readdir(join(dir, 'epochs'))).sort()).toEqual(['001.lenet', '002.lenet', '003.lenet']);
    const metrics = JSON.parse(await readFile(join(dir, RUN_FILES.metrics), 'utf8')) as { testAccuracy: number }[];
    expect(metrics).toHaveLength(3);
    const history = await readSampleHistory(dir);
    const mnist = await loadMnist(data);
    for (let e = 1; e <= 3; e++) {
      const file = join(dir, 'epochs', `00${e}.lenet`);
      const loaded = decodeModelFile(await readFile(file), file);
      expect((loaded.training as { epochsDone: number }).epochsDone).toBe(e);
      const ev = await cli('evaluate', [file, '--data', data, '--json']);
      expect(ev.code, ev.stderr).toBe(0);
      const out = JSON.parse(ev.stdout) as { accuracy: number; predictions: number[]; scores: number[][] };
      expect(out.accuracy).toBe(metrics[e - 1].testAccuracy);
      const samples = history!.epoch(e);
      expect(Array.from(samples.testPredicted)).toEqual(out.predictions);
      // True-class probabilities, to the file's 1/65535 (evaluate prints 6 decimals).
      samples.testProbability.forEach((p, i) => expect(Math.abs(p - out.scores[i][mnist.test.labels[i]])).toBeLessThan(1e-5));
    }
    // Every training image of the file, held-out ones marked, with a prediction per epoch.
    expect(history!.info).toMatchObject({ classes: 10, trainCount: 1500, testCount: 500, firstEpoch: 1, epochs: 3 });
    expect(history!.info.roles.filter((r) => r === ROLE_VALIDATION).length).toBe(300);
    const last = history!.epoch(3);
    const trainCorrect = last.trainPredicted.filter((p, i) => p === mnist.train.labels[i]).length;
    expect(trainCorrect / 1500).toBeGreaterThan(0.8);
    // The epochs differ: these are snapshots, not one model written three times.
    const [a, b] = await Promise.all([1, 3].map(async (e) => readFile(join(dir, 'epochs', `00${e}.lenet`))));
    expect(Buffer.compare(a, b)).not.toBe(0);
  });

  it('--keep-epochs best keeps only the epoch best.lenet holds; none keeps no snapshot', async () => {
    const best = join(root, 'best');
    const r = await cli('train', [...BASE, '--data', data, '--epochs', '3', '--run-dir', best, '--keep-epochs', 'best']);
    expect(r.code, r.stderr).toBe(0);
    const names = await readdir(join(best, 'epochs'));
    expect(names).toHaveLength(1);
    const bestModel = decodeModelFile(await readFile(join(best, RUN_FILES.best)), 'best.lenet');
    expect(names[0]).toBe(`${String((bestModel.training as { epochsDone: number }).epochsDone).padStart(3, '0')}.lenet`);
    expect(Buffer.compare(await readFile(join(best, 'epochs', names[0])), await readFile(join(best, RUN_FILES.best)))).toBe(0);

    const none = join(root, 'none');
    const n = await cli('train', [...BASE, '--data', data, '--epochs', '1', '--run-dir', none, '--keep-epochs', 'none']);
    expect(n.code, n.stderr).toBe(0);
    expect(await readdir(none)).not.toContain('epochs');
  });

  it('a run killed after epoch 1 and resumed: every epoch snapshot, history and health epoch once, the resume marked', async () => {
    const dir = join(root, 'resumed');
    const args = [...BASE, '--data', data, '--epochs', '3', '--run-dir', dir, '--json'];
    const killed = await cli('train', args, (out, kill) => {
      if (out.includes('\n')) kill();
    });
    expect(killed.code).toBeNull();
    const done = (await readdir(join(dir, 'epochs'))).length;
    expect(done).toBeLessThan(3);
    const r = await cli('train', ['--resume', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((await readdir(join(dir, 'epochs'))).sort()).toEqual(['001.lenet', '002.lenet', '003.lenet']);
    const metrics = JSON.parse(await readFile(join(dir, RUN_FILES.metrics), 'utf8')) as { testAccuracy: number }[];
    const ev = await cli('evaluate', [join(dir, 'epochs', '003.lenet'), '--data', data, '--json']);
    const out = JSON.parse(ev.stdout) as { accuracy: number; predictions: number[] };
    expect(out.accuracy).toBe(metrics[2].testAccuracy);
    const history = await readSampleHistory(dir);
    expect(history!.info).toMatchObject({ firstEpoch: 1, epochs: 3 });
    expect(Array.from(history!.epoch(3).testPredicted)).toEqual(out.predictions);
    const health = JSON.parse(await readFile(join(dir, 'health.json'), 'utf8')) as { epoch: number; resumed?: boolean }[];
    expect(health.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(health.filter((h) => h.resumed).map((h) => h.epoch)).toEqual([done + 1]);
  });

  it('--history off writes no history.bin', async () => {
    const off = join(root, 'off');
    const r = await cli('train', [...BASE, '--data', data, '--epochs', '1', '--run-dir', off, '--history', 'off']);
    expect(r.code, r.stderr).toBe(0);
    expect(await readdir(off)).not.toContain(HISTORY_FILE);
  });

  it('refuses a bad --keep-epochs, and one without a run folder, with exit 2 and one line', async () => {
    const h = await cli('train', ['--history', 'maybe']);
    expect(h.code).toBe(2);
    expect(h.stderr.split('\n')[0]).toBe('train: --history must be on or off, got "maybe"');
    const bad = await cli('train', ['--keep-epochs', 'some']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe('train: --keep-epochs must be all, best, none, got "some"');
    const alone = await cli('train', ['--keep-epochs', 'all']);
    expect(alone.code).toBe(2);
    expect(alone.stderr.split('\n')[0]).toBe('train: --keep-epochs needs --run-dir or --resume');
  });
});
