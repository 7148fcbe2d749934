// The time machine through the Studio API: a run's epoch snapshots listed and opened as the
// model on screen ("run X, epoch N"), its layer health with flags and learning rates, and the
// test images' per-sample history as a compact payload. Each epoch's snapshot evaluates (by the
// trainer) to the test accuracy metrics.json recorded for it and to the predictions the history
// holds for it. A run without snapshots or history gets a plain message, not a crash.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TrainSettings } from '../../src/common/settings';
import { PRESETS } from '../../src/engine/presets';
import { loadMnist } from '../../src/node/datasets';
import { buildRunConfig } from '../../src/node/runs/config';
import { createRun } from '../../src/node/runs/folder';
import type { Studio } from '../../src/node/studio/studio';
import { mnistSubset } from '../helpers/mnist-subset';
import { testStudio } from '../helpers/studio';

let root: string;
let datasetDir: string;
let b: Studio;
let events: ReturnType<typeof testStudio>['events'];
let runId: string;

const SETTINGS: TrainSettings = { epochs: 2, batchSize: 32, lr: 0.02, momentum: 0.9, decay: 0, schedule: { type: 'constant' }, seed: 1, validation: 100 };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-studio-epochs-'));
  datasetDir = await mnistSubset(800, 200);
  ({ b, events } = testStudio({ dataDir: join(root, 'data'), embeddedDatasetDir: datasetDir }));
  await b.init();
  ({ runId } = await b.startRun('lenet5-relu-ce', SETTINGS));
  await vi.waitFor(() => expect(events.some((e) => e.type === 'run-status' && e.runId === runId && e.status === 'done')).toBe(true), {
    timeout: 90_000,
    interval: 50,
  });
}, 120_000);
afterAll(async () => {
  await b?.dispose();
  await rm(root, { recursive: true, force: true });
});

describe("a run's epochs through the Studio API", () => {
  it('lists the snapshots; each opens as "run, epoch N" and evaluates to the accuracy recorded for that epoch', async () => {
    expect(await b.call('runEpochs', [runId])).toEqual([1, 2]);
    const detail = await b.getRun(runId);
    const accuracies: number[] = [];
    for (const epoch of [1, 2]) {
      const m = await b.runEpochModel(runId, epoch);
      expect(m.source).toEqual({ kind: 'run', runId, epoch });
      const ev = await b.evaluateModel(m);
      expect(ev.accuracy).toBe(detail.epochs[epoch - 1].testAccuracy);
      accuracies.push(ev.accuracy);
    }
    // Two different models, not the same file twice.
    const [one, two] = [await b.runEpochModel(runId, 1), await b.runEpochModel(runId, 2)];
    expect(one.params).not.toEqual(two.params);
    // The last epoch's snapshot is the run's latest model.
    expect((await b.runModel(runId, 'latest')).params).toEqual(two.params);
  });

  it('the test history holds, per epoch, the predictions and true-class probabilities of that epoch’s snapshot', async () => {
    const h = await b.runHistory(runId);
    const mnist = await loadMnist(datasetDir);
    expect({ firstEpoch: h.firstEpoch, epochs: h.epochs, count: h.count, classes: h.classes }).toEqual({ firstEpoch: 1, epochs: 2, count: 200, classes: 10 });
    expect(h.labels).toEqual(mnist.test.labels);
    expect(h.predicted).toBeInstanceOf(Uint8Array);
    expect(h.predicted.length).toBe(400);
    expect(h.probability.length).toBe(400);
    for (const epoch of [1, 2]) {
      const ev = await b.evaluateModel(await b.runEpochModel(runId, epoch));
      const at = (epoch - 1) * 200;
      expect(Array.from(h.predicted.subarray(at, at + 200))).toEqual(Array.from(ev.predictions));
      for (let i = 0; i < 200; i++)
        expect(Math.abs(h.probability[at + i] / 255 - ev.scores[i * 10 + mnist.test.labels[i]])).toBeLessThanOrEqual(0.5 / 255 + 1e-4);
    }
  });

  it('health: one record per epoch, every layer, and the learning rate of each epoch', async () => {
    const h = await b.call('runHealth', [runId]);
    const { epochs, flags, metrics } = h as Awaited<ReturnType<Studio['runHealth']>>;
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(epochs[1].layers.map((l) => l.name)).toEqual(epochs[0].layers.map((l) => l.name));
    expect(epochs[0].layers.filter((l) => l.weight).length).toBeGreaterThanOrEqual(4);
    expect(metrics.map((m) => [m.epoch, m.lr])).toEqual([
      [1, 0.02],
      [2, 0.02],
    ]);
    expect(Array.isArray(flags)).toBe(true);
  });

  it('a run without snapshots or history, an epoch it does not keep, an unknown run: plain messages', async () => {
    const id = 'bare-run';
    const dataset = await b.dataset();
    await createRun(join(b.runsDir, id), buildRunConfig({ id, preset: PRESETS['lenet5-relu-ce'], settings: SETTINGS, dataset }));
    expect(await b.runEpochs(id)).toEqual([]);
    await expect(b.runEpochModel(id, 1)).rejects.toThrow(`run ${id} has no snapshot of epoch 1 (it keeps no per-epoch snapshots)`);
    await expect(b.runHistory(id)).rejects.toThrow(`run ${id} recorded no per-sample history yet`);
    expect(await b.runHealth(id)).toEqual({ runId: id, epochs: [], flags: [], metrics: [] });
    await expect(b.runEpochModel(runId, 7)).rejects.toThrow(`run ${runId} has no snapshot of epoch 7 (it keeps epochs 1, 2)`);
    await expect(b.runEpochs('no-such-run')).rejects.toThrow('there is no run no-such-run');
    await expect(b.call('runEpochModel', [runId, 0])).rejects.toThrow(/runEpochModel arguments/);
    await expect(b.call('runHistory', ['../x'])).rejects.toThrow(/runHistory arguments/);
  });
});
