// The embedding maps behind the Embedding view (node/studio/projection.ts): PCA and UMAP of the
// test set's embeddings, computed on a worker thread (the studio's event loop keeps ticking),
// deterministic for a model, cached in memory and on disk (atomic, bounded), and a cache file
// that does not read back computed again rather than trusted.

import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Projection, StudioEvent } from '../../src/common/api';
import type { ModelPayload } from '../../src/common/records';
import { embed } from '../../src/engine/embedding';
import { evaluate } from '../../src/engine/evaluate';
import { jsKernels } from '../../src/engine/kernels/js/backend';
import { Model } from '../../src/engine/model';
import { pca } from '../../src/engine/pca';
import { PRESETS } from '../../src/engine/presets';
import { loadMnist } from '../../src/node/datasets';
import { decodeProjection, encodeProjection, MAX_DISK_ENTRIES, ProjectionCache } from '../../src/node/studio/projection';
import { mnistSubset } from '../helpers/mnist-subset';
import { testStudio } from '../helpers/studio';

let dataDir: string;
let datasetDir: string;
let payload: ModelPayload;
let model: Model;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'lenet-projection-'));
  datasetDir = await mnistSubset(100, 200);
  model = new Model(PRESETS['lenet5-relu-ce-bn'].spec, jsKernels).init(3);
  const { params, buffers } = model.snapshot();
  payload = { spec: model.spec, params, buffers, preset: 'lenet5-relu-ce-bn', source: { kind: 'file', path: '/nowhere/m.lenet' } };
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function studio(): { b: ReturnType<typeof testStudio>['b']; events: StudioEvent[] } {
  return testStudio({ dataDir, embeddedDatasetDir: datasetDir });
}

describe('embeddingProjection', () => {
  it('PCA: every test image, its label, the prediction evaluate makes, and the top two components of its embedding', async () => {
    const { b } = studio();
    await b.useEmbeddedDataset();
    const p = (await b.call('embeddingProjection', [payload, 'pca'])) as Projection;
    const data = await loadMnist(datasetDir);
    expect(p).toMatchObject({ method: 'pca', split: 'test', count: 200, cached: false });
    expect(Array.from(p.labels)).toEqual(Array.from(data.test.labels));
    expect(Array.from(p.predictions)).toEqual(Array.from(evaluate(model, data.test).predictions));
    const expected = pca(embed(model, data.test.pixels, 200), 200, 84, 2);
    // The worker runs the wasm kernels, this test the TypeScript ones: equal to float32 rounding.
    const scale = Math.sqrt(expected.variance[0]);
    for (let i = 0; i < 200; i++) {
      expect(Math.abs(p.x[i] - expected.projected[2 * i])).toBeLessThan(1e-4 * scale);
      expect(Math.abs(p.y[i] - expected.projected[2 * i + 1])).toBeLessThan(1e-4 * scale);
    }
    expect(p.explained?.[0]).toBeCloseTo(expected.variance[0] / expected.total, 6);
    await b.dispose();
  });

  it('UMAP runs on a worker with progress, the event loop ticking meanwhile; the same model gives the same map, from memory, from disk, and recomputed', async () => {
    const { b, events } = studio();
    await b.useEmbeddedDataset();
    let last = performance.now();
    let worstGap = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
    }, 10);
    const first = (await b.call('embeddingProjection', [payload, 'umap'])) as Projection;
    clearInterval(tick);
    expect(worstGap).toBeLessThan(250);
    expect(first).toMatchObject({ method: 'umap', count: 200, cached: false });
    expect(first.x.every(Number.isFinite) && first.y.every(Number.isFinite)).toBe(true);
    const progress = events.filter((e) => e.type === 'projection-progress');
    expect(new Set(progress.map((e) => e.phase))).toEqual(new Set(['embedding', 'neighbours', 'layout']));
    const lastLayout = progress.filter((e) => e.phase === 'layout').at(-1);
    expect(lastLayout && lastLayout.done === lastLayout.total).toBe(true);
    expect(progress.every((e) => e.key === first.key)).toBe(true);

    const again = (await b.call('embeddingProjection', [payload, 'umap'])) as Projection;
    expect(again.cached).toBe(true);
    expect(Array.from(again.x)).toEqual(Array.from(first.x));
    await b.dispose();

    // A new studio (a restarted app) reads it from disk.
    const fresh = studio();
    await fresh.b.useEmbeddedDataset();
    const fromDisk = (await fresh.b.call('embeddingProjection', [payload, 'umap'])) as Projection;
    expect(fromDisk.cached).toBe(true);
    expect(Array.from(fromDisk.x)).toEqual(Array.from(first.x));
    expect(Array.from(fromDisk.y)).toEqual(Array.from(first.y));
    expect(fresh.events.filter((e) => e.type === 'projection-progress')).toEqual([]);
    await fresh.b.dispose();

    // A damaged file is not trusted: the map is computed again, identically (seeded UMAP).
    const file = join(dataDir, 'projections', `${first.key}-umap.bin`);
    await writeFile(file, new Uint8Array(57));
    const third = studio();
    await third.b.useEmbeddedDataset();
    const recomputed = (await third.b.call('embeddingProjection', [payload, 'umap'])) as Projection;
    expect(recomputed.cached).toBe(false);
    expect(Array.from(recomputed.x)).toEqual(Array.from(first.x));
    expect(Array.from(recomputed.y)).toEqual(Array.from(first.y));
    await third.b.dispose();
  });

  it('another model is another map (the key covers the weights); a model without a hidden dense layer is refused plainly', async () => {
    const { b } = studio();
    await b.useEmbeddedDataset();
    const other = new Model(PRESETS['lenet5-relu-ce-bn'].spec, jsKernels).init(4).snapshot();
    const a = (await b.call('embeddingProjection', [payload, 'pca'])) as Projection;
    const c = (await b.call('embeddingProjection', [{ ...payload, ...other }, 'pca'])) as Projection;
    expect(c.key).not.toBe(a.key);
    expect(Array.from(c.x)).not.toEqual(Array.from(a.x));
    const spec = {
      ...model.spec,
      layers: [{ type: 'flatten' }, { type: 'dense', units: 10 }, { type: 'activation', fn: 'softmax' }],
    } as unknown as ModelPayload['spec'];
    const tiny = new Model(spec, jsKernels).init(1).snapshot();
    await expect(b.call('embeddingProjection', [{ ...payload, spec, ...tiny }, 'pca'])).rejects.toThrow(/no hidden dense layer/);
    await expect(b.call('embeddingProjection', [payload, 'tsne'])).rejects.toThrow(/embeddingProjection arguments/);
    await b.dispose();
  });
});

describe('ProjectionCache', () => {
  const tiny = (key: string): Projection => ({
    key,
    method: 'pca',
    split: 'test',
    count: 3,
    x: Float32Array.from([1, 2, 3]),
    y: Float32Array.from([-1, 0.5, 4]),
    labels: Uint8Array.from([7, 2, 1]),
    predictions: Uint8Array.from([7, 2, 0]),
    explained: [0.5, 0.25],
    cached: false,
  });

  it('a file reads back exactly; a truncated, padded or non-finite one reads as nothing', () => {
    const bytes = encodeProjection(tiny('k'));
    expect(decodeProjection(bytes, 'pca', 'k')).toEqual({ ...tiny('k'), cached: true });
    expect(decodeProjection(bytes.subarray(0, bytes.length - 1), 'pca', 'k')).toBeNull();
    expect(decodeProjection(Uint8Array.from([...bytes, 0]), 'pca', 'k')).toBeNull();
    const nan = bytes.slice();
    new DataView(nan.buffer).setFloat32(20, NaN, true);
    expect(decodeProjection(nan, 'pca', 'k')).toBeNull();
  });

  it(`keeps at most ${MAX_DISK_ENTRIES} files on disk`, async () => {
    const dir = join(dataDir, 'bounded');
    const cache = new ProjectionCache(dir);
    for (let i = 0; i < MAX_DISK_ENTRIES + 5; i++) await cache.put(tiny(i.toString(16).padStart(40, '0')));
    const files = (await readdir(dir)).filter((f) => f.endsWith('.bin'));
    expect(files.length).toBe(MAX_DISK_ENTRIES);
  });
});
