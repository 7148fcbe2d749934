// Single-image inspection with the engine: every layer's output, class scores, and saliency
// against central finite differences of the score it claims to differentiate; the Model view's
// per-layer facts against the model's own totals.

import { describe, expect, it } from 'vitest';
import { Model } from '../../src/engine/model';
import { Rng } from '../../src/engine/rng';
import { LECUN_C3_TABLE, lenet5Spec } from '../../src/engine/presets';
import { Inspector, describeLayers } from '../../src/renderer/src/lib/inspector';
import { randomArray } from '../helpers/gradcheck';
import { jsKernels } from '../../src/engine/kernels/js/backend';
import { testKernels } from '../helpers/kernels';

function inspectorFor(act: 'tanh' | 'relu', bn: boolean, seed: number): Inspector {
  const m = new Model(lenet5Spec({ act, bn }), jsKernels).init(seed);
  // Non-trivial running statistics, so inference-mode batch norm is not the identity.
  if (bn) {
    for (const e of m.index) {
      if (e.store === 'buffer') {
        m.tensor(e.name).set(randomArray(new Rng(seed + 7), e.length, -0.5, 0.5).map((v) => (e.local === 'running_var' ? 1 + Math.abs(v) : v)));
      }
    }
  }
  const { params, buffers } = m.snapshot();
  return new Inspector({ spec: m.spec, params, buffers }, testKernels());
}

function input(seed: number): Float32Array {
  return randomArray(new Rng(seed), 784, 0, 1);
}

describe('Inspector.inspect', () => {
  it('lenet5-relu-ce-bn: one output per layer but flatten, same as the model, scores sum to 1', () => {
    const ins = inspectorFor('relu', true, 3);
    const x = input(1);
    const r = ins.inspect(x);
    const names = ins.model.layers.filter((l) => l.kind !== 'flatten').map((l) => l.name);
    expect(r.activations.map((a) => a.name)).toEqual(names);
    const ref = ins.model.layerOutputs(x, 1, false);
    for (const a of r.activations) {
      const o = ref.find((q) => q.name === a.name)!;
      expect(Array.from(a.data)).toEqual(Array.from(o.data.subarray(0, a.data.length)));
      expect(a.min).toBe(Math.min(...a.data));
      expect(a.max).toBe(Math.max(...a.data));
    }
    expect(r.scores.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    expect(r.predicted).toBe(r.scores.indexOf(Math.max(...r.scores)));
  });

  for (const [act, bn] of [
    ['tanh', false],
    ['tanh', true],
    ['relu', true],
  ] as const) {
    it(`saliency of lenet5-${act}${bn ? '-bn' : ''} matches central differences on 24 pixels`, () => {
      const ins = inspectorFor(act, bn, 11);
      const x = input(5);
      const r = ins.inspect(x);
      const c = r.predicted;
      // The score differentiated: log p_c through a softmax, the tanh output y_c otherwise.
      const score = (v: Float32Array): number => {
        const y = ins.model.forward(v, 1, false);
        return act === 'relu' ? Math.log(y[c]) : y[c];
      };
      // Small steps for ReLU/max pooling, so few differences straddle a kink.
      const eps = act === 'relu' ? 1e-3 : 1e-2;
      let checked = 0;
      for (let k = 0; k < 24; k++) {
        const i = 150 + k * 23;
        const xp = x.slice();
        const xm = x.slice();
        xp[i] += eps;
        xm[i] -= eps;
        const fd = (score(xp) - score(xm)) / (2 * eps);
        expect(Math.abs(r.saliency[i] - fd), `pixel ${i}: analytic ${r.saliency[i]}, numeric ${fd}`).toBeLessThan(2e-3 + 0.05 * Math.abs(fd));
        checked++;
      }
      expect(checked).toBe(24);
      expect(r.saliency.some((v) => v !== 0)).toBe(true);
    });
  }

  it('inspecting twice gives the same answer (no state leaks between digits)', () => {
    const ins = inspectorFor('relu', true, 4);
    const a = ins.inspect(input(8));
    ins.inspect(input(9));
    const b = ins.inspect(input(8));
    expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
    expect(Array.from(b.saliency)).toEqual(Array.from(a.saliency));
  });

  it('refuses an input of the wrong size', () => {
    expect(() => inspectorFor('tanh', false, 1).inspect(new Float32Array(100))).toThrow(/784 input values, got 100/);
  });

  it('conv weights come with the C3 mask', () => {
    const [c1, c2] = inspectorFor('tanh', false, 2).convWeights();
    expect(c1).toMatchObject({ layer: 'conv1', out: 6, in: 1, kh: 5, kw: 5, mask: null });
    expect(c2).toMatchObject({ layer: 'conv2', out: 16, in: 6 });
    expect(c2.mask!.reduce((a, v) => a + v, 0)).toBe(60);
    // Masked kernels are zero.
    for (let o = 0; o < 16; o++) {
      for (let c = 0; c < 6; c++) {
        if (!LECUN_C3_TABLE[c][o]) expect(c2.weight.subarray((o * 6 + c) * 25, (o * 6 + c + 1) * 25).every((v) => v === 0)).toBe(true);
      }
    }
  });
});

describe('describeLayers', () => {
  it('lenet5-tanh-mse: totals equal the model’s, C3 has the 6×16 table', () => {
    const spec = lenet5Spec({ act: 'tanh', bn: false });
    const facts = describeLayers(spec);
    const model = new Model(spec, jsKernels);
    expect(facts.map((f) => f.name)).toEqual(model.layers.map((l) => l.name));
    expect(facts.reduce((a, f) => a + f.params, 0)).toBe(model.parameterCount);
    expect(facts.reduce((a, f) => a + f.macs, 0)).toBe(model.macs);
    const conv2 = facts.find((f) => f.name === 'conv2')!;
    expect(conv2.table).toEqual(LECUN_C3_TABLE);
    expect(conv2.params).toBe(60 * 25 + 16);
    expect(conv2.detail).toBe('16 filters 5×5, connection table');
    expect(facts.find((f) => f.name === 'conv1')!.detail).toBe('6 filters 5×5, padding 2');
  });
});

describe('Inspector.convBreakdown', () => {
  // conv1 reads the (padded) digit, conv2 reads pooled maps through LeCun's C3 table.
  for (const [act, bn] of [
    ['relu', true],
    ['tanh', false],
  ] as const) {
    it(`lenet5-${act}${bn ? '-bn' : ''}: patch × kernel summed + bias is the engine's output, at corners, edges and inside`, () => {
      const ins = inspectorFor(act, bn, 21);
      const r = ins.inspect(input(9));
      let checked = 0;
      for (const a of r.activations.filter((q) => q.kind === 'conv2d')) {
        const [O, OH, OW] = a.shape;
        for (const [m, y, x] of [
          [0, 0, 0],
          [O - 1, OH - 1, OW - 1],
          [1, 0, OW - 1],
          [O >> 1, OH >> 1, OW >> 1],
          [2, 3, 1],
        ]) {
          const b = ins.convBreakdown(r, a.name, m, y, x);
          const engine = a.data[(m * OH + y) * OW + x];
          // Recomputed by hand from the breakdown's own numbers: the products, their sum, + bias.
          let products = 0;
          b.patches.forEach((p, i) => p.forEach((v, k) => (products += v * b.weights[i][k])));
          expect(b.sum).toBeCloseTo(products, 10);
          expect(b.value).toBe(b.sum + b.bias);
          expect(Math.abs(b.value - engine)).toBeLessThan(1e-5 * Math.max(1, Math.abs(engine)));
          checked++;
        }
      }
      expect(checked).toBe(10);
    });
  }

  it('lists only the input maps the C3 table connects, and zero padding as zeros', () => {
    const ins = inspectorFor('relu', false, 4);
    const r = ins.inspect(input(2));
    const conv2 = ins.convWeights().find((k) => k.layer === 'conv2')!;
    const b = ins.convBreakdown(r, 'conv2', 0, 2, 2);
    const connected = Array.from({ length: conv2.in }, (_, c) => c).filter((c) => !conv2.mask || conv2.mask[0 * conv2.in + c]);
    expect(b.channels).toEqual(connected);
    expect(b.channels.length).toBeLessThan(conv2.in);
    const conv1 = ins.model.layers.find((l) => l.name === 'conv1') as unknown as { geom: { pad: number } };
    if (conv1.geom.pad > 0) {
      const c = ins.convBreakdown(r, 'conv1', 0, 0, 0);
      expect(c.inPadding[0]).toBe(1);
      expect(c.patches[0][0]).toBe(0);
    }
    expect(() => ins.convBreakdown(r, 'pool1', 0, 0, 0)).toThrow(/not a convolution/);
  });

  it('per-layer statistics: min, max, mean and the share of zeros', () => {
    const ins = inspectorFor('relu', false, 4);
    const r = ins.inspect(input(2));
    for (const a of r.activations) {
      const xs = Array.from(a.data);
      expect(a.mean).toBeCloseTo(xs.reduce((s, v) => s + v, 0) / xs.length, 5);
      expect(a.zeros).toBe(xs.filter((v) => v === 0).length / xs.length);
    }
    expect(r.activations.find((a) => a.kind === 'activation')!.zeros).toBeGreaterThan(0);
  });
});
