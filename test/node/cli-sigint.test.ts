// Ctrl+C on `npm run train -- --run-dir DIR`, as a terminal delivers it: SIGINT to the whole
// foreground process group (npm, its shell, node), 20 times in a row, at varying moments of the
// run. Every time the run must end with its contract kept: the epoch in progress saved in
// checkpoint.lenet (position, partial accumulators and counters consistent), status.json
// "cancelled" rather than "running", no lock or temp file left. The npm script starts the CLI as
// one node process (node --import tsx), so the process the terminal signals is the trainer itself:
// through the tsx wrapper, which kills its child shortly after forwarding a signal, about one
// Ctrl+C in five lost the epoch and left the run "running".

import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/node/runs/checkpoint';
import { readRunConfig } from '../../src/node/runs/folder';
import { RUN_FILES } from '../../src/node/runs/layout';
import { mnistSubset } from '../helpers/mnist-subset';

const TRIES = 20;
let root: string;
let data: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-sigint-'));
  data = await mnistSubset(600, 200);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `npm run train -- …` in its own process group; SIGINT to the group `delayMs` after the run folder is announced. */
function trainAndCtrlC(dir: string, delayMs: number): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const args = ['--preset', 'lenet5-relu-ce', '--batch', '2', '--lr', '0.005', '--threads', '1', '--epochs', '30', '--limit', '300'];
    const child = spawn('npm', ['run', 'train', '--', ...args, '--data', data, '--run-dir', dir], {
      cwd: process.cwd(),
      detached: true, // a process group of its own, as a terminal's foreground job
      env: { ...process.env, LENET_KERNELS: 'wasm' },
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`no end 60 s after start\n${stdout}\n${stderr}`));
    }, 60_000);
    child.stdout.on('data', (b: Buffer) => {
      stdout += b;
      if (!sent && /^run folder /m.test(stdout)) {
        sent = true;
        setTimeout(() => process.kill(-child.pid!, 'SIGINT'), delayMs);
      }
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('Ctrl+C on npm run train -- --run-dir', () => {
  it(
    `saves the epoch in progress and marks the run cancelled, ${TRIES} times in a row`,
    async () => {
      for (let i = 0; i < TRIES; i++) {
        const dir = join(root, `run-${i}`);
        // From at once to well into the run: before the first batch, mid-epoch, at epoch ends.
        const delayMs = (i * 97) % 700;
        const r = await trainAndCtrlC(dir, delayMs);
        const where = `try ${i + 1} (Ctrl+C ${delayMs} ms in):\n${r.stdout}\n${r.stderr}`;
        // npm passes the interrupt on: killed by SIGINT, or the CLI's own 130.
        expect(r.signal === 'SIGINT' || r.code === 130, where).toBe(true);
        expect(r.stderr, where).toMatch(/^train: interrupted; checkpoint saved, continue with --resume /m);
        expect(r.stderr, where).not.toMatch(/\n\s+at /);

        const status = JSON.parse(await readFile(join(dir, RUN_FILES.status), 'utf8')) as { status: string };
        expect(status.status, where).toBe('cancelled');
        const names = await readdir(dir);
        expect(
          names.filter((n) => n === RUN_FILES.lock || n.endsWith('.tmp')),
          where,
        ).toEqual([]);

        const run = await readRunConfig(dir);
        const cp = await readCheckpoint(dir, run.trainCount);
        expect(cp, where).not.toBeNull();
        const s = cp!.resume;
        // The checkpoint stands where training stopped, mid-epoch included.
        expect(s.imagesSeen, where).toBe(s.epoch * run.trainCount + s.position);
        expect(s.partial.seen, where).toBe(s.position);
        expect(s.history.length, where).toBe(s.epoch);
        const metrics = JSON.parse(await readFile(join(dir, RUN_FILES.metrics), 'utf8')) as unknown[];
        expect(metrics.length, where).toBe(s.history.length);
      }
    },
    TRIES * 60_000,
  );
});
