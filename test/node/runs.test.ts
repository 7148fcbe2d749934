// The run-folder format (src/node/runs/) and the protocol validators, on their own: the loss
// curve's bounded downsampling, listing with a damaged folder, checkpoints whose resume data was
// tampered with, and trainer events that must not pass.

import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModelFile } from '../../src/engine/formats/modelfile';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { parseTrainerEvent, parseTrainerRequest } from '../../src/node/protocol';
import { buildRunConfig } from '../../src/node/runs/config';
import { createRun, listRuns, markInterruptedRuns, newRunId, readRunConfig, readRunStatus } from '../../src/node/runs/folder';
import { lockRun, lockState } from '../../src/node/runs/lock';
import { nodeFs, type FsLayer } from '../../src/node/files';
import { defaultValidation, trainConfigOf, trainSettingsSchema } from '../../src/common/settings';
import { LossCurve } from '../../src/node/runs/loss-curve';
import { type ResumeState, readCheckpoint, writeCheckpoint } from '../../src/node/runs/checkpoint';
import { RUN_FILES, type RunConfig } from '../../src/node/runs/layout';
import type { DatasetInfo } from '../../src/common/records';
import { jsKernels } from '../../src/engine/kernels/js/backend';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-runs-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const DATASET: DatasetInfo = { path: null, name: 'MNIST (embedded)', trainCount: 60000, testCount: 10000, rows: 28, cols: 28, fingerprint: 'abc' };
const SETTINGS = { epochs: 2, batchSize: 32, lr: 0.01, momentum: 0.9, decay: 0, schedule: { type: 'constant' as const } };

function config(id: string): RunConfig {
  return buildRunConfig({ id, preset: PRESETS['lenet5-relu-ce'], settings: { ...SETTINGS, limit: 120, validation: 20 }, dataset: DATASET });
}

function resume(count: number, velocity: number): ResumeState {
  return {
    epoch: 1,
    position: 0,
    order: new Uint32Array(count).map((_, i) => count - 1 - i),
    rng: { s: [1, -2, 3, 4], spare: null },
    velocity: new Float32Array(velocity).fill(0.25),
    imagesSeen: count,
    partial: { seen: 0, lossSum: 0, correct: 0, batches: 0, seconds: 0 },
    history: [],
    curve: new LossCurve().state,
    best: null,
    confusion: null,
  };
}

describe('run configuration', () => {
  it('defaults: seed 1, shuffling, 5,000 validation images from 60,000 (a twelfth of smaller pools)', () => {
    const c = buildRunConfig({ id: 'd', preset: PRESETS['lenet5-relu-ce'], settings: SETTINGS, dataset: DATASET });
    expect(trainConfigOf(c.settings)).toMatchObject({ seed: 1, shuffle: true });
    expect(c.validation).toBe(5000);
    expect(c.trainCount).toBe(55000);
    expect(c.limit).toBeNull();
    expect(defaultValidation(1200)).toBe(100);
    expect(() => trainSettingsSchema.parse({ ...SETTINGS, lr: 0 }, 'settings')).toThrow(/settings\.lr: expected a number above 0/);
    expect(() => buildRunConfig({ id: 'x', preset: PRESETS['lenet5-relu-ce'], settings: { ...SETTINGS, validation: 60_000 }, dataset: DATASET })).toThrow(
      /cannot hold out/,
    );
  });

  it('run ids are sortable by time and safe as folder names', () => {
    expect(newRunId('lenet5-relu-ce', new Date('2025-03-04T05:06:07Z'), 0xab)).toBe('20250304-050607-lenet5-relu-ce-00ab');
    expect(newRunId('../../evil name', new Date('2025-03-04T05:06:07Z'), 1)).toBe('20250304-050607-evilname-0001');
  });
});

describe('LossCurve', () => {
  it('keeps between MAX/2 and MAX points, evenly spaced, however long the run', () => {
    const c = new LossCurve(undefined, 10);
    for (let seen = 10; seen <= 3_000_000; seen += 10) c.add(seen, 1);
    const pts = c.state.points;
    expect(pts.length).toBeLessThan(LossCurve.MAX);
    expect(pts.length).toBeGreaterThanOrEqual(LossCurve.MAX / 2);
    const gaps = new Set(pts.slice(1).map((p, i) => p[0] - pts[i][0]));
    expect(gaps.size).toBe(1);
    expect(pts.at(-1)![0]).toBeGreaterThan(2_900_000);
  });

  it('restores from its state and continues identically', () => {
    const a = new LossCurve(undefined, 5);
    const b0 = new LossCurve(undefined, 5);
    for (let i = 1; i <= 400; i++) {
      a.add(i * 7, Math.sin(i));
      if (i <= 200) b0.add(i * 7, Math.sin(i));
    }
    const b = new LossCurve(JSON.parse(JSON.stringify(b0.state)));
    for (let i = 201; i <= 400; i++) b.add(i * 7, Math.sin(i));
    expect(b.state).toEqual(a.state);
  });
});

describe('checkpoints', () => {
  const model = new Model(PRESETS['lenet5-relu-ce'].spec, jsKernels).init(1);
  const meta = { preset: 'lenet5-relu-ce', settings: config('m').settings, dataset: DATASET, limit: 120, validation: 20, runId: 'm' };

  it('round-trips the resume state exactly', async () => {
    const dir = join(root, 'cp-ok');
    await mkdir(dir);
    const r = resume(100, model.params.length);
    await writeCheckpoint(dir, model, meta, r);
    const back = await readCheckpoint(dir, 100);
    expect(back!.resume.order).toEqual(r.order);
    expect(back!.resume.velocity).toEqual(r.velocity);
    expect(back!.resume.rng).toEqual(r.rng);
    expect(back!.loaded.model.params).toEqual(model.params);
  });

  it.each<[string, (r: ResumeState) => void, number, RegExp]>([
    ['an order for another training-set size', () => undefined, 99, /100 entries, the run trains on 99/],
    ['an order that is not a permutation', (r) => (r.order[3] = r.order[4]), 100, /not a permutation/],
    ['an order index out of range', (r) => (r.order[0] = 100), 100, /not a permutation/],
    ['momentum for another model', (r) => (r.velocity = new Float32Array(5)), 100, /5 momentum values/],
    ['a non-finite momentum value', (r) => (r.velocity[7] = Number.NaN), 100, /not finite/],
    ['a position past the end', (r) => (r.position = 101), 100, /position 101/],
  ])('refuses %s', async (name, spoil, count, message) => {
    const dir = join(root, `cp-${name.replace(/\W+/g, '-')}`);
    await mkdir(dir);
    const r = resume(100, model.params.length);
    spoil(r);
    await writeCheckpoint(dir, model, meta, r);
    await expect(readCheckpoint(dir, count)).rejects.toThrow(message);
  });

  it('refuses a model file without resume data', async () => {
    const dir = join(root, 'cp-plain');
    await mkdir(dir);
    await writeFile(join(dir, RUN_FILES.checkpoint), encodeModelFile(model));
    await expect(readCheckpoint(dir, 100)).rejects.toThrow(/no resume data/);
  });
});

describe('listRuns', () => {
  it('lists runs newest first, shows a damaged folder as failed, skips what is not a run', async () => {
    const runs = join(root, 'list');
    await createRun(join(runs, '20250101-000000-a-0001'), config('20250101-000000-a-0001'));
    await createRun(join(runs, '20250102-000000-b-0002'), config('20250102-000000-b-0002'));
    await mkdir(join(runs, '20250103-000000-c-0003'));
    await writeFile(join(runs, '20250103-000000-c-0003', RUN_FILES.config), '{"format": "lenet-studio-run/1", ');
    await mkdir(join(runs, 'not-a-run'));
    await writeFile(join(runs, '.hidden'), 'x');
    const list = await listRuns(runs);
    expect(list.map((r) => r.id)).toEqual(['20250103-000000-c-0003', '20250102-000000-b-0002', '20250101-000000-a-0001']);
    expect(list[0]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/run\.json: not valid JSON/) });
    expect(list[1]).toMatchObject({ status: 'running', epochsDone: 0, preset: 'lenet5-relu-ce' });
    await expect(createRun(join(runs, '20250101-000000-a-0001'), config('20250101-000000-a-0001'))).rejects.toThrow(/already holds a run/);
  });

  it('lists two runs started in the same second in the order they were created, not by their random suffix', async () => {
    const runs = join(root, 'same-second');
    const at = (ms: number) => new Date(Date.UTC(2025, 0, 1, 12, 0, 0, ms));
    const first = '20250101-120000-lenet5-relu-ce-ffff';
    const second = '20250101-120000-lenet5-relu-ce-0001';
    await createRun(join(runs, first), { ...config(first), createdAt: at(100).toISOString() });
    await createRun(join(runs, second), { ...config(second), createdAt: at(900).toISOString() });
    expect((await listRuns(runs)).map((r) => r.id)).toEqual([second, first]);
  });
});

describe('protocol validation', () => {
  it('accepts well-formed messages', () => {
    expect(parseTrainerRequest({ type: 'cancel', id: 1, runId: 'r-1' })).toEqual({ type: 'cancel', id: 1, runId: 'r-1' });
    const ev = { type: 'progress', runId: 'r', epoch: 1, step: 2, steps: 3, loss: 0.5, imagesPerSecond: 10, etaSeconds: 1, lr: 0.1, imagesSeen: 64 };
    expect(parseTrainerEvent(ev)).toEqual(ev);
  });

  it.each<[string, unknown, RegExp]>([
    [
      'a NaN loss',
      { type: 'progress', runId: 'r', epoch: 1, step: 2, steps: 3, loss: Number.NaN, imagesPerSecond: 10, etaSeconds: 1, lr: 0.1, imagesSeen: 64 },
      /loss: expected a number/,
    ],
    ['an unknown event', { type: 'exec', cmd: 'rm -rf /' }, /type: expected one of/],
    ['a snapshot of plain arrays', { type: 'snapshot', runId: 'r', epoch: 1, params: [1, 2], buffers: new Float32Array(0) }, /params: expected a Float32Array/],
    [
      'a snapshot with Infinity',
      { type: 'snapshot', runId: 'r', epoch: 1, params: new Float32Array([1, Infinity]), buffers: new Float32Array(0) },
      /params\[1\]: expected a finite number/,
    ],
    ['a run id with a path in it', { type: 'status', runId: '../x', status: 'paused' }, /runId/],
    ['a reply that is neither ok nor an error', { type: 'reply', id: 1, ok: 'yes' }, /ok: expected one of false/],
    [
      'an accuracy above 1',
      {
        type: 'epoch',
        runId: 'r',
        confusion: [],
        metrics: { epoch: 1, trainLoss: 1, trainAccuracy: 2, testLoss: 1, testAccuracy: 0.5, seconds: 1, imagesPerSecond: 1, lr: 0.1 },
      },
      /trainAccuracy/,
    ],
  ])('refuses %s', (_name, msg, message) => {
    expect(() => parseTrainerEvent(msg)).toThrow(message);
  });
});

/** A pid that is certainly gone: a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

describe('one writer per run folder', () => {
  it('createRun is atomic: of two creators of the same folder at once, exactly one succeeds', async () => {
    const dir = join(root, 'race', '20250105-000000-r-0001');
    const results = await Promise.allSettled([createRun(dir, config('20250105-000000-r-0001')), createRun(dir, config('20250105-000000-r-0001'))]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const failure = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(String(failure.reason)).toMatch(/is in use by process|already holds a run/);
    expect((await readRunConfig(dir)).id).toBe('20250105-000000-r-0001');
    expect(await readdir(dir)).not.toContain(RUN_FILES.lock);
  });

  it('createRun refuses a folder that holds anything, and leaves it as it was', async () => {
    const dir = join(root, 'not-empty');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await expect(createRun(dir, config('not-empty'))).rejects.toThrow(`${dir} is not empty (it holds notes.txt); a run folder must be new or empty`);
    expect(await readdir(dir)).toEqual(['notes.txt']);
  });

  it('createRun on read-only storage fails naming the file and leaves no folder, file or lock behind', async () => {
    const parent = join(root, 'ro');
    await mkdir(parent);
    const readOnly: FsLayer = {
      ...nodeFs,
      open: (p, flags) =>
        flags === 'wx' ? Promise.reject(Object.assign(new Error('EROFS: read-only file system, open'), { code: 'EROFS' })) : nodeFs.open(p, flags),
    };
    const dir = join(parent, 'a', 'b');
    await expect(createRun(dir, config('b'), readOnly)).rejects.toThrow(`could not write ${join(dir, RUN_FILES.config)}: EROFS: read-only file system`);
    expect(await readdir(parent)).toEqual([]);
  });

  it('a lock whose process is gone is stale: taken over; a live one is refused with its pid', async () => {
    const dir = join(root, 'locks');
    await mkdir(dir);
    await writeFile(join(dir, RUN_FILES.lock), JSON.stringify({ pid: await deadPid(), host: hostname(), since: '' }));
    const lock = lockRun(dir);
    expect(JSON.parse(await readFile(join(dir, RUN_FILES.lock), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(await readdir(dir)).toEqual([]);

    const other = spawn('sleep', ['30']);
    try {
      await writeFile(join(dir, RUN_FILES.lock), JSON.stringify({ pid: other.pid, host: hostname(), since: '' }));
      expect(() => lockRun(dir)).toThrow(`${dir} is in use by process ${other.pid}`);
      expect(lockState(dir).holder?.pid).toBe(other.pid);
    } finally {
      other.kill();
    }
  });

  it('a "running" run whose writer is gone reads as failed (interrupted) and is marked so; a live writer’s is left alone', async () => {
    const runs = join(root, 'stale');
    const dead = join(runs, '20250106-000000-d-0001');
    const live = join(runs, '20250106-000000-l-0002');
    await createRun(dead, config('20250106-000000-d-0001'));
    await createRun(live, config('20250106-000000-l-0002'));
    const pid = await deadPid();
    await writeFile(join(dead, RUN_FILES.lock), JSON.stringify({ pid, host: hostname(), since: '' }));
    const other = spawn('sleep', ['30']);
    try {
      await writeFile(join(live, RUN_FILES.lock), JSON.stringify({ pid: other.pid, host: hostname(), since: '' }));
      const s = await readRunStatus(dead);
      expect(s).toMatchObject({ status: 'failed' });
      expect(s.reason).toMatch(new RegExp(`^interrupted: process ${pid} stopped during the run`));
      expect(JSON.parse(await readFile(join(dead, RUN_FILES.status), 'utf8'))).toMatchObject({ status: 'failed', reason: s.reason });
      expect(await readdir(dead)).not.toContain(RUN_FILES.lock);
      expect((await readRunStatus(live)).status).toBe('running');
      // The app's start-up sweep leaves a run alone while a live process (a CLI) holds its lock.
      expect(await markInterruptedRuns(runs, new Set())).toEqual([]);
      expect((await listRuns(runs)).map((r) => [r.id, r.status])).toEqual([
        ['20250106-000000-l-0002', 'running'],
        ['20250106-000000-d-0001', 'failed'],
      ]);
    } finally {
      other.kill();
    }
  });
});
