// The harness of `npm run bench:peers`: the same LeNet-5 training and inference, measured the same
// way, in our engine (with LeCun's C3 table and with C3 fully connected) and in its peers —
// TensorFlow.js (cpu and wasm backends), ConvNetJS and PyTorch — one configuration after the other
// in this process tree, so they see the same machine load. Prints nothing itself: the CLI
// (bench/peers/cli.ts) and the test (test/bench/peers.test.ts) call it.
//
// Every engine gets the same workload: batches drawn from the shuffled MNIST training set (uint8
// until a batch is built, scaled by 1/255), SGD with momentum 0.9 at a fixed small learning rate,
// the preset's loss; a short warm-up, then training for `seconds` (or `steps` batches), then
// inference (evaluation mode, batch norm on running statistics) over test batches of the same size
// for half that time. Images per second are wall-clock.

import { cpus, loadavg, totalmem } from 'node:os';
import { limitSet } from '../../src/engine/data';
import { Model } from '../../src/engine/model';
import { lenet5Spec } from '../../src/engine/presets';
import { Trainer } from '../../src/engine/train';
import type { TrainConfig } from '../../src/engine/train-config';
import type { MnistData } from '../../src/node/datasets';
import { loadKernels } from '../../src/node/load-kernels';
import { ParallelGradients, defaultThreads } from '../../src/node/parallel/gradients';

// ---------------------------------------------------------------------------------------------
// Workloads and results

/** The presets the peers can build: one without batch norm (tanh + MSE), one with (ReLU + CE + BN). */
export const PEER_PRESETS = {
  'lenet5-tanh-mse': { act: 'tanh', bn: false },
  'lenet5-relu-ce-bn': { act: 'relu', bn: true },
} as const;
export type PeerPreset = keyof typeof PEER_PRESETS;
export function isPeerPreset(name: string): name is PeerPreset {
  return Object.hasOwn(PEER_PRESETS, name);
}

/** `table`: conv2 reads S2 maps through LeCun's C3 table; `full`: every C3 map reads all six. */
export type C3 = 'table' | 'full';

export const PEER_IDS = ['tfjs-cpu', 'tfjs-wasm', 'convnetjs', 'pytorch'] as const;
export type PeerId = (typeof PEER_IDS)[number];
export type EngineId = 'ours' | PeerId;

/** Measure for `seconds` of training (inference: half), or exactly `steps` batches of each. */
export type Budget = { seconds: number } | { steps: number };

export interface Workload {
  preset: PeerPreset;
  /** Images per training batch. */
  batch: number;
  /** Images per inference batch. */
  evalBatch: number;
  threads: number;
  c3: C3;
  budget: Budget;
  /** Warm-up batches before measuring training (stopped early after 0.5 s); inference gets up to 3. */
  warmup: number;
  lr: number;
  seed: number;
}

export interface Measurement {
  engine: EngineId;
  preset: PeerPreset;
  c3: C3;
  batch: number;
  evalBatch: number;
  threads: number;
  trainImagesPerSecond: number;
  evalImagesPerSecond: number;
  /** Training batches measured. */
  trainSteps: number;
  /** Mean batch loss of the first and last measured training batches. */
  firstLoss: number;
  lastLoss: number;
}

export type Availability = { available: true; version: string } | { available: false; reason: string };

/** An engine other than ours, able to train and evaluate the workload's LeNet-5. */
export interface Peer {
  id: PeerId;
  /** Human name, e.g. "TensorFlow.js (wasm)". */
  label: string;
  /** Whether it uses more than one thread when asked to. */
  threads: boolean;
  /** The C3 variant it runs. */
  c3: C3;
  /** Where its LeNet-5 differs from ours, and anything the benchmark added to it. */
  notes(): string[];
  check(): Promise<Availability>;
  run(w: Workload, data: MnistData): Promise<Measurement>;
}

// ---------------------------------------------------------------------------------------------
// Measuring loops shared by the JavaScript engines

export interface Timed {
  count: number;
  seconds: number;
}

/** Runs `step` until the budget is spent; `evaluation` halves a time budget. */
export async function measureLoop(budget: Budget, evaluation: boolean, step: () => void | Promise<void>): Promise<Timed> {
  let count = 0;
  const t0 = performance.now();
  if ('steps' in budget) {
    while (count < budget.steps) {
      await step();
      count++;
    }
  } else {
    const limit = (evaluation ? budget.seconds / 2 : budget.seconds) * 1000;
    while (performance.now() - t0 < limit) {
      await step();
      count++;
    }
  }
  return { count, seconds: Math.max((performance.now() - t0) / 1000, 1e-9) };
}

/** Up to `steps` warm-up calls, stopping early (after at least two) once about half a second has passed. */
export async function warmUp(steps: number, step: () => void | Promise<void>): Promise<void> {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    await step();
    if (i >= 1 && performance.now() - t0 > 500) break;
  }
}

/**
 * Draws training batches the same way for every JavaScript peer: a shuffled order, reshuffled
 * when it runs out, deterministic from the seed.
 */
export class BatchOrder {
  private readonly order: Uint32Array;
  private position = 0;
  private state: number;

  constructor(
    readonly count: number,
    seed: number,
  ) {
    this.order = new Uint32Array(count);
    for (let i = 0; i < count; i++) this.order[i] = i;
    this.state = seed >>> 0 || 1;
    this.shuffle();
  }

  /** Indices of the next batch of n (a view, valid until the next call). */
  next(n: number): Uint32Array {
    if (this.position + n > this.count) {
      this.shuffle();
      this.position = 0;
    }
    const idx = this.order.subarray(this.position, this.position + n);
    this.position += n;
    return idx;
  }

  private random(): number {
    // xorshift32: enough for a benchmark's shuffle.
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 4294967296;
  }

  private shuffle(): void {
    for (let i = this.count - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const t = this.order[i];
      this.order[i] = this.order[j];
      this.order[j] = t;
    }
  }
}

/** Writes images `idx` of `pixels` (bytes) scaled by 1/255 into `out` (n × size floats). */
export function scaleBatch(pixels: Uint8Array, idx: ArrayLike<number>, n: number, size: number, out: Float32Array | Float64Array): void {
  const inv = 1 / 255;
  for (let s = 0; s < n; s++) {
    const src = idx[s] * size;
    const dst = s * size;
    for (let i = 0; i < size; i++) out[dst + i] = pixels[src + i] * inv;
  }
}

// ---------------------------------------------------------------------------------------------
// Ours

export function ourSpec(preset: PeerPreset, c3: C3) {
  const { act, bn } = PEER_PRESETS[preset];
  return lenet5Spec({ act, bn, table: c3 === 'table' });
}

/** Our engine on the workload: the Trainer and then inference, on worker threads when threads > 1. */
export async function runOurs(w: Workload, data: MnistData): Promise<Measurement> {
  const spec = ourSpec(w.preset, w.c3);
  const model = new Model(spec, loadKernels().kernels).init(w.seed);
  const config: TrainConfig = {
    epochs: 1000,
    batchSize: w.batch,
    lr: w.lr,
    momentum: 0.9,
    decay: 0,
    schedule: { type: 'constant' },
    seed: w.seed,
    shuffle: true,
  };
  const set = limitSet(data.train, 60000);
  const parallel = await ParallelGradients.create(model, set, w.threads, w.batch);
  const losses: number[] = [];
  let train: Timed;
  let ev: Timed;
  try {
    const trainer = new Trainer(model, set, config, parallel);
    // step() returns null once per epoch (at the boundary): take the next one then.
    const step = (): number => (trainer.step() ?? trainer.step())!.loss;
    await warmUp(w.warmup, () => void step());
    train = await measureLoop(w.budget, false, () => void losses.push(step()));

    // Inference on the same threads: each batch is split over them like a training batch.
    const inference = parallel.inference();
    const idx = new Uint32Array(w.evalBatch);
    let start = 0;
    const evalStep = (): void => {
      for (let s = 0; s < w.evalBatch; s++) idx[s] = (start + s) % data.test.count;
      inference.forward(data.test.pixels, idx, w.evalBatch);
      start += w.evalBatch;
    };
    await warmUp(Math.min(3, w.warmup), evalStep);
    ev = await measureLoop(w.budget, true, evalStep);
  } finally {
    await parallel.close();
    model.dispose();
  }
  return measurement('ours', w, train, ev, losses);
}

export function measurement(engine: EngineId, w: Workload, train: Timed, ev: Timed, losses: number[]): Measurement {
  return {
    engine,
    preset: w.preset,
    c3: w.c3,
    batch: w.batch,
    evalBatch: w.evalBatch,
    threads: w.threads,
    trainImagesPerSecond: (train.count * w.batch) / train.seconds,
    evalImagesPerSecond: (ev.count * w.evalBatch) / ev.seconds,
    trainSteps: train.count,
    firstLoss: losses.length > 0 ? losses[0] : NaN,
    lastLoss: losses.length > 0 ? losses[losses.length - 1] : NaN,
  };
}

// ---------------------------------------------------------------------------------------------
// The whole comparison

export interface PeersOptions {
  presets: PeerPreset[];
  batch: number;
  /** Images per inference batch (default: batch). */
  evalBatch?: number;
  /** Thread counts to measure, e.g. [1, 2]; peers without threads run at 1 only. */
  threads: number[];
  budget: Budget;
  /** Measure everything this many times and report the median of each figure. */
  repeat: number;
  peers: Peer[];
  warmup?: number;
  lr?: number;
  seed?: number;
  /** Called after every measurement (progress lines). */
  onMeasurement?: (m: Measurement, repetition: number) => void;
}

export interface PeerInfo {
  id: PeerId;
  label: string;
  available: boolean;
  version: string | null;
  /** Why it was skipped, and how to make it available. */
  reason: string | null;
  threads: boolean;
  c3: C3;
  notes: string[];
}

/** One figure: the median over repetitions, with every repetition's rates. */
export interface ResultRow extends Measurement {
  runs: { trainImagesPerSecond: number[]; evalImagesPerSecond: number[] };
}

/** ours / peer at one preset and thread count; `table` and `full` are our two C3 variants. */
export interface RatioRow {
  preset: PeerPreset;
  batch: number;
  evalBatch: number;
  threads: number;
  peer: PeerId;
  train: { table: number; full: number };
  eval: { table: number; full: number };
}

export interface PeersReport {
  machine: {
    cpu: string;
    cores: number;
    memoryGiB: number;
    node: string;
    kernels: string;
    /** os.loadavg() (1, 5, 15 minutes) before and after the measurements. */
    loadAverage: { before: number[]; after: number[] };
  };
  config: { presets: PeerPreset[]; batch: number; evalBatch: number; threads: number[]; budget: Budget; repeat: number; lr: number };
  peers: PeerInfo[];
  results: ResultRow[];
  ratios: RatioRow[];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round = (x: number, digits = 0): number => Number(x.toFixed(digits));

export async function runPeersBench(opts: PeersOptions, data: MnistData): Promise<PeersReport> {
  const choice = loadKernels();
  const lr = opts.lr ?? 0.01;
  const evalBatch = opts.evalBatch ?? opts.batch;
  const before = loadavg();
  const peers: PeerInfo[] = [];
  const usable: Peer[] = [];
  for (const p of opts.peers) {
    const a = await p.check();
    peers.push({
      id: p.id,
      label: p.label,
      available: a.available,
      version: a.available ? a.version : null,
      reason: a.available ? null : a.reason,
      threads: p.threads,
      c3: p.c3,
      notes: p.notes(),
    });
    if (a.available) usable.push(p);
  }

  // key → the repetitions of one figure
  const figures = new Map<string, Measurement[]>();
  const record = (m: Measurement, r: number): void => {
    const key = `${m.engine}|${m.preset}|${m.c3}|${m.threads}`;
    figures.set(key, [...(figures.get(key) ?? []), m]);
    opts.onMeasurement?.(m, r);
  };
  for (let r = 0; r < opts.repeat; r++) {
    for (const preset of opts.presets) {
      for (const threads of opts.threads) {
        const w = (c3: C3): Workload => ({
          preset,
          batch: opts.batch,
          evalBatch,
          threads,
          c3,
          budget: opts.budget,
          warmup: opts.warmup ?? 20,
          lr,
          seed: opts.seed ?? 1,
        });
        // Ours first, then right after it each peer that can use this many threads.
        record(await runOurs(w('table'), data), r);
        record(await runOurs(w('full'), data), r);
        for (const p of usable) {
          if (threads > 1 && !p.threads) continue;
          record(await p.run(w(p.c3), data), r);
        }
        // Peers keep module state (tfjs variables are disposed, but the backends stay): nothing to reset.
      }
    }
  }
  // Per-peer notes may change once a peer has run (e.g. a kernel it had to register).
  for (const info of peers) info.notes = opts.peers.find((p) => p.id === info.id)!.notes();

  const results: ResultRow[] = [];
  for (const runs of figures.values()) {
    const train = runs.map((m) => m.trainImagesPerSecond);
    const ev = runs.map((m) => m.evalImagesPerSecond);
    const last = runs[runs.length - 1];
    results.push({
      ...last,
      trainImagesPerSecond: round(median(train)),
      evalImagesPerSecond: round(median(ev)),
      firstLoss: runs[0].firstLoss,
      runs: { trainImagesPerSecond: train.map((x) => round(x)), evalImagesPerSecond: ev.map((x) => round(x)) },
    });
  }

  const find = (engine: EngineId, preset: PeerPreset, c3: C3, threads: number): ResultRow | undefined =>
    results.find((x) => x.engine === engine && x.preset === preset && x.c3 === c3 && x.threads === threads);
  const ratios: RatioRow[] = [];
  for (const preset of opts.presets) {
    for (const threads of opts.threads) {
      const table = find('ours', preset, 'table', threads);
      const full = find('ours', preset, 'full', threads);
      if (!table || !full) continue;
      for (const p of usable) {
        const peer = find(p.id, preset, p.c3, threads);
        if (!peer) continue;
        ratios.push({
          preset,
          batch: opts.batch,
          evalBatch,
          threads,
          peer: p.id,
          train: {
            table: round(table.trainImagesPerSecond / peer.trainImagesPerSecond, 2),
            full: round(full.trainImagesPerSecond / peer.trainImagesPerSecond, 2),
          },
          eval: { table: round(table.evalImagesPerSecond / peer.evalImagesPerSecond, 2), full: round(full.evalImagesPerSecond / peer.evalImagesPerSecond, 2) },
        });
      }
    }
  }

  return {
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: defaultThreads(),
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      kernels: choice.name,
      loadAverage: { before: before.map((x) => round(x, 2)), after: loadavg().map((x) => round(x, 2)) },
    },
    config: { presets: opts.presets, batch: opts.batch, evalBatch, threads: opts.threads, budget: opts.budget, repeat: opts.repeat, lr },
    peers,
    results,
    ratios,
  };
}

// ---------------------------------------------------------------------------------------------
// Text output

const ENGINE_LABEL: Record<EngineId, string> = {
  ours: 'ours',
  'tfjs-cpu': 'TensorFlow.js cpu',
  'tfjs-wasm': 'TensorFlow.js wasm',
  convnetjs: 'ConvNetJS',
  pytorch: 'PyTorch',
};

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function times(x: number): string {
  return `${x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2)}×`;
}

/** The report as the CLI prints it: one table per preset, then the peers' notes. */
export function formatReport(report: PeersReport): string {
  const out: string[] = [];
  const m = report.machine;
  const b = report.config.budget;
  out.push(`${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}; our kernels ${m.kernels}`);
  out.push(`load average (1/5/15 min) before ${m.loadAverage.before.join(' ')}, after ${m.loadAverage.after.join(' ')}`);
  out.push(
    `batch ${report.config.batch}${report.config.evalBatch !== report.config.batch ? ` (inference ${report.config.evalBatch})` : ''}, lr ${report.config.lr}; ${'seconds' in b ? `${b.seconds} s training + ${b.seconds / 2} s inference per figure` : `${b.steps} batches per figure`}` +
      (report.config.repeat > 1 ? `, median of ${report.config.repeat} runs` : ''),
  );
  for (const preset of report.config.presets) {
    out.push('');
    out.push(`${preset}, batch ${report.config.batch}${report.config.evalBatch !== report.config.batch ? `, inference batch ${report.config.evalBatch}` : ''}`);
    out.push(
      `${'engine'.padEnd(20)} ${'C3'.padEnd(5)} ${'threads'.padStart(7)} ${'train img/s'.padStart(12)} ${'eval img/s'.padStart(11)}   ours/peer train (table, full)   eval (table, full)`,
    );
    for (const threads of report.config.threads) {
      for (const r of report.results.filter((x) => x.preset === preset && x.threads === threads)) {
        const ratio = report.ratios.find((x) => x.preset === preset && x.threads === threads && x.peer === r.engine);
        const cols = ratio
          ? `   ${times(ratio.train.table).padStart(8)} ${times(ratio.train.full).padStart(8)}            ${times(ratio.eval.table).padStart(7)} ${times(ratio.eval.full).padStart(7)}`
          : '';
        out.push(
          `${ENGINE_LABEL[r.engine].padEnd(20)} ${r.c3.padEnd(5)} ${String(r.threads).padStart(7)} ${fmt(r.trainImagesPerSecond).padStart(12)} ${fmt(r.evalImagesPerSecond).padStart(11)}${cols}`,
        );
      }
    }
  }
  out.push('');
  for (const p of report.peers) {
    const head = p.available ? `${p.label} ${p.version}` : `${p.label}: skipped — ${p.reason}`;
    out.push(`${head}${p.available && !p.threads ? ' (one thread only)' : ''}`);
    if (p.available) for (const n of p.notes) out.push(`  - ${n}`);
  }
  return `${out.join('\n')}\n`;
}
