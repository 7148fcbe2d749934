// data-lab neighbours against a brute-force search written here: embeddings from the inspector's
// per-layer activations (Model.layerOutputs), every distance computed and sorted.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModelFile } from '../../src/engine/formats/modelfile';
import { loadMnist, type MnistData } from '../../src/node/datasets';
import { runCli } from '../helpers/cli';
import { testKernels } from '../helpers/kernels';
import { mnistSubset } from '../helpers/mnist-subset';

let dir: string;
let dataDir: string;
let model: string;
let data: MnistData;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-neighbours-'));
  dataDir = await mnistSubset(1500, 100);
  data = await loadMnist(dataDir);
  model = join(dir, 'm.lenet');
  const r = await runCli('train', ['--data', dataDir, '--epochs', '1', '--limit', '600', '--preset', 'lenet5-relu-ce-bn', '--out', model, '--json']);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Brute force: the input of the output layer for every training image, distances sorted. */
async function bruteForce(query: Uint8Array, k: number): Promise<{ index: number; label: number; distance: number }[]> {
  const { model: m } = decodeModelFile(await readFile(model), model, undefined, testKernels());
  try {
    const lastDense = m.layers.map((l) => l.kind).lastIndexOf('dense');
    const name = m.layers[lastDense - 1].name;
    const embedOne = (px: Uint8Array): number[] => {
      const outs = m.layerOutputs(
        Float32Array.from(px, (v) => v / 255),
        1,
        false,
      );
      return Array.from(outs.find((o) => o.name === name)!.data);
    };
    const q = embedOne(query);
    const all: { index: number; label: number; distance: number }[] = [];
    for (let i = 0; i < data.train.count; i++) {
      const e = embedOne(data.train.pixels.subarray(i * 784, (i + 1) * 784));
      all.push({ index: i, label: data.train.labels[i], distance: Math.sqrt(e.reduce((a, v, j) => a + (v - q[j]) ** 2, 0)) });
    }
    return all.sort((a, b) => a.distance - b.distance || a.index - b.index).slice(0, k);
  } finally {
    m.dispose();
  }
}

function expectSame(got: { index: number; label: number; distance: number }[], want: { index: number; label: number; distance: number }[]): void {
  expect(got.map((n) => n.index)).toEqual(want.map((n) => n.index));
  expect(got.map((n) => n.label)).toEqual(want.map((n) => n.label));
  got.forEach((n, i) => expect(n.distance).toBeCloseTo(want[i].distance, 4));
}

describe('data-lab neighbours', () => {
  it('a test image: the K nearest of the whole training file (not only the 600 trained on), as brute force finds them', async () => {
    const r = await runCli('data-lab', ['neighbours', model, '--index', '7', '--data', dataDir, '--k', '8', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { neighbours: { index: number; label: number; distance: number }[] };
    expect(Object.keys(out)).toEqual(['neighbours']);
    expect(out.neighbours).toHaveLength(8);
    for (const n of out.neighbours) expect(Object.keys(n)).toEqual(['index', 'label', 'distance']);
    expectSame(out.neighbours, await bruteForce(data.test.pixels.subarray(7 * 784, 8 * 784), 8));
  });

  it('a training image finds itself first', async () => {
    const r = await runCli('data-lab', ['neighbours', model, '--index', '1200', '--split', 'train', '--data', dataDir, '--k', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { neighbours: { index: number; label: number; distance: number }[] };
    expect(out.neighbours[0]).toEqual({ index: 1200, label: data.train.labels[1200], distance: 0 });
    expectSame(out.neighbours, await bruteForce(data.train.pixels.subarray(1200 * 784, 1201 * 784), 3));
  });

  it('bad options exit 2 with one line', async () => {
    for (const args of [
      ['neighbours', model, '--index', '100', '--data', dataDir, '--k', '3'],
      ['neighbours', model, '--index', '1', '--split', 'val'],
    ]) {
      const r = await runCli('data-lab', args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^data-lab: .*\nTry 'data-lab --help'\.\n$/);
    }
  });
});
