// The embedding view's 2-D maps of the test set: each test image's embedding (engine/embedding.ts)
// projected by PCA (engine/pca.ts) or UMAP (umap-js). The work — a forward pass over every test
// image, then the projection, seconds for UMAP — runs on a worker thread, so the studio's event
// loop keeps answering the window; progress comes back as it goes.
//
// Results are cached per model (a hash of its spec and weights), dataset (its fingerprint), split
// and method: in memory (the last few) and on disk under the app's data folder in `projections/`,
// written atomically and pruned to the newest MAX_DISK_ENTRIES files. A cache file that does not
// read back exactly is ignored and computed again.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UMAP } from 'umap-js';
import { embed, embeddingSize } from '../../engine/embedding';
import { jsKernels } from '../../engine/kernels/js/backend';
import type { Kernels } from '../../engine/kernels/types';
import { argmax } from '../../engine/loss';
import { Model } from '../../engine/model';
import { pca } from '../../engine/pca';
import { Rng } from '../../engine/rng';
import type { ModelSpec } from '../../engine/spec';
import { formatShape, shapeSize } from '../../engine/tensor';
import type { Projection, ProjectionMethod, ProjectionPhase } from '../../common/api';
import { mkdirs, nodeFs, writeFileAtomic, type FsLayer } from '../files';
import { loadKernels } from '../load-kernels';
import { StudioError } from './errors';

/** The seed of every UMAP layout: the same model and data give the same map. */
export const UMAP_SEED = 42;
/** Projections kept in memory. */
export const MAX_MEMORY_ENTRIES = 4;
/** Projection files kept on disk (about 100 kB each for MNIST's 10,000 test images). */
export const MAX_DISK_ENTRIES = 32;
/** Bumped when the computation or the file layout changes, so old files are not reused. */
const FORMAT_VERSION = 1;
const MAGIC = 0x4a50_4e4c; // "LNPJ" little-endian

export interface ProjectionJob {
  method: ProjectionMethod;
  spec: ModelSpec;
  params: Float32Array;
  buffers: Float32Array;
  /** The split's images (uint8, one after another) and labels. */
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
  seed: number;
  /** The compiled kernels (kernels.wasm); the TypeScript kernels when absent or unloadable. */
  wasmPath?: string;
}

/** What the computation adds to the labels: the 2-D points and each image's predicted class. */
export interface ProjectionResult {
  x: Float32Array;
  y: Float32Array;
  predictions: Uint8Array;
  /** PCA only: the share of the total variance along each axis. */
  explained?: [number, number];
}

export type ProgressFn = (phase: ProjectionPhase, done: number, total: number) => void;

/** The wasm kernels when they load (about ten times faster for the forward passes), else TypeScript. */
function kernelsFor(wasmPath: string | undefined): Kernels {
  if (!wasmPath) return jsKernels;
  try {
    return loadKernels(wasmPath).kernels;
  } catch {
    return jsKernels;
  }
}

/** Embeddings, predictions and the projection of one split, where it is called (a worker, or a test). */
export function computeProjection(job: ProjectionJob, progress: ProgressFn = () => undefined): ProjectionResult {
  let model: Model;
  try {
    model = new Model(job.spec, kernelsFor(job.wasmPath));
    model.restore({ params: job.params, buffers: job.buffers });
  } catch (e) {
    throw new StudioError('BAD_MODEL', `the model cannot be used: ${(e as Error).message}`);
  }
  const n = job.count;
  if (job.pixels.length !== n * shapeSize(model.inShape)) {
    model.dispose();
    throw new StudioError('BAD_MODEL', `the model takes ${formatShape(model.inShape)} inputs, not this dataset's images`);
  }
  if (n < 2) throw new StudioError('NO_DATASET', 'the test set needs at least two images for a map');
  const d = embeddingSize(model);
  progress('embedding', 0, n);
  const emb = embed(model, job.pixels, n, { progress: (done) => progress('embedding', done, n) });
  // Predictions: the layers after the embedding (the output dense layer and its activation), run
  // on the embeddings batch by batch, rather than a second pass through the convolutions.
  const head = model.layers.map((l) => l.kind).lastIndexOf('dense');
  const K = model.classes;
  const predictions = new Uint8Array(n);
  const batch = 500;
  const h0 = model.memory.alloc(batch * d);
  try {
    for (let start = 0; start < n; start += batch) {
      const b = Math.min(batch, n - start);
      h0.set(emb.subarray(start * d, (start + b) * d));
      let h = h0.subarray(0, b * d);
      for (let i = head; i < model.layers.length; i++) h = model.layers[i].forward(h, b, false);
      for (let s = 0; s < b; s++) predictions[start + s] = argmax(h, s * K, K);
    }
  } finally {
    model.memory.free(h0);
  }
  model.dispose();
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  if (job.method === 'pca') {
    const p = pca(emb, n, d, 2);
    for (let i = 0; i < n; i++) {
      x[i] = p.projected[2 * i];
      y[i] = p.projected[2 * i + 1];
    }
    const share = (v: number): number => (p.total > 0 ? v / p.total : 0);
    progress('layout', 1, 1);
    return { x, y, predictions, explained: [share(p.variance[0]), share(p.variance[1])] };
  }
  const rows: number[][] = new Array<number[]>(n);
  for (let i = 0; i < n; i++) rows[i] = Array.from(emb.subarray(i * d, (i + 1) * d));
  const rng = new Rng(job.seed);
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, n - 1), minDist: 0.1, random: () => rng.next() });
  progress('neighbours', 0, 1);
  const epochs = umap.initializeFit(rows);
  progress('neighbours', 1, 1);
  const every = Math.max(1, Math.floor(epochs / 50));
  for (let e = 0; e < epochs; e++) {
    umap.step();
    if ((e + 1) % every === 0 || e + 1 === epochs) progress('layout', e + 1, epochs);
  }
  const out = umap.getEmbedding();
  for (let i = 0; i < n; i++) {
    x[i] = out[i][0];
    y[i] = out[i][1];
  }
  return { x, y, predictions };
}

// ---------------------------------------------------------------- cache

/** The cache key: what the map depends on (spec, weights, dataset, split, method, seed). */
export function projectionKey(job: Omit<ProjectionJob, 'pixels' | 'labels' | 'count'>, fingerprint: string, split: 'test'): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: FORMAT_VERSION, spec: job.spec, fingerprint, split, method: job.method, seed: job.seed }));
  h.update(new Uint8Array(job.params.buffer, job.params.byteOffset, job.params.byteLength));
  h.update(new Uint8Array(job.buffers.buffer, job.buffers.byteOffset, job.buffers.byteLength));
  return h.digest('hex').slice(0, 40);
}

/**
 * File layout (little-endian): magic u32, version u32, n u32, PCA shares f32×2 (NaN for UMAP),
 * then x f32×n, y f32×n, labels u8×n, predictions u8×n.
 */
export function encodeProjection(p: Projection): Uint8Array {
  const n = p.count;
  const buf = new ArrayBuffer(20 + 8 * n + 2 * n);
  const v = new DataView(buf);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, FORMAT_VERSION, true);
  v.setUint32(8, n, true);
  v.setFloat32(12, p.explained?.[0] ?? NaN, true);
  v.setFloat32(16, p.explained?.[1] ?? NaN, true);
  for (let i = 0; i < n; i++) {
    v.setFloat32(20 + 4 * i, p.x[i], true);
    v.setFloat32(20 + 4 * n + 4 * i, p.y[i], true);
  }
  const bytes = new Uint8Array(buf);
  bytes.set(p.labels, 20 + 8 * n);
  bytes.set(p.predictions, 20 + 9 * n);
  return bytes;
}

/** The projection in a cache file, or null when the file is not exactly one (wrong size, magic, version or values). */
export function decodeProjection(bytes: Uint8Array, method: ProjectionMethod, key: string): Projection | null {
  if (bytes.length < 20) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== MAGIC || v.getUint32(4, true) !== FORMAT_VERSION) return null;
  const n = v.getUint32(8, true);
  if (bytes.length !== 20 + 10 * n) return null;
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = v.getFloat32(20 + 4 * i, true);
    y[i] = v.getFloat32(20 + 4 * n + 4 * i, true);
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) return null;
  }
  const labels = bytes.slice(20 + 8 * n, 20 + 9 * n);
  const predictions = bytes.slice(20 + 9 * n, 20 + 10 * n);
  const p: Projection = { key, method, split: 'test', count: n, x, y, labels, predictions, cached: true };
  const e0 = v.getFloat32(12, true);
  const e1 = v.getFloat32(16, true);
  if (Number.isFinite(e0) && Number.isFinite(e1)) p.explained = [e0, e1];
  return p;
}

export class ProjectionCache {
  private readonly memory = new Map<string, Projection>();
  private readonly fsl: FsLayer;

  constructor(
    private readonly dir: string,
    fsl?: FsLayer,
    private readonly log: (m: string) => void = () => undefined,
  ) {
    this.fsl = fsl ?? nodeFs;
  }

  private file(key: string, method: ProjectionMethod): string {
    return join(this.dir, `${key}-${method}.bin`);
  }

  async get(key: string, method: ProjectionMethod): Promise<Projection | null> {
    const hit = this.memory.get(key);
    if (hit) {
      this.memory.delete(key); // most recently used goes last
      this.memory.set(key, hit);
      return { ...hit, cached: true };
    }
    let bytes: Uint8Array;
    try {
      bytes = await readFile(this.file(key, method));
    } catch {
      return null;
    }
    const p = decodeProjection(bytes, method, key);
    if (!p) {
      this.log(`ignored an unreadable projection cache file ${this.file(key, method)}`);
      return null;
    }
    this.remember(key, p);
    return p;
  }

  private remember(key: string, p: Projection): void {
    this.memory.set(key, p);
    while (this.memory.size > MAX_MEMORY_ENTRIES) this.memory.delete(this.memory.keys().next().value as string);
  }

  /** Keeps `p` in memory and on disk; a disk that refuses loses only the cache. */
  async put(p: Projection): Promise<void> {
    this.remember(p.key, p);
    try {
      await mkdirs(this.dir, this.fsl);
      await writeFileAtomic(this.file(p.key, p.method), encodeProjection(p), this.fsl);
      await this.prune();
    } catch (e) {
      this.log(`could not cache a projection: ${(e as Error).message}`);
    }
  }

  /** Deletes all but the newest MAX_DISK_ENTRIES cache files. */
  private async prune(): Promise<void> {
    const names = (await readdir(this.dir)).filter((f) => /^[0-9a-f]{40}-(pca|umap)\.bin$/.test(f));
    if (names.length <= MAX_DISK_ENTRIES) return;
    const dated = await Promise.all(names.map(async (f) => ({ f, t: (await stat(join(this.dir, f)).catch(() => null))?.mtimeMs ?? 0 })));
    dated.sort((a, b) => b.t - a.t || a.f.localeCompare(b.f));
    for (const { f } of dated.slice(MAX_DISK_ENTRIES)) await unlink(join(this.dir, f)).catch(() => undefined);
  }
}

// ---------------------------------------------------------------- worker

export type ProjectionWorkerMessage =
  | { type: 'progress'; phase: ProjectionPhase; done: number; total: number }
  | { type: 'done'; result: ProjectionResult }
  | { type: 'error'; code: string; message: string };

let foundWorker: URL | null | undefined;
function workerUrl(): URL | null {
  if (foundWorker !== undefined) return foundWorker;
  const here = fileURLToPath(import.meta.url);
  const candidates = here.endsWith('.ts')
    ? [join(dirname(here), './projection-worker.mjs')]
    : [join(dirname(here), './projection-worker.js'), join(dirname(here), '../projection-worker.js')];
  const found = candidates.find((p) => existsSync(p));
  foundWorker = found ? pathToFileURL(found) : null;
  return foundWorker;
}

/** Runs computeProjection on a worker thread (the job's arrays are copied to it). */
export function projectOnWorker(job: ProjectionJob, progress: ProgressFn): Promise<ProjectionResult> {
  const url = workerUrl();
  if (!url) return Promise.reject(new Error('internal error: the projection worker is missing from this build'));
  return new Promise((resolve, reject) => {
    const worker = new Worker(url);
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      f();
    };
    worker.on('message', (m: ProjectionWorkerMessage) => {
      if (m.type === 'progress') progress(m.phase, m.done, m.total);
      else if (m.type === 'done') settle(() => resolve(m.result));
      else settle(() => reject(m.code === 'INTERNAL' ? new Error(m.message) : new StudioError(m.code as StudioError['code'], m.message)));
    });
    worker.once('error', (e) => settle(() => reject(new Error(`the projection stopped: ${e.message}`))));
    worker.once('exit', (code) => settle(() => reject(new Error(`the projection stopped (exit code ${code})`))));
    worker.postMessage(job);
  });
}
