// What the shared training session records in a run folder (the app's trainer process and the
// CLI alike): epochs/NNN.lenet, history.bin and health.json after every epoch, a resume that
// redoes epochs past its checkpoint without duplicating them, and a health.json that cannot be
// read left untouched rather than overwritten.

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../../src/engine/presets';
import { describeDataset, loadMnist, type MnistData } from '../../src/node/datasets';
import { buildRunConfig } from '../../src/node/runs/config';
import { createRun } from '../../src/node/runs/folder';
import { readHealth } from '../../src/node/runs/health';
import { readSampleHistory } from '../../src/node/runs/history';
import { TrainingSession, type SessionOptions } from '../../src/node/trainer/session';
import { mnistSubset } from '../helpers/mnist-subset';
import { testKernels } from '../helpers/kernels';

let data: MnistData;
let root: string;
beforeAll(async () => {
  data = await loadMnist(await mnistSubset(600, 100));
  root = await mkdtemp(join(tmpdir(), 'lenet-session-rec-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
const opened: TrainingSession[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.dispose();
});
async function open(opts: Omit<SessionOptions, 'kernels'>): Promise<TrainingSession> {
  const s = await TrainingSession.open({ ...opts, kernels: testKernels() });
  opened.push(s);
  return s;
}

async function newRun(name: string) {
  const dir = join(root, name);
  const run = buildRunConfig({
    id: name,
    preset: PRESETS['lenet5-relu-ce'],
    settings: { epochs: 3, batchSize: 32, lr: 0.02, momentum: 0.9, decay: 0, schedule: { type: 'constant' }, seed: 7, limit: 400, validation: 60 },
    dataset: describeDataset(data, data.dir),
  });
  await createRun(dir, run);
  return { dir, run };
}

/** Trains the run until `cancelIn`'s third batch, cancelled there (a checkpoint mid-epoch). */
async function trainUntil(dir: string, run: Awaited<ReturnType<typeof newRun>>['run'], cancelIn: number): Promise<void> {
  const s: TrainingSession = await open({
    run,
    data,
    dir,
    progressIntervalMs: 0,
    hooks: {
      progress: (p) => {
        if (p.epoch === cancelIn && p.step >= 3) s.cancel();
      },
    },
  });
  expect((await s.run()).reason).toBe('cancelled');
}

describe('session recording', () => {
  it('records every epoch once across a cancel and a resume; the resumed epoch is marked', async () => {
    const { dir, run } = await newRun('resume');
    await trainUntil(dir, run, 2);
    expect(await readdir(join(dir, 'epochs'))).toEqual(['001.lenet']);
    expect((await readHealth(dir)).map((h) => h.epoch)).toEqual([1]);
    expect((await readSampleHistory(dir))!.info.epochs).toBe(1);

    const s = await open({ run, data, dir, resume: true });
    expect((await s.run()).reason).toBe('done');
    expect((await readdir(join(dir, 'epochs'))).sort()).toEqual(['001.lenet', '002.lenet', '003.lenet']);
    const health = await readHealth(dir);
    expect(health.map((h) => [h.epoch, h.resumed ?? false])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);
    // Epoch 2's averages cover only the steps after the resume (every 8th of them).
    expect(health[1].steps).toBeLessThan(health[2].steps);
    expect((await readSampleHistory(dir))!.info).toMatchObject({ firstEpoch: 1, epochs: 3, trainCount: 400, testCount: 100 });
  });

  it('a health.json it cannot read is left as it is, and the run goes on without recording health', async () => {
    const { dir, run } = await newRun('damaged');
    await trainUntil(dir, run, 2);
    await writeFile(join(dir, 'health.json'), '{ not json');
    const s = await open({ run, data, dir, resume: true });
    expect((await s.run()).reason).toBe('done');
    expect(await readFile(join(dir, 'health.json'), 'utf8')).toBe('{ not json');
    expect((await readdir(join(dir, 'epochs'))).length).toBe(3);
  });
});
