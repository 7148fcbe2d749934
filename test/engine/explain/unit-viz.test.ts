// What units want: the gradient of a unit's value against central differences, activation
// maximisation on a trained LeNet-5 (far above the mean test image, seeded), and the top test
// images per unit against a brute-force ranking, one image at a time.

import { describe, expect, it } from 'vitest';
import { Explainer } from '../../../src/engine/explain';
import { PRESETS } from '../../../src/engine/presets';
import { Rng } from '../../../src/engine/rng';
import { Trainer } from '../../../src/engine/train';
import { maximise, topImages, unitGradients, unitLayer, unitLayers, unitValues } from '../../../src/engine/unit-viz';
import { loadMnist } from '../../../src/node/datasets';
import { checkTensorGrad, describeChecks, randomArray } from '../../helpers/gradcheck';
import { testModels } from '../../helpers/kernels';

const build = testModels();

describe('unit layers', () => {
  it('reads a unit before its non-linearity: after the batch norm that follows its layer; the last layer is the classes', () => {
    const ex = new Explainer(build(PRESETS['lenet5-relu-ce-bn'].spec).init(1));
    const names = ex.model.layers.map((l) => l.name);
    const ls = unitLayers(ex);
    expect(ls.map((l) => [l.name, names[l.probe], l.units, l.size, l.centre, l.classes])).toEqual([
      ['conv1', 'bn1', 6, 28 * 28, 14 * 28 + 14, false],
      ['conv2', 'bn2', 16, 10 * 10, 5 * 10 + 5, false],
      ['fc1', 'bn3', 120, 1, 0, false],
      ['fc2', 'bn4', 84, 1, 0, false],
      ['fc3', 'bn5', 10, 1, 0, true],
    ]);
    const plain = unitLayers(new Explainer(build(PRESETS['lenet5-tanh-mse'].spec).init(1)));
    expect(plain.map((l) => l.probe)).toEqual([0, 3, 7, 9, 11]);
    expect(() => unitLayer(ex, 'pool1')).toThrow('pool1 is not a conv or dense layer of this model (it has conv1, conv2, fc1, fc2, fc3)');
    expect(() => unitGradients(ex, ls[0], [6], new Float32Array(784))).toThrow('conv1 has units 0–5, got 6');
  });
});

describe('the gradient of a unit with respect to the input', () => {
  it.each(['lenet5-tanh-mse', 'lenet5-tanh-mse-bn'])('%s: agrees with central differences for a unit of every layer', (preset) => {
    const model = build(PRESETS[preset].spec).init(7);
    // Batch norm with running statistics that are not the identity.
    const rngB = new Rng(3);
    for (const e of model.index) {
      if (e.local === 'running_mean') model.tensor(e.name).set(randomArray(rngB, e.length, -0.3, 0.3));
      if (e.local === 'running_var') model.tensor(e.name).set(randomArray(rngB, e.length, 0.5, 2));
    }
    const ex = new Explainer(model);
    const rng = new Rng(11);
    const checks = [];
    for (const layer of unitLayers(ex)) {
      const unit = layer.units - 2;
      const x = randomArray(rng, 784, 0, 1);
      const { grads, values } = unitGradients(ex, layer, [unit], x);
      const value = (): number => unitValues(ex, layer, [unit], x)[0];
      expect(values[0]).toBe(value());
      const c = checkTensorGrad(`${layer.name}[${unit}]`, x, grads, value, rng, { step: 1e-2, rtol: 2e-2, atol: 2e-4, samples: 60 });
      checks.push(c);
      // A check where every gradient is ~0 proves nothing.
      expect(c.maxAbsNumeric, c.name).toBeGreaterThan(1e-3);
    }
    expect(
      checks.every((c) => c.failures === 0),
      describeChecks(checks),
    ).toBe(true);
  });
});

/** LeNet-5 (ReLU, CE) trained one pass over 2000 MNIST training images, and the test set. */
async function trained(): Promise<{ ex: Explainer; test: { pixels: Uint8Array; labels: Uint8Array; count: number } }> {
  const data = await loadMnist();
  const count = 2000;
  const train = { ...data.train, count, pixels: data.train.pixels.subarray(0, count * 784), labels: data.train.labels.subarray(0, count) };
  const model = build(PRESETS['lenet5-relu-ce'].spec).init(1);
  const trainer = new Trainer(model, train, {
    epochs: 1,
    batchSize: 32,
    lr: 0.05,
    momentum: 0.9,
    decay: 0,
    schedule: { type: 'constant' },
    seed: 1,
    shuffle: true,
  });
  while (!trainer.done) trainer.step();
  return { ex: new Explainer(model), test: data.test };
}

describe('activation maximisation on a trained LeNet-5', () => {
  it('drives every class score and conv1 filter far above the mean test image, in [0, 1]; same seed, same image; another seed, another', async () => {
    const { ex, test } = await trained();
    const n = 2000;
    const mean = new Float32Array(784);
    for (let i = 0; i < n; i++) for (let j = 0; j < 784; j++) mean[j] += test.pixels[i * 784 + j] / 255 / n;
    for (const [name, margin] of [
      ['fc3', 5],
      ['conv1', 1],
    ] as const) {
      const layer = unitLayer(ex, name);
      let steps = 0;
      const r = maximise(ex, name, undefined, { seed: 3, steps: 64 }, (done, total) => {
        expect(total).toBe(64);
        steps = done;
      });
      expect(steps).toBe(64);
      expect(r.units).toEqual(Array.from({ length: layer.units }, (_, u) => u));
      expect(r.images.every((v) => v >= 0 && v <= 1)).toBe(true);
      const atMean = unitValues(
        ex,
        layer,
        r.units,
        Float32Array.from({ length: r.units.length * 784 }, (_, i) => mean[i % 784]),
      );
      for (const u of r.units) expect(r.values[u], `${name} unit ${u}: ${r.values[u]} vs ${atMean[u]} at the mean image`).toBeGreaterThan(atMean[u] + margin);
      // The values reported are the units' values at the images.
      expect(Array.from(unitValues(ex, layer, r.units, r.images))).toEqual(Array.from(r.values));
    }
    const a = maximise(ex, 'fc2', [5, 40], { seed: 7, steps: 32 });
    const b = maximise(ex, 'fc2', [5, 40], { seed: 7, steps: 32 });
    const c = maximise(ex, 'fc2', [5, 40], { seed: 8, steps: 32 });
    expect(Array.from(b.images)).toEqual(Array.from(a.images));
    let diff = 0;
    for (let i = 0; i < a.images.length; i++) diff += Math.abs(a.images[i] - c.images[i]) / a.images.length;
    expect(diff).toBeGreaterThan(0.02);
  });
});

describe('top images per unit', () => {
  it('match a brute-force ranking, one image at a time, for every unit of every layer', () => {
    const ex = new Explainer(build(PRESETS['lenet5-relu-ce-bn'].spec).init(5));
    const rngB = new Rng(4);
    for (const e of ex.model.index) if (e.local === 'running_mean') ex.model.tensor(e.name).set(randomArray(rngB, e.length, -0.2, 0.2));
    const count = 150;
    const k = 4;
    const rng = new Rng(9);
    const pixels = Uint8Array.from({ length: count * 784 }, () => (rng.next() < 0.7 ? 0 : rng.int(256)));
    const batches: number[] = [];
    const top = topImages(ex, pixels, count, k, (done) => batches.push(done), 64);
    expect(batches).toEqual([64, 128, 150]);
    const layers = unitLayers(ex);
    // Brute force: each image alone; a filter's value is the largest of its map.
    const per = layers.map((l) => Array.from({ length: l.units }, () => new Float64Array(count)));
    for (let i = 0; i < count; i++) {
      const x = Float32Array.from(pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
      const outs = ex.model.layerOutputs(x, 1, false);
      layers.forEach((l, li) => {
        const out = outs[l.probe].data;
        for (let u = 0; u < l.units; u++) per[li][u][i] = Math.max(...out.subarray(u * l.size, (u + 1) * l.size));
      });
    }
    layers.forEach((l, li) => {
      const t = top[li];
      expect([t.layer, t.units, t.k]).toEqual([l.name, l.units, k]);
      for (let u = 0; u < l.units; u++) {
        const v = per[li][u];
        const best = Array.from(v).sort((p, q) => q - p);
        for (let j = 0; j < k; j++) {
          const tol = 1e-4 * Math.max(1, Math.abs(best[j]));
          // The j-th value is the j-th largest, and the image named has that value (ties may pick either).
          expect(Math.abs(t.value[u * k + j] - best[j]), `${l.name}[${u}] #${j}`).toBeLessThan(tol);
          expect(Math.abs(v[t.index[u * k + j]] - best[j]), `${l.name}[${u}] #${j} image ${t.index[u * k + j]}`).toBeLessThan(tol);
        }
        expect(new Set(t.index.subarray(u * k, (u + 1) * k)).size).toBe(k);
        const mean = v.reduce((s, q) => s + q, 0) / count;
        expect(Math.abs(t.mean[u] - mean)).toBeLessThan(1e-4 * Math.max(1, Math.abs(mean)));
      }
    });
    // Fewer images than k: the rest is −1 and NaN.
    const few = topImages(ex, pixels, 2, 3)[4];
    expect(Array.from(few.index.subarray(0, 3)).sort()).toEqual([-1, 0, 1]);
    expect(few.index[2]).toBe(-1);
    expect(Number.isNaN(few.value[2])).toBe(true);
  });
});
