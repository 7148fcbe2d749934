// Crash safety of saving: the trainer (here the CLI with a run folder) is SIGKILLed while a
// checkpoint is half-way through its atomic write — the new bytes complete in a temp file, the
// rename not yet done (a test hook pauses exactly there). The previous checkpoint and the best
// model must be intact and load, and --resume must clean up and finish the run.

import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readCheckpoint, readRunModel } from '../../src/node/runs/checkpoint';
import { readRunStatus } from '../../src/node/runs/folder';
import { mnistSubset } from '../helpers/mnist-subset';

let root: string;
let data: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-crash-save-'));
  data = await mnistSubset(1200, 200);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function train(
  args: string[],
  env: Record<string, string> = {},
  onStderr?: (text: string, kill: () => void) => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/node/cli/train.ts', ...args], { env: { ...process.env, LENET_KERNELS: 'wasm', ...env } });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b;
      onStderr?.(stderr, () => child.kill('SIGKILL'));
    });
    child.stdout.resume();
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

it('SIGKILL between writing the new checkpoint and renaming it: the old checkpoint and best model load; --resume finishes', async () => {
  const dir = join(root, 'run');
  const args = [
    '--preset',
    'lenet5-relu-ce',
    '--data',
    data,
    '--epochs',
    '3',
    '--batch',
    '32',
    '--threads',
    '1',
    '--validation',
    '200',
    '--run-dir',
    dir,
    '--json',
  ];
  // Pause in the third checkpoint save (one at the start, one per epoch: the end of epoch 2), then kill.
  const r = await train(args, { LENET_TEST_PAUSE_BEFORE_RENAME: 'checkpoint.lenet#3' }, (text, kill) => {
    if (text.includes('pause-before-rename')) kill();
  });
  expect(r.signal).toBe('SIGKILL');
  const files = await readdir(dir);
  // The killed save left its complete temp file beside the untouched target.
  expect(files.some((f) => /^\.checkpoint\.lenet\.\d+\.[0-9a-f]+\.tmp$/.test(f))).toBe(true);
  const before = await readCheckpoint(dir, 1000);
  expect(before, 'the previous checkpoint loads').not.toBeNull();
  expect(before!.resume.history).toHaveLength(1); // still epoch 1's
  expect(await readRunModel(dir, 'best')).not.toBeNull();

  const resumed = await train(['--resume', dir, '--json']);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect((await readRunStatus(dir)).status).toBe('done');
  const after = await readCheckpoint(dir, 1000);
  expect(after!.resume.history).toHaveLength(3);
  expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
});
