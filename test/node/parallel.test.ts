// Data-parallel gradients over worker threads: the combined gradient of the shards is the
// batch gradient up to float rounding, with batch norm too (synchronised: every shard normalises
// with the whole batch's statistics), and a given thread count reproduces bit for bit. Workers that
// cannot start, or fail mid-run in any of the ways a thread can, leave the run on one thread with
// the step computed as one thread computes it, and say why once.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitSet } from '../../src/engine/data';
import { evaluate } from '../../src/engine/evaluate';
import type { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { Trainer, localGradients } from '../../src/engine/train';
import { loadMnist, type MnistData } from '../../src/node/datasets';
import { ParallelGradients, threadsFor, type ParallelOptions } from '../../src/node/parallel/gradients';
import type { ShardFault } from '../../src/node/parallel/layout';
import type { Worker } from 'node:worker_threads';
import { compareTensors } from '../helpers/close';
import { testModels } from '../helpers/kernels';

const newModel = testModels();

let data: MnistData;
beforeAll(async () => {
  data = await loadMnist();
});

const pools: ParallelGradients[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

async function pool(model: Model, threads: number, opts: ParallelOptions = {}): Promise<ParallelGradients> {
  const p = await ParallelGradients.create(model, limitSet(data.train, 512), threads, 64, opts);
  pools.push(p);
  return p;
}

const idx = Uint32Array.from({ length: 33 }, (_, i) => i * 7); // an odd batch: shards of 16 and 17
const labels = (): Uint8Array => Uint8Array.from(idx, (i) => data.train.labels[i]);

function differingPredictions(a: { predictions: Uint8Array }, b: { predictions: Uint8Array }): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.predictions.length; i++) if (a.predictions[i] !== b.predictions[i]) out.push(i);
  return out;
}

/** The gap between the highest and the second-highest score. */
function topMargin(scores: Float32Array): number {
  const sorted = Array.from(scores).sort((x, y) => y - x);
  return sorted[0] - sorted[1];
}

describe('ParallelGradients', () => {
  /** Gradient, loss and correct count of lenet5-relu-ce on `threads` threads against one thread. */
  async function expectSameAsOneThread(threads: number, seed: number): Promise<void> {
    const a = newModel(PRESETS['lenet5-relu-ce'].spec).init(seed);
    const b = newModel(PRESETS['lenet5-relu-ce'].spec).init(seed);
    const ra = localGradients(a, data.train).compute(idx, labels(), idx.length);
    const rb = (await pool(b, threads)).compute(idx, labels(), idx.length);
    expect(rb.correct).toBe(ra.correct);
    expect(rb.lossSum).toBeCloseTo(ra.lossSum, 3);
    const r = compareTensors('grads', b.grads, a.grads, 1e-4, 1e-6);
    expect(r.ok, r.message).toBe(true);
  }

  it('2 threads: gradient and loss of lenet5-relu-ce equal the one-thread batch gradient', async () => {
    await expectSameAsOneThread(2, 3);
  });

  // Synchronised batch norm: loss, gradient and running statistics of 2 and 3 shards against one
  // thread, on every preset with batch norm (convolutional maps, and the vectors after dense layers).
  for (const preset of ['lenet5-relu-ce-bn', 'lenet5-tanh-mse-bn'] as const) {
    for (const threads of [2, 3]) {
      it(`batch norm, ${preset} on ${threads} threads: loss, gradient and running statistics are the one-thread batch's`, async () => {
        const spec = PRESETS[preset].spec;
        const a = newModel(spec).init(5);
        const b = newModel(spec).init(5);
        const ra = localGradients(a, data.train).compute(idx, labels(), idx.length);
        const rb = (await pool(b, threads)).compute(idx, labels(), idx.length);
        expect(rb.correct).toBe(ra.correct);
        expect(Math.abs(rb.lossSum - ra.lossSum)).toBeLessThan(1e-5 * Math.abs(ra.lossSum));
        const g = compareTensors('grads', b.grads, a.grads, 1e-5, 1e-5);
        expect(g.ok, g.message).toBe(true);
        const r = compareTensors('running stats', b.buffers, a.buffers, 1e-5, 1e-7);
        expect(r.ok, r.message).toBe(true);
      });
    }
  }

  it('3 threads (the third shard is added in a pass of its own): gradient equals the one-thread batch gradient', async () => {
    await expectSameAsOneThread(3, 4);
  });

  it('a batch of one on 2 threads (fewer images than threads): computed on one thread, bit for bit', async () => {
    const spec = PRESETS['lenet5-relu-ce-bn'].spec;
    const a = newModel(spec).init(6);
    const b = newModel(spec).init(6);
    const one = Uint32Array.of(idx[3]);
    const l = Uint8Array.of(data.train.labels[idx[3]]);
    localGradients(a, data.train).compute(one, l, 1);
    (await pool(b, 2)).compute(one, l, 1);
    expect(b.isFinite()).toBe(true);
    expect(
      Buffer.from(b.grads.buffer, b.grads.byteOffset, b.grads.byteLength).equals(Buffer.from(a.grads.buffer, a.grads.byteOffset, a.grads.byteLength)),
    ).toBe(true);
    expect(
      Buffer.from(b.buffers.buffer, b.buffers.byteOffset, b.buffers.byteLength).equals(
        Buffer.from(a.buffers.buffer, a.buffers.byteOffset, a.buffers.byteLength),
      ),
    ).toBe(true);
  });

  it('a given thread count reproduces bit for bit over 30 training steps', async () => {
    const run = async (): Promise<Float32Array> => {
      const m = newModel(PRESETS['lenet5-relu-ce-bn'].spec).init(9);
      const set = limitSet(data.train, 512);
      const t = new Trainer(m, set, { ...PRESETS['lenet5-relu-ce-bn'].defaults, batchSize: 32, seed: 4, shuffle: true }, await pool(m, 2));
      for (let i = 0; i < 30; i++) t.step();
      return m.params.slice();
    };
    const a = await run();
    const b = await run();
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });
});

describe('ParallelGradients.inference', () => {
  /** A lenet5-relu-ce-bn model trained a few steps on the pool (workers hold stale weights), and a local twin. */
  async function trained(threads: number): Promise<{ m: Model; p: ParallelGradients; twin: Model }> {
    const m = newModel(PRESETS['lenet5-relu-ce-bn'].spec).init(11);
    const set = limitSet(data.train, 512);
    const p = await pool(m, threads);
    const t = new Trainer(m, set, { ...PRESETS['lenet5-relu-ce-bn'].defaults, batchSize: 64, seed: 2, shuffle: true }, p);
    for (let i = 0; i < 5; i++) t.step();
    const twin = newModel(m.spec);
    twin.restore(m.snapshot());
    return { m, p, twin };
  }

  const set = (): ReturnType<typeof limitSet> => limitSet(data.test, 700);

  for (const [threads, batch] of [
    [2, 100],
    [3, 100],
    [2, 700], // one forward longer than a command carries (256 images): three commands
    [3, 1], // shards 0 and 1 empty
  ] as const) {
    it(`${threads} threads, batches of ${batch}: evaluation equals the one-thread evaluation with the same weights`, async () => {
      const { m, p, twin } = await trained(threads);
      const a = evaluate(twin, set(), batch);
      const b = evaluate(m, set(), batch, p.inference());
      const r = compareTensors('scores', b.scores, a.scores, 1e-5, 1e-6);
      expect(r.ok, r.message).toBe(true);
      expect(b.loss).toBeCloseTo(a.loss, 5);
      // The relaxed-SIMD build may fuse a multiply-add in one thread's compiled code and not in
      // another's, so scores agree to rounding (above); a prediction may then flip only where the
      // top two scores are that close.
      const flips = differingPredictions(a, b).filter((i) => topMargin(a.scores.subarray(i * 10, i * 10 + 10)) > 1e-5);
      expect(flips).toEqual([]);
    });
  }

  it('inference() after the weights change makes the workers load them; the outputs follow', async () => {
    const { m, p } = await trained(2);
    const before = evaluate(m, set(), 100, p.inference());
    m.init(12); // new weights in place, as a restore or an optimizer step leaves them
    const twin = newModel(m.spec);
    twin.restore(m.snapshot());
    const after = evaluate(m, set(), 100, p.inference());
    const local = evaluate(twin, set(), 100);
    const r = compareTensors('scores', after.scores, local.scores, 1e-5, 1e-6);
    expect(r.ok, r.message).toBe(true);
    // The half computed by the worker (the second of each 100) changed as well.
    expect(compareTensors('scores', after.scores.subarray(500, 1000), before.scores.subarray(500, 1000), 1e-5, 1e-6).ok).toBe(false);
  });

  it('one thread: inference is the model itself', async () => {
    const { p, twin } = await trained(1);
    const y = p.inference().forward(data.test.pixels, Uint32Array.of(0, 1, 2), 3);
    expect(Array.from(y)).toEqual(Array.from(twin.forwardPixels(data.test.pixels, Uint32Array.of(0, 1, 2), 3, false)));
  });
});

describe('worker threads that fail', () => {
  const BROKEN = new URL('../helpers/workers/broken-worker.mjs', import.meta.url);
  const spec = PRESETS['lenet5-relu-ce-bn'].spec;
  const same = (a: Float32Array, b: Float32Array): boolean =>
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

  it('a worker that cannot start: one thread, the reason said once, and the weights of a one-thread run', async () => {
    const said: string[] = [];
    const m = newModel(spec).init(9);
    const p = await pool(m, 3, { workerUrl: BROKEN, onFallback: (r) => said.push(r) });
    expect(p.threads).toBe(1);
    expect(said).toEqual([p.fallback]);
    expect(p.fallback).toMatch(/^worker threads could not start \(this test worker cannot start\); training on one thread$/);

    const config = { ...PRESETS['lenet5-relu-ce-bn'].defaults, batchSize: 32, seed: 4, shuffle: true };
    const set = limitSet(data.train, 512);
    const t = new Trainer(m, set, config, p);
    for (let i = 0; i < 10; i++) t.step();
    const plain = newModel(spec).init(9);
    const u = new Trainer(plain, set, config);
    for (let i = 0; i < 10; i++) u.step();
    expect(same(m.params, plain.params)).toBe(true);
    expect(same(m.buffers, plain.buffers)).toBe(true);
    expect(said).toHaveLength(1);
  });

  const faults: [ShardFault['kind'], RegExp][] = [
    ['throw', /^worker thread 1 failed \(injected fault at command 3\); training continues on one thread$/],
    ['crash', /^worker thread 1 failed \(injected crash at command 3\); training continues on one thread$/],
    ['hang', /^the worker threads stopped answering \(nothing for 0\.5 s\); training continues on one thread$/],
  ];
  for (const [kind, reason] of faults) {
    it(`a worker that fails mid-run (${kind}): the failed step is the one-thread step of the whole batch, then one thread`, async () => {
      const said: string[] = [];
      const m = newModel(spec).init(13);
      const p = await pool(m, 2, { fault: { atCommand: 3, kind }, stallTimeoutMs: 500, onFallback: (r) => said.push(r) });
      const l = labels();
      p.compute(idx, l, idx.length);
      p.compute(idx, l, idx.length); // moves the running statistics on: step 3 must start from these
      expect(said).toEqual([]);
      const twin = newModel(spec);
      twin.restore(m.snapshot());
      const local = localGradients(twin, data.train);

      const r = p.compute(idx, l, idx.length);
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(reason);
      expect(p.threads).toBe(1);
      expect(p.fallback).toBe(said[0]);
      const e = local.compute(idx, l, idx.length);
      expect(r).toEqual(e);
      expect(same(m.grads, twin.grads)).toBe(true);
      expect(same(m.buffers, twin.buffers)).toBe(true);

      // And on: one thread, nothing said again, inference local too.
      const odd = idx.subarray(5);
      expect(p.compute(odd, l.subarray(5), odd.length)).toEqual(local.compute(odd, l.subarray(5), odd.length));
      expect(same(m.grads, twin.grads)).toBe(true);
      const test = limitSet(data.test, 300);
      expect(evaluate(m, test, 100, p.inference()).predictions).toEqual(evaluate(twin, test, 100).predictions);
      expect(said).toHaveLength(1);
      await p.close();
    });
  }

  it('a worker that fails during inference: the rest is computed here, the outputs those of one thread', async () => {
    const said: string[] = [];
    const m = newModel(spec).init(14);
    // 700 images are three forward commands (256, 256, 188): the worker dies in the third.
    const p = await pool(m, 2, { fault: { atCommand: 3, kind: 'crash' }, onFallback: (r) => said.push(r) });
    const test = limitSet(data.test, 700);
    const twin = newModel(spec);
    twin.restore(m.snapshot());
    const local = evaluate(twin, test, 700);
    expect(evaluate(m, test, 700, p.inference()).scores).toEqual(local.scores);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^worker thread 1 failed \(injected crash at command 3\); training continues on one thread$/);
    expect(p.threads).toBe(1);
    expect(evaluate(m, test, 700, p.inference()).scores).toEqual(local.scores);
    expect(said).toHaveLength(1);
    await p.close();
  });

  it('a worker that dies as a step begins is noticed at once, not after the stall timeout', async () => {
    const said: string[] = [];
    const m = newModel(spec).init(15);
    const p = await pool(m, 2, { fault: { atCommand: 2, kind: 'crash' }, stallTimeoutMs: 60_000, onFallback: (r) => said.push(r) });
    const l = labels();
    p.compute(idx, l, idx.length);
    const twin = newModel(spec);
    twin.restore(m.snapshot());
    const started = performance.now();
    expect(p.compute(idx, l, idx.length)).toEqual(localGradients(twin, data.train).compute(idx, l, idx.length));
    expect(performance.now() - started).toBeLessThan(10_000); // not the stall timeout
    expect(same(m.buffers, twin.buffers)).toBe(true);
    expect(said).toHaveLength(1);
    await p.close();
  });

  it('a worker that ends between steps (its exit seen by the coordinator) is noticed before the next step is sent', async () => {
    const said: string[] = [];
    const m = newModel(spec).init(16);
    const p = await pool(m, 2, { stallTimeoutMs: 60_000, onFallback: (r) => said.push(r) });
    const l = labels();
    p.compute(idx, l, idx.length);
    // Terminated from outside: the thread's own exit handler does not run, only the coordinator's 'exit' listener.
    await (p as unknown as { workers: Worker[] }).workers[0].terminate();
    const twin = newModel(spec);
    twin.restore(m.snapshot());
    const started = performance.now();
    expect(p.compute(idx, l, idx.length)).toEqual(localGradients(twin, data.train).compute(idx, l, idx.length));
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(said).toEqual(['a worker thread failed (it stopped with exit code 1); training continues on one thread']);
    await p.close();
  });
});

describe('threadsFor', () => {
  it('every network gets the threads asked for, but no more than images in a batch', () => {
    expect(threadsFor(32, 2)).toBe(2);
    expect(threadsFor(32, 8)).toBe(8);
    expect(threadsFor(20, 16)).toBe(16);
    expect(threadsFor(8, 16)).toBe(8);
    expect(threadsFor(1, 4)).toBe(1);
    expect(threadsFor(64, 0)).toBe(1);
  });
});
