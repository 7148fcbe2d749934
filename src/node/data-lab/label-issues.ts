// The label-issue finder's Node half: out-of-sample predicted probabilities for every training
// image by K-fold training (K models, each trained without its fold, each predicting its fold),
// cached per dataset fingerprint and settings, then the engine's confident learning
// (src/engine/data-lab/confident.ts) ranks every image.
//
// The folds cover all the training images of the IDX file, validation images included (there is
// no validation split here): image i is predicted by the one model that never saw it.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { confidentLearning, rankedIssues, type ConfidentLearning, type LabelIssue } from '../../engine/data-lab/confident';
import { gather, type ImageSet } from '../../engine/data';
import { evaluate } from '../../engine/evaluate';
import type { Kernels } from '../../engine/kernels/types';
import { Model } from '../../engine/model';
import { PRESETS, type Preset } from '../../engine/presets';
import { Rng } from '../../engine/rng';
import { Trainer } from '../../engine/train';
import { trainConfigOf, type TrainSettings } from '../../common/settings';
import { mkdirs, writeFileAtomic } from '../files';
import { ParallelGradients, defaultThreads, threadsFor } from '../parallel/gradients';
import { EVAL_BATCH } from '../trainer/session';

/** Fast defaults: about a minute for MNIST on two cores, and ≥ 70 % of 0.5 % flipped labels in the top N. */
export const LABEL_ISSUES_DEFAULTS = { preset: 'lenet5-relu-ce-bn', folds: 4, epochs: 3, seed: 1 } as const;
export const FOLDS_RANGE = { min: 2, max: 20, int: true } as const;
/** How many of the ranking the CLI prints and the app keeps (the whole ranking for smaller sets). */
export const TOP_ISSUES = 1000;

export interface LabelIssuesSettings {
  preset: string;
  folds: number;
  epochs: number;
  seed: number;
}

export interface KFoldProgress {
  fold: number;
  folds: number;
  epoch: number;
  epochs: number;
  /** Of the whole job, 0..1. */
  fraction: number;
}

export interface KFoldOptions {
  kernels: Kernels;
  threads?: number;
  onProgress?(p: KFoldProgress): void;
  /** Yield to the event loop at least this often (ms), so a host process can send and receive messages meanwhile. */
  yieldEveryMs?: number;
  /** Checked between batches: true stops the job (it then throws KFoldCancelled). */
  cancelled?(): boolean;
}

export class KFoldCancelled extends Error {
  override readonly name = 'KFoldCancelled';
  /** What the trainer's reply carries (toWireError reads it). */
  readonly code = 'CANCELLED';
}

/** The training settings each fold's model trains with: the preset's defaults with the given epochs and seed (the settings' single home). */
export function foldSettings(preset: Preset, s: LabelIssuesSettings, fold: number): TrainSettings {
  return { ...preset.defaults, schedule: { ...preset.defaults.schedule }, epochs: s.epochs, seed: (s.seed + fold) >>> 0, shuffle: true };
}

/** fold[i] for each image: a seeded permutation dealt round-robin, so folds differ in size by at most one. */
export function assignFolds(n: number, folds: number, seed: number): Uint8Array {
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  new Rng((seed ^ 0x0f01d5ed) >>> 0).shuffle(perm);
  const fold = new Uint8Array(n);
  for (let r = 0; r < n; r++) fold[perm[r]] = r % folds;
  return fold;
}

/** n × classes out-of-sample probabilities: image i's row comes from the model trained without i's fold. */
export async function outOfSampleProbabilities(train: ImageSet, s: LabelIssuesSettings, opts: KFoldOptions): Promise<Float32Array> {
  const preset = PRESETS[s.preset];
  if (!preset) throw new RangeError(`unknown preset "${s.preset}"`);
  const n = train.count;
  const fold = assignFolds(n, s.folds, s.seed);
  let classes = 0;
  let probs: Float32Array | null = null;
  // Work units for the progress fraction: every fold trains on (n − its size) images per epoch and predicts its size.
  const total = (s.folds - 1) * n * s.epochs + n;
  let done = 0;
  for (let f = 0; f < s.folds; f++) {
    const inFold: number[] = [];
    const outFold: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === f ? inFold : outFold).push(i);
    const part = gather(train, Uint32Array.from(outFold));
    const held = gather(train, Uint32Array.from(inFold));
    const settings = foldSettings(preset, s, f);
    const config = trainConfigOf(settings);
    const model = new Model(preset.spec, opts.kernels).init(config.seed);
    const threads = threadsFor(config.batchSize, opts.threads ?? defaultThreads());
    const parallel = await ParallelGradients.create(model, part, threads, Math.max(config.batchSize, EVAL_BATCH));
    try {
      const trainer = new Trainer(model, part, config, parallel);
      let lastYield = performance.now();
      while (!trainer.done) {
        if (opts.yieldEveryMs !== undefined && performance.now() - lastYield > opts.yieldEveryMs) {
          await new Promise<void>((r) => setImmediate(r));
          lastYield = performance.now();
        }
        if (opts.cancelled?.()) throw new KFoldCancelled('the finder was cancelled');
        const r = trainer.step();
        if (r) {
          done += r.n;
          opts.onProgress?.({ fold: f, folds: s.folds, epoch: trainer.epoch, epochs: s.epochs, fraction: done / total });
        }
      }
      const ev = evaluate(model, held, EVAL_BATCH, parallel.inference());
      classes = model.classes;
      probs ??= new Float32Array(n * classes);
      for (let r = 0; r < inFold.length; r++) probs.set(ev.scores.subarray(r * classes, (r + 1) * classes), inFold[r] * classes);
      done += inFold.length;
      opts.onProgress?.({ fold: f, folds: s.folds, epoch: s.epochs, epochs: s.epochs, fraction: done / total });
    } finally {
      await parallel.close();
      model.dispose();
    }
  }
  return probs ?? new Float32Array(0);
}

// ---------------------------------------------------------------- the cache

/** Bumped when what is cached would come out differently for the same key. */
const CACHE_VERSION = 1;
const MAGIC = 0x5049_4c4c; // "LLIP"

/** The app's data folder as Electron names it (userData), for the CLI: LENET_DATA_DIR overrides it. */
export function appDataDir(): string {
  if (process.env.LENET_DATA_DIR) return process.env.LENET_DATA_DIR;
  const name = 'LeNet Studio';
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), name);
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', name);
  return join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), name);
}

export function defaultCacheDir(dataDir: string = appDataDir()): string {
  return join(dataDir, 'data-lab');
}

/** The cache file's name: the dataset's fingerprint and a hash of every setting that changes the probabilities. */
export function cacheKey(fingerprint: string, s: LabelIssuesSettings): string {
  const settings = JSON.stringify({ v: CACHE_VERSION, preset: s.preset, folds: s.folds, epochs: s.epochs, seed: s.seed });
  return `${fingerprint}-${createHash('sha256').update(settings).digest('hex').slice(0, 16)}`;
}

export function cacheFile(dir: string, fingerprint: string, s: LabelIssuesSettings): string {
  return join(dir, `probs-${cacheKey(fingerprint, s)}.bin`);
}

/** The cached probabilities, or null when absent, damaged or not for `n` images. */
export async function readCachedProbabilities(path: string, n: number): Promise<Float32Array | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return null;
  }
  if (bytes.length < 16) return null;
  const head = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const classes = head.getUint32(12, true);
  if (head.getUint32(0, true) !== MAGIC || head.getUint32(4, true) !== CACHE_VERSION || head.getUint32(8, true) !== n || classes < 2 || classes > 1000)
    return null;
  if (bytes.length !== 16 + n * classes * 4) return null;
  const probs = new Float32Array(n * classes);
  new Uint8Array(probs.buffer).set(bytes.subarray(16));
  for (const p of probs) if (!(p >= 0 && p <= 1)) return null;
  return probs;
}

export async function writeCachedProbabilities(path: string, dir: string, probs: Float32Array, n: number): Promise<void> {
  await mkdirs(dir);
  const bytes = new Uint8Array(16 + probs.byteLength);
  const head = new DataView(bytes.buffer, 0, 16);
  head.setUint32(0, MAGIC, true);
  head.setUint32(4, CACHE_VERSION, true);
  head.setUint32(8, n, true);
  head.setUint32(12, n ? probs.length / n : 0, true);
  bytes.set(new Uint8Array(probs.buffer, probs.byteOffset, probs.byteLength), 16);
  await writeFileAtomic(path, bytes);
}

// ---------------------------------------------------------------- the whole finder

export interface LabelIssuesResult {
  issues: LabelIssue[];
  learning: ConfidentLearning;
  cached: boolean;
  seconds: number;
}

/**
 * The ranking of `train`'s images (the training IDX file, in file order), from cached
 * probabilities when `cacheDir` holds them for this fingerprint and these settings.
 */
export async function findLabelIssues(
  train: ImageSet,
  fingerprint: string,
  s: LabelIssuesSettings,
  opts: KFoldOptions & { cacheDir?: string | null; top?: number },
): Promise<LabelIssuesResult> {
  const t0 = performance.now();
  const path = opts.cacheDir ? cacheFile(opts.cacheDir, fingerprint, s) : null;
  let probs = path ? await readCachedProbabilities(path, train.count) : null;
  const cached = probs !== null;
  if (!probs) {
    probs = await outOfSampleProbabilities(train, s, opts);
    if (path && opts.cacheDir) await writeCachedProbabilities(path, opts.cacheDir, probs, train.count);
  }
  const classes = train.count ? probs.length / train.count : 10;
  const learning = confidentLearning(probs, train.labels, classes);
  return { issues: rankedIssues(learning, train.labels, opts.top), learning, cached, seconds: (performance.now() - t0) / 1000 };
}
