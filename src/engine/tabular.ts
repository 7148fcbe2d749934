// Tabular data for an MLP: a parsed CSV table becomes numeric features and class labels, split
// into train and test by a seeded stratified draw, standardised with statistics of the training
// rows only. Training goes through the ordinary Trainer with a BatchGradients that feeds float
// feature rows instead of uint8 images.

import type { ImageSet } from './data';
import { SpecError } from './errors';
import { CsvError, type CsvTable } from './formats/csv';
import { argmax } from './loss';
import type { Kernels } from './kernels/types';
import { Model } from './model';
import { mlpSpec } from './presets';
import { Rng } from './rng';
import { Trainer, type BatchGradients } from './train';
import type { TrainConfig } from './train-config';
import { BatchBuffer } from './tensor';

export interface TabularData {
  /** Names of the feature columns, in file order. */
  features: string[];
  label: string;
  /** Class names; label k means classNames[k]. */
  classNames: string[];
  /** Whether the label column held numbers (classes sorted numerically) or names (sorted as text). */
  labelKind: 'number' | 'name';
  count: number;
  /** count × features.length values, row-major. */
  x: Float32Array;
  labels: Uint8Array;
}

export const MAX_CLASSES = 256;

/**
 * Picks the label column (by name, or by 1-based number when no column has that name) and
 * reads every other column as a number. An empty or non-numeric feature cell is a CsvError at
 * its line and column.
 */
export function tabularFromCsv(table: CsvTable, labelColumn: string, file: string): TabularData {
  const { header, rows } = table;
  let li = header.indexOf(labelColumn.trim());
  if (li < 0 && /^\d+$/.test(labelColumn.trim())) {
    const k = Number(labelColumn.trim());
    if (k >= 1 && k <= header.length) li = k - 1;
  }
  if (li < 0) throw new CsvError(file, 0, 0, `no column "${labelColumn}" for the label; the columns are ${header.map((h) => `"${h}"`).join(', ')}`);
  if (header.length < 2) throw new CsvError(file, 0, 0, 'a feature column is needed besides the label column');
  if (rows.length < 2) throw new CsvError(file, 0, 0, `${rows.length} data row${rows.length === 1 ? '' : 's'}: at least 2 are needed`);
  const featureIdx = header.map((_, k) => k).filter((k) => k !== li);
  const F = featureIdx.length;
  const x = new Float32Array(rows.length * F);
  rows.forEach((r, ri) => {
    featureIdx.forEach((c, fi) => {
      const raw = r.cells[c].trim();
      const v = raw === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(v)) {
        const what = raw === '' ? 'is empty' : `${JSON.stringify(raw.length > 30 ? `${raw.slice(0, 30)}…` : raw)} is not a number`;
        throw new CsvError(file, r.line, c + 1, `${header[c]} ${what} (every column but the label "${header[li]}" must be numeric)`);
      }
      x[ri * F + fi] = v;
    });
  });

  const rawLabels = rows.map((r) => r.cells[li].trim());
  rawLabels.forEach((v, ri) => {
    if (v === '') throw new CsvError(file, rows[ri].line, li + 1, `the label ${header[li]} is empty`);
  });
  const numeric = rawLabels.every((v) => Number.isFinite(Number(v)));
  const distinct = [...new Set(numeric ? rawLabels.map((v) => String(Number(v))) : rawLabels)];
  if (numeric) distinct.sort((a, b) => Number(a) - Number(b));
  else distinct.sort();
  if (distinct.length < 2) throw new CsvError(file, 0, li + 1, `the label column "${header[li]}" has only one class (${distinct[0]}); at least 2 are needed`);
  if (distinct.length > MAX_CLASSES) {
    throw new CsvError(
      file,
      0,
      li + 1,
      `the label column "${header[li]}" has ${distinct.length} different values; at most ${MAX_CLASSES} classes are supported`,
    );
  }
  const classOf = new Map(distinct.map((c, k) => [c, k]));
  const labels = Uint8Array.from(rawLabels, (v) => classOf.get(numeric ? String(Number(v)) : v)!);
  return {
    features: featureIdx.map((k) => header[k]),
    label: header[li],
    classNames: distinct,
    labelKind: numeric ? 'number' : 'name',
    count: rows.length,
    x,
    labels,
  };
}

/** A different stream from initialisation and shuffling, so the split never moves either. */
const SPLIT_SALT = 0x5b117ab1;

/**
 * Seeded stratified split: within each class, a seeded permutation sends round(n·fraction) rows
 * to test (at least one when the class has two or more rows and the fraction is positive).
 * Both parts keep file order.
 */
export function stratifiedSplit(labels: Uint8Array, classes: number, testFraction: number, seed: number): { train: Uint32Array; test: Uint32Array } {
  const rng = new Rng((seed ^ SPLIT_SALT) >>> 0);
  const isTest = new Uint8Array(labels.length);
  for (let c = 0; c < classes; c++) {
    const members: number[] = [];
    labels.forEach((l, i) => {
      if (l === c) members.push(i);
    });
    rng.shuffle(members);
    let k = Math.round(members.length * testFraction);
    if (testFraction > 0 && k === 0 && members.length >= 2) k = 1;
    if (k >= members.length && members.length > 0) k = members.length - 1; // keep one to train on
    for (let j = 0; j < k; j++) isTest[members[j]] = 1;
  }
  const train: number[] = [];
  const test: number[] = [];
  isTest.forEach((t, i) => (t ? test : train).push(i));
  return { train: Uint32Array.from(train), test: Uint32Array.from(test) };
}

export interface Standardization {
  mean: number[];
  std: number[];
}

/** Mean and (population) standard deviation of each feature over `rows`; a constant feature gets std 1. */
export function fitStandardization(x: Float32Array, features: number, rows: Uint32Array): Standardization {
  const mean = new Array<number>(features).fill(0);
  const std = new Array<number>(features).fill(0);
  for (const r of rows) for (let f = 0; f < features; f++) mean[f] += x[r * features + f];
  for (let f = 0; f < features; f++) mean[f] /= Math.max(1, rows.length);
  for (const r of rows) for (let f = 0; f < features; f++) std[f] += (x[r * features + f] - mean[f]) ** 2;
  for (let f = 0; f < features; f++) {
    const s = Math.sqrt(std[f] / Math.max(1, rows.length));
    std[f] = s > 1e-12 ? s : 1;
  }
  return { mean, std };
}

/** The standardised rows `rows` of x, as a new count × features array. */
export function applyStandardization(x: Float32Array, features: number, rows: ArrayLike<number>, s: Standardization): Float32Array {
  const out = new Float32Array(rows.length * features);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    for (let f = 0; f < features; f++) out[i * features + f] = (x[r * features + f] - s.mean[f]) / s.std[f];
  }
  return out;
}

/**
 * What the Trainer needs to know of a feature table (count and labels); it has no pixels,
 * so it must be trained with `featureGradients`.
 */
export function featureSet(count: number, labels: Uint8Array): ImageSet {
  return { count, rows: 1, cols: 0, pixels: new Uint8Array(0), labels };
}

/** Batch gradients over rows of a count × features float table (already standardised). */
export function featureGradients(model: Model, x: Float32Array, features: number): BatchGradients {
  const batch = new BatchBuffer(features, model.memory);
  return {
    compute(idx, labels, n) {
      const b = batch.get(n);
      for (let s = 0; s < n; s++) b.set(x.subarray(idx[s] * features, (idx[s] + 1) * features), s * features);
      model.forward(b, n, true);
      const lossSum = model.lossSum(labels);
      const correct = model.correct(labels);
      model.zeroGrad();
      if (Number.isFinite(lossSum)) model.backward(labels);
      return { lossSum, correct };
    },
  };
}

/** Inference over a feature table: mean loss, accuracy and the predicted class of each row. */
export function evaluateFeatures(
  model: Model,
  x: Float32Array,
  features: number,
  labels: Uint8Array,
): { loss: number; accuracy: number; predictions: Uint8Array } {
  const count = labels.length;
  const predictions = new Uint8Array(count);
  if (count === 0) return { loss: 0, accuracy: 0, predictions };
  const y = model.forward(x.subarray(0, count * features), count, false);
  const loss = model.lossSum(labels) / count;
  let correct = 0;
  for (let s = 0; s < count; s++) {
    predictions[s] = argmax(y, s * model.classes, model.classes);
    if (predictions[s] === labels[s]) correct++;
  }
  return { loss, accuracy: correct / count, predictions };
}

export interface TabularTraining {
  model: Model;
  split: { train: Uint32Array; test: Uint32Array };
  standardization: Standardization;
  history: TabularEpoch[];
}

export interface TabularEpoch {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  seconds: number;
  imagesPerSecond: number;
  lr: number;
}

/**
 * Trains an MLP (`mlpSpec(hidden, [1, 1, F], classes)`) on a tabular dataset: seeded stratified
 * split, standardisation fitted on the training rows, initialisation and shuffling from
 * `config.seed`, and the held-out rows evaluated after every epoch. The model runs on
 * `opts.kernels`; the caller owns the returned model and disposes it.
 */
export function trainTabular(
  data: TabularData,
  opts: { hidden: number[]; testFraction: number; config: TrainConfig; kernels: Kernels; onEpoch?: (e: TabularEpoch) => void; now?: () => number },
): TabularTraining {
  const F = data.features.length;
  const classes = data.classNames.length;
  if (!(opts.testFraction > 0 && opts.testFraction < 1)) {
    throw new SpecError('CONFIG_INVALID', `the test fraction must be between 0 and 1, got ${opts.testFraction}`);
  }
  const split = stratifiedSplit(data.labels, classes, opts.testFraction, opts.config.seed);
  if (split.test.length === 0) {
    throw new SpecError('CONFIG_INVALID', `a test fraction of ${opts.testFraction} leaves no rows to test on (${data.count} rows); raise it or add rows`);
  }
  const standardization = fitStandardization(data.x, F, split.train);
  const xTrain = applyStandardization(data.x, F, split.train, standardization);
  const xTest = applyStandardization(data.x, F, split.test, standardization);
  const yTrain = Uint8Array.from(split.train, (i) => data.labels[i]);
  const yTest = Uint8Array.from(split.test, (i) => data.labels[i]);
  const model = new Model(mlpSpec(opts.hidden, [1, 1, F], classes), opts.kernels).init(opts.config.seed);
  const now = opts.now ?? (() => performance.now());
  const history: TabularEpoch[] = [];
  try {
    const trainer = new Trainer(model, featureSet(split.train.length, yTrain), opts.config, featureGradients(model, xTrain, F));
    while (!trainer.done) {
      const lr = trainer.lr;
      const t0 = now();
      let lossSum = 0;
      let batches = 0;
      let correct = 0;
      let seen = 0;
      for (let r = trainer.step(); r !== null; r = trainer.step()) {
        lossSum += r.loss;
        batches++;
        correct += r.correct;
        seen += r.n;
      }
      const seconds = (now() - t0) / 1000;
      const test = evaluateFeatures(model, xTest, F, yTest);
      const e: TabularEpoch = {
        epoch: history.length + 1,
        trainLoss: lossSum / batches,
        trainAccuracy: correct / seen,
        testLoss: test.loss,
        testAccuracy: test.accuracy,
        seconds,
        imagesPerSecond: seconds > 0 ? seen / seconds : 0,
        lr,
      };
      history.push(e);
      opts.onEpoch?.(e);
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, split, standardization, history };
}
