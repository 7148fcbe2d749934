// Studio on its own (no Electron, no trainer process needed for most of it): path trust,
// recent lists across restarts, atomic saves on a failing disk, datasets and their errors,
// interrupted runs found at start.

import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeModelFile, encodeModelFile } from '../../src/engine/formats/modelfile';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { Studio, type PlatformHooks } from '../../src/node/studio/studio';
import { describeDataset, loadMnist } from '../../src/node/datasets';
import { nodeFs, type FsLayer } from '../../src/node/files';
import { buildRunConfig } from '../../src/node/runs/config';
import { createRun, readRunStatus, writeRunStatus } from '../../src/node/runs/folder';
import type { ModelPayload } from '../../src/common/records';
import { testStudio } from '../helpers/studio';
import { engineOutputs, maxAbsDiff, runOnnx, scaledPixels, torchStateDict, torchStyleSafetensors } from '../interop/helpers';
import { mnistSubset } from '../helpers/mnist-subset';
import { jsKernels } from '../../src/engine/kernels/js/backend';
import { testKernels } from '../helpers/kernels';

let root: string;
let datasetDir: string;
const studios: Studio[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-studio-'));
  datasetDir = await mnistSubset(600, 100);
});
afterEach(async () => {
  for (const b of studios.splice(0)) await b.dispose();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function make(dataDir: string, hooks: Partial<PlatformHooks> = {}, fs: FsLayer = nodeFs, trainerArgs: string[] = []) {
  const made = testStudio({ dataDir, embeddedDatasetDir: datasetDir, hooks, fs, trainerArgs });
  studios.push(made.b);
  return made;
}

async function modelFile(path: string, seed = 1): Promise<string> {
  await writeFile(path, encodeModelFile(new Model(PRESETS['lenet5-relu-ce'].spec, jsKernels).init(seed), { preset: 'lenet5-relu-ce' }));
  return path;
}

describe('paths the renderer may name', () => {
  it('only paths the app handed out (dialog, drop, OS, recent) open; the recent list survives a restart', async () => {
    const dataDir = join(root, 'trust');
    const file = await modelFile(join(root, 'trusted.lenet'));
    const other = await modelFile(join(root, 'other.lenet'));
    const first = make(dataDir, { chooseModelFile: async () => file });
    await first.b.init();
    await expect(first.b.openModelPath(file)).rejects.toThrow(/did not offer this path/);
    await first.b.openModelDialog();
    await expect(first.b.openModelPath(file)).resolves.toMatchObject({ source: { kind: 'file', path: file } });
    await expect(first.b.openModelPath(other)).rejects.toThrow(/did not offer this path/);
    await first.b.openDroppedModel(other); // the preload resolved it from a real drop
    expect((await first.b.recent()).models).toEqual([other, file]);

    // A new session (app restart): the recent list is back, and its paths are trusted.
    const second = make(dataDir);
    await second.b.init();
    expect((await second.b.recent()).models).toEqual([other, file]);
    await expect(second.b.openModelPath(file)).resolves.toMatchObject({ preset: 'lenet5-relu-ce' });
    await expect(second.b.openModelPath(join(root, 'never.lenet'))).rejects.toThrow(/did not offer/);
  });

  it('a recent file that disappeared is dropped from the list with a message naming it', async () => {
    const dataDir = join(root, 'vanish');
    const file = await modelFile(join(root, 'vanishing.lenet'));
    const { b } = make(dataDir, { chooseModelFile: async () => file });
    await b.init();
    await b.openModelDialog();
    await rm(file);
    await expect(b.openModelPath(file)).rejects.toThrow(/vanishing\.lenet: the file does not exist/);
    expect((await b.recent()).models).toEqual([]);
  });
});

describe('saving models', () => {
  it('a failing disk (ENOSPC) leaves the previous file intact and no temp file behind', async () => {
    const dataDir = join(root, 'enospc');
    const dir = join(root, 'enospc-files');
    await mkdir(dir);
    const target = await modelFile(join(dir, 'keep.lenet'), 3);
    const before = await readFile(target);
    const failing: FsLayer = {
      ...nodeFs,
      async open(path, flags) {
        const h = await nodeFs.open(path, flags);
        if (flags !== 'wx') return h;
        return {
          ...h,
          write: async (data) => {
            await h.write(data.subarray(0, 10));
            throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          },
        };
      },
    };
    const { b } = make(dataDir, { chooseModelFile: async () => target }, failing);
    await b.init();
    const m = (await b.openModelDialog())!;
    m.params.fill(0.5);
    await expect(b.saveModel(m, false)).rejects.toThrow(/could not write .*keep\.lenet: ENOSPC/);
    expect((await readFile(target)).equals(before)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['keep.lenet']);
  });

  it('refuses a model whose weights do not fit its spec', async () => {
    const { b } = make(join(root, 'badmodel'), { chooseSaveModelPath: vi.fn(async () => join(root, 'x.lenet')) });
    await b.init();
    const spec = PRESETS['lenet5-relu-ce'].spec;
    const bad: ModelPayload = { spec, params: new Float32Array(10), buffers: new Float32Array(0), source: { kind: 'file', path: join(root, 'x.lenet') } };
    await expect(b.saveModel(bad, true)).rejects.toThrow(/cannot be used: snapshot has 10\+0 values/);
  });

  it('Save As from a run writes the run’s training record into the file', async () => {
    const dataDir = join(root, 'from-run');
    const out = join(root, 'from-run-model');
    const { b } = make(dataDir, { chooseSaveModelPath: async () => out });
    await b.init();
    const data = await loadMnist(datasetDir);
    const run = buildRunConfig({
      id: 'r1',
      preset: PRESETS['lenet5-relu-ce'],
      settings: { epochs: 2, batchSize: 32, lr: 0.01, momentum: 0, decay: 0, schedule: { type: 'constant' } },
      dataset: describeDataset(data, null),
    });
    await createRun(join(dataDir, 'runs', 'r1'), run);
    const model = new Model(run.spec, jsKernels).init(1);
    const saved = await b.saveModel({ spec: run.spec, ...model.snapshot(), preset: run.preset, source: { kind: 'run', runId: 'r1', epoch: 0 } }, false);
    expect(saved).toEqual({ path: `${out}.lenet` });
    const back = decodeModelFile(await readFile(`${out}.lenet`), 'x');
    expect(back.training).toMatchObject({ runId: 'r1', lr: 0.01 });
    expect(back.dataset).toBe(data.fingerprint);
  });
});

describe('datasets', () => {
  it('starts on the embedded dataset; a broken folder is refused naming the file, the old one stays', async () => {
    const bad = join(root, 'bad-data');
    await mkdir(bad);
    for (const n of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      await writeFile(join(bad, n), new Uint8Array([0, 0, 8, 3, 0, 0]));
    }
    const { b, events } = make(join(root, 'ds'), { chooseDatasetFolder: async () => bad });
    await b.init();
    expect(await b.dataset()).toMatchObject({ path: null, trainCount: 600, testCount: 100 });
    await expect(b.openDatasetDialog()).rejects.toThrow(/bad-data\/train-images-idx3-ubyte/);
    expect(await b.dataset()).toMatchObject({ path: null });
    const slice = await b.datasetImages('test', 95, 10);
    expect(slice).toMatchObject({ start: 95, count: 5 });
    expect(slice.pixels.length).toBe(5 * 784);
    expect(events.filter((e) => e.type === 'dataset-changed')).toHaveLength(1);
  });
});

describe('runs at start', () => {
  it('a run left "running" by a dead process is marked failed (interrupted) and can be continued', async () => {
    const dataDir = join(root, 'interrupted');
    const data = await loadMnist(datasetDir);
    const run = buildRunConfig({
      id: 'left-running',
      preset: PRESETS['lenet5-relu-ce'],
      settings: { epochs: 1, batchSize: 32, lr: 0.02, momentum: 0.9, decay: 0, schedule: { type: 'constant' }, validation: 50 },
      dataset: describeDataset(data, null),
    });
    const dir = join(dataDir, 'runs', 'left-running');
    await createRun(dir, run);
    await writeRunStatus(dir, { status: 'running' });
    const { b, events } = make(dataDir);
    await b.init();
    expect(await readRunStatus(dir)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/interrupted/) });
    const [summary] = await b.listRuns();
    expect(summary).toMatchObject({ id: 'left-running', status: 'failed' });
    const done = new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (events.some((e) => e.type === 'run-status' && e.runId === 'left-running' && e.status === 'done')) {
          clearInterval(t);
          resolve();
        }
      }, 20);
    });
    await b.continueRun('left-running');
    await done;
    expect((await b.getRun('left-running')).epochs).toHaveLength(1);
    await expect(b.continueRun('left-running')).rejects.toThrow(/finished all 1 epochs/);
  });
});

describe('runs whose worker threads fail', () => {
  it('a trainer whose shard workers cannot start: the window hears why (run-notice), and the run is done', async () => {
    const broken = fileURLToPath(new URL('../helpers/workers/broken-worker.mjs', import.meta.url));
    const { b, events } = make(join(root, 'broken-workers'), {}, nodeFs, ['--threads=2', `--worker=${broken}`]);
    await b.init();
    const until = (pred: () => boolean): Promise<void> =>
      new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (pred()) {
            clearInterval(t);
            resolve();
          }
        }, 20);
      });
    const settings = { epochs: 1, batchSize: 32, lr: 0.02, momentum: 0.9, decay: 0, schedule: { type: 'constant' as const }, seed: 1, validation: 50 };
    const { runId } = await b.startRun('lenet5-relu-ce', settings);
    await until(() => events.some((e) => e.type === 'run-status' && e.runId === runId && e.status === 'done'));
    expect(events.filter((e) => e.type === 'run-notice')).toEqual([
      { type: 'run-notice', runId, message: 'worker threads could not start (this test worker cannot start); training on one thread' },
    ]);
  });
});

describe('File → Export → ONNX… and importing a PyTorch state_dict', () => {
  it('exports the model where the dialog says (adding .onnx); onnxruntime runs it to the engine outputs; cancel writes nothing', async () => {
    const dataDir = join(root, 'export');
    const out = join(root, 'exported');
    const file = await modelFile(join(root, 'to-export.lenet'), 3);
    const chooseExportPath = vi.fn(async (): Promise<string | null> => out);
    const { b } = make(dataDir, { chooseModelFile: async () => file, chooseExportPath });
    await b.init();
    const m = (await b.openModelDialog())!;
    expect(await b.exportModel(m, 'onnx')).toEqual({ path: `${out}.onnx` });
    expect(chooseExportPath).toHaveBeenCalledWith('to-export.onnx', 'onnx');
    const model = new Model(m.spec, testKernels());
    model.restore({ params: m.params, buffers: m.buffers });
    const data = await loadMnist(datasetDir);
    const x = scaledPixels(data.test, 20);
    const engine = engineOutputs(model, x, 20);
    const onnx = await runOnnx(await readFile(`${out}.onnx`), x, [20, 1, 28, 28]);
    expect(maxAbsDiff(onnx.output, engine)).toBeLessThan(1e-4);

    chooseExportPath.mockResolvedValueOnce(null);
    expect(await b.exportModel(m, 'onnx')).toBeNull();
  });

  it('opens a safetensors state_dict (I64 num_batches_tracked) into the chosen preset, or names the first tensor that does not fit', async () => {
    const dataDir = join(root, 'import');
    const source = new Model(PRESETS['lenet5-tanh-mse-bn'].spec, jsKernels).init(4);
    const good = join(root, 'state_dict.safetensors');
    await writeFile(good, torchStyleSafetensors(torchStateDict(source)));
    const bad = join(root, 'wrong.safetensors');
    const dict = torchStateDict(source).map((t) => (t.name === 'fc2.weight' ? { ...t, shape: [84, 100], values: new Float32Array(8400) } : t));
    await writeFile(bad, torchStyleSafetensors(dict));
    const files = [good, good, bad];
    const { b } = make(dataDir, { chooseModelFile: async () => files.shift()! });
    await b.init();
    // tanh and ReLU LeNet-5 have the same tensors: the preset chosen in the window decides.
    const asTanh = (await b.openModelDialog('lenet5-tanh-mse-bn'))!;
    expect(asTanh.preset).toBe('lenet5-tanh-mse-bn');
    expect(
      Buffer.from(asTanh.params.buffer, asTanh.params.byteOffset, asTanh.params.byteLength).equals(
        Buffer.from(source.params.buffer, source.params.byteOffset, source.params.byteLength),
      ),
    ).toBe(true);
    const asRelu = (await b.openModelDialog('lenet5-relu-ce-bn'))!;
    expect(asRelu.preset).toBe('lenet5-relu-ce-bn');
    await expect(b.openModelDialog('lenet5-tanh-mse-bn')).rejects.toThrow(/wrong\.safetensors: tensor fc2\.weight has shape 84×100, the model needs 84×120/);
  });
});
