// The studio with the renderer as an adversary: a path handed out for reading never becomes a
// write target, concurrent dataset loads share one and every method has a bound on calls at once,
// two concurrent starts leave one run folder, and a start right after launch waits for the
// embedded dataset instead of failing.

import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeModelFile, encodeModelFile } from '../../src/engine/formats/modelfile';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { jsKernels } from '../../src/engine/kernels/js/backend';
import { Studio, type PlatformHooks } from '../../src/node/studio/studio';
import { CALL_LIMITS } from '../../src/node/studio/limits';
import { readRunStatus } from '../../src/node/runs/folder';
import { STUDIO_METHODS } from '../../src/common/channels';
import type { ModelPayload } from '../../src/common/records';
import type { TrainSettings } from '../../src/common/settings';
import { testStudio } from '../helpers/studio';
import { mnistSubset } from '../helpers/mnist-subset';
import { torchStateDict, torchStyleSafetensors } from '../interop/helpers';

let root: string;
let datasetDir: string;
let otherDatasetDir: string;
const studios: Studio[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-studio-trust-'));
  datasetDir = await mnistSubset(600, 100);
  otherDatasetDir = await mnistSubset(300, 50);
});
afterEach(async () => {
  for (const b of studios.splice(0)) await b.dispose();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function make(dataDir: string, hooks: Partial<PlatformHooks> = {}, embeddedDatasetDir = datasetDir) {
  const made = testStudio({ dataDir, embeddedDatasetDir, hooks });
  studios.push(made.b);
  return made;
}

const PRESET = 'lenet5-relu-ce';

async function modelFile(path: string, seed = 1): Promise<string> {
  await writeFile(path, encodeModelFile(new Model(PRESETS[PRESET].spec, jsKernels).init(seed), { preset: PRESET }));
  return path;
}

/** A model the renderer could send, claiming to come from `path`. */
function payloadFrom(path: string, seed = 2): ModelPayload {
  const m = new Model(PRESETS[PRESET].spec, jsKernels).init(seed);
  return { spec: m.spec, ...m.snapshot(), preset: PRESET, source: { kind: 'file', path } };
}

const PRECIOUS = 'the user’s own notes, not a model\n';

describe('read never becomes write', () => {
  it('a dropped or OS-opened file that fails to open is not saved over, and does not land in the recent list', async () => {
    const dir = join(root, 'victims');
    await mkdir(dir);
    const dropped = join(dir, 'victim.txt');
    const fromOS = join(dir, 'victim.lenet'); // named like a model, but not one
    await writeFile(dropped, PRECIOUS);
    await writeFile(fromOS, PRECIOUS);
    const chooseSaveModelPath = vi.fn(async (): Promise<string | null> => null);
    const { b } = make(join(root, 'victims-data'), { chooseSaveModelPath });
    await b.init();
    await expect(b.openDroppedModel(dropped)).rejects.toThrow(/victim\.txt/);
    await b.openFromOS(fromOS);

    // Save (not Save As) naming those paths: the studio asks where to save instead; cancelled, nothing is written.
    expect(await b.saveModel(payloadFrom(dropped), false)).toBeNull();
    expect(await b.saveModel(payloadFrom(fromOS), false)).toBeNull();
    expect(chooseSaveModelPath).toHaveBeenCalledTimes(2);
    expect(await readFile(dropped, 'utf8')).toBe(PRECIOUS);
    expect(await readFile(fromOS, 'utf8')).toBe(PRECIOUS);
    expect((await b.recent()).models).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['victim.lenet', 'victim.txt']);
  });

  it('a foreign safetensors file the app imported is read, never written back; Save goes to the path chosen in the save dialog', async () => {
    const file = join(root, 'state_dict.safetensors');
    const bytes = torchStyleSafetensors(torchStateDict(new Model(PRESETS[PRESET].spec, jsKernels).init(4)));
    await writeFile(file, bytes);
    const target = join(root, 'imported');
    const chooseSaveModelPath = vi.fn(async (): Promise<string | null> => target).mockResolvedValueOnce(null);
    const { b } = make(join(root, 'import-data'), { chooseModelFile: async () => file, chooseSaveModelPath });
    await b.init();
    const m = (await b.openModelDialog(PRESET))!;
    expect(m.source).toEqual({ kind: 'file', path: file });
    expect(await b.saveModel(m, false)).toBeNull(); // asked where; cancelled
    expect(chooseSaveModelPath).toHaveBeenCalledTimes(1);
    expect((await readFile(file)).equals(Buffer.from(bytes))).toBe(true);

    // Saved where the user chose: later Saves write there without asking.
    expect(await b.saveModel(m, false)).toEqual({ path: `${target}.lenet` });
    expect(await b.saveModel({ ...m, source: { kind: 'file', path: `${target}.lenet` } }, false)).toEqual({ path: `${target}.lenet` });
    expect(chooseSaveModelPath).toHaveBeenCalledTimes(2);
    expect((await readFile(file)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('a recent model from an earlier session may be opened, but is written only after it opened as a .lenet this session', async () => {
    const dataDir = join(root, 'recent-data');
    const file = await modelFile(join(root, 'recent.lenet'), 5);
    const first = make(dataDir, { chooseModelFile: async () => file });
    await first.b.init();
    await first.b.openModelDialog();
    await first.b.dispose();

    const chooseSaveModelPath = vi.fn(async (): Promise<string | null> => null);
    const { b } = make(dataDir, { chooseSaveModelPath });
    await b.init();
    expect((await b.recent()).models).toEqual([file]);
    const before = await readFile(file);
    expect(await b.saveModel(payloadFrom(file), false)).toBeNull(); // not opened yet this session: ask
    expect((await readFile(file)).equals(before)).toBe(true);
    await b.openModelPath(file);
    expect(await b.saveModel(payloadFrom(file), false)).toEqual({ path: file }); // the app's own Save
    expect(chooseSaveModelPath).toHaveBeenCalledTimes(1);
    expect((await readFile(file)).equals(before)).toBe(false);

    // Replaced by something else: the failed open takes the write trust away again.
    await writeFile(file, PRECIOUS);
    await expect(b.openModelPath(file)).rejects.toThrow(/recent\.lenet/);
    expect(await b.saveModel(payloadFrom(file), false)).toBeNull();
    expect(await readFile(file, 'utf8')).toBe(PRECIOUS);
  });
});

describe('saving again', () => {
  it('Save keeps what the opened file said about its training, metrics, dataset and extras; so does Save As', async () => {
    const file = join(root, 'trained.lenet');
    const meta = {
      preset: PRESET,
      training: { epochs: 7, lr: 0.05, runId: 'r-1' },
      metrics: { history: [{ epoch: 1, testAccuracy: 0.98 }] },
      dataset: 'mnist-fingerprint',
      extra: { 'x-note': { kept: true } },
    };
    await writeFile(file, encodeModelFile(new Model(PRESETS[PRESET].spec, jsKernels).init(6), meta));
    const copy = join(root, 'trained-copy.lenet');
    const { b } = make(join(root, 'resave-data'), { chooseModelFile: async () => file, chooseSaveModelPath: async () => copy });
    await b.init();
    const m = (await b.openModelDialog())!;
    for (const [saveAs, path] of [
      [false, file],
      [true, copy],
    ] as const) {
      expect(await b.saveModel(m, saveAs)).toEqual({ path });
      const back = decodeModelFile(await readFile(path), path);
      expect({ preset: back.preset, training: back.training, metrics: back.metrics, dataset: back.dataset, extra: back.extra }).toEqual(meta);
    }
  });
});

describe('bounded memory and concurrency', () => {
  it('80 concurrent loads of the embedded dataset share one load', async () => {
    const { b, events } = make(join(root, 'shared-load'));
    await b.init(); // starts one load of the embedded dataset
    const infos = await Promise.all(Array.from({ length: 80 }, () => b.useEmbeddedDataset()));
    expect(new Set(infos.map((i) => i.fingerprint)).size).toBe(1);
    expect(events.filter((e) => e.type === 'dataset-changed')).toHaveLength(1);
  });

  it('different loads run one after another and the last asked for is current', async () => {
    const dataDir = join(root, 'ordered-load');
    const { b, events } = make(dataDir, { chooseDatasetFolder: async () => otherDatasetDir });
    await b.init();
    await b.openDatasetDialog(); // the other folder becomes trusted and recent
    const loads = [b.useEmbeddedDataset(), b.openRecentDataset(otherDatasetDir), b.useEmbeddedDataset(), b.useEmbeddedDataset()];
    await Promise.all(loads);
    expect(events.filter((e) => e.type === 'dataset-changed').map((e) => (e.type === 'dataset-changed' ? e.dataset.trainCount : 0))).toEqual([
      600, 300, 600, 300, 600,
    ]);
    expect(await b.dataset()).toMatchObject({ path: null, trainCount: 600 });
  });

  it('every method has a small bound; calls beyond it fail at once with BUSY', async () => {
    expect(Object.keys(CALL_LIMITS).sort()).toEqual([...STUDIO_METHODS].sort());
    for (const l of Object.values(CALL_LIMITS)) {
      expect(l.running).toBeGreaterThanOrEqual(1);
      expect(l.running).toBeLessThanOrEqual(4);
      expect(l.waiting).toBeLessThanOrEqual(16);
    }
    const { b, events } = make(join(root, 'busy'));
    await b.init();
    const results = await Promise.allSettled(Array.from({ length: 80 }, () => b.call('useEmbeddedDataset', [])));
    const refused = results.filter((r) => r.status === 'rejected');
    const { running, waiting } = CALL_LIMITS.useEmbeddedDataset;
    expect(results.length - refused.length).toBe(running + waiting);
    for (const r of refused) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        code: 'BUSY',
        message: expect.stringMatching(/^useEmbeddedDataset: too many calls at once/),
      });
    }
    expect(events.filter((e) => e.type === 'dataset-changed').length).toBeLessThanOrEqual(1 + running + waiting);
    // The bound frees up: the next call runs.
    await expect(b.call('useEmbeddedDataset', [])).resolves.toMatchObject({ path: null });
  });

  it('one dialog at a time: a second Open while the first is up is refused, not queued', async () => {
    let answer!: (p: string | null) => void;
    const chooseModelFile = vi.fn(() => new Promise<string | null>((r) => (answer = r)));
    const { b } = make(join(root, 'dialogs'), { chooseModelFile });
    await b.init();
    const first = b.call('openModelDialog', []);
    await vi.waitFor(() => expect(chooseModelFile).toHaveBeenCalledTimes(1));
    await expect(b.call('openModelDialog', [])).rejects.toThrow(/^openModelDialog: too many calls at once \(1 running\)/);
    expect(chooseModelFile).toHaveBeenCalledTimes(1);
    answer(null);
    await expect(first).resolves.toBeNull();
    const again = b.call('openModelDialog', []);
    answer(null);
    await expect(again).resolves.toBeNull();
  });
});

const SETTINGS: TrainSettings = { epochs: 1, batchSize: 32, lr: 0.02, momentum: 0.9, decay: 0, schedule: { type: 'constant' }, seed: 1, validation: 50 };

async function until(pred: () => boolean): Promise<void> {
  await vi.waitFor(() => expect(pred()).toBe(true), { timeout: 30_000, interval: 20 });
}

describe('starting runs', () => {
  it('two concurrent starts: one run, the other refused before it makes a folder', async () => {
    const dataDir = join(root, 'two-starts');
    const { b, events } = make(dataDir);
    await b.init();
    await b.dataset();
    const [x, y] = await Promise.allSettled([b.startRun(PRESET, SETTINGS), b.startRun(PRESET, SETTINGS)]);
    const ok = [x, y].filter((r) => r.status === 'fulfilled');
    const refused = [x, y].filter((r) => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'RUN_BUSY' });
    const { runId } = (ok[0] as PromiseFulfilledResult<{ runId: string }>).value;
    expect(await readdir(join(dataDir, 'runs'))).toEqual([runId]);
    await until(() => events.some((e) => e.type === 'run-status' && e.runId === runId && e.status === 'done'));
    expect(events.filter((e) => e.type === 'run-status' && e.status === 'failed')).toEqual([]);
    expect((await readRunStatus(join(dataDir, 'runs', runId))).status).toBe('done');
  });

  it('a start right after launch waits for the embedded dataset instead of failing with NO_DATASET', async () => {
    const { b, events } = make(join(root, 'early-start'));
    const init = b.init();
    const { runId } = await b.startRun(PRESET, SETTINGS);
    await init;
    await until(() => events.some((e) => e.type === 'run-status' && e.runId === runId && e.status === 'done'));

    const second = make(join(root, 'early-start-2'));
    await second.b.init();
    const next = await second.b.startRun(PRESET, SETTINGS);
    await until(() => second.events.some((e) => e.type === 'run-status' && e.runId === next.runId && e.status === 'done'));
  });

  it('with truly no dataset, the start fails saying why, naming the folder', async () => {
    const missing = join(root, 'no-such-mnist');
    const { b } = make(join(root, 'no-dataset'), {}, missing);
    await b.init();
    await expect(b.startRun(PRESET, SETTINGS)).rejects.toMatchObject({
      code: 'NO_DATASET',
      message: expect.stringMatching(/^no dataset is loaded \(dataset folder .*no-such-mnist does not exist\); open one with File → Open Dataset…$/),
    });
    expect(await readdir(join(root, 'no-dataset', 'runs'))).toEqual([]);
  });
});
