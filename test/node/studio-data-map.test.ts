// Studio.dataMap: a run's map from a history.bin written from known predictions, one value per
// image of the training file the history covers (held-out images marked), the numbers worked by
// hand; refused with a plain message for a run without history, a run of another dataset and a
// run id that is not one.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/engine/evaluate';
import { PRESETS } from '../../src/engine/presets';
import type { DataMapPayload } from '../../src/common/records';
import { DEFAULT_SEED } from '../../src/common/settings';
import { describeDataset, loadMnist, type MnistData } from '../../src/node/datasets';
import { buildRunConfig } from '../../src/node/runs/config';
import { createRun } from '../../src/node/runs/folder';
import { HistoryWriter } from '../../src/node/runs/history';
import type { Studio } from '../../src/node/studio/studio';
import { mnistSubset } from '../helpers/mnist-subset';
import { testStudio } from '../helpers/studio';

let root: string;
let mnist: MnistData;
let studio: Studio;

function evaluation(pred: number[], labels: ArrayLike<number>, prob: number[]): Evaluation {
  const scores = new Float32Array(pred.length * 10);
  pred.forEach((_, i) => (scores[i * 10 + labels[i]] = prob[i]));
  return { count: pred.length, loss: 0, accuracy: 0, confusion: [], predictions: Uint8Array.from(pred), scores };
}

async function makeRun(id: string, opts: { history: boolean; fingerprint?: string }): Promise<void> {
  const preset = PRESETS['lenet5-relu-ce'];
  const settings = { ...preset.defaults, seed: DEFAULT_SEED, shuffle: true, epochs: 2, limit: 4, validation: 1 };
  const dataset = { ...describeDataset(mnist, null), ...(opts.fingerprint ? { fingerprint: opts.fingerprint, name: 'other' } : {}) };
  const dir = join(root, 'runs', id);
  await createRun(dir, buildRunConfig({ id, preset: { name: preset.name, spec: preset.spec }, settings, dataset }));
  if (!opts.history) return;
  // Labels 5, 0, 4, 1; file image 1 is held out. Trained on: image 0 (p 0.2 then 1.0, predicted 3
  // then 5: μ 0.6, σ 0.4, right 1/2), image 2 (0.4 twice, wrong twice: μ 0.4, σ 0, right 0),
  // image 3 (0.8 twice, right twice: μ 0.8, σ 0, right 1).
  const split = { pool: 4, trainIndex: Uint32Array.from([0, 2, 3]), validationIndex: Uint32Array.from([1]) };
  const w = await HistoryWriter.open(dir, 10, split, mnist.test.count, 0);
  const trainLabels = Uint8Array.from([5, 4, 1]);
  const testLabels = mnist.test.labels;
  for (const [p0, y0] of [
    [0.2, 3],
    [1.0, 5],
  ]) {
    await w.add(
      evaluation([y0, 9, 1], trainLabels, [p0, 0.4, 0.8]),
      evaluation([0], [0], [0.6]),
      evaluation(Array.from(testLabels), testLabels, new Array<number>(testLabels.length).fill(1)),
      { train: trainLabels, validation: Uint8Array.from([0]), test: testLabels },
    );
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-studio-data-map-'));
  const dir = await mnistSubset(3000, 300);
  mnist = await loadMnist(dir);
  studio = testStudio({ dataDir: root, embeddedDatasetDir: dir }).b;
  await makeRun('good', { history: true });
  await makeRun('no-history', { history: false });
  await makeRun('other-data', { history: true, fingerprint: '0123456789abcdef' });
});
afterAll(async () => {
  await studio.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('Studio.dataMap', () => {
  it('one value per file image the history covers, held-out images marked, the numbers worked by hand', async () => {
    const m = (await studio.call('dataMap', ['good'])) as DataMapPayload;
    expect(m).toMatchObject({ runId: 'good', datasetFingerprint: mnist.fingerprint, firstEpoch: 1, lastEpoch: 2, count: 4 });
    expect(Array.from(m.trained)).toEqual([1, 0, 1, 1]);
    expect(Array.from(m.labels)).toEqual([5, 0, 4, 1]);
    const at = (a: Float32Array): number[] => [0, 2, 3].map((i) => a[i]);
    at(m.confidence).forEach((x, i) => expect(x).toBeCloseTo([0.6, 0.4, 0.8][i], 5));
    at(m.variability).forEach((x, i) => expect(x).toBeCloseTo([0.4, 0, 0][i], 5));
    expect(at(m.correctness)).toEqual([0.5, 0, 1]);
    expect(m.confidence).toBeInstanceOf(Float32Array);
  });

  it('refuses a run without history, a run of another dataset and a bad id, in plain words', async () => {
    await expect(studio.call('dataMap', ['no-history'])).rejects.toThrow(/^run no-history recorded no per-sample history, which the data map is made from$/);
    await expect(studio.call('dataMap', ['other-data'])).rejects.toThrow(/run other-data was trained on other, not on MNIST \(embedded\): open that dataset/);
    await expect(studio.call('dataMap', ['missing'])).rejects.toThrow(/is not a run folder/);
    await expect(studio.call('dataMap', ['../x'])).rejects.toThrow(/dataMap arguments/);
    await writeFile(join(root, 'runs', 'good', 'history.bin'), 'LNHIST01');
    await expect(studio.call('dataMap', ['good'])).rejects.toThrow(/history\.bin: 8 bytes is too short/);
  });
});
