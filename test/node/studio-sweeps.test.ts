// The app's sweeps behind the window (node/studio/sweeps.ts) with the real trainer: a plan the
// backend refuses says why in one line and writes nothing; a sweep trains its runs one after
// another as ordinary runs; Stop cancels the run in progress and Resume continues that same run
// from its checkpoint; another start while a sweep trains is refused; a new studio on the same
// folder (a restart) lists the sweep as stopped; Delete forgets the queue and keeps the runs.

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StudioEvent, SweepInfo, SweepRequest } from '../../src/common/api';
import type { TrainSettings } from '../../src/common/settings';
import type { Studio } from '../../src/node/studio/studio';
import { mnistSubset } from '../helpers/mnist-subset';
import { testStudio } from '../helpers/studio';

let root: string;
let datasetDir: string;
const studios: Studio[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-sweeps-'));
  datasetDir = await mnistSubset(600, 100);
});
afterEach(async () => {
  for (const b of studios.splice(0)) await b.dispose();
});
afterAll(async () => rm(root, { recursive: true, force: true }));

const SETTINGS: TrainSettings = {
  epochs: 3,
  batchSize: 32,
  lr: 0.01,
  momentum: 0.9,
  decay: 0,
  schedule: { type: 'constant' },
  seed: 1,
  shuffle: true,
  limit: 300,
  validation: 30,
};

function make(dataDir: string): { b: Studio; events: StudioEvent[] } {
  const made = testStudio({ dataDir, embeddedDatasetDir: datasetDir });
  studios.push(made.b);
  return made;
}

const request = (r: Partial<SweepRequest> = {}): SweepRequest => ({
  preset: 'lenet5-relu-ce',
  settings: SETTINGS,
  axes: ['lr=0.01,0.02'],
  seeds: 1,
  random: null,
  ...r,
});

async function until<T>(f: () => Promise<T | undefined> | T | undefined, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const listed = async (b: Studio, id: string): Promise<SweepInfo> => (await b.sweeps.list()).find((s) => s.id === id)!;

describe('sweeps in the studio', () => {
  it('refuses a plan it cannot run, in one line, and writes nothing', async () => {
    const dataDir = join(root, 'refuse');
    const { b } = make(dataDir);
    await b.init();
    await expect(b.call('startSweep', [request({ axes: ['speed=1,2'] })])).rejects.toThrow(
      /^"speed=1,2": a swept setting is NAME=VALUES with NAME one of preset, lr/,
    );
    await expect(b.call('startSweep', [request({ axes: ['lr=0.01..0.1'] })])).rejects.toThrow(/lr: a range can only be drawn from/);
    await expect(b.call('startSweep', [request({ axes: [] })])).rejects.toThrow(/choose at least one setting/);
    await expect(b.call('startSweep', [request({ preset: 'lenet9' })])).rejects.toThrow(/unknown preset "lenet9"/);
    await expect(b.call('startSweep', [request({ seeds: 0 })])).rejects.toThrow(/startSweep arguments: \[0\]\.seeds/);
    await expect(b.call('startSweep', [request({ axes: ['lr=0.01', 'x'.repeat(20_000)] })])).rejects.toThrow(/startSweep arguments/);
    await expect(b.call('stopSweep', ['../../etc'])).rejects.toThrow(/stopSweep arguments/);
    await expect(b.call('resumeSweep', ['20990101-000000-sweep-0000'])).rejects.toThrow(/is not a sweep folder/);
    expect(await b.sweeps.list()).toEqual([]);
    expect(await readdir(join(dataDir, 'runs'))).toEqual([]);

    // A run training from Train: the sweep waits for it, and plans nothing meanwhile.
    const { runId } = await b.startRun('lenet5-relu-ce', { ...SETTINGS, epochs: 20 });
    await expect(b.sweeps.start(request())).rejects.toThrow(`run ${runId} is training; a sweep can start when it ends`);
    expect(await b.sweeps.list()).toEqual([]);
    await b.cancelRun(runId);
  });

  it('Stop cancels the run in progress; Resume continues that run from its checkpoint; the queue survives a restart', async () => {
    const dataDir = join(root, 'stop');
    const first = make(dataDir);
    await first.b.init();
    const started = (await first.b.call('startSweep', [request()])) as SweepInfo;
    expect(started).toMatchObject({ state: 'running', summary: { done: 0, total: 2 } });
    const id = started.id;
    const [r1, r2] = started.sweep.configs.map((c) => c.runs[0].runId);
    expect(r1).toMatch(/-sweep-c1-s1-/);

    // While it trains, nothing else may start.
    await expect(first.b.startRun('lenet5-relu-ce', SETTINGS)).rejects.toThrow(/in progress|is starting/);
    await expect(first.b.sweeps.start(request())).rejects.toThrow(/a sweep is already training/);

    // Stop after the first run's first epoch: it keeps its checkpoint, and stays the sweep's running run.
    await until(() => first.events.find((e) => e.type === 'epoch' && e.runId === r1));
    await first.b.sweeps.stop(id);
    await until(async () => ((await first.b.getRun(r1)).status === 'cancelled' ? true : undefined));
    const stopped = await listed(first.b, id);
    expect(stopped.state).toBe('stopped');
    expect(stopped.sweep.configs[0].runs[0].status).toBe('running');
    const epochsAtStop = (await first.b.getRun(r1)).epochsDone;
    expect(epochsAtStop).toBeGreaterThanOrEqual(1);
    expect(epochsAtStop).toBeLessThan(3);
    await first.b.dispose();

    // A restart: the sweep is there, stopped; nothing trains until Resume.
    const second = make(dataDir);
    await second.b.init();
    expect(await listed(second.b, id)).toMatchObject({ state: 'stopped', summary: { done: 0, total: 2 } });
    expect(second.b.trainer.activeRuns()).toEqual([]);
    await second.b.sweeps.resume(id);
    const done = await until(async () => {
      const s = await listed(second.b, id);
      return s.state === 'done' ? s : undefined;
    }, 240_000);
    expect(done.sweep.configs.map((c) => c.runs[0].status)).toEqual(['done', 'done']);
    // The stopped run continued in its own folder (its epochs before the stop kept), no third folder.
    expect((await readdir(join(dataDir, 'runs'))).sort()).toEqual([r1, r2].sort());
    const continued = await second.b.getRun(r1);
    expect(continued.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(done.sweep.configs[0].runs[0].finalTestError).toBeCloseTo(1 - continued.finalTestAccuracy!, 12);
    expect(done.summary.best).not.toBeNull();
    // Each change reached the window as an event.
    expect(second.events.filter((e) => e.type === 'sweep-changed').length).toBeGreaterThanOrEqual(3);
    // The queue file on disk says the same.
    const onDisk = JSON.parse(await readFile(join(dataDir, 'sweeps', id, 'sweep.json'), 'utf8'));
    expect(onDisk.configs.map((c: { runs: { status: string }[] }) => c.runs[0].status)).toEqual(['done', 'done']);

    // Delete forgets the queue; the runs stay.
    await second.b.sweeps.delete(id);
    expect(await second.b.sweeps.list()).toEqual([]);
    expect((await readdir(join(dataDir, 'runs'))).length).toBe(2);
  });
});
