// Data-parallel gradients over worker threads: the combined gradient of the shards is the
// batch gradient (for models without batch norm, up to float rounding), a given thread count
// reproduces bit for bit, and batch norm running statistics combine as documented.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitSet } from '../../src/engine/data';
import { evaluate } from '../../src/engine/evaluate';
import type { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { Trainer, localGradients } from '../../src/engine/train';
import { loadMnist, type MnistData } from '../../src/node/datasets';
import { ParallelGradients, threadsFor } from '../../src/node/parallel/gradients';
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

async function pool(model: Model, threads: number): Promise<ParallelGradients> {
  const p = await ParallelGradients.create(model, limitSet(data.train, 512), threads, 64);
  pools.push(p);
  return p;
}

const idx = Uint32Array.from({ length: 33 }, (_, i) => i * 7); // an odd batch: shards of 16 and 17
const labels = (): Uint8Array => Uint8Array.from(idx, (i) => data.train.labels[i]);

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

  it('batch norm: running statistics are the shard-size-weighted mean of the shard updates', async () => {
    const spec = PRESETS['lenet5-relu-ce-bn'].spec;
    const m = newModel(spec).init(5);
    await (await pool(m, 2)).compute(idx, labels(), idx.length);
    // Shards by hand: 16 then 17 images, each from the same starting statistics.
    const s0 = newModel(spec).init(5);
    const s1 = newModel(spec).init(5);
    localGradients(s0, data.train).compute(idx.subarray(0, 16), labels().subarray(0, 16), 16);
    localGradients(s1, data.train).compute(idx.subarray(16), labels().subarray(16), 17);
    const expected = s0.buffers.map((v, i) => (16 / 33) * v + (17 / 33) * s1.buffers[i]);
    const r = compareTensors('running stats', m.buffers, expected, 1e-5, 1e-6);
    expect(r.ok, r.message).toBe(true);
  });

  it('3 threads (the third shard is added in a pass of its own): gradient equals the one-thread batch gradient', async () => {
    await expectSameAsOneThread(3, 4);
  });

  it('a batch of one on 2 threads (shard 0 empty): gradient and batch norm statistics are those of shard 1, all finite', async () => {
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
    const r = compareTensors('running stats', b.buffers, a.buffers, 1e-6, 1e-7);
    expect(r.ok, r.message).toBe(true);
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
      expect(Buffer.from(b.predictions).equals(Buffer.from(a.predictions))).toBe(true);
      expect(b.confusion).toEqual(a.confusion);
      expect(b.accuracy).toBe(a.accuracy);
      expect(b.loss).toBeCloseTo(a.loss, 5);
      const r = compareTensors('scores', b.scores, a.scores, 1e-5, 1e-6);
      expect(r.ok, r.message).toBe(true);
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

describe('threadsFor', () => {
  it('a network with batch norm gets only as many threads as keep 16 images per shard (32 with MSE); others all they ask for', () => {
    const bn = PRESETS['lenet5-relu-ce-bn'].spec;
    const bnMse = PRESETS['lenet5-tanh-mse-bn'].spec;
    const plain = PRESETS['lenet5-relu-ce'].spec;
    expect(threadsFor(bn, 32, 2)).toBe(2);
    expect(threadsFor(bn, 32, 8)).toBe(2);
    expect(threadsFor(bn, 20, 8)).toBe(1);
    expect(threadsFor(bn, 64, 4)).toBe(4);
    expect(threadsFor(bn, 8, 2)).toBe(1);
    expect(threadsFor(bnMse, 32, 2)).toBe(1);
    expect(threadsFor(bnMse, 64, 2)).toBe(2);
    expect(threadsFor(bnMse, 256, 4)).toBe(4);
    expect(threadsFor(plain, 32, 2)).toBe(2);
    expect(threadsFor(plain, 8, 1)).toBe(1);
  });
});
