// The embedding (what the output layer reads): against a hand computation on a tiny network, and
// against the inspector's per-layer activations (Model.layerOutputs, one image at a time) on
// LeNet-5 and the MLP preset, with batch sizes that do not divide the image count.

import { describe, expect, it } from 'vitest';
import { embed, embeddingSize } from '../../../src/engine/embedding';
import { SpecError } from '../../../src/engine/errors';
import { PRESETS } from '../../../src/engine/presets';
import { Rng } from '../../../src/engine/rng';
import type { ModelSpec } from '../../../src/engine/spec';
import { testModels } from '../../helpers/kernels';

const newModel = testModels();

function randomPixels(count: number, size: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const p = new Uint8Array(count * size);
  for (let i = 0; i < p.length; i++) p[i] = Math.floor(rng.next() * 256);
  return p;
}

describe('embed', () => {
  it('is the hidden dense layer after batch norm and ReLU, computed by hand', () => {
    // 4 inputs → dense 3 → batch norm → ReLU → dense 2 → softmax
    const spec: ModelSpec = {
      input: [1, 2, 2],
      loss: 'cross-entropy',
      layers: [
        { type: 'flatten' },
        { type: 'dense', units: 3 },
        { type: 'batchnorm', eps: 0.01 },
        { type: 'activation', fn: 'relu' },
        { type: 'dense', units: 2 },
        { type: 'activation', fn: 'softmax' },
      ],
    };
    const m = newModel(spec);
    const W = [
      [1, -2, 0.5, 0],
      [0, 1, 1, -1],
      [-1, 0.25, 0, 2],
    ];
    const b = [0.1, -0.2, 0.3];
    const gamma = [2, 0.5, 1];
    const beta = [0, 1, -0.5];
    const mean = [0.2, 0.1, -0.1];
    const variance = [4, 0.25, 1];
    const names = m.index.map((e) => e.name);
    const set = (i: number, v: number[]): void => m.tensor(names[i]).set(v);
    set(0, W.flat());
    set(1, b);
    set(2, gamma);
    set(3, beta);
    set(4, mean);
    set(5, variance);
    // (output layer weights do not matter for the embedding)
    const pixels = new Uint8Array([0, 255, 51, 102, 255, 0, 0, 255, 128, 128, 128, 128]);
    expect(embeddingSize(m)).toBe(3);
    const got = embed(m, pixels, 3, { batchSize: 2 });
    expect(got.length).toBe(9);
    for (let s = 0; s < 3; s++) {
      const x = [...pixels.subarray(s * 4, s * 4 + 4)].map((v) => v / 255);
      for (let o = 0; o < 3; o++) {
        const z = W[o].reduce((a, w, i) => a + w * x[i], b[o]);
        const y = Math.max(0, gamma[o] * ((z - mean[o]) / Math.sqrt(variance[o] + 0.01)) + beta[o]);
        expect(got[s * 3 + o]).toBeCloseTo(y, 5);
      }
    }
    // indices pick images in the order given
    const picked = embed(m, pixels, 3, { indices: [2, 0] });
    expect([...picked]).toEqual([...got.subarray(6, 9), ...got.subarray(0, 3)]);
  });

  for (const preset of ['lenet5-relu-ce-bn', 'lenet5-tanh-mse', 'mlp-500-150']) {
    it(`${preset}: equals the inspector's activations of the layer before the output layer`, () => {
      const m = newModel(PRESETS[preset].spec).init(7);
      const size = 28 * 28;
      const count = 7;
      const pixels = randomPixels(count, size, 3);
      const dim = preset.startsWith('mlp') ? 150 : 84;
      expect(embeddingSize(m)).toBe(dim);
      const progress: number[] = [];
      const got = embed(m, pixels, count, { batchSize: 3, progress: (d) => progress.push(d) });
      expect(progress).toEqual([3, 6, 7]);
      // The layer whose output the last dense layer reads, by name.
      const lastDense = m.layers.map((l) => l.kind).lastIndexOf('dense');
      const before = m.layers[lastDense - 1].name;
      for (let s = 0; s < count; s++) {
        const x = new Float32Array(size);
        for (let i = 0; i < size; i++) x[i] = pixels[s * size + i] / 255;
        const outs = m.layerOutputs(x, 1, false);
        const want = outs.find((o) => o.name === before)!.data;
        expect(want.length).toBe(dim);
        for (let j = 0; j < dim; j++) expect(got[s * dim + j]).toBeCloseTo(want[j], 5);
      }
    });
  }

  it('refuses a network with no hidden dense layer', () => {
    const m = newModel({
      input: [1, 2, 2],
      loss: 'cross-entropy',
      layers: [{ type: 'flatten' }, { type: 'dense', units: 2 }, { type: 'activation', fn: 'softmax' }],
    });
    expect(() => embed(m, new Uint8Array(4), 1)).toThrow(SpecError);
  });
});
