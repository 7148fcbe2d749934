// Data-parallel gradients over worker threads. The calling thread computes shard 0 itself and
// T−1 workers compute the others; gradients are combined in shard order, weighted by shard size,
// so a given thread count reproduces bit for bit. Batch norm normalises each shard with its own
// batch statistics (like PyTorch's DataParallel without SyncBatchNorm) and the running statistics
// are the shard-size-weighted mean of the shards' updates — equal to one update with the mean of
// the shard statistics. With one thread this is exactly the local computation.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ImageSet } from '../../engine/data';
import type { Model } from '../../engine/model';
import type { ModelSpec } from '../../engine/spec';
import { TRANSFORM_SIZE } from '../../engine/augment';
import { K } from '../../engine/kernels/backend';
import { localGradients, type BatchGradients } from '../../engine/train';
import { CMD_EXIT, CMD_STEP, CTRL, shardRange, type SharedSetup } from './layout';

export const DEFAULT_WORKER_URL = new URL('./shard-worker.mjs', import.meta.url);

export function defaultThreads(): number {
  return availableParallelism();
}

/** Fewest images a shard normalises with its own batch statistics. */
export const MIN_BATCHNORM_SHARD = 32;

/**
 * Threads to train `spec` with, at most `wanted`. Batch norm normalises each shard with the
 * shard's own statistics, and halves of a 32-image batch hurt: lenet5-tanh-mse-bn ended at
 * 1.30 % test error with two threads against 0.90 % with one (docs/results/seed-study.md). So a
 * network with batch norm gets only as many shards as keep MIN_BATCHNORM_SHARD images each.
 */
export function threadsFor(spec: ModelSpec, batchSize: number, wanted: number): number {
  if (!spec.layers.some((l) => l.type === 'batchnorm')) return Math.max(1, wanted);
  return Math.max(1, Math.min(wanted, Math.floor(batchSize / MIN_BATCHNORM_SHARD)));
}

export class ParallelGradients implements BatchGradients {
  private readonly ctrl: Int32Array;
  private readonly idx: Uint32Array;
  private readonly params: Float32Array;
  private readonly buffers: Float32Array;
  private readonly grads: Float32Array;
  private readonly shardBuffers: Float32Array;
  private readonly results: Float64Array;
  private readonly transforms: Float64Array;
  private readonly local: BatchGradients;
  /** Shard 0's batch norm buffers after its step (reused every step: no allocation in the loop). */
  private readonly ownBuffers: Float32Array;
  private closed = false;
  private lastError = '';

  private constructor(
    private readonly model: Model,
    private readonly data: ImageSet,
    readonly threads: number,
    private readonly setup: SharedSetup,
    private readonly workers: Worker[],
  ) {
    this.ctrl = new Int32Array(setup.ctrl);
    this.idx = new Uint32Array(setup.idx);
    // Explicit lengths: shared buffers are at least 8 bytes, even for a model without buffers.
    this.params = new Float32Array(setup.params, 0, model.params.length);
    this.buffers = new Float32Array(setup.buffers, 0, model.buffers.length);
    this.grads = new Float32Array(setup.grads);
    this.shardBuffers = new Float32Array(setup.shardBuffers);
    this.results = new Float64Array(setup.results);
    this.transforms = new Float64Array(setup.transforms);
    this.local = localGradients(model, data);
    this.ownBuffers = new Float32Array(model.buffers.length);
    for (const w of workers) {
      w.on('message', (m: { type: string; message?: string }) => {
        if (m.type === 'error') this.lastError = m.message ?? 'unknown error';
      });
    }
  }

  /** Starts T−1 workers (none for T = 1) and waits until each has its replica ready. */
  static async create(
    model: Model,
    data: ImageSet,
    threads: number,
    maxBatch: number,
    opts: { workerUrl?: URL; wasmPath?: string } = {},
  ): Promise<ParallelGradients> {
    const T = Math.max(1, Math.min(threads, 64));
    const W = T - 1;
    const P = model.params.length;
    const B = model.buffers.length;
    const sab = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(Math.max(8, bytes));
    const setup: SharedSetup = {
      spec: model.spec,
      shards: T,
      maxBatch,
      ctrl: sab(CTRL.SIZE * 4),
      idx: sab(maxBatch * 4),
      pixels: sab(W ? data.pixels.length : 0),
      labels: sab(W ? data.labels.length : 0),
      params: sab(P * 4),
      buffers: sab(B * 4),
      grads: sab(W * P * 4),
      shardBuffers: sab(W * B * 4),
      results: sab(W * 16),
      transforms: sab(W ? maxBatch * TRANSFORM_SIZE * 8 : 0),
      wasmPath: opts.wasmPath,
      kernels: K.name,
    };
    if (W) {
      // The dataset is copied once into shared memory; it stays uint8.
      new Uint8Array(setup.pixels).set(data.pixels);
      new Uint8Array(setup.labels).set(data.labels);
    }
    const workers: Worker[] = [];
    try {
      for (let t = 1; t < T; t++) {
        const w = new Worker(opts.workerUrl ?? DEFAULT_WORKER_URL, { workerData: { ...setup, shard: t } });
        workers.push(w);
        await new Promise<void>((resolve, reject) => {
          w.once('message', (m: { kernels?: string }) =>
            m.kernels === setup.kernels ? resolve() : reject(new Error(`shard worker ${t} runs the ${m.kernels} kernels, the coordinator ${setup.kernels}`)),
          );
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`shard worker ${t} exited with code ${code} before it was ready`)));
        });
        w.removeAllListeners('error');
        w.removeAllListeners('exit');
      }
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new ParallelGradients(model, data, T, setup, workers);
  }

  compute(idx: Uint32Array, labels: Uint8Array, n: number, transforms?: Float64Array | null): { lossSum: number; correct: number } {
    const T = this.threads;
    if (T === 1) return this.local.compute(idx, labels, n, transforms);
    if (this.closed) throw new Error('internal error: ParallelGradients used after close()');
    const { ctrl, model } = this;
    this.idx.set(idx.subarray(0, n));
    this.params.set(model.params);
    this.buffers.set(model.buffers);
    // Workers warp their images with the coordinator's draws, so the thread count never changes them.
    if (transforms) this.transforms.set(transforms.subarray(0, n * TRANSFORM_SIZE));
    Atomics.store(ctrl, CTRL.AUGMENT, transforms ? 1 : 0);
    Atomics.store(ctrl, CTRL.N, n);
    Atomics.store(ctrl, CTRL.CMD, CMD_STEP);
    Atomics.store(ctrl, CTRL.DONE, 0);
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);

    const [s0, e0] = shardRange(0, T, n);
    const r0 = this.local.compute(idx.subarray(s0, e0), labels.subarray(s0, e0), e0 - s0, transforms?.subarray(s0 * TRANSFORM_SIZE, e0 * TRANSFORM_SIZE));
    const ownBuffers = this.ownBuffers;
    ownBuffers.set(model.buffers);

    for (let done = Atomics.load(ctrl, CTRL.DONE); done < T - 1; done = Atomics.load(ctrl, CTRL.DONE)) {
      if (Atomics.wait(ctrl, CTRL.DONE, done, 30_000) === 'timed-out') throw new Error('a shard worker stopped responding');
    }
    if (Atomics.load(ctrl, CTRL.ERROR)) throw new Error(`a shard worker failed${this.lastError ? `: ${this.lastError}` : ''}`);

    // Combine in shard order: g = Σ (n_t / n) g_t, running stats likewise.
    const g = model.grads;
    const P = g.length;
    const B = model.buffers.length;
    const w0 = (e0 - s0) / n;
    for (let i = 0; i < P; i++) g[i] *= w0;
    const buf = model.buffers;
    for (let i = 0; i < B; i++) buf[i] = ownBuffers[i] * w0;
    let lossSum = r0.lossSum;
    let correct = r0.correct;
    for (let t = 1; t < T; t++) {
      const [s, e] = shardRange(t, T, n);
      if (e === s) continue;
      const wt = (e - s) / n;
      const off = (t - 1) * P;
      for (let i = 0; i < P; i++) g[i] += wt * this.grads[off + i];
      const bo = (t - 1) * B;
      for (let i = 0; i < B; i++) buf[i] += wt * this.shardBuffers[bo + i];
      lossSum += this.results[(t - 1) * 2];
      correct += this.results[(t - 1) * 2 + 1];
    }
    return { lossSum, correct };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, CTRL.CMD, CMD_EXIT);
    Atomics.add(this.ctrl, CTRL.GEN, 1);
    Atomics.notify(this.ctrl, CTRL.GEN);
    await Promise.all(this.workers.map((w) => new Promise<void>((resolve) => (w.threadId < 0 ? resolve() : w.once('exit', () => resolve())))));
  }
}
