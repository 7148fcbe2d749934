// `npm run bench`: training and inference throughput of the engine on real MNIST, for the
// presets and batch sizes that matter, with 1 thread and with all threads, and the ratio to the
// plain TypeScript reference kernels. Prints figures; asserts nothing.

import { cpus, totalmem } from 'node:os';
import { limitSet } from '../../engine/data';
import { jsKernels } from '../../engine/kernels/js/backend';
import type { Kernels } from '../../engine/kernels/types';
import { Model } from '../../engine/model';
import { PRESETS } from '../../engine/presets';
import { Trainer } from '../../engine/train';
import type { TrainConfig } from '../../engine/train-config';
import { DEFAULT_AUGMENT, type AugmentConfig } from '../../engine/augment';
import { loadMnist, type MnistData } from '../datasets';
import { loadKernels } from '../load-kernels';
import { ParallelGradients, defaultThreads } from '../parallel/gradients';
import { median } from '../../common/stats';
import { UsageError, intFlag, parseFlags, runCli, thousands } from './common';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDataset } from '../datasets';
import { buildRunConfig } from '../runs/config';
import { openNewRun } from '../runs/folder';
import { TrainingSession, threadedGradients } from '../trainer/session';

const NAME = 'bench';

export const HELP = `Usage: npm run bench -- [--json] [--presets A,B] [--batches 20,32,64] [--threads 1,2] [--seconds S] [--augment]

Measures training and inference images per second of the engine on MNIST (WebAssembly SIMD kernels)
for each preset × batch × thread count (inference splits each batch over the threads too), and the ratio to the plain TypeScript reference kernels
(same preset and batch, one thread). Default: lenet5-tanh-mse and lenet5-relu-ce-bn, batches 20, 32,
64, 1 thread and all cores. Run it on a quiet machine: figures are wall-clock. The kernels are the
relaxed-SIMD build (fused multiply-add) where the runtime accepts it; LENET_KERNELS=wasm-simd forces
the plain SIMD build (docs/engine.md).

  --json        one JSON object on stdout: {"machine":{…},"results":[{"preset","batch","threads",
                "augment","trainImagesPerSecond","evalImagesPerSecond","referenceRatio"},…]}
  --augment     also train with the default random distortions (as train --augment) beside each
                plain row: rows with "augment": true, whose evalImagesPerSecond is the plain row's
                (inference never distorts); the text ends with the median share of plain speed
  --seconds S   measuring time per figure (default 2)
  --record N    instead: what a run folder's recording costs. Trains one epoch of the first
                preset on all training images in a run folder, N times in each of three modes,
                interleaved (off, health, all; the order rotates): off records no snapshot,
                history or layer health; health only the layer health; all everything (epoch
                snapshot, per-sample history, layer health). Prints the median seconds of each
                and the bytes each recorded file takes per epoch
`;

interface Row {
  preset: string;
  batch: number;
  threads: number;
  /** Trained with the default random distortions. */
  augment: boolean;
  kernels: string;
  trainImagesPerSecond: number;
  evalImagesPerSecond: number;
  referenceRatio: number;
}

/**
 * Trains for about `seconds` after a warm-up, then runs inference for `evalSeconds` (0: none) on
 * the same threads over the test images in batches of `batch`; returns images per second of each.
 */
async function measure(
  kernels: Kernels,
  preset: string,
  batch: number,
  threads: number,
  data: MnistData,
  seconds: number,
  evalSeconds: number,
  augment: AugmentConfig | null = null,
): Promise<{ train: number; eval: number }> {
  const p = PRESETS[preset];
  const model = new Model(p.spec, kernels).init(1);
  // Speed does not depend on the learning rate; a small one keeps every preset stable at every batch size.
  const config: TrainConfig = { ...p.defaults, lr: 0.01, batchSize: batch, seed: 1, shuffle: true, augment };
  const set = limitSet(data.train, 60000);
  const parallel = await ParallelGradients.create(model, set, threads, batch);
  try {
    const trainer = new Trainer(model, set, config, parallel);
    for (let i = 0; i < 20; i++) trainer.step();
    let images = 0;
    let t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      for (let i = 0; i < 10; i++) {
        const r = trainer.step();
        if (r) images += r.n;
      }
    }
    const train = images / ((performance.now() - t0) / 1000);
    if (evalSeconds <= 0) return { train, eval: NaN };

    const inference = parallel.inference();
    const idx = new Uint32Array(batch);
    let start = 0;
    const evalBatch = (): void => {
      for (let s = 0; s < batch; s++) idx[s] = (start + s) % data.test.count;
      inference.forward(data.test.pixels, idx, batch);
      start += batch;
    };
    for (let i = 0; i < 20; i++) evalBatch();
    images = 0;
    t0 = performance.now();
    while (performance.now() - t0 < evalSeconds * 1000) {
      evalBatch();
      images += batch;
    }
    return { train, eval: images / ((performance.now() - t0) / 1000) };
  } finally {
    await parallel.close();
    model.dispose();
  }
}

function rates(train: number, evalRate: number, reference: number): Pick<Row, 'trainImagesPerSecond' | 'evalImagesPerSecond' | 'referenceRatio'> {
  return { trainImagesPerSecond: Math.round(train), evalImagesPerSecond: Math.round(evalRate), referenceRatio: Number((train / reference).toFixed(2)) };
}

function list(v: string | undefined, flag: string, dflt: number[]): number[] {
  if (v === undefined) return dflt;
  return v.split(',').map((x) => intFlag(x, flag, 1, 4096)!);
}

async function main(argv: string[]): Promise<void> {
  const { values: f } = parseFlags(argv, {
    json: { type: 'boolean' },
    presets: { type: 'string' },
    batches: { type: 'string' },
    threads: { type: 'string' },
    seconds: { type: 'string' },
    augment: { type: 'boolean' },
    record: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  const presets = f.presets?.split(',') ?? ['lenet5-tanh-mse', 'lenet5-relu-ce-bn'];
  for (const p of presets) if (!PRESETS[p]) throw new UsageError(`unknown preset "${p}"`);
  const batches = list(f.batches, '--batches', [20, 32, 64]);
  const all = defaultThreads();
  const threadCounts = list(f.threads, '--threads', all > 1 ? [1, all] : [1]);
  const seconds = f.seconds === undefined ? 2 : Number(f.seconds);
  if (!(seconds > 0 && seconds <= 60)) throw new UsageError('--seconds must be in (0, 60]');
  const say = (line: string): void => {
    if (!f.json) process.stdout.write(`${line}\n`);
  };

  const record = intFlag(f.record, '--record', 1, 20);
  if (record !== undefined) return recordingCost(presets[0], record, threadCounts[threadCounts.length - 1], Boolean(f.json));

  const choice = loadKernels();
  if (choice.name === 'js') say(`warning: fast kernels unavailable (${choice.reason}); measuring the reference kernels`);
  const fast = choice.kernels;
  const data = await loadMnist();
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: all, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, kernels: fast.name };
  say(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; kernels ${fast.name}; ${seconds} s per figure`);
  say(`${'preset'.padEnd(f.augment ? 29 : 20)} batch threads  train img/s   eval img/s   × reference`);

  const results: Row[] = [];
  /** With --augment: each augmented row's training speed over its plain row's. */
  const shares: number[] = [];
  for (const preset of presets) {
    for (const batch of batches) {
      // The reference: plain TypeScript kernels, one thread, a shorter measurement.
      const reference = (await measure(jsKernels, preset, batch, 1, data, Math.min(seconds, 1), 0)).train;
      for (const threads of threadCounts) {
        const { train, eval: evalRateValue } = await measure(fast, preset, batch, threads, data, seconds, seconds / 2);
        const rows: Row[] = [{ preset, batch, threads, augment: false, kernels: fast.name, ...rates(train, evalRateValue, reference) }];
        if (f.augment) {
          const augmented = (await measure(fast, preset, batch, threads, data, seconds, 0, DEFAULT_AUGMENT)).train;
          rows.push({ preset, batch, threads, augment: true, kernels: fast.name, ...rates(augmented, evalRateValue, reference) });
          shares.push(augmented / train);
        }
        for (const row of rows) {
          results.push(row);
          const name = row.augment ? `${preset} +augment` : preset;
          say(
            `${name.padEnd(f.augment ? 29 : 20)} ${String(batch).padStart(5)} ${String(threads).padStart(7)} ${thousands(row.trainImagesPerSecond).padStart(12)} ${thousands(row.evalImagesPerSecond).padStart(12)} ${row.referenceRatio.toFixed(1).padStart(12)}`,
          );
        }
      }
    }
  }
  if (f.augment) {
    say(
      `with distortions, training keeps ${(100 * median(shares)).toFixed(0)} % of its plain speed (median over ${shares.length} row${shares.length === 1 ? '' : 's'})`,
    );
  }
  if (f.json) process.stdout.write(`${JSON.stringify({ machine, results })}\n`);
}

type RecordMode = 'off' | 'health' | 'all';

/** One epoch of `preset` in a fresh run folder with `mode`'s recording: seconds, and the bytes of what it recorded. */
async function recordedEpoch(
  preset: string,
  mode: RecordMode,
  threads: number,
  data: MnistData,
  kernels: Kernels,
): Promise<{ seconds: number; cpuSeconds: number; bytes: Record<string, number> }> {
  const p = PRESETS[preset];
  const dir = await mkdtemp(join(tmpdir(), 'lenet-bench-record-'));
  try {
    const run = buildRunConfig({
      id: 'bench',
      preset: p,
      settings: { ...p.defaults, epochs: 1, seed: 1, shuffle: true },
      dataset: describeDataset(data, null),
      threads,
    });
    const lock = await openNewRun(dir, run);
    const session = await TrainingSession.open({
      run,
      data,
      dir,
      lock,
      kernels,
      gradients: threadedGradients(threads, run.settings.batchSize),
      keepEpochs: mode === 'all' ? 'all' : 'none',
      history: mode === 'all',
      health: mode !== 'off',
    });
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const outcome = await session.run();
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    // CPU time of the whole process, worker threads included: less swayed by other load than wall time.
    const cpuSeconds = (c.user + c.system) / 1e6;
    session.dispose();
    if (outcome.reason !== 'done') throw outcome.error ?? new Error(`the run ended ${outcome.reason}`);
    const bytes: Record<string, number> = {};
    for (const name of ['health.json', 'history.bin', 'epochs/001.lenet', 'checkpoint.lenet']) {
      const size = await stat(join(dir, name)).then(
        (s) => s.size,
        () => 0,
      );
      if (size) bytes[name] = size;
    }
    return { seconds, cpuSeconds, bytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function recordingCost(preset: string, repeats: number, threads: number, json: boolean): Promise<void> {
  const choice = loadKernels();
  const data = await loadMnist();
  const modes: RecordMode[] = ['off', 'health', 'all'];
  const times: Record<RecordMode, number[]> = { off: [], health: [], all: [] };
  const cpu: Record<RecordMode, number[]> = { off: [], health: [], all: [] };
  let bytes: Record<string, number> = {};
  if (!json)
    process.stdout.write(
      `${preset}, one epoch of ${thousands(data.train.count)} images (minus the validation hold-out), ${threads} thread(s), kernels ${choice.kernels.name}\n`,
    );
  for (let r = 0; r < repeats; r++) {
    // Interleaved, in a rotating order, so a machine that gets busier or quieter over time weighs on every mode alike.
    for (let k = 0; k < modes.length; k++) {
      const mode = modes[(k + r) % modes.length];
      const e = await recordedEpoch(preset, mode, threads, data, choice.kernels);
      times[mode].push(e.seconds);
      cpu[mode].push(e.cpuSeconds);
      if (mode === 'all') bytes = e.bytes;
      if (!json) process.stdout.write(`  round ${r + 1} ${mode.padEnd(6)} ${e.seconds.toFixed(2)} s, CPU ${e.cpuSeconds.toFixed(2)} s\n`);
    }
  }
  // Each round's modes ran back to back: compare within rounds, then take the median over rounds.
  const overhead = (t: Record<RecordMode, number[]>, mode: RecordMode): number => median(t[mode].map((x, r) => x / t.off[r] - 1));
  const result = {
    preset,
    threads,
    repeats,
    medianSeconds: { off: median(times.off), health: median(times.health), all: median(times.all) },
    overhead: { health: overhead(times, 'health'), all: overhead(times, 'all') },
    cpuOverhead: { health: overhead(cpu, 'health'), all: overhead(cpu, 'all') },
    bytesPerEpoch: bytes,
    times,
    cpu,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const p = (x: number): string => `${(100 * x).toFixed(1)}%`;
  process.stdout.write(
    `median over rounds of the cost over off: health ${p(result.overhead.health)} wall, ${p(result.cpuOverhead.health)} CPU; ` +
      `all ${p(result.overhead.all)} wall, ${p(result.cpuOverhead.all)} CPU\n`,
  );
  process.stdout.write(
    `bytes per epoch: ${Object.entries(bytes)
      .map(([k, v]) => `${k} ${thousands(v)}`)
      .join(', ')}\n`,
  );
}

await runCli(NAME, () => main(process.argv.slice(2)));
