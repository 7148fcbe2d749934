// Data-parallel gradients over worker threads. The calling thread computes shard 0 itself and
// T−1 workers compute the others; gradients are combined in shard order, weighted by shard size,
// so a given thread count reproduces bit for bit. Batch norm is synchronised (batch-sync.ts):
// every shard normalises with the whole batch's statistics and its backward uses the whole
// batch's sums, so the combined gradient and the running statistics are those of one thread up
// to the order of float sums. A batch smaller than the thread count is computed here alone.
//
// The same workers run inference (`inference()`): a batch's images are split into shards the
// same way, each thread runs its shard forward, and the outputs are gathered in order. Outputs
// do not depend on the other images of a batch, so this needs no combining.
//
// Worker threads never fail a run. Workers that cannot start (a missing or broken worker file, a
// packaged app whose loader refuses it) leave a one-thread ParallelGradients whose `fallback` says
// why. A worker that fails later — an exception in a command, a thread that dies, or one that stops
// answering for `stallTimeoutMs` — is seen through shared memory (the coordinator blocks in
// Atomics.wait and cannot take events then): the coordinator restores the step's starting batch norm
// statistics, computes the whole batch itself (exactly the one-thread computation), ends the workers
// and carries on alone. Either way `onFallback` hears the reason once, in plain words.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ImageSet } from '../../engine/data';
import type { BatchInference } from '../../engine/evaluate';
import type { Model } from '../../engine/model';
import { TRANSFORM_SIZE } from '../../engine/augment';
import { localGradients, type BatchGradients } from '../../engine/train';
import type { AdversarialStep } from '../../engine/adversarial';
import { writeAdversarial } from './layout';
import { ShardAbort, ShardSync, batchNormChannels, syncSlotSize } from './batch-sync';
import { BatchBuffer, shapeSize } from '../../engine/tensor';
import { CMD_EXIT, CMD_FORWARD, CMD_STEP, CTRL, ERROR_TEXT_BYTES, shardStart, waitWhile, type ShardFault, type SharedSetup } from './layout';

/** A reason's detail, short enough for a notice line (a loader's message can carry a whole stack). */
function clip(text: string, max = 500): string {
  const line = text.split('\n')[0].trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** What the coordinator says when its workers did not finish a command, or arrive at an exchange, in time. */
function stalledText(timeoutMs: number): string {
  return `the worker threads stopped answering (nothing for ${timeoutMs / 1000} s)`;
}

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
 * Threads to train with, at most `wanted`: a thread needs at least one image of a batch. Batch
 * norm is synchronised across threads, so the thread count changes only the order of float sums.
 */
export function threadsFor(batchSize: number, wanted: number): number {
  return Math.max(1, Math.min(wanted, batchSize));
}

/** Fewest images a forward command carries at most: evaluation batches of 100–500 need one or two. */
export const MIN_INFER_CHUNK = 256;

/**
 * How long the coordinator waits for its workers to finish one command before it counts them as
 * stuck and carries on alone. A step or a forward takes milliseconds to a second even with every
 * core busy; a dead thread is reported at once through shared memory, so this only catches a hang.
 */
export const STALL_TIMEOUT_MS = 30_000;
/** How long a worker may take to load (tsx, the kernels, the model) before the run goes on without workers. */
export const START_TIMEOUT_MS = 60_000;

export interface ParallelOptions {
  /** The shard worker's entry (a bundled app passes its pre-built one); DEFAULT_WORKER_URL when absent. */
  workerUrl?: URL;
  wasmPath?: string;
  /** Told once, in plain words, when the workers cannot start or fail and training goes on on one thread. */
  onFallback?: (reason: string) => void;
  stallTimeoutMs?: number;
  startTimeoutMs?: number;
  /** Tests only: makes every worker fail as described (SharedSetup.fault). */
  fault?: ShardFault;
}

export class ParallelGradients implements BatchGradients {
  private readonly ctrl: Int32Array;
  private readonly idx: Uint32Array;
  private readonly params: Float32Array;
  private readonly buffers: Float32Array;
  /** Worker t's gradient: a view of its slot, made once. */
  private readonly slotGrads: Float32Array[] = [];
  private readonly results: Float64Array;
  private readonly transforms: Float64Array;
  private readonly local: BatchGradients;
  /** A worker's gradient, copied beside the model's (in wasm memory) to be combined. */
  private readonly stageGrads: Float32Array;
  /** Shard 0's side of the batch norm exchanges. */
  private readonly sync: ShardSync;
  private readonly inferPixels: Uint8Array;
  private readonly inferOut: Float32Array;
  private readonly inferIdx: Uint32Array;
  /** Outputs of the last forward. */
  private readonly outputs: BatchBuffer;
  /** Whether the workers' weights may differ from the model's (they train, or the model changed). */
  private weightsStale = true;
  private readonly batchInference: BatchInference = { forward: (pixels, idx, n) => this.forward(pixels, idx, n) };
  private closed = false;
  /** Set when the workers failed mid-run: from then on the coordinator computes alone. */
  private alone = false;
  /** The workers' termination, once they failed: close() awaits it. */
  private ended: Promise<unknown> | null = null;
  private readonly errorText: Uint8Array;
  /** What a worker said through events ('error', 'exit'): read when the shared text is empty. */
  private lastEvent = '';
  /** Set when the workers did not finish a command within stallTimeoutMs. */
  private stall = '';
  private fallbackReason: string | null = null;

  private constructor(
    private readonly model: Model,
    private readonly data: ImageSet,
    /** Threads the batches are split over (shard count), fixed at creation. */
    readonly shards: number,
    private readonly setup: SharedSetup,
    private readonly workers: Worker[],
    private readonly opts: ParallelOptions,
  ) {
    this.ctrl = new Int32Array(setup.ctrl);
    this.idx = new Uint32Array(setup.idx);
    // Explicit lengths: shared buffers are at least 8 bytes, even for a model without buffers.
    this.params = new Float32Array(setup.params, 0, model.params.length);
    this.buffers = new Float32Array(setup.buffers, 0, model.buffers.length);
    const P = model.params.length;
    for (let t = 1; t < shards; t++) this.slotGrads.push(new Float32Array(setup.grads, (t - 1) * P * 4, P));
    this.results = new Float64Array(setup.results);
    this.transforms = new Float64Array(setup.transforms);
    this.local = localGradients(model, data);
    this.stageGrads = model.memory.alloc(shards > 1 ? P : 0);
    this.sync = new ShardSync(this.ctrl, new Float64Array(setup.sync), setup.syncStride, 0, shards, setup.spinMs, setup.stallTimeoutMs);
    this.inferPixels = new Uint8Array(setup.inferPixels);
    this.inferOut = new Float32Array(setup.inferOut);
    this.inferIdx = new Uint32Array(setup.inferChunk);
    this.outputs = new BatchBuffer(model.classes, model.memory);
    this.errorText = new Uint8Array(setup.errors);
    // Listeners for the workers' whole lives: an 'error' with no listener would end the process.
    // The coordinator hears these only between commands; the shared ERROR word is what it waits on.
    for (const w of workers) {
      w.on('error', (e: Error) => {
        this.lastEvent ||= e.message;
        if (!this.closed) Atomics.store(this.ctrl, CTRL.ERROR, 1);
      });
      w.on('exit', (code) => {
        this.lastEvent ||= `it stopped with exit code ${code}`;
        if (!this.closed) Atomics.store(this.ctrl, CTRL.ERROR, 1);
      });
    }
  }

  /** Threads in use: the shard count, or 1 once the workers failed. */
  get threads(): number {
    return this.alone ? 1 : this.shards;
  }

  /** Why this runs on one thread although more were asked for; null while the workers serve. */
  get fallback(): string | null {
    return this.fallbackReason;
  }

  /**
   * Starts T−1 workers (none for T = 1) and waits until each has its replica ready. Never fails
   * because of the workers: when one cannot start, the ones started are ended and the result runs
   * on one thread, with `fallback` (and opts.onFallback) saying why.
   */
  static async create(model: Model, data: ImageSet, threads: number, maxBatch: number, opts: ParallelOptions = {}): Promise<ParallelGradients> {
    const T = Math.max(1, Math.min(threads, 64));
    const W = T - 1;
    const P = model.params.length;
    const B = model.buffers.length;
    const sab = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(Math.max(8, bytes));
    const inferChunk = Math.max(maxBatch, MIN_INFER_CHUNK);
    const syncStride = syncSlotSize(batchNormChannels(model.layers));
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
      sync: sab(W ? 2 * T * syncStride * 8 : 0),
      syncStride,
      stallTimeoutMs: opts.stallTimeoutMs ?? STALL_TIMEOUT_MS,
      results: sab(W * 16),
      transforms: sab(W ? maxBatch * TRANSFORM_SIZE * 8 : 0),
      adversarial: sab(4 * 8),
      inferChunk,
      inferPixels: sab(W ? inferChunk * shapeSize(model.inShape) : 0),
      inferOut: sab(W ? inferChunk * model.classes * 4 : 0),
      wasmPath: opts.wasmPath,
      kernels: model.kernels.name,
      // Spinning pays only while every thread has a core of its own.
      spinMs: T <= availableParallelism() ? SPIN_MS : 0,
      errors: sab(W * ERROR_TEXT_BYTES),
      ...(opts.fault ? { fault: opts.fault } : {}),
    };
    if (W) {
      // The dataset is copied once into shared memory; it stays uint8.
      new Uint8Array(setup.pixels).set(data.pixels);
      new Uint8Array(setup.labels).set(data.labels);
    }
    const workers: Worker[] = [];
    const startMs = opts.startTimeoutMs ?? START_TIMEOUT_MS;
    try {
      for (let t = 1; t < T; t++) {
        const w = new Worker(opts.workerUrl ?? DEFAULT_WORKER_URL, { workerData: { ...setup, shard: t } });
        workers.push(w);
        // Listeners stay until the instance takes over: an 'error' after a rejection must not go unheard.
        w.on('error', () => undefined);
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`worker ${t} was not ready after ${startMs / 1000} s`)), startMs);
          const settle = (e?: Error): void => {
            clearTimeout(timer);
            w.off('message', onMessage);
            w.off('error', onError);
            w.off('exit', onExit);
            if (e) reject(e);
            else resolve();
          };
          const onMessage = (m: { kernels?: string }): void =>
            settle(m.kernels === setup.kernels ? undefined : new Error(`worker ${t} runs the ${m.kernels} kernels, the coordinator ${setup.kernels}`));
          const onError = (e: Error): void => settle(e);
          const onExit = (code: number): void => settle(new Error(`worker ${t} stopped with exit code ${code} before it was ready`));
          w.on('message', onMessage);
          w.on('error', onError);
          w.on('exit', onExit);
        });
      }
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      const reason = `worker threads could not start (${clip((e instanceof Error ? e.message : String(e)) || 'no reason given')}); training on one thread`;
      const alone = await ParallelGradients.create(model, data, 1, maxBatch);
      alone.fallbackReason = reason;
      opts.onFallback?.(reason);
      return alone;
    }
    for (const w of workers) w.removeAllListeners('error');
    return new ParallelGradients(model, data, T, setup, workers, opts);
  }

  compute(
    idx: Uint32Array,
    labels: Uint8Array,
    n: number,
    transforms?: Float64Array | null,
    adversarial?: AdversarialStep | null,
  ): { lossSum: number; correct: number } {
    const T = this.threads;
    // A batch smaller than the thread count (an epoch's last few images) would leave a shard empty.
    if (T === 1 || n < T) return this.local.compute(idx, labels, n, transforms, adversarial);
    if (this.closed) throw new Error('internal error: ParallelGradients used after close()');
    if (this.failure() !== null) {
      this.goAlone();
      return this.local.compute(idx, labels, n, transforms, adversarial);
    }
    const { ctrl, model } = this;
    this.weightsStale = true;
    for (let s = 0; s < n; s++) this.idx[s] = idx[s];
    this.params.set(model.params);
    // The step's starting running statistics, kept to restore should the workers fail.
    this.buffers.set(model.buffers);
    // Workers warp their images with the coordinator's draws, so the thread count never changes them.
    if (transforms) for (let k = 0; k < n * TRANSFORM_SIZE; k++) this.transforms[k] = transforms[k];
    Atomics.store(ctrl, CTRL.AUGMENT, transforms ? 1 : 0);
    writeAdversarial(this.setup.adversarial, adversarial);
    Atomics.store(ctrl, CTRL.N, n);
    Atomics.store(ctrl, CTRL.CMD, CMD_STEP);
    Atomics.store(ctrl, CTRL.DONE, 0);
    Atomics.store(ctrl, CTRL.SYNC, 0);
    Atomics.store(ctrl, CTRL.ABORT, 0);
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);

    // Shard 0 is the batch's first n0 images: the arrays as they are, no views to make. Its batch
    // norm layers exchange with the workers'; the running statistics it leaves are the batch's.
    const n0 = shardStart(1, T, n);
    let r0: { lossSum: number; correct: number } | null = null;
    this.sync.begin(n);
    model.setBatchNormSync(this.sync);
    try {
      r0 = this.local.compute(idx, labels, n0, transforms, adversarial);
    } catch (e) {
      if (!(e instanceof ShardAbort)) {
        // This thread's own failure: release the workers from their exchanges, let them finish.
        Atomics.store(ctrl, CTRL.ABORT, 1);
        Atomics.notify(ctrl, CTRL.SYNC);
        this.awaitWorkers();
        throw e;
      }
      if (e.stalled) this.stall = stalledText(this.opts.stallTimeoutMs ?? STALL_TIMEOUT_MS);
    } finally {
      model.setBatchNormSync(null);
    }

    if (r0 === null || !this.awaitWorkers()) {
      // The step's starting running statistics are in shared memory. The whole batch, from
      // there, is exactly the one-thread step (compute zeroes the gradient).
      this.goAlone();
      model.buffers.set(this.buffers);
      return this.local.compute(idx, labels, n, transforms, adversarial);
    }

    // Combine in shard order, in place over shard 0's: g = Σ (n_t / n) g_t. Each slot is copied
    // next to the model first (a memcpy), so the kernels combine it there.
    const w0 = n0 / n;
    let lossSum = r0.lossSum;
    let correct = r0.correct;
    for (let t = 1; t < T; t++) {
      const wt = (shardStart(t + 1, T, n) - shardStart(t, T, n)) / n;
      this.stageGrads.set(this.slotGrads[t - 1]);
      model.kernels.scaleAdd(model.grads, t === 1 ? w0 : 1, this.stageGrads, wt, model.grads.length);
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
    if (T === 1) return model.inferPixels(pixels, idx, n);
    if (this.closed) throw new Error('internal error: ParallelGradients used after close()');
    if (this.failure() !== null) {
      this.goAlone();
      return model.inferPixels(pixels, idx, n);
    }
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
        out.set(model.inferPixels(pixels, this.inferIdx, m0), c0 * classes);
      }
      if (!this.awaitWorkers()) {
        // This chunk and the rest, here: outputs do not depend on which thread computes them.
        this.goAlone();
        out.set(model.inferPixels(pixels, idx.subarray(c0, n), n - c0), c0 * classes);
        return out;
      }
      for (let i = m0 * classes; i < m * classes; i++) out[c0 * classes + i] = this.inferOut[i];
    }
    return out;
  }

  /**
   * Waits until every worker has finished the current command. False when one failed (CTRL.ERROR,
   * raised by a worker that caught an exception or whose thread ended) or none finished for
   * stallTimeoutMs; `stall` then holds what went wrong.
   */
  private awaitWorkers(): boolean {
    const { ctrl } = this;
    const timeout = this.opts.stallTimeoutMs ?? STALL_TIMEOUT_MS;
    for (;;) {
      if (Atomics.load(ctrl, CTRL.ERROR)) return false;
      const done = Atomics.load(ctrl, CTRL.DONE);
      // A worker raises ERROR before it counts itself done: seeing its count, we see its ERROR.
      if (done >= this.shards - 1) return !Atomics.load(ctrl, CTRL.ERROR);
      if (!waitWhile(ctrl, CTRL.DONE, done, this.setup.spinMs, timeout)) {
        this.stall = stalledText(timeout);
        return false;
      }
    }
  }

  /** What went wrong with the workers, in plain words, or null while they serve. */
  private failure(): string | null {
    if (!Atomics.load(this.ctrl, CTRL.ERROR) && !this.stall) return null;
    for (let t = 1; t < this.shards; t++) {
      const slot = this.errorText.subarray((t - 1) * ERROR_TEXT_BYTES, t * ERROR_TEXT_BYTES);
      const end = slot.indexOf(0);
      // The shared bytes are copied out first: TextDecoder refuses views of shared memory.
      const text = new TextDecoder().decode(slot.slice(0, end < 0 ? slot.length : end));
      if (text) return `worker thread ${t} failed (${clip(text)})`;
    }
    return this.stall || `a worker thread failed${this.lastEvent ? ` (${clip(this.lastEvent)})` : ''}`;
  }

  /** Ends the workers and computes alone from now on; says why once. */
  private goAlone(): void {
    const reason = `${this.failure() ?? 'the worker threads failed'}; training continues on one thread`;
    this.alone = true;
    this.fallbackReason = reason;
    this.ended = Promise.all(this.workers.map((w) => w.terminate()));
    this.opts.onFallback?.(reason);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ended) {
      await this.ended;
      return;
    }
    Atomics.store(this.ctrl, CTRL.CMD, CMD_EXIT);
    Atomics.add(this.ctrl, CTRL.GEN, 1);
    Atomics.notify(this.ctrl, CTRL.GEN);
    await Promise.all(this.workers.map((w) => new Promise<void>((resolve) => (w.threadId < 0 ? resolve() : w.once('exit', () => resolve())))));
  }
}
