// Data-parallel gradients over worker threads. The calling thread computes shard 0 itself and
// T−1 workers compute the others; gradients are combined in shard order, weighted by shard size,
// so a given thread count reproduces bit for bit. Batch norm normalises each shard with its own
// batch statistics (like PyTorch's DataParallel without SyncBatchNorm) and the running statistics
// are the shard-size-weighted mean of the shards' updates — equal to one update with the mean of
// the shard statistics. With one thread this is exactly the local computation.
//
// The same workers run inference (`inference()`): a batch's images are split into shards the
// same way, each thread runs its shard forward, and the outputs are gathered in order. Outputs
// do not depend on the other images of a batch, so this needs no combining.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ImageSet } from '../../engine/data';
import type { BatchInference } from '../../engine/evaluate';
import type { Model } from '../../engine/model';
import type { ModelSpec } from '../../engine/spec';
import { TRANSFORM_SIZE } from '../../engine/augment';
import { localGradients, type BatchGradients } from '../../engine/train';
import { BatchBuffer, shapeSize } from '../../engine/tensor';
import { CMD_EXIT, CMD_FORWARD, CMD_STEP, CTRL, shardStart, waitWhile, type SharedSetup } from './layout';

export const DEFAULT_WORKER_URL = new URL('./shard-worker.mjs', import.meta.url);

export function defaultThreads(): number {
  return availableParallelism();
}

/**
 * How long a thread spins on a control word before it sleeps. A step's threads wait for each other
 * for well under a millisecond, less than Atomics.wait's sleep and wake-up (0.05–0.2 ms each).
 */
export const SPIN_MS = 1;

/**
 * Fewest images a shard normalises with its own batch statistics ("ghost" batch norm). Halves of a
 * 32-image batch are fine with cross-entropy: lenet5-relu-ce-bn ended 3 epochs at 99.13 % test
 * accuracy with two threads against 99.15 % with one (means of seeds 1–3). With MSE they hurt:
 * lenet5-tanh-mse-bn ended 3 epochs at 98.09 % against 98.41 %, and 20 epochs at 1.30 % test error
 * against 0.90 % (docs/results/seed-study.md). So a network trained with MSE keeps 32 images a shard.
 */
export const MIN_BATCHNORM_SHARD = 16;
export const MIN_BATCHNORM_SHARD_MSE = 32;

export function minBatchNormShard(spec: ModelSpec): number {
  return spec.loss === 'mse' ? MIN_BATCHNORM_SHARD_MSE : MIN_BATCHNORM_SHARD;
}

/**
 * Threads to train `spec` with, at most `wanted`. Batch norm normalises each shard with the
 * shard's own statistics, so a network with batch norm gets only as many shards as keep
 * minBatchNormShard(spec) images each.
 */
export function threadsFor(spec: ModelSpec, batchSize: number, wanted: number): number {
  if (!spec.layers.some((l) => l.type === 'batchnorm')) return Math.max(1, wanted);
  return Math.max(1, Math.min(wanted, Math.floor(batchSize / minBatchNormShard(spec))));
}

/** Fewest images a forward command carries at most: evaluation batches of 100–500 need one or two. */
export const MIN_INFER_CHUNK = 256;

export class ParallelGradients implements BatchGradients {
  private readonly ctrl: Int32Array;
  private readonly idx: Uint32Array;
  private readonly params: Float32Array;
  private readonly buffers: Float32Array;
  /** Worker t's gradient and batch norm buffers: views of its slot, made once. */
  private readonly slotGrads: Float32Array[] = [];
  private readonly slotBuffers: Float32Array[] = [];
  private readonly results: Float64Array;
  private readonly transforms: Float64Array;
  private readonly local: BatchGradients;
  /** A worker's gradient and buffers, copied beside the model's (in wasm memory) to be combined. */
  private readonly stageGrads: Float32Array;
  private readonly stageBuffers: Float32Array;
  private readonly inferPixels: Uint8Array;
  private readonly inferOut: Float32Array;
  private readonly inferIdx: Uint32Array;
  /** Outputs of the last forward. */
  private readonly outputs: BatchBuffer;
  /** Whether the workers' weights may differ from the model's (they train, or the model changed). */
  private weightsStale = true;
  private readonly batchInference: BatchInference = { forward: (pixels, idx, n) => this.forward(pixels, idx, n) };
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
    const P = model.params.length;
    const B = model.buffers.length;
    for (let t = 1; t < threads; t++) {
      this.slotGrads.push(new Float32Array(setup.grads, (t - 1) * P * 4, P));
      this.slotBuffers.push(new Float32Array(setup.shardBuffers, (t - 1) * B * 4, B));
    }
    this.results = new Float64Array(setup.results);
    this.transforms = new Float64Array(setup.transforms);
    this.local = localGradients(model, data);
    this.stageGrads = model.memory.alloc(threads > 1 ? P : 0);
    this.stageBuffers = model.memory.alloc(threads > 1 ? B : 0);
    this.inferPixels = new Uint8Array(setup.inferPixels);
    this.inferOut = new Float32Array(setup.inferOut);
    this.inferIdx = new Uint32Array(setup.inferChunk);
    this.outputs = new BatchBuffer(model.classes, model.memory);
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
    const inferChunk = Math.max(maxBatch, MIN_INFER_CHUNK);
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
      inferChunk,
      inferPixels: sab(W ? inferChunk * shapeSize(model.inShape) : 0),
      inferOut: sab(W ? inferChunk * model.classes * 4 : 0),
      wasmPath: opts.wasmPath,
      kernels: model.kernels.name,
      // Spinning pays only while every thread has a core of its own.
      spinMs: T <= availableParallelism() ? SPIN_MS : 0,
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
    this.weightsStale = true;
    for (let s = 0; s < n; s++) this.idx[s] = idx[s];
    this.params.set(model.params);
    this.buffers.set(model.buffers);
    // Workers warp their images with the coordinator's draws, so the thread count never changes them.
    if (transforms) for (let k = 0; k < n * TRANSFORM_SIZE; k++) this.transforms[k] = transforms[k];
    Atomics.store(ctrl, CTRL.AUGMENT, transforms ? 1 : 0);
    Atomics.store(ctrl, CTRL.N, n);
    Atomics.store(ctrl, CTRL.CMD, CMD_STEP);
    Atomics.store(ctrl, CTRL.DONE, 0);
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);

    // Shard 0 is the batch's first n0 images: the arrays as they are, no views to make.
    const n0 = shardStart(1, T, n);
    const r0 = this.local.compute(idx, labels, n0, transforms);

    this.awaitWorkers();

    // Combine in shard order, in place over shard 0's: g = Σ (n_t / n) g_t, running stats likewise.
    // Each slot is copied next to the model first (a memcpy), so the kernels combine it there.
    // The last shard is never empty, so the first term always gets its weight.
    const w0 = n0 / n;
    let first = true;
    let lossSum = r0.lossSum;
    let correct = r0.correct;
    for (let t = 1; t < T; t++) {
      const nt = shardStart(t + 1, T, n) - shardStart(t, T, n);
      if (nt === 0) continue;
      const wt = nt / n;
      this.stageGrads.set(this.slotGrads[t - 1]);
      this.stageBuffers.set(this.slotBuffers[t - 1]);
      model.kernels.scaleAdd(model.grads, first ? w0 : 1, this.stageGrads, wt, model.grads.length);
      model.kernels.scaleAdd(model.buffers, first ? w0 : 1, this.stageBuffers, wt, model.buffers.length);
      first = false;
      lossSum += this.results[(t - 1) * 2];
      correct += this.results[(t - 1) * 2 + 1];
    }
    return { lossSum, correct };
  }

  /**
   * Inference with the model's current weights, split over the threads like training batches.
   * Call it again after the weights change (an optimizer step, a restore): the workers load the
   * weights once, at the first forward after this call.
   */
  inference(): BatchInference {
    this.weightsStale = true;
    return this.batchInference;
  }

  private forward(pixels: Uint8Array, idx: Uint32Array, n: number): Float32Array {
    const { ctrl, model, threads: T } = this;
    if (T === 1) return model.forwardPixels(pixels, idx, n, false);
    if (this.closed) throw new Error('internal error: ParallelGradients used after close()');
    const classes = model.classes;
    const size = shapeSize(model.inShape);
    const out = this.outputs.get(n);
    for (let c0 = 0; c0 < n; c0 += this.setup.inferChunk) {
      const m = Math.min(this.setup.inferChunk, n - c0);
      const m0 = shardStart(1, T, m);
      // The workers' images, copied into shared memory (a memcpy each: a byte loop here cost
      // 1 µs an image, on every thread's critical path); shard 0's stay where they are.
      for (let s = m0; s < m; s++) {
        const src = idx[c0 + s] * size;
        this.inferPixels.set(pixels.subarray(src, src + size), s * size);
      }
      if (this.weightsStale) {
        this.params.set(model.params);
        this.buffers.set(model.buffers);
      }
      Atomics.store(ctrl, CTRL.LOAD, this.weightsStale ? 1 : 0);
      this.weightsStale = false;
      Atomics.store(ctrl, CTRL.N, m);
      Atomics.store(ctrl, CTRL.CMD, CMD_FORWARD);
      Atomics.store(ctrl, CTRL.DONE, 0);
      Atomics.add(ctrl, CTRL.GEN, 1);
      Atomics.notify(ctrl, CTRL.GEN);
      if (m0 > 0) {
        for (let s = 0; s < m0; s++) this.inferIdx[s] = idx[c0 + s];
        out.set(model.forwardPixels(pixels, this.inferIdx, m0, false), c0 * classes);
      }
      this.awaitWorkers();
      for (let i = m0 * classes; i < m * classes; i++) out[c0 * classes + i] = this.inferOut[i];
    }
    return out;
  }

  /** Waits until every worker has finished the current command; throws when one failed. */
  private awaitWorkers(): void {
    const { ctrl } = this;
    for (let done = Atomics.load(ctrl, CTRL.DONE); done < this.threads - 1; done = Atomics.load(ctrl, CTRL.DONE)) {
      if (!waitWhile(ctrl, CTRL.DONE, done, this.setup.spinMs, 30_000)) throw new Error('a shard worker stopped responding');
    }
    if (Atomics.load(ctrl, CTRL.ERROR)) throw new Error(`a shard worker failed${this.lastError ? `: ${this.lastError}` : ''}`);
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
