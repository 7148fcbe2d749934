// The training session shared by the trainer process and the CLI, run in-process on a small
// slice of real MNIST: the validation split, resume bit-identity, divergence, the best model,
// and the progress rate limit (with an injected clock, never the wall clock).

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ImageSet } from '../../src/engine/data';
import { decodeModelFile } from '../../src/engine/formats/modelfile';
import type { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { describeDataset, loadMnist, type MnistData } from '../../src/node/datasets';
import { FileWriteError, nodeFs, type FsLayer } from '../../src/node/files';
import { ParallelGradients } from '../../src/node/parallel/gradients';
import { buildRunConfig } from '../../src/node/runs/config';
import { createRun, readRunStatus, readRunSummary } from '../../src/node/runs/folder';
import { readCheckpoint } from '../../src/node/runs/checkpoint';
import { RUN_FILES, type RunConfig } from '../../src/node/runs/layout';
import { splitData } from '../../src/engine/data';
import { TrainingSession, type SessionOptions } from '../../src/node/trainer/session';
import type { TrainSettings } from '../../src/common/settings';
import { mnistSubset } from '../helpers/mnist-subset';
import { testKernels } from '../helpers/kernels';

let data: MnistData;
let root: string;

beforeAll(async () => {
  data = await loadMnist(await mnistSubset(600, 100));
  root = await mkdtemp(join(tmpdir(), 'lenet-session-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
// Sessions are opened by the dozen here, on the project's kernels; their models are disposed
// after each test.
const opened: TrainingSession[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.dispose();
});
async function openSession(opts: Omit<SessionOptions, 'kernels'>): Promise<TrainingSession> {
  const s = await TrainingSession.open({ ...opts, kernels: testKernels() });
  opened.push(s);
  return s;
}

const SETTINGS: TrainSettings = {
  epochs: 3,
  batchSize: 32,
  lr: 0.02,
  momentum: 0.9,
  decay: 0.001,
  schedule: { type: 'cosine' },
  seed: 7,
  limit: 400,
  validation: 60,
};

async function newRun(name: string, settings: Partial<TrainSettings> = {}, preset = 'lenet5-relu-ce'): Promise<{ dir: string; run: RunConfig }> {
  const dir = join(root, name);
  const run = buildRunConfig({ id: name, preset: PRESETS[preset], settings: { ...SETTINGS, ...settings }, dataset: describeDataset(data, data.dir) });
  await createRun(dir, run);
  return { dir, run };
}

async function finalCheckpoint(dir: string, run: RunConfig) {
  const cp = await readCheckpoint(dir, run.trainCount);
  if (!cp) throw new Error('no checkpoint');
  return cp;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('splitData', () => {
  it('holds out a seeded, disjoint validation set and keeps file order', () => {
    const a = splitData(data, 400, 60, 7);
    const b = splitData(data, 400, 60, 7);
    const c = splitData(data, 400, 60, 8);
    expect(a.train.count).toBe(340);
    expect(a.validation!.count).toBe(60);
    expect(Buffer.from(a.validation!.pixels).equals(Buffer.from(b.validation!.pixels))).toBe(true);
    expect(Buffer.from(a.validation!.pixels).equals(Buffer.from(c.validation!.pixels))).toBe(false);
    // Every image of the first 400 lands in exactly one part: compare label histograms.
    const hist = (l: Uint8Array) => Array.from({ length: 10 }, (_, k) => l.filter((x) => x === k).length);
    const pool = hist(data.train.labels.subarray(0, 400));
    const parts = hist(a.train.labels).map((v, k) => v + hist(a.validation!.labels)[k]);
    expect(parts).toEqual(pool);
    // The test set is never touched.
    expect(a.test).toBe(data.test);
  });

  it('validation 0 trains on the whole (limited) pool', () => {
    const s = splitData(data, 400, 0, 7);
    expect(s.validation).toBeNull();
    expect(s.train.count).toBe(400);
  });
});

describe('TrainingSession', () => {
  it('resuming from an epoch-boundary checkpoint gives weights bit-identical to an uninterrupted run (momentum 0.9, shuffling)', async () => {
    const a = await newRun('straight');
    const outA = await (await openSession({ run: a.run, data, dir: a.dir })).run();
    expect(outA.reason).toBe('done');

    const b = await newRun('interrupted');
    const stopAfterOne = { epoch: () => undefined as void };
    const s1 = await openSession({ run: b.run, data, dir: b.dir, hooks: stopAfterOne });
    stopAfterOne.epoch = () => s1.cancel();
    expect((await s1.run()).reason).toBe('cancelled');
    const mid = await finalCheckpoint(b.dir, b.run);
    expect(mid.resume.epoch).toBe(1);
    expect(mid.resume.position).toBe(0);

    const s2 = await openSession({ run: b.run, data, dir: b.dir, resume: true });
    expect(s2.epochsDone).toBe(1);
    expect((await s2.run()).reason).toBe('done');

    const ca = await finalCheckpoint(a.dir, a.run);
    const cb = await finalCheckpoint(b.dir, b.run);
    expect(sameBits(cb.loaded.model.params, ca.loaded.model.params)).toBe(true);
    expect(sameBits(cb.loaded.model.buffers, ca.loaded.model.buffers)).toBe(true);
    expect(sameBits(cb.resume.velocity, ca.resume.velocity)).toBe(true);
    expect(cb.resume.history.map((m) => m.testAccuracy)).toEqual(ca.resume.history.map((m) => m.testAccuracy));
    expect(cb.resume.history.map((m) => m.trainLoss)).toEqual(ca.resume.history.map((m) => m.trainLoss));
    expect(cb.resume.curve.points).toEqual(ca.resume.curve.points);
  });

  it('a mid-epoch cancel resumes to the same weights too', async () => {
    const a = await newRun('straight-2', { epochs: 2 });
    await (await openSession({ run: a.run, data, dir: a.dir })).run();
    const b = await newRun('mid-epoch', { epochs: 2 });
    let batches = 0;
    const hooks = {
      progress: () => {
        if (++batches === 3) s1.cancel();
      },
    };
    // A fake clock that moves 50 ms per reading, so progress fires often and the cancel lands mid-epoch.
    let t = 0;
    const s1 = await openSession({ run: b.run, data, dir: b.dir, hooks, now: () => (t += 50) });
    expect((await s1.run()).reason).toBe('cancelled');
    const mid = await finalCheckpoint(b.dir, b.run);
    expect(mid.resume.position).toBeGreaterThan(0);
    expect(mid.resume.position).toBeLessThan(b.run.trainCount);
    expect((await readRunStatus(b.dir)).status).toBe('cancelled');
    await (await openSession({ run: b.run, data, dir: b.dir, resume: true })).run();
    const ca = await finalCheckpoint(a.dir, a.run);
    const cb = await finalCheckpoint(b.dir, b.run);
    expect(sameBits(cb.loaded.model.params, ca.loaded.model.params)).toBe(true);
    expect(cb.resume.history.map((m) => m.trainAccuracy)).toEqual(ca.resume.history.map((m) => m.trainAccuracy));
  });

  it('divergence (lenet5-relu-ce, lr 100) stops with "diverged" and keeps the last good checkpoint', async () => {
    const r = await newRun('diverge', { lr: 100, momentum: 0, epochs: 2 });
    const out = await (await openSession({ run: r.run, data, dir: r.dir })).run();
    expect(out.reason, out.error?.stack).toBe('diverged');
    expect(out.error?.message).toMatch(/diverged/);
    expect(out.history).toHaveLength(0);
    const st = await readRunStatus(r.dir);
    expect(st.status).toBe('diverged');
    expect(st.reason).toMatch(/diverged at epoch 1/);
    const cp = await finalCheckpoint(r.dir, r.run);
    expect(cp.resume.epoch).toBe(0);
    expect(cp.loaded.model.isFinite()).toBe(true);
  });

  it('keeps best.lenet from the epoch with the best validation accuracy, never chosen on test', async () => {
    const r = await newRun('best', { epochs: 3 });
    const out = await (await openSession({ run: r.run, data, dir: r.dir })).run();
    const acc = out.history.map((m) => m.validationAccuracy!);
    const bestEpoch = acc.indexOf(Math.max(...acc)) + 1;
    const summary = await readRunSummary(r.dir);
    expect(summary.bestEpoch).toBe(bestEpoch);
    expect(summary.epochsDone).toBe(3);
    expect(summary.status).toBe('done');
    const best = decodeModelFile(await readFile(join(r.dir, RUN_FILES.best)), 'best.lenet');
    expect((best.metrics as { final: { epoch: number } }).final.epoch).toBe(bestEpoch);
  });

  it('reports progress at most once per interval (injected clock), not once per batch', async () => {
    const r = await newRun('rate', { epochs: 1 });
    let t = 0;
    const times: number[] = [];
    const session = await openSession({
      run: r.run,
      data,
      hooks: { progress: () => times.push(t) },
      now: () => (t += 13),
      progressIntervalMs: 100,
    });
    await session.run();
    const batches = Math.ceil(r.run.trainCount / 32);
    expect(times.length).toBeGreaterThan(0);
    expect(times.length).toBeLessThan(batches);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(100);
  });

  it('keeps reporting progress when whole epochs are shorter than the interval', async () => {
    // 100 training images: 4 batches an epoch, each epoch shorter than the interval. Events
    // must still come about once per interval, across epoch ends, not never.
    const r = await newRun('short-epochs', { epochs: 12, limit: 160, validation: 60 });
    let t = 0;
    const times: number[] = [];
    const epochs: number[] = [];
    const session = await openSession({
      run: r.run,
      data,
      hooks: {
        progress: (p) => {
          times.push(t);
          epochs.push(p.epoch);
        },
      },
      now: () => (t += 1),
      progressIntervalMs: 10,
    });
    await session.run();
    expect(t / 10).toBeGreaterThan(4); // the run spans several intervals, each longer than an epoch
    expect(times.length).toBeGreaterThanOrEqual(Math.floor(t / 10) - 2);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(10);
    expect(new Set(epochs).size).toBeGreaterThan(1);
  });

  it('with 2 data-parallel threads, a resumed run still matches an uninterrupted one bit for bit', async () => {
    const threads = async (model: Model, train: ImageSet) => {
      const p = await ParallelGradients.create(model, train, 2, 32);
      return { gradients: p, close: () => p.close() };
    };
    const a = await newRun('threads-straight', { epochs: 2 });
    expect((await (await openSession({ run: a.run, data, dir: a.dir, gradients: threads })).run()).reason).toBe('done');
    const b = await newRun('threads-resumed', { epochs: 2 });
    const hooks = { epoch: () => s1.cancel() };
    const s1 = await openSession({ run: b.run, data, dir: b.dir, gradients: threads, hooks });
    expect((await s1.run()).reason).toBe('cancelled');
    expect((await (await openSession({ run: b.run, data, dir: b.dir, gradients: threads, resume: true })).run()).reason).toBe('done');
    const ca = await finalCheckpoint(a.dir, a.run);
    const cb = await finalCheckpoint(b.dir, b.run);
    expect(sameBits(cb.loaded.model.params, ca.loaded.model.params)).toBe(true);
    expect(sameBits(cb.loaded.model.buffers, ca.loaded.model.buffers)).toBe(true);
  });

  it('refuses to resume on a different dataset', async () => {
    const r = await newRun('other-data', { epochs: 1 });
    const other = await loadMnist(await mnistSubset(500, 100));
    await expect(openSession({ run: r.run, data: other, dir: r.dir, resume: true })).rejects.toThrow(/fingerprint/);
  });
});

/** The real file system, except that writes of files called `name` (all files: '*') fail with `code`. */
function failingWrites(name: string, code: string): FsLayer {
  return {
    ...nodeFs,
    async open(path, flags) {
      const h = await nodeFs.open(path, flags);
      const target = basename(path).replace(/^\.(.+)\.\d+\.[0-9a-f]+\.tmp$/, '$1');
      if (flags === 'r' || (name !== '*' && target !== name)) return h;
      return { ...h, write: () => Promise.reject(Object.assign(new Error(`${code}: simulated, write`), { code })) };
    },
  };
}

describe('TrainingSession and its run folder', () => {
  it('resume without checkpoint.lenet is refused, naming the file; the metrics are not touched', async () => {
    const r = await newRun('no-checkpoint', { epochs: 1 });
    const s = await openSession({ run: r.run, data, dir: r.dir });
    expect((await s.run()).reason).toBe('done');
    const metrics = await readFile(join(r.dir, RUN_FILES.metrics), 'utf8');
    await rm(join(r.dir, RUN_FILES.checkpoint));
    await expect(openSession({ run: r.run, data, dir: r.dir, resume: true })).rejects.toThrow(
      `${join(r.dir, RUN_FILES.checkpoint)} is missing: the run cannot be resumed without its checkpoint`,
    );
    expect(await readFile(join(r.dir, RUN_FILES.metrics), 'utf8')).toBe(metrics);
    expect(await readdir(r.dir)).not.toContain(RUN_FILES.lock);
  });

  it('a second session on a folder that is being trained is refused with the holder’s pid; the first one’s end frees it', async () => {
    const r = await newRun('locked', { epochs: 1 });
    const first = await openSession({ run: r.run, data, dir: r.dir });
    const lock = JSON.parse(await readFile(join(r.dir, RUN_FILES.lock), 'utf8')) as { pid: number };
    expect(lock.pid).toBe(process.pid);
    await expect(openSession({ run: r.run, data, dir: r.dir, resume: true })).rejects.toThrow(
      new RegExp(`is in use by process ${process.pid} \\(a training or resume of this run is still going\\)`),
    );
    expect((await first.run()).reason).toBe('done');
    expect(await readdir(r.dir)).not.toContain(RUN_FILES.lock);
    const again = await openSession({ run: r.run, data, dir: r.dir, resume: true });
    expect((await again.run()).reason).toBe('done');
  });

  it('ENOSPC on the first checkpoint: the run is marked failed with the reason, not left running', async () => {
    const r = await newRun('enospc-first', { epochs: 1 });
    const err = await openSession({ run: r.run, data, dir: r.dir, fs: failingWrites(RUN_FILES.checkpoint, 'ENOSPC') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileWriteError);
    expect((err as Error).message).not.toMatch(/\.tmp/);
    const status = await readRunStatus(r.dir);
    expect(status.status).toBe('failed');
    expect(status.reason).toMatch(/could not start: could not write .*checkpoint\.lenet: ENOSPC/);
    expect((await readdir(r.dir)).filter((n) => n.endsWith('.tmp') || n === RUN_FILES.lock)).toEqual([]);
  });

  it('ENOSPC on everything: the status cannot be written, so the next reader marks the run interrupted', async () => {
    const r = await newRun('enospc-all', { epochs: 1 });
    await expect(openSession({ run: r.run, data, dir: r.dir, fs: failingWrites('*', 'ENOSPC') })).rejects.toThrow(/ENOSPC/);
    const status = await readRunStatus(r.dir);
    expect(status.status).toBe('failed');
    expect(status.reason).toMatch(/^interrupted: process \d+ stopped during the run/);
    // The reader wrote it down and cleared the stale lock: the run can be opened again.
    expect(JSON.parse(await readFile(join(r.dir, RUN_FILES.status), 'utf8')).status).toBe('failed');
    expect(await readdir(r.dir)).not.toContain(RUN_FILES.lock);
  });
});
