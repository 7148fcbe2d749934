// Layer health statistics (src/engine/health.ts) checked against statistics computed here, in
// plain float64 loops, on small layers: histograms, free parameters under a connection table,
// gradient norms and update ratios over steps, dead ReLUs and saturated tanh on the probe batch
// (with the dense layer's forward pass computed here too), and the flags they raise.

import { describe, expect, it } from 'vitest';
import { HEALTH_BINS, HealthRecorder, healthFlags, stats, type EpochHealth } from '../../../src/engine/health';
import { testModels } from '../../helpers/kernels';
import { lenet5Spec } from '../../../src/engine/presets';

const model = testModels();

/** Reference statistics: mean and population std in float64; counts by the recorded edges. */
function reference(values: ArrayLike<number>, edges: number[]): { mean: number; std: number; min: number; max: number; counts: number[] } {
  const v = Array.from(values);
  const mean = v.reduce((a, x) => a + x, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length);
  const counts = new Array<number>(HEALTH_BINS).fill(0);
  for (const x of v) {
    let b = HEALTH_BINS - 1;
    for (let i = 0; i < HEALTH_BINS; i++) {
      if (x >= edges[i] && x < edges[i + 1]) {
        b = i;
        break;
      }
    }
    counts[b]++;
  }
  return { mean, std, min: Math.min(...v), max: Math.max(...v), counts };
}

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

describe('stats', () => {
  it('matches float64 reference statistics; edges from min to max inclusive; counts by those edges', () => {
    const r = rand(3);
    const v = Float32Array.from({ length: 1000 }, () => r() * 3 + 0.5);
    const s = stats(v);
    const ref = reference(v, s.histogram.edges);
    expect(s.count).toBe(1000);
    expect(s.mean).toBeCloseTo(ref.mean, 12);
    expect(s.std).toBeCloseTo(ref.std, 12);
    expect([s.min, s.max]).toEqual([ref.min, ref.max]);
    expect(s.histogram.edges).toHaveLength(HEALTH_BINS + 1);
    expect(s.histogram.edges[0]).toBe(ref.min);
    expect(s.histogram.edges[HEALTH_BINS]).toBe(ref.max);
    expect(s.histogram.counts).toEqual(ref.counts);
    // Values sitting exactly on edges: 0..64 over 64 bins puts one in each bin and two in the last.
    const onEdges = stats(Float32Array.from({ length: 65 }, (_, i) => i));
    expect(onEdges.histogram.counts).toEqual([...new Array<number>(63).fill(1), 2]);
    // One value repeated: edges all equal, and the last bin holds the maximum.
    expect(stats([2, 2, 2]).histogram.counts[HEALTH_BINS - 1]).toBe(3);
  });
});

describe('HealthRecorder', () => {
  it('counts only free weights under a connection table; histograms hold exactly them', () => {
    // 3 input maps → 4 output maps, 8 of the 12 pairs connected: 8·9 free weights of 108.
    const table = [
      [1, 0, 1, 1],
      [1, 1, 0, 0],
      [0, 1, 1, 1],
    ];
    const m = model({
      input: [3, 6, 6],
      loss: 'cross-entropy',
      layers: [{ type: 'conv2d', filters: 4, kernel: 3, table }, { type: 'flatten' }, { type: 'dense', units: 3 }, { type: 'activation', fn: 'softmax' }],
    }).init(1);
    const w = m.tensor('conv1.weight');
    const free: number[] = [];
    for (let o = 0; o < 4; o++) for (let c = 0; c < 3; c++) if (table[c][o]) for (let k = 0; k < 9; k++) free.push(w[(o * 3 + c) * 9 + k]);
    expect(free).toHaveLength(72);
    const pixels = Uint8Array.from({ length: 4 * 108 }, (_, i) => (i * 37) % 256);
    const rec = new HealthRecorder(m, pixels, [0, 1, 2, 3]).finish(1);
    const conv = rec.layers.find((l) => l.name === 'conv1')!;
    expect(conv.weight!.count + conv.bias!.count).toBe(72 + 4);
    expect(conv.weight!.histogram.counts.reduce((a, b) => a + b, 0)).toBe(72);
    const ref = reference(free, conv.weight!.histogram.edges);
    expect(conv.weight!.mean).toBeCloseTo(ref.mean, 10);
    expect(conv.weight!.histogram.counts).toEqual(ref.counts);
    expect(conv.weight!.min).toBe(ref.min);
    expect(m.parameterCount).toBe(72 + 4 + 3 * 64 + 3);
  });

  it('LeNet-5: weight and bias counts add up to its 60,806 free parameters (conv2: 1,500 + 16)', () => {
    const m = model(lenet5Spec({ act: 'relu', bn: false })).init(1);
    const rec = new HealthRecorder(m, new Uint8Array(2 * 784), [0, 1]).finish(1);
    const counts = rec.layers.filter((l) => l.weight).map((l) => [l.name, l.weight!.count, l.bias!.count]);
    expect(counts).toContainEqual(['conv2', 1500, 16]);
    expect(counts.reduce((a, [, w, b]) => a + (w as number) + (b as number), 0)).toBe(60_806);
  });

  it('averages gradient norms and ‖Δw‖/‖w‖ over the steps; dead ReLUs from a forward pass computed here', () => {
    const m = model({
      input: [1, 2, 2],
      loss: 'cross-entropy',
      layers: [
        { type: 'flatten' },
        { type: 'dense', units: 5 },
        { type: 'activation', fn: 'relu' },
        { type: 'dense', units: 2 },
        { type: 'activation', fn: 'softmax' },
      ],
    }).init(4);
    const W = m.tensor('fc1.weight'); // [5, 4]
    const B = m.tensor('fc1.bias');
    const r = rand(9);
    W.set(Float32Array.from({ length: 20 }, r));
    // Units 0 and 3 can never fire on non-negative inputs: negative weights and bias.
    for (const u of [0, 3]) {
      for (let i = 0; i < 4; i++) W[u * 4 + i] = -Math.abs(W[u * 4 + i]);
      B[u] = -0.1;
    }
    B[1] = 0.2;
    const pixels = Uint8Array.from({ length: 3 * 4 }, (_, i) => (i * 53) % 256);
    // Measured on every 2nd step: steps 0 and 2 of 4.
    const rec = new HealthRecorder(m, pixels, [0, 1, 2], 2);
    // Four "steps": known gradients and known updates.
    const norms: number[] = [];
    const ratios: number[] = [];
    for (const step of [0, 1, 2, 3]) {
      const before = Float64Array.from(W);
      const g = m.grad('fc1.weight');
      for (let i = 0; i < 20; i++) g[i] = (i - 10 + step) / 7;
      for (let i = 0; i < 20; i++) W[i] -= 0.01 * (step + 1) * g[i];
      norms.push(Math.sqrt(Array.from(g).reduce((a, x) => a + x * x, 0)));
      let d = 0;
      let n = 0;
      for (let i = 0; i < 20; i++) {
        d += (W[i] - before[i]) ** 2;
        n += before[i] ** 2;
      }
      ratios.push(Math.sqrt(d) / Math.sqrt(n));
      rec.afterStep();
    }
    const h = rec.finish(1);
    const fc1 = h.layers.find((l) => l.name === 'fc1')!;
    expect(h.steps).toBe(2);
    expect(fc1.grad!.norm).toBeCloseTo((norms[0] + norms[2]) / 2, 5);
    expect(fc1.updateToWeight).toBeCloseTo((ratios[0] + ratios[2]) / 2, 5);
    expect(ratios[2]).toBeGreaterThan(2 * ratios[0]); // the steps differ, so the choice of steps shows
    // The ReLU's output, computed here: relu(W·x + b) for each probe image.
    let dead = 0;
    const out: number[] = [];
    for (let u = 0; u < 5; u++) {
      let fired = false;
      for (let s = 0; s < 3; s++) {
        let y = B[u];
        for (let i = 0; i < 4; i++) y += W[u * 4 + i] * (pixels[s * 4 + i] / 255);
        out.push(Math.max(0, y));
        if (y > 0) fired = true;
      }
      if (!fired) dead++;
    }
    const act = h.layers.find((l) => l.kind === 'activation' && l.fn === 'relu')!;
    expect(dead).toBeGreaterThanOrEqual(2);
    expect(act.deadFraction).toBe(dead / 5);
    expect(act.activation.count).toBe(15);
    expect(act.activation.mean).toBeCloseTo(out.reduce((a, x) => a + x, 0) / 15, 5);
    // Per step, not per epoch: the next epoch's averages start again.
    expect(rec.finish(2).steps).toBe(0);
  });

  it('tanh saturation and batch-norm running statistics', () => {
    const m = model({
      input: [1, 1, 3],
      loss: 'mse',
      layers: [
        { type: 'flatten' },
        { type: 'dense', units: 4 },
        { type: 'batchnorm' },
        { type: 'activation', fn: 'tanh' },
        { type: 'dense', units: 2 },
        { type: 'activation', fn: 'tanh' },
      ],
    }).init(2);
    m.tensor('bn1.running_mean').set([0.5, -1, 2, 0]);
    m.tensor('bn1.running_var').set([1, 4, 0.25, 9]);
    m.tensor('fc2.weight').fill(20);
    const pixels = Uint8Array.from([255, 200, 180, 10, 0, 30]);
    const h = new HealthRecorder(m, pixels, [0, 1]).finish(1);
    const bn = h.layers.find((l) => l.kind === 'batchnorm')!;
    expect(bn.runningMean).toEqual([0.5, -1, 2, 0]);
    expect(bn.runningVar).toEqual([1, 4, 0.25, 9]);
    const acts = h.layers.filter((l) => l.fn === 'tanh');
    // Recount the saturated outputs from the recorded histogram's own data: |y| > 0.97.
    const outputs = m.layerOutputs(
      Float32Array.from(pixels, (p) => p / 255),
      2,
      false,
    );
    for (const a of acts) {
      const y = Array.from(outputs.find((o) => o.name === a.name)!.data.subarray(0, a.activation.count));
      expect(a.saturatedFraction).toBe(y.filter((v) => Math.abs(v) > 0.97).length / y.length);
    }
    expect(acts[1].saturatedFraction).toBeGreaterThan(0.5);
  });
});

describe('healthFlags', () => {
  const layer = (name: string, extra: object): EpochHealth['layers'][number] => ({ name, kind: 'dense', activation: stats([0]), ...extra });
  const grad = (norm: number) => ({ ...stats([0]), norm });

  it('raises each kind on a record made to show it, with the epoch and the layer', () => {
    const epochs: EpochHealth[] = [
      {
        epoch: 1,
        steps: 10,
        layers: [layer('fc1', { grad: grad(1), updateToWeight: 1e-3 }), layer('act1', { kind: 'activation', fn: 'relu', deadFraction: 0.2 })],
      },
      {
        epoch: 2,
        steps: 10,
        resumed: true,
        layers: [
          layer('fc1', { grad: grad(500), updateToWeight: 0.5 }),
          layer('fc2', { grad: grad(1e-4), updateToWeight: 1e-3 }),
          layer('act1', { kind: 'activation', fn: 'relu', deadFraction: 0.8 }),
          layer('act2', { kind: 'activation', fn: 'tanh', saturatedFraction: 0.9 }),
        ],
      },
    ];
    const metrics = [
      { epoch: 1, trainLoss: 1, lr: 0.1 },
      { epoch: 2, trainLoss: 0.999, lr: 0.01 },
      { epoch: 3, trainLoss: 0.995, lr: 0.01 },
    ];
    const flags = healthFlags(epochs, metrics).map((f) => [f.epoch, f.layer, f.kind]);
    expect(flags).toEqual([
      [2, null, 'resume'],
      [2, null, 'lr-jump'],
      [2, 'fc1', 'exploding-gradient'],
      [2, 'fc1', 'update-ratio'],
      [2, 'fc2', 'vanishing-gradient'],
      [2, 'act1', 'dead-relu'],
      [2, 'act2', 'saturated'],
      [3, null, 'loss-plateau'],
    ]);
    expect(healthFlags(epochs.slice(0, 1), metrics.slice(0, 1))).toEqual([]);
  });

  it('a known-bad network raises dead-relu; another saturated tanh', () => {
    const relu = model(lenet5Spec({ act: 'relu', bn: false })).init(1);
    relu.tensor('conv1.bias').fill(-100); // no input in [0, 1] gets conv1's ReLUs over that
    const pixels = Uint8Array.from({ length: 4 * 784 }, (_, i) => (i * 29) % 256);
    const dead = healthFlags([new HealthRecorder(relu, pixels, [0, 1, 2, 3]).finish(1)], []);
    expect(dead.map((f) => [f.layer, f.kind])).toContainEqual(['act1', 'dead-relu']);

    const tanh = model(lenet5Spec({ act: 'tanh', bn: false })).init(1);
    const w = tanh.tensor('conv1.weight');
    for (let i = 0; i < w.length; i++) w[i] *= 100;
    const sat = healthFlags([new HealthRecorder(tanh, pixels, [0, 1, 2, 3]).finish(1)], []);
    expect(sat.map((f) => [f.layer, f.kind])).toContainEqual(['act1', 'saturated']);
  });
});
