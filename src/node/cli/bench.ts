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
import { loadMnist, type MnistData } from '../datasets';
import { loadKernels } from '../load-kernels';
import { ParallelGradients, defaultThreads } from '../parallel/gradients';
import { UsageError, intFlag, parseFlags, runCli, thousands } from './common';

const NAME = 'bench';

export const HELP = `Usage: npm run bench -- [--json] [--presets A,B] [--batches 20,32,64] [--threads 1,2] [--seconds S]

Measures training and inference images per second of the engine on MNIST (WebAssembly SIMD kernels)
for each preset × batch × thread count (inference splits each batch over the threads too), and the ratio to the plain TypeScript reference kernels
(same preset and batch, one thread). Default: lenet5-tanh-mse and lenet5-relu-ce-bn, batches 20, 32,
64, 1 thread and all cores. Run it on a quiet machine: figures are wall-clock. The kernels are the
relaxed-SIMD build (fused multiply-add) where the runtime accepts it; LENET_KERNELS=wasm-simd forces
the plain SIMD build (docs/engine.md).

  --json        one JSON object on stdout: {"machine":{…},"results":[{"preset","batch","threads",
                "trainImagesPerSecond","evalImagesPerSecond","referenceRatio"},…]}
  --seconds S   measuring time per figure (default 2)
`;

interface Row {
  preset: string;
  batch: number;
  threads: number;
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
): Promise<{ train: number; eval: number }> {
  const p = PRESETS[preset];
  const model = new Model(p.spec, kernels).init(1);
  // Speed does not depend on the learning rate; a small one keeps every preset stable at every batch size.
  const config: TrainConfig = { ...p.defaults, lr: 0.01, batchSize: batch, seed: 1, shuffle: true };
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

  const choice = loadKernels();
  if (choice.name === 'js') say(`warning: fast kernels unavailable (${choice.reason}); measuring the reference kernels`);
  const fast = choice.kernels;
  const data = await loadMnist();
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: all, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, kernels: fast.name };
  say(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; kernels ${fast.name}; ${seconds} s per figure`);
  say('preset               batch threads  train img/s   eval img/s   × reference');

  const results: Row[] = [];
  for (const preset of presets) {
    for (const batch of batches) {
      // The reference: plain TypeScript kernels, one thread, a shorter measurement.
      const reference = (await measure(jsKernels, preset, batch, 1, data, Math.min(seconds, 1), 0)).train;
      for (const threads of threadCounts) {
        const { train, eval: evalRateValue } = await measure(fast, preset, batch, threads, data, seconds, seconds / 2);
        const row: Row = {
          preset,
          batch,
          threads,
          kernels: fast.name,
          trainImagesPerSecond: Math.round(train),
          evalImagesPerSecond: Math.round(evalRateValue),
          referenceRatio: Number((train / reference).toFixed(2)),
        };
        results.push(row);
        say(
          `${preset.padEnd(20)} ${String(batch).padStart(5)} ${String(threads).padStart(7)} ${thousands(train).padStart(12)} ${thousands(evalRateValue).padStart(12)} ${row.referenceRatio.toFixed(1).padStart(12)}`,
        );
      }
    }
  }
  if (f.json) process.stdout.write(`${JSON.stringify({ machine, results })}\n`);
}

await runCli(NAME, () => main(process.argv.slice(2)));
