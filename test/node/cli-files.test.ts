// The command line's files and folders: every output path is checked before any training, a run
// folder has one writer at a time, --resume never restarts a run from scratch, a closed stdout
// ends a command quietly, and bad values (options, LENET_KERNELS) are refused with one line.
// Real CLI processes on a small slice of MNIST. The tests run as root, where permissions prove
// nothing: unwritable places are paths that fail for root too (under a regular file, in /proc);
// read-only storage through the injectable fs layer is in files.test.ts and runs.test.ts.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRunStatus } from '../../src/node/runs/folder';
import { RUN_FILES } from '../../src/node/runs/layout';
import { mnistSubset } from '../helpers/mnist-subset';

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

interface Options {
  env?: Record<string, string>;
  /** Sees stdout and stderr as they come; may signal the process. */
  watch?: (out: string, err: string, kill: (s: NodeJS.Signals) => void) => void;
  /** Closes the reading end of stdout at once, as `| head` does once it has its lines. */
  closeStdout?: boolean;
  /** A process still running then is killed (a hang is a failure, not a stuck test run). */
  timeoutMs?: number;
}

/** One node process per command (node --import tsx, as the npm scripts start them). */
function cli(script: 'train' | 'evaluate' | 'experiments', args: string[], o: Options = {}): Promise<Result & { pid: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', `src/node/cli/${script}.ts`, ...args], {
      cwd: process.cwd(),
      env: { ...process.env, LENET_KERNELS: 'wasm', ...o.env },
    });
    let stdout = '';
    let stderr = '';
    const kill = (s: NodeJS.Signals): void => void child.kill(s);
    if (o.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (b: Buffer) => ((stdout += b), o.watch?.(stdout, stderr, kill)));
    child.stderr.on('data', (b: Buffer) => ((stderr += b), o.watch?.(stdout, stderr, kill)));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0, pid: child.pid! });
    });
  });
}

/** One line on stderr (a usage error adds the pointer to --help), no stack trace. */
function expectOneLine(r: Result, code: number, message: RegExp | string): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
  const lines = r.stderr.trim().split('\n');
  expect(lines.length, r.stderr).toBe(code === 2 ? 2 : 1);
}

const RUN = ['--preset', 'lenet5-relu-ce', '--batch', '16', '--threads', '1', '--epochs', '1'];
let root: string;
let data: string;
let file: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-cli-files-'));
  data = await mnistSubset(600, 200);
  file = join(root, 'plain-file');
  await writeFile(file, 'not a folder');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('output paths are checked before training', () => {
  it.each([
    ['a missing folder', () => join(root, 'missing', 'm.lenet'), /^train: cannot write .*\/missing\/m\.lenet: the folder .*\/missing does not exist$/m],
    ['a folder under a regular file', () => join(file, 'm.lenet'), /^train: cannot write .*\/plain-file\/m\.lenet: .*\/plain-file is not a folder$/m],
    ['a folder that takes no files (/proc)', () => '/proc/m.lenet', /^train: cannot write \/proc\/m\.lenet: the folder \/proc does not take new files/m],
  ])('--out into %s fails at once, naming the path given, before epoch 1', async (_label, out, message) => {
    const r = await cli('train', [...RUN, '--data', data, '--json', '--out', out()]);
    expectOneLine(r, 1, message);
    expect(r.stdout).toBe(''); // no epoch ran
    expect(r.stderr).not.toMatch(/\.tmp/);
  });

  it.each([
    ['on a pseudo file system (/proc/run)', () => '/proc/run', /^train: cannot create the run folder \/proc\/run: the folder \/proc does not take new files/m],
    ['on an existing file', () => file, /^train: the run folder .*plain-file is a file; it must be a new or empty folder$/m],
    ['under an existing file', () => join(file, 'run'), /^train: cannot create .*plain-file\/run: .*plain-file is a file, not a folder$/m],
  ])('--run-dir %s fails at once with one line (no hang, no internal error)', async (_label, dir, message) => {
    const r = await cli('train', [...RUN, '--data', data, '--run-dir', dir()], { timeoutMs: 30_000 });
    expectOneLine(r, 1, message);
    expect(r.stdout).toBe('');
  });

  it('--run-dir on a folder that holds other things is refused, and the folder is left as it was', async () => {
    const dir = join(root, 'my-notes');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'keep me');
    const r = await cli('train', [...RUN, '--data', data, '--run-dir', dir]);
    expectOneLine(r, 1, /^train: the run folder .*my-notes is not empty \(it holds notes\.txt\); it must be a new or empty folder$/m);
    expect(await readdir(dir)).toEqual(['notes.txt']);
  });

  it.each([
    [
      'on a pseudo file system (/proc/study)',
      () => '/proc/study',
      /^experiments: cannot create the study folder \(--out\) \/proc\/study: the folder \/proc does not take new files/m,
    ],
    ['on an existing file', () => file, /^experiments: the study folder \(--out\) .*plain-file is a file; it must be a new or empty folder$/m],
  ])('seed-study --out %s fails at once with one line', async (_label, out, message) => {
    const r = await cli('experiments', ['seed-study', '--presets', 'lenet5-relu-ce', '--epochs', '1', '--limit', '300', '--data', data, '--out', out()], {
      timeoutMs: 30_000,
    });
    expectOneLine(r, 1, message);
  });

  it('seed-study --out on an existing study is refused: its report is never overwritten', async () => {
    const study = join(root, 'old-study');
    await mkdir(study);
    await writeFile(join(study, 'report.md'), '# the old report\n');
    await writeFile(join(study, 'results.json'), '{}\n');
    const r = await cli('experiments', ['seed-study', '--presets', 'lenet5-relu-ce', '--epochs', '1', '--limit', '300', '--data', data, '--out', study]);
    expectOneLine(r, 1, /study folder \(--out\) .*old-study is not empty \(it holds 2 entries such as/);
    expect(await readFile(join(study, 'report.md'), 'utf8')).toBe('# the old report\n');
  });

  it('seed-study --validation 1000 --limit 500 is a bad option and leaves no folder', async () => {
    const out = join(root, 'impossible-study');
    const r = await cli('experiments', ['seed-study', '--presets', 'lenet5-relu-ce', '--validation', '1000', '--limit', '500', '--data', data, '--out', out]);
    expectOneLine(r, 2, /^experiments: cannot hold out 1,000 validation images from 500 training images; lower --validation or raise the limit$/m);
    expect(existsSync(out)).toBe(false);
  });
});

describe('--resume', () => {
  it('with checkpoint.lenet missing fails naming the file, whatever the status, and touches nothing', async () => {
    const dir = join(root, 'no-checkpoint');
    const first = await cli('train', [...RUN, '--data', data, '--limit', '300', '--run-dir', dir]);
    expect(first.code, first.stderr).toBe(0);
    await rm(join(dir, RUN_FILES.checkpoint));
    for (const status of ['done', 'cancelled', 'running']) {
      await writeFile(join(dir, RUN_FILES.status), JSON.stringify({ status, updatedAt: '' }));
      const metrics = await readFile(join(dir, RUN_FILES.metrics), 'utf8');
      const r = await cli('train', ['--resume', dir]);
      expectOneLine(r, 1, `train: ${join(dir, RUN_FILES.checkpoint)} is missing: the run cannot be resumed without its checkpoint`);
      expect(await readFile(join(dir, RUN_FILES.metrics), 'utf8')).toBe(metrics);
      expect(existsSync(join(dir, RUN_FILES.lock))).toBe(false);
    }
  });

  it('while the original run is still training is refused, naming its pid; the original goes on undisturbed', async () => {
    const dir = join(root, 'busy');
    // Batches of 2 over 30 epochs: still training when --resume comes; stopped with Ctrl+C after.
    let started!: () => void;
    const isTraining = new Promise<void>((r) => (started = r));
    let stop!: (s: NodeJS.Signals) => void;
    const original = cli('train', [...RUN, '--batch', '2', '--lr', '0.005', '--epochs', '30', '--limit', '300', '--data', data, '--run-dir', dir], {
      watch: (out, _err, kill) => {
        stop = kill;
        if (/^run folder /m.test(out)) started();
      },
    });
    await isTraining;
    const r = await cli('train', ['--resume', dir]);
    stop('SIGINT');
    const o = await original;
    expectOneLine(r, 1, new RegExp(`^train: ${dir} is in use by process ${o.pid} \\(a training or resume of this run is still going\\)`, 'm'));
    expect(o.code, o.stderr).toBe(130);
    expect((await readRunStatus(dir)).status).toBe('cancelled');
    expect(existsSync(join(dir, RUN_FILES.lock))).toBe(false);
  });
});

describe('a closed stdout ends the command quietly', () => {
  it('evaluate --json | head: exit 0, nothing on stderr', async () => {
    const model = join(root, 'epipe.lenet');
    const t = await cli('train', [...RUN, '--limit', '200', '--data', data, '--out', model, '--json']);
    expect(t.code, t.stderr).toBe(0);
    const r = await cli('evaluate', [model, '--data', data, '--json'], { closeStdout: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('train --json --run-dir | head: the run stops at once, checkpointed and resumable, exit 0, nothing on stderr', async () => {
    const dir = join(root, 'epipe-run');
    const r = await cli('train', [...RUN, '--epochs', '50', '--limit', '300', '--data', data, '--run-dir', dir, '--json'], { closeStdout: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const status = await readRunStatus(dir);
    expect(status.status).toBe('cancelled');
    expect(JSON.parse(await readFile(join(dir, RUN_FILES.metrics), 'utf8')).length).toBeLessThan(50);
  });
});

describe('bad values', () => {
  it('LENET_KERNELS=bogus is refused, not silently replaced by the default', async () => {
    const r = await cli('train', [...RUN, '--data', data, '--limit', '100'], { env: { LENET_KERNELS: 'bogus' } });
    expectOneLine(r, 2, /^train: LENET_KERNELS must be one of auto, wasm, wasm-simd, wasm-relaxed-simd, js \(or unset\), got "bogus"$/m);
    expect(r.stdout).toBe('');
  });

  it('--threads 4 on a batch-norm network at batch 32 (shards of 8 images): no warning, the accuracy of one thread', async () => {
    // Synchronised batch norm: shards of 8 images normalise with the whole batch's statistics.
    const run = (threads: string): Promise<Result> =>
      cli('train', ['--preset', 'lenet5-relu-ce-bn', '--threads', threads, '--limit', '1000', '--epochs', '1', '--json', '--data', data]);
    const [one, four] = [await run('1'), await run('4')];
    expect(four.code).toBe(0);
    expect(four.stderr).not.toMatch(/warning/);
    const last = (r: Result): { testAccuracy: number; testLoss: number } => JSON.parse(r.stdout.trim().split('\n').pop()!);
    // Equal up to the order of float sums (shards normalising alone end several times further apart).
    expect(Math.abs(last(four).testAccuracy - last(one).testAccuracy)).toBeLessThan(0.002);
    expect(Math.abs(last(four).testLoss - last(one).testLoss)).toBeLessThan(1e-3 * last(one).testLoss);
  });
});
