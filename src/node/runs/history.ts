// history.bin: every image's prediction after every epoch (the per-sample history). For each
// training image (the first `limit` of the file, the held-out validation images included, in
// file order) and each test image, each recorded epoch stores the predicted class and the
// probability of the true class, evaluated at the epoch's end in inference mode. The layout is
// in docs/run-folder.md; all numbers little-endian.
//
//   header (32 bytes)   "LNHIST01", u32 version (1), u32 classes, u32 trainCount, u32 testCount,
//                       u32 firstEpoch (1-based), u32 epochs
//   roles               trainCount × u8: 0 trained on, 1 held out for validation
//   per epoch           trainCount × u8 predicted class, testCount × u8 predicted class,
//                       trainCount × u16 true-class probability × 65535 (rounded),
//                       testCount × u16 the same for the test images

import { join } from 'node:path';
import { limitSet, splitData, type ImageSet } from '../../engine/data';
import type { Evaluation } from '../../engine/evaluate';
import { nodeFs, writeFileAtomic, type FsLayer } from '../files';
import { RunFolderError, readBytes } from './layout';

export const HISTORY_FILE = 'history.bin';
const MAGIC = 'LNHIST01';
export const HISTORY_HEADER_BYTES = 32;
/** The most images the file describes per set (MNIST has 60,000 + 10,000). */
export const HISTORY_MAX_IMAGES = 10_000_000;

export const ROLE_TRAIN = 0;
export const ROLE_VALIDATION = 1;

export interface SampleHistory {
  classes: number;
  trainCount: number;
  testCount: number;
  firstEpoch: number;
  epochs: number;
  /** trainCount roles (ROLE_TRAIN, ROLE_VALIDATION) in file order. */
  roles: Uint8Array;
}

export interface EpochSamples {
  epoch: number;
  trainPredicted: Uint8Array;
  testPredicted: Uint8Array;
  /** True-class probabilities in [0, 1], stored to 1/65535. */
  trainProbability: Float32Array;
  testProbability: Float32Array;
}

/** Bytes of one epoch's block. */
export function epochBlockBytes(trainCount: number, testCount: number): number {
  return 3 * (trainCount + testCount);
}

/**
 * Where each image of the split lives in the training file: `train[i]` and `validation[i]` are
 * file images trainIndex[i] and validationIndex[i]. Runs splitData itself on a set whose
 * "pixels" are the images' indices, so it can never disagree with the split trained on.
 */
export function splitIndices(
  data: { train: ImageSet; test: ImageSet },
  limit: number | null,
  validation: number,
  seed: number,
): { pool: number; trainIndex: Uint32Array; validationIndex: Uint32Array } {
  const pool = limitSet(data.train, limit ?? undefined).count;
  const ids = new Uint32Array(pool);
  for (let i = 0; i < pool; i++) ids[i] = i;
  const asSet: ImageSet = { count: pool, rows: 1, cols: 1, pixels: new Uint8Array(ids.buffer), labels: new Uint8Array(pool) };
  const s = splitData({ train: asSet, test: data.test }, null, validation, seed);
  const indices = (set: ImageSet | null): Uint32Array =>
    set ? new Uint32Array(set.pixels.buffer.slice(set.pixels.byteOffset, set.pixels.byteOffset + set.count * 4)) : new Uint32Array(0);
  return { pool, trainIndex: indices(s.train), validationIndex: indices(s.validation) };
}

/** The run's history in memory: appended to after each epoch and written whole, atomically. */
export class HistoryWriter {
  private bytes: Uint8Array;
  private epochs = 0;

  private constructor(
    private readonly dir: string,
    private readonly classes: number,
    private readonly trainIndex: Uint32Array,
    private readonly validationIndex: Uint32Array,
    private readonly trainCount: number,
    private readonly testCount: number,
    private firstEpoch: number,
  ) {
    this.bytes = new Uint8Array(HISTORY_HEADER_BYTES + trainCount);
    const roles = this.bytes.subarray(HISTORY_HEADER_BYTES);
    for (const i of validationIndex) roles[i] = ROLE_VALIDATION;
    this.header();
  }

  /**
   * A writer for a run with `epochsDone` epochs finished: on a resume it keeps what the folder's
   * file holds of epochs 1..epochsDone (the rest is redone), else it starts at the next epoch.
   */
  static async open(
    dir: string,
    classes: number,
    split: { pool: number; trainIndex: Uint32Array; validationIndex: Uint32Array },
    testCount: number,
    epochsDone: number,
  ): Promise<HistoryWriter> {
    const w = new HistoryWriter(dir, classes, split.trainIndex, split.validationIndex, split.pool, testCount, epochsDone + 1);
    if (epochsDone === 0) return w;
    const old = await readSampleHistory(dir).catch(() => null);
    if (!old || old.info.classes !== classes || old.info.trainCount !== split.pool || old.info.testCount !== testCount) return w;
    const { firstEpoch, epochs } = old.info;
    if (firstEpoch > epochsDone + 1 || firstEpoch + epochs - 1 < epochsDone) return w;
    const keep = epochsDone - firstEpoch + 1;
    const head = HISTORY_HEADER_BYTES + split.pool;
    w.bytes = old.bytes.slice(0, head + keep * epochBlockBytes(split.pool, testCount));
    w.firstEpoch = firstEpoch;
    w.epochs = keep;
    w.header();
    return w;
  }

  private header(): void {
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset, HISTORY_HEADER_BYTES);
    for (let i = 0; i < 8; i++) v.setUint8(i, MAGIC.charCodeAt(i));
    v.setUint32(8, 1, true);
    v.setUint32(12, this.classes, true);
    v.setUint32(16, this.trainCount, true);
    v.setUint32(20, this.testCount, true);
    v.setUint32(24, this.firstEpoch, true);
    v.setUint32(28, this.epochs, true);
  }

  /** Appends an epoch from the evaluations of the training, validation (if any) and test images, and writes the file. */
  async add(
    train: Evaluation,
    validation: Evaluation | null,
    test: Evaluation,
    labels: { train: Uint8Array; validation: Uint8Array | null; test: Uint8Array },
    fsl: FsLayer = nodeFs,
  ): Promise<void> {
    const N = this.trainCount;
    const T = this.testCount;
    const K = this.classes;
    const block = new Uint8Array(epochBlockBytes(N, T));
    const v = new DataView(block.buffer);
    const put = (e: Evaluation, lab: Uint8Array, index: ArrayLike<number> | null, predAt: number, probAt: number): void => {
      for (let i = 0; i < e.count; i++) {
        const at = index ? index[i] : i;
        block[predAt + at] = e.predictions[i];
        const p = Math.min(1, Math.max(0, e.scores[i * K + lab[i]]));
        v.setUint16(probAt + 2 * at, Math.round(p * 65535), true);
      }
    };
    put(train, labels.train, this.trainIndex, 0, N + T);
    if (validation && labels.validation) put(validation, labels.validation, this.validationIndex, 0, N + T);
    put(test, labels.test, null, N, 3 * N + T);
    const next = new Uint8Array(this.bytes.length + block.length);
    next.set(this.bytes);
    next.set(block, this.bytes.length);
    this.bytes = next;
    this.epochs++;
    this.header();
    await writeFileAtomic(join(this.dir, HISTORY_FILE), this.bytes, fsl);
  }
}

/** Reads history.bin; null when the run has none. Malformed → RunFolderError naming the file. */
export async function readSampleHistory(dir: string): Promise<{ info: SampleHistory; bytes: Uint8Array; epoch(e: number): EpochSamples } | null> {
  const file = join(dir, HISTORY_FILE);
  const bytes = await readBytes(file);
  if (!bytes) return null;
  const bad = (why: string): RunFolderError => new RunFolderError('RUN_INVALID', `${file}: ${why}`);
  if (bytes.length < HISTORY_HEADER_BYTES) throw bad(`${bytes.length} bytes is too short for a per-sample history`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(0, 8)) !== MAGIC) throw bad('not a per-sample history (wrong magic)');
  const version = v.getUint32(8, true);
  if (version !== 1) throw bad(`version ${version} is not supported (1 is)`);
  const classes = v.getUint32(12, true);
  const trainCount = v.getUint32(16, true);
  const testCount = v.getUint32(20, true);
  const firstEpoch = v.getUint32(24, true);
  const epochs = v.getUint32(28, true);
  if (classes < 2 || classes > 256) throw bad(`${classes} classes is out of range 2..256`);
  if (trainCount > HISTORY_MAX_IMAGES || testCount > HISTORY_MAX_IMAGES) throw bad(`more than ${HISTORY_MAX_IMAGES} images in a set`);
  if (firstEpoch < 1 || epochs > 10_000) throw bad(`epochs ${firstEpoch}+${epochs} are out of range`);
  const block = epochBlockBytes(trainCount, testCount);
  const expected = HISTORY_HEADER_BYTES + trainCount + epochs * block;
  if (bytes.length !== expected) throw bad(`${bytes.length} bytes, the header describes ${expected}`);
  const roles = bytes.subarray(HISTORY_HEADER_BYTES, HISTORY_HEADER_BYTES + trainCount);
  const info: SampleHistory = { classes, trainCount, testCount, firstEpoch, epochs, roles };
  const epoch = (e: number): EpochSamples => {
    if (e < firstEpoch || e >= firstEpoch + epochs) throw bad(`epoch ${e} is not recorded (epochs ${firstEpoch}..${firstEpoch + epochs - 1} are)`);
    const at = HISTORY_HEADER_BYTES + trainCount + (e - firstEpoch) * block;
    const prob = (from: number, n: number): Float32Array => {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getUint16(from + 2 * i, true) / 65535;
      return out;
    };
    return {
      epoch: e,
      trainPredicted: bytes.slice(at, at + trainCount),
      testPredicted: bytes.slice(at + trainCount, at + trainCount + testCount),
      trainProbability: prob(at + trainCount + testCount, trainCount),
      testProbability: prob(at + 3 * trainCount + testCount, testCount),
    };
  };
  return { info, bytes, epoch };
}
