// One training run, driven batch by batch: the loop the trainer process and the CLI share. It
// wraps the engine's step-wise Trainer with what a run needs around it — the validation split,
// per-epoch evaluation, the best model by validation accuracy, checkpoints in the run folder,
// pause/resume/cancel between batches, divergence, and progress at a bounded rate — and yields
// to the event loop every few milliseconds so a host can receive messages while it trains.

import { splitData, type ImageSet, type SplitData } from '../../engine/data';
import { DivergedError } from '../../engine/errors';
import { evaluate, type BatchInference, type Evaluation } from '../../engine/evaluate';
import type { Kernels } from '../../engine/kernels/types';
import { Model } from '../../engine/model';
import { learningRate } from '../../engine/schedule';
import { Trainer, type BatchGradients } from '../../engine/train';
import type { TrainConfig } from '../../engine/train-config';
import { trainConfigOf } from '../../common/settings';
import type { EpochMetrics } from '../../common/records';
import type { MnistData } from '../datasets';
import { nodeFs, type FsLayer } from '../files';
import type { ProgressEvent, RunEnd } from '../../common/records';
import { LossCurve } from '../runs/loss-curve';
import { type RunConfig, RunFolderError } from '../runs/layout';
import { type CheckpointMeta, type PartialEpoch, type ResumeState, readCheckpoint, writeBestModel, writeCheckpoint } from '../runs/checkpoint';
import { writeRunProgress, writeRunStatus } from '../runs/folder';
import { lockRun, type RunLock } from '../runs/lock';
import { join } from 'node:path';
import { RUN_FILES, readJson } from '../runs/layout';
import { arr, json } from '../../common/schema';
import { type KeepEpochs, trimEpochFiles, writeEpochModel } from '../runs/epochs';
import { HistoryWriter, splitIndices } from '../runs/history';
import { HealthRecorder, PROBE_IMAGES, type EpochHealth } from '../../engine/health';
import { readHealth, writeHealth } from '../runs/health';
import { ParallelGradients, type ParallelOptions } from '../parallel/gradients';

// ---------------------------------------------------------------- session

export type ProgressInfo = Omit<ProgressEvent, 'type' | 'runId'> & {
  /** Images of this epoch done, of `epochImages`, and the epoch's mean batch loss so far. */
  epochSeen: number;
  epochImages: number;
  epochLoss: number;
};

export interface SessionHooks {
  progress?(p: ProgressInfo): void;
  /** Awaited: the CLI writes its --out file here. */
  epoch?(metrics: EpochMetrics, confusion: number[][], model: Model): void | Promise<void>;
  snapshot?(epoch: number, params: Float32Array, buffers: Float32Array): void;
  status?(status: 'running' | 'paused'): void;
  /**
   * Something the person running it should know that does not stop the run, in plain words (the
   * worker threads could not start or failed, so training goes on on one thread). Said once.
   */
  notice?(message: string): void;
}

export interface SessionOptions {
  run: RunConfig;
  data: MnistData;
  /** The run folder; without it nothing is written (a plain CLI run). */
  dir?: string;
  /**
   * Continue from the folder's checkpoint. Without one, a run with finished epochs on record is
   * refused (RUN_NOT_FOUND) rather than restarted over them; one with none starts afresh.
   */
  resume?: boolean;
  /**
   * The folder's lock (runs/lock.ts) when the caller already holds it (openNewRun); else the session
   * takes it. Either way the session owns it from here and releases it when the run ends.
   */
  lock?: RunLock;
  /** The kernels the session builds its model on (src/node/load-kernels.ts). */
  kernels: Kernels;
  /** Start from these weights instead of the seeded init (CLI --init); the caller keeps owning it. */
  model?: Model;
  /**
   * How batch gradients are computed (e.g. data-parallel worker threads); local when absent.
   * The session closes it when the run ends. A given thread count reproduces bit for bit.
   * `notice` reaches hooks.notice.
   */
  gradients?: (model: Model, train: ImageSet, notice: (message: string) => void) => Promise<GradientsHandle>;
  hooks?: SessionHooks;
  fs?: FsLayer;
  /** Minimum time between progress events (default 100 ms: at most ~10 a second). */
  progressIntervalMs?: number;
  /** Longest stretch of training without yielding to the event loop (default 10 ms). */
  yieldEveryMs?: number;
  /** Clock in milliseconds; injectable for tests. */
  now?: () => number;
  /** Images per evaluation batch (default EVAL_BATCH). */
  evalBatch?: number;
  /** Which epochs/NNN.lenet snapshots a run folder keeps (runs/epochs.ts; default all). */
  keepEpochs?: KeepEpochs;
  /**
   * Record the per-sample history (runs/history.ts) in the run folder (default on with a folder).
   * Costs an inference pass over the training images at the end of every epoch.
   */
  history?: boolean;
  /** Record layer health (engine/health.ts) in the run folder's health.json (default on with a folder). */
  health?: boolean;
}

/**
 * Gradients and inference on `threads` data-parallel threads (src/node/parallel), for
 * SessionOptions.gradients: the one wrapper the trainer process, the CLI and the experiments share.
 */
export function threadedGradients(threads: number, batchSize: number, opts?: Omit<ParallelOptions, 'onFallback'>): NonNullable<SessionOptions['gradients']> {
  return async (model, train, notice) => {
    // Workers that cannot start or fail never fail the run: it goes on on one thread, and says so.
    const p = await ParallelGradients.create(model, train, threads, batchSize, { ...opts, onFallback: notice });
    return { gradients: p, inference: () => p.inference(), close: () => p.close() };
  };
}

/** Batch gradients and how to release what they hold (worker threads). */
export interface GradientsHandle {
  gradients: BatchGradients;
  /** Inference with the model's current weights on the same threads; local when absent. */
  inference?: () => BatchInference;
  close(): Promise<void>;
}

export interface SessionOutcome {
  reason: RunEnd;
  error?: Error;
  history: EpochMetrics[];
}

/**
 * Evaluation batch: the model's activation buffers grow to the largest batch they see, and with
 * the wasm kernels they live in a fixed wasm memory; 100 keeps that small at no cost in speed.
 */
export const EVAL_BATCH = 100;

const emptyPartial = (): PartialEpoch => ({ seen: 0, lossSum: 0, correct: 0, batches: 0, seconds: 0 });

export class TrainingSession {
  readonly model: Model;
  readonly trainer: Trainer;
  readonly data: SplitData;
  history: EpochMetrics[] = [];
  confusion: number[][] | null = null;
  best: ResumeState['best'] = null;
  imagesSeen = 0;
  private partial: PartialEpoch = emptyPartial();
  private curve = new LossCurve();
  private paused = false;
  private cancelled = false;
  private wake: (() => void) | null = null;
  /** What the engine's Trainer runs with: the run's settings, resolved. */
  readonly config: TrainConfig;
  private readonly meta: CheckpointMeta;
  private readonly fsl: FsLayer;
  private readonly now: () => number;
  private lock: RunLock | null = null;
  /** Set when the final status could not be written: the lock then stays, for readers to find stale (see open). */
  private statusLost = false;
  private samples: HistoryWriter | null = null;
  private health: HealthRecorder | null = null;
  private healthRecords: EpochHealth[] = [];
  /** The next health record is the first after a resume. */
  private resumed = false;

  private constructor(
    private readonly opts: SessionOptions,
    data: SplitData,
    model: Model,
    private readonly gradients: GradientsHandle | null,
  ) {
    const { run } = opts;
    this.data = data;
    this.model = model;
    this.config = trainConfigOf(run.settings);
    this.trainer = new Trainer(model, data.train, this.config, gradients?.gradients);
    this.fsl = opts.fs ?? nodeFs;
    this.now = opts.now ?? (() => performance.now());
    this.meta = { preset: run.preset, settings: run.settings, dataset: run.dataset, limit: run.limit, validation: run.validation, runId: run.id };
  }

  /** Builds the run: splits the data, creates or restores the model and the trainer state. */
  static async open(opts: SessionOptions): Promise<TrainingSession> {
    // One writer per run folder: refused here, before anything is read or written, when another
    // process (a CLI train or resume, the app's trainer) is still training it.
    const lock = opts.dir ? (opts.lock ?? lockRun(opts.dir)) : null;
    try {
      const s = await TrainingSession.build(opts);
      s.lock = lock;
      return s;
    } catch (e) {
      // A fresh run that could not write its first checkpoint (a full disk, say) must not stay
      // "running". If even the status cannot be written, the lock stays: once this process is
      // gone, whoever reads the folder next sees a stale lock and marks the run interrupted.
      let statusWritten = !opts.dir || Boolean(opts.resume);
      if (opts.dir && !opts.resume) {
        statusWritten = await writeRunStatus(opts.dir, { status: 'failed', reason: `could not start: ${(e as Error).message}` }, opts.fs ?? nodeFs).then(
          () => true,
          () => false,
        );
      }
      if (statusWritten) lock?.release();
      else lock?.abandon();
      throw e;
    }
  }

  private static async build(opts: SessionOptions): Promise<TrainingSession> {
    const { run, data } = opts;
    if (data.fingerprint !== run.dataset.fingerprint) {
      throw new RunFolderError(
        'RUN_MISMATCH',
        `the run was trained on dataset "${run.dataset.name}" (fingerprint ${run.dataset.fingerprint}) but ${data.dir} has fingerprint ${data.fingerprint}`,
      );
    }
    const seed = trainConfigOf(run.settings).seed;
    const split = splitData(data, run.limit, run.validation, seed);
    if (split.train.count !== run.trainCount) {
      throw new RunFolderError('RUN_MISMATCH', `the run trains on ${run.trainCount} images but the split gives ${split.train.count}`);
    }
    // Resuming falls back to a fresh start only for a run that has nothing to lose (it died before
    // its first checkpoint, say): with finished epochs on record, it would overwrite their metrics.
    const cp = opts.dir && opts.resume ? await readCheckpoint(opts.dir, split.train.count) : null;
    if (opts.dir && opts.resume && !cp && (await readJson(opts.dir, RUN_FILES.metrics, arr(json(), { max: 10_000 })))?.length) {
      throw new RunFolderError('RUN_NOT_FOUND', `${join(opts.dir, RUN_FILES.checkpoint)} is missing: the run cannot be resumed without its checkpoint`);
    }
    const model = opts.model ?? new Model(run.spec, opts.kernels).init(seed);
    let gradients: GradientsHandle | null = null;
    try {
      gradients = opts.gradients ? await opts.gradients(model, split.train, (message) => opts.hooks?.notice?.(message)) : null;
      const s = new TrainingSession(opts, split, model, gradients);
      if (cp) {
        s.model.restore(cp.loaded.model.snapshot());
        const r = cp.resume;
        s.trainer.restore({ epoch: r.epoch, position: r.position, order: r.order, rng: r.rng, velocity: r.velocity });
        s.partial = { ...r.partial };
        s.history = r.history.slice();
        s.curve = new LossCurve(r.curve);
        s.best = r.best;
        s.confusion = r.confusion;
        s.imagesSeen = r.imagesSeen;
        // Snapshots past the checkpoint are redone by this run.
        if (opts.dir) await trimEpochFiles(opts.dir, r.history.length);
      }
      if (opts.dir && (opts.history ?? true)) {
        const split = splitIndices(data, run.limit, run.validation, seed);
        s.samples = await HistoryWriter.open(opts.dir, s.model.classes, split, data.test.count, s.history.length);
      }
      if (opts.dir && (opts.health ?? true)) {
        // Records past the checkpoint are redone by this run. A file that cannot be read (damaged,
        // over the size cap) is left as it is, and this run records no more health into it.
        const kept = cp ? await readHealth(opts.dir).catch(() => null) : [];
        if (kept) {
          s.healthRecords = kept.filter((h) => h.epoch <= s.history.length);
          s.health = new HealthRecorder(
            s.model,
            split.train.pixels,
            Array.from({ length: Math.min(PROBE_IMAGES, split.train.count) }, (_, i) => i),
          );
          s.resumed = Boolean(cp);
        }
      }
      if (!cp && opts.dir) {
        // Epoch 0: a kill or a divergence in the first epoch still leaves a loadable checkpoint.
        await s.checkpoint();
      }
      return s;
    } catch (e) {
      await gradients?.close().catch(() => undefined);
      if (!opts.model) model.dispose();
      throw e;
    }
  }

  /** Hands back the memory of the model the session built (not one the caller passed in), and the folder's lock. */
  dispose(): void {
    this.releaseLock();
    if (!this.opts.model) this.model.dispose();
  }

  private releaseLock(): void {
    if (this.statusLost) this.lock?.abandon();
    else this.lock?.release();
  }

  get epochsDone(): number {
    return this.history.length;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  cancel(): void {
    this.cancelled = true;
    this.wake?.();
  }

  private resumeState(): ResumeState {
    const t = this.trainer.state();
    return {
      epoch: t.epoch,
      position: t.position,
      order: t.order,
      rng: t.rng,
      velocity: t.velocity,
      imagesSeen: this.imagesSeen,
      partial: { ...this.partial },
      history: this.history,
      curve: this.curve.state,
      best: this.best,
      confusion: this.confusion,
    };
  }

  private async checkpoint(): Promise<void> {
    if (this.opts.dir) await writeCheckpoint(this.opts.dir, this.model, this.meta, this.resumeState(), this.fsl);
  }

  private async setStatus(status: 'running' | 'paused' | 'done' | 'cancelled' | 'diverged' | 'failed', reason?: string): Promise<void> {
    if (this.opts.dir) await writeRunStatus(this.opts.dir, reason === undefined ? { status } : { status, reason }, this.fsl);
    if (status === 'running' || status === 'paused') this.opts.hooks?.status?.(status);
  }

  private emitSnapshot(): void {
    const { params, buffers } = this.model.snapshot();
    this.opts.hooks?.snapshot?.(this.history.length, params, buffers);
  }

  /** Trains until done, cancelled, diverged or failed. Never throws: the outcome says what happened. */
  async run(): Promise<SessionOutcome> {
    try {
      return await this.loop();
    } catch (e) {
      return await this.failed(e);
    } finally {
      await this.gradients?.close().catch(() => undefined);
      // The folder is complete (its final status written): another process may take it now.
      this.releaseLock();
    }
  }

  private async failed(e: unknown): Promise<SessionOutcome> {
    const error = e instanceof Error ? e : new Error(String(e));
    const lost = (): void => void (this.statusLost = true);
    if (error instanceof DivergedError) {
      // The weights in memory may be poisoned; the checkpoint on disk is the last good one.
      await this.setStatus('diverged', error.message).catch(lost);
      return { reason: 'diverged', error, history: this.history };
    }
    await this.setStatus('failed', error.message).catch(lost);
    return { reason: 'failed', error, history: this.history };
  }

  private async loop(): Promise<SessionOutcome> {
    const { hooks = {}, progressIntervalMs = 100, yieldEveryMs = 10 } = this.opts;
    const t = this.trainer;
    const count = this.data.train.count;
    await this.setStatus('running');
    this.emitSnapshot();
    let stretch = this.now(); // start of the current uninterrupted stretch of training
    let lastYield = stretch;
    let lastProgress = stretch;
    let sinceLoss = 0;
    let sinceBatches = 0;
    const banked = (): number => this.partial.seconds + (this.now() - stretch) / 1000;

    while (!t.done) {
      if (this.cancelled) break;
      if (this.paused) {
        this.partial.seconds = banked();
        await this.setStatus('paused');
        while (this.paused && !this.cancelled) await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
        if (this.cancelled) {
          stretch = this.now();
          break;
        }
        await this.setStatus('running');
        stretch = lastYield = lastProgress = this.now();
        continue;
      }
      const r = t.step();
      if (r === null) {
        this.partial.seconds = banked();
        await this.endEpoch(hooks);
        // The progress clock and the loss since the last event run on across epochs: restarting
        // them here meant that epochs shorter than the interval (small datasets) sent no progress
        // events at all.
        stretch = lastYield = this.now();
        continue;
      }
      this.health?.afterStep();
      this.partial.seen += r.n;
      this.partial.lossSum += r.loss;
      this.partial.correct += r.correct;
      this.partial.batches++;
      this.imagesSeen += r.n;
      this.curve.add(this.imagesSeen, r.loss);
      sinceLoss += r.loss;
      sinceBatches++;
      const now = this.now();
      if (hooks.progress && now - lastProgress >= progressIntervalMs) {
        lastProgress = now;
        const secs = banked();
        const rate = secs > 0 ? this.partial.seen / secs : 0;
        const remaining = (this.config.epochs - t.epoch - 1) * count + (count - t.epochPosition);
        hooks.progress({
          epoch: t.epoch + 1,
          step: this.partial.batches,
          steps: t.batchesPerEpoch,
          loss: sinceLoss / sinceBatches,
          imagesPerSecond: rate,
          etaSeconds: rate > 0 ? remaining / rate : 0,
          lr: t.lr,
          imagesSeen: this.imagesSeen,
          epochSeen: this.partial.seen,
          epochImages: count,
          epochLoss: this.partial.lossSum / this.partial.batches,
        });
        sinceLoss = sinceBatches = 0;
      }
      if (now - lastYield >= yieldEveryMs) {
        this.partial.seconds = banked();
        await new Promise<void>((r) => setImmediate(r));
        stretch = lastYield = this.now();
      }
    }

    if (this.cancelled && !t.done) {
      this.partial.seconds = banked();
      await this.checkpoint();
      await this.writeProgressFiles();
      await this.setStatus('cancelled');
      return { reason: 'cancelled', history: this.history };
    }
    await this.setStatus('done');
    return { reason: 'done', history: this.history };
  }

  private async writeProgressFiles(): Promise<void> {
    if (this.opts.dir) await writeRunProgress(this.opts.dir, { history: this.history, curve: this.curve.state, confusion: this.confusion }, this.fsl);
  }

  private async endEpoch(hooks: SessionHooks): Promise<void> {
    const p = this.partial;
    const { config } = this;
    const epochIndex = this.trainer.epoch - 1; // step() has already moved to the next epoch
    const metrics: EpochMetrics = {
      epoch: epochIndex + 1,
      trainLoss: p.lossSum / p.batches,
      trainAccuracy: p.correct / p.seen,
      testLoss: 0,
      testAccuracy: 0,
      seconds: p.seconds,
      imagesPerSecond: p.seconds > 0 ? p.seen / p.seconds : 0,
      lr: learningRate(config.lr, config.schedule, epochIndex, config.epochs),
    };
    let improved = false;
    const inference = this.gradients?.inference?.();
    let v: Evaluation | null = null;
    if (this.data.validation) {
      v = evaluate(this.model, this.data.validation, this.opts.evalBatch ?? EVAL_BATCH, inference);
      metrics.validationLoss = v.loss;
      metrics.validationAccuracy = v.accuracy;
      improved = this.best === null || v.accuracy > this.best.validationAccuracy;
      if (improved) this.best = { epoch: metrics.epoch, validationAccuracy: v.accuracy };
    }
    const test = evaluate(this.model, this.data.test, this.opts.evalBatch ?? EVAL_BATCH, inference);
    metrics.testLoss = test.loss;
    metrics.testAccuracy = test.accuracy;
    this.history.push(metrics);
    this.confusion = test.confusion;
    this.partial = emptyPartial();
    if (this.health && this.opts.dir) {
      const record = this.health.finish(metrics.epoch);
      if (this.resumed) record.resumed = true;
      this.resumed = false;
      this.healthRecords.push(record);
      await writeHealth(this.opts.dir, this.healthRecords, this.fsl);
    }
    if (this.samples) {
      // The extra inference pass over the training images that the per-sample history costs.
      const train = evaluate(this.model, this.data.train, this.opts.evalBatch ?? EVAL_BATCH, inference);
      const labels = { train: this.data.train.labels, validation: this.data.validation?.labels ?? null, test: this.data.test.labels };
      await this.samples.add(train, v, test, labels, this.fsl);
    }
    // best.lenet before the checkpoint: if we die between them, the resumed run redoes this epoch
    // identically and rewrites the same best model.
    if (improved && this.opts.dir) await writeBestModel(this.opts.dir, this.model, this.meta, this.history, this.fsl);
    if (this.opts.dir) await writeEpochModel(this.opts.dir, this.model, this.meta, this.history, this.opts.keepEpochs ?? 'all', improved, this.fsl);
    await this.checkpoint();
    await this.writeProgressFiles();
    await hooks.epoch?.(metrics, test.confusion, this.model);
    this.emitSnapshot();
  }
}
