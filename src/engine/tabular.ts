// Tabular data for an MLP: a parsed CSV table becomes numeric features and class labels, split
// into train and test by a seeded stratified draw, standardised with statistics of the training
// rows only. Training goes through the ordinary Trainer with a BatchGradients that feeds float
// feature rows instead of uint8 images.

import type { ImageSet } from './data';
import { ModelFileError, SpecError } from './errors';
import { CSV_LIMITS, CsvError, csvHeader, forEachCsvRecord, raggedRowError, type CsvLimits, type CsvTable } from './formats/csv';
import { argmax, classScores, lossSum } from './loss';
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
  /** The file's column names, in file order. */
  columns: string[];
}

export const MAX_CLASSES = 256;
/** The widest input a model spec takes (spec.ts: input width 1..1024). */
export const MAX_FEATURES = 1024;
/** Different label strings kept while reading ("1", "1.0" and "01" are one numeric class). */
const MAX_LABEL_STRINGS = 4096;

/** What a trained model knows of its table: reading new rows picks these columns by name. */
export interface TabularSchema {
  features: readonly string[];
  label: string;
  classNames: readonly string[];
  labelKind: 'number' | 'name';
}

/** Up to 12 names, then how many more: an error about a wide table stays one readable line. */
export function listNames(names: readonly string[]): string {
  const shown = names.slice(0, 12).map((n) => (n.length > 40 ? `${n.slice(0, 40)}…` : n));
  return names.length <= 12 ? shown.join(', ') : `${shown.join(', ')} … and ${names.length - 12} more`;
}

const quoteValue = (raw: string): string => JSON.stringify(raw.length > 30 ? `${raw.slice(0, 30)}…` : raw);

/**
 * Builds TabularData one record at a time, keeping float32 features and a class per row, never
 * the rows' strings. The first record is the header.
 */
class TabularBuilder {
  private header: string[] | null = null;
  private featureIdx: number[] = [];
  private li = -1;
  /** Feature rows in blocks that double up to 64 Ki values: small tables stay small, large ones never copy while growing. */
  private chunks: Float32Array[] = [];
  private chunk = new Float32Array(0);
  private inChunk = 0;
  private ids = new Uint16Array(1024);
  private count = 0;
  /** Label string → provisional id (training), or class index (schema). */
  private labelIds = new Map<string, number>();
  private numeric = true;

  constructor(
    private readonly labelColumn: string,
    private readonly file: string,
    private readonly schema?: TabularSchema,
  ) {}

  add(cells: string[], line: number): void {
    if (this.header === null) {
      this.readHeader(cells, line);
      return;
    }
    const { header, featureIdx, li, file } = this;
    if (cells.length !== header.length) throw raggedRowError(file, line, cells.length, header.length);
    const F = featureIdx.length;
    if (this.inChunk * F === this.chunk.length) {
      const rows = Math.max(1, Math.min(2 * (this.chunk.length / F) || 16, Math.floor(65_536 / F)));
      this.chunk = new Float32Array(rows * F);
      this.chunks.push(this.chunk);
      this.inChunk = 0;
    }
    const chunk = this.chunk;
    const inChunk = this.inChunk++;
    for (let fi = 0; fi < F; fi++) {
      const c = featureIdx[fi];
      const raw = cells[c].trim();
      const v = raw === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(v)) {
        const what = raw === '' ? 'is empty' : `${quoteValue(raw)} is not a number`;
        throw new CsvError(file, line, c + 1, `${header[c]} ${what} (every column but the label "${header[li]}" must be numeric)`);
      }
      const f = Math.fround(v);
      if (!Number.isFinite(f)) {
        throw new CsvError(file, line, c + 1, `${header[c]} ${quoteValue(raw)} is beyond ±3.4028235e38, the range of a 32-bit float the model computes in`);
      }
      chunk[inChunk * F + fi] = f;
    }
    const raw = cells[li].trim();
    if (raw === '') throw new CsvError(file, line, li + 1, `the label ${header[li]} is empty`);
    let id = this.labelIds.get(this.schema ? this.classKey(raw) : raw);
    if (id === undefined) {
      if (this.schema) {
        throw new CsvError(file, line, li + 1, `the label ${quoteValue(raw)} is not one of the model's classes (${listNames(this.schema.classNames)})`);
      }
      if (this.labelIds.size >= MAX_LABEL_STRINGS) {
        throw new CsvError(
          file,
          line,
          li + 1,
          `the label column "${header[li]}" has more than ${MAX_LABEL_STRINGS.toLocaleString('en-US')} different values; at most ${MAX_CLASSES} classes are supported`,
        );
      }
      id = this.labelIds.size;
      this.labelIds.set(raw, id);
      if (!Number.isFinite(Number(raw))) this.numeric = false;
    }
    if (this.count === this.ids.length) {
      const grown = new Uint16Array(this.ids.length * 2);
      grown.set(this.ids);
      this.ids = grown;
    }
    this.ids[this.count++] = id;
  }

  private classKey(raw: string): string {
    return this.schema?.labelKind === 'number' && Number.isFinite(Number(raw)) ? String(Number(raw)) : raw;
  }

  private readHeader(cells: string[], line: number): void {
    const { file, schema } = this;
    const header = csvHeader(cells, line, file);
    const names = header.map((h) => `"${h}"`).join(', ');
    if (schema) {
      this.li = header.indexOf(schema.label);
      if (this.li < 0) throw new CsvError(file, line, 0, `no label column "${schema.label}" (the model's); the columns are ${names}`);
      this.featureIdx = schema.features.map((name) => {
        const k = header.indexOf(name);
        if (k < 0) throw new CsvError(file, line, 0, `no column "${name}", a feature the model was trained on; the columns are ${names}`);
        return k;
      });
      schema.classNames.forEach((c, k) => this.labelIds.set(c, k));
    } else {
      const want = this.labelColumn.trim();
      let li = header.indexOf(want);
      if (li < 0 && /^\d+$/.test(want)) {
        const k = Number(want);
        if (k >= 1 && k <= header.length) li = k - 1;
      }
      if (li < 0) throw new CsvError(file, 0, 0, `no column "${this.labelColumn}" for the label; the columns are ${names}`);
      if (header.length < 2) throw new CsvError(file, 0, 0, 'a feature column is needed besides the label column');
      this.li = li;
      this.featureIdx = header.map((_, k) => k).filter((k) => k !== li);
    }
    if (this.featureIdx.length > MAX_FEATURES) {
      throw new CsvError(
        file,
        line,
        0,
        `${this.featureIdx.length.toLocaleString('en-US')} feature columns; a model takes at most ${MAX_FEATURES.toLocaleString('en-US')} (one input per feature)`,
      );
    }
    this.header = header;
  }

  finish(): TabularData {
    const { header, file } = this;
    if (header === null) throw new CsvError(file, 0, 0, 'the file is empty: a header line is needed');
    const F = this.featureIdx.length;
    const n = this.count;
    if (!this.schema && n < 2) throw new CsvError(file, 0, 0, `${n} data row${n === 1 ? '' : 's'}: at least 2 are needed`);
    if (this.schema && n === 0) throw new CsvError(file, 0, 0, 'no data rows under the header: nothing to evaluate');
    const x = new Float32Array(n * F);
    let at = 0;
    for (const c of this.chunks) {
      const part = c.subarray(0, Math.min(c.length, x.length - at));
      x.set(part, at);
      at += part.length;
    }
    this.chunks = [];
    this.chunk = new Float32Array(0);
    const ids = this.ids.subarray(0, n);
    const labels = new Uint8Array(n);
    const label = header[this.li];
    if (this.schema) {
      labels.set(ids);
      return {
        features: [...this.schema.features],
        label,
        classNames: [...this.schema.classNames],
        labelKind: this.schema.labelKind,
        count: n,
        x,
        labels,
        columns: header,
      };
    }
    // Classes: numbers sorted numerically ("2.0" and "2" are one class), else names sorted as text.
    const raws = [...this.labelIds.keys()];
    const keyOf = raws.map((v) => (this.numeric ? String(Number(v)) : v));
    const distinct = [...new Set(keyOf)];
    if (this.numeric) distinct.sort((a, b) => Number(a) - Number(b));
    else distinct.sort();
    const li = this.li;
    if (distinct.length < 2) throw new CsvError(file, 0, li + 1, `the label column "${label}" has only one class (${distinct[0]}); at least 2 are needed`);
    if (distinct.length > MAX_CLASSES) {
      throw new CsvError(file, 0, li + 1, `the label column "${label}" has ${distinct.length} different values; at most ${MAX_CLASSES} classes are supported`);
    }
    const classOf = new Map(distinct.map((c, k) => [c, k]));
    const classOfId = Uint8Array.from(keyOf, (k) => classOf.get(k)!);
    for (let r = 0; r < n; r++) labels[r] = classOfId[ids[r]];
    return {
      features: this.featureIdx.map((k) => header[k]),
      label,
      classNames: distinct,
      labelKind: this.numeric ? 'number' : 'name',
      count: n,
      x,
      labels,
      columns: header,
    };
  }
}

/**
 * Picks the label column (by name, or by 1-based number when no column has that name) and
 * reads every other column as a number. An empty, non-numeric or beyond-float32 feature cell is
 * a CsvError at its line and column.
 */
export function tabularFromCsv(table: CsvTable, labelColumn: string, file: string): TabularData {
  const b = new TabularBuilder(labelColumn, file);
  b.add(table.header, 1);
  for (const r of table.rows) b.add(r.cells, r.line);
  return b.finish();
}

/**
 * tabularFromCsv straight from the text, one record at a time: what stays in memory is the
 * float32 features and a class per row, never the table's strings.
 */
export function tabularFromCsvText(text: string, labelColumn: string, file: string, limits: CsvLimits = CSV_LIMITS): TabularData {
  const b = new TabularBuilder(labelColumn, file);
  forEachCsvRecord(text, file, (cells, line) => b.add(cells, line), limits);
  return b.finish();
}

/**
 * New rows for a trained model: its feature columns picked by name (in the model's order, from
 * any column order) and labels mapped to its classes; a missing column or an unknown label is
 * a CsvError. The rows are raw: standardise them with the model's statistics.
 */
export function tabularForSchema(text: string, schema: TabularSchema, file: string, limits: CsvLimits = CSV_LIMITS): TabularData {
  const b = new TabularBuilder(schema.label, file, schema);
  forEachCsvRecord(text, file, (cells, line) => b.add(cells, line), limits);
  return b.finish();
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
  // Typed arrays throughout: a large table's split costs a few bytes per row.
  const sizes = new Uint32Array(classes);
  for (const l of labels) if (l < classes) sizes[l]++;
  let testCount = 0;
  for (let c = 0; c < classes; c++) {
    const members = new Uint32Array(sizes[c]);
    let m = 0;
    for (let i = 0; i < labels.length; i++) if (labels[i] === c) members[m++] = i;
    rng.shuffle(members);
    let k = Math.round(members.length * testFraction);
    if (testFraction > 0 && k === 0 && members.length >= 2) k = 1;
    if (k >= members.length && members.length > 0) k = members.length - 1; // keep one to train on
    for (let j = 0; j < k; j++) isTest[members[j]] = 1;
    testCount += k;
  }
  const train = new Uint32Array(labels.length - testCount);
  const test = new Uint32Array(testCount);
  let a = 0;
  let b = 0;
  for (let i = 0; i < labels.length; i++) {
    if (isTest[i]) test[b++] = i;
    else train[a++] = i;
  }
  return { train, test };
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

/** Rows per forward pass in `evaluateFeatures`: activations stay small whatever the table's size. */
const EVAL_BATCH = 4096;

/**
 * Inference over a feature table: mean loss, accuracy and the predicted class of each row, and
 * with `withScores` the class scores (count × classes, see `classScores`).
 */
export function evaluateFeatures(
  model: Model,
  x: Float32Array,
  features: number,
  labels: Uint8Array,
  withScores = false,
): { loss: number; accuracy: number; predictions: Uint8Array; scores: Float32Array } {
  const count = labels.length;
  const K = model.classes;
  const predictions = new Uint8Array(count);
  const scores = new Float32Array(withScores ? count * K : 0);
  if (count === 0) return { loss: 0, accuracy: 0, predictions, scores };
  let lossTotal = 0;
  let correct = 0;
  for (let start = 0; start < count; start += EVAL_BATCH) {
    const n = Math.min(EVAL_BATCH, count - start);
    const batchLabels = labels.subarray(start, start + n);
    const y = model.forward(x.subarray(start * features, (start + n) * features), n, false);
    lossTotal += lossSum(model.spec.loss, y, batchLabels, n, K);
    for (let s = 0; s < n; s++) {
      const p = argmax(y, s * K, K);
      predictions[start + s] = p;
      if (p === batchLabels[s]) correct++;
      if (withScores) classScores(model.spec.loss, y, s * K, K, scores.subarray((start + s) * K, (start + s + 1) * K));
    }
  }
  return { loss: lossTotal / count, accuracy: correct / count, predictions, scores };
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
  // Plain loops: TypedArray.from with a map function collects a generic list first (8 bytes a row).
  const pick = (rows: Uint32Array): Uint8Array => {
    const y = new Uint8Array(rows.length);
    for (let i = 0; i < rows.length; i++) y[i] = data.labels[rows[i]];
    return y;
  };
  const yTrain = pick(split.train);
  const yTest = pick(split.test);
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

/** What a model trained by `train --csv` records in its "x-csv" metadata, checked. */
export interface CsvModelInfo extends TabularSchema {
  standardization: Standardization;
}

/**
 * The "x-csv" metadata of a loaded model (`LoadedModel.extra.csv`), checked against the model:
 * null when there is none (an image model). Metadata that cannot describe this model (wrong
 * lengths, a non-finite mean, a std that is not positive, classes that do not match the
 * outputs) is a ModelFileError naming the file: using it would give wrong answers silently.
 */
export function csvModelInfo(meta: unknown, model: Model, file: string): CsvModelInfo | null {
  if (meta === undefined || meta === null) return null;
  const bad = (what: string): ModelFileError => new ModelFileError('MODEL_BAD_HEADER', `${file}: the table metadata (x-csv) ${what}`);
  if (typeof meta !== 'object') throw bad('is not an object');
  const m = meta as Record<string, unknown>;
  const F = model.inShape.reduce((a, b) => a * b, 1);
  const strings = (v: unknown, what: string, n: number): string[] => {
    if (!Array.isArray(v) || v.length !== n || !v.every((s) => typeof s === 'string' && s !== '' && s.length <= 1000)) {
      throw bad(`has no list of ${n} ${what}`);
    }
    return v as string[];
  };
  const numbers = (v: unknown, what: string, ok: (x: number) => boolean): number[] => {
    if (!Array.isArray(v) || v.length !== F || !v.every((x) => typeof x === 'number' && ok(x))) throw bad(`has no valid ${what} for the model's ${F} inputs`);
    return v as number[];
  };
  if (model.inShape[0] !== 1 || model.inShape[1] !== 1) throw bad(`belongs to a table model, but the model takes ${model.inShape.join('×')} images`);
  const features = strings(m.features, 'feature names', F);
  if (new Set(features).size !== F) throw bad('names a feature twice');
  const classNames = strings(m.classes, 'class names', model.classes);
  if (typeof m.label !== 'string' || m.label === '' || features.includes(m.label)) throw bad('has no label column name');
  if (m.labelKind !== 'number' && m.labelKind !== 'name') throw bad('has no label kind ("number" or "name")');
  const s = m.standardization as Record<string, unknown> | null;
  if (typeof s !== 'object' || s === null) throw bad('has no standardisation');
  const mean = numbers(s.mean, 'standardisation mean', (x) => Number.isFinite(Math.fround(x)));
  const std = numbers(s.std, 'standardisation std', (x) => x > 0 && Number.isFinite(Math.fround(x)) && Math.fround(x) > 0);
  return { features, label: m.label, classNames, labelKind: m.labelKind, standardization: { mean, std } };
}
