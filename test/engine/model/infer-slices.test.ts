// Model.inferPixels runs a large batch in slices of INFER_SLICE images, with a convolution or batch
// norm and the layers after it fused into one pass: its outputs must be bit for bit those of one
// forward pass over the whole batch, layer by layer, whatever the batch's size and the network.

import { describe, expect, it } from 'vitest';
import { INFER_SLICE, type Model } from '../../../src/engine/model';
import { PRESETS } from '../../../src/engine/presets';
import { Rng } from '../../../src/engine/rng';
import type { ModelSpec } from '../../../src/engine/spec';
import { testModels } from '../../helpers/kernels';

const newModel = testModels();

/**
 * Batch norm's statistics and affine parameters away from init's (mean 0, variance 1, γ 1, β 0),
 * some γ negative, so that a fused normalisation that drops or reorders a term shows.
 */
function perturbBatchNorm(m: Model, seed: number): void {
  const rng = new Rng(seed);
  for (const e of m.index) {
    if (!e.layer.startsWith('bn')) continue;
    const a = e.store === 'param' ? m.params : m.buffers;
    for (let i = e.offset; i < e.offset + e.length; i++) {
      const u = rng.uniform(0, 1);
      a[i] = e.local === 'running_var' ? 0.05 + 3 * u : e.local === 'weight' ? 2 * u - 0.5 : u - 0.5;
    }
  }
}

/**
 * Networks whose fusions the presets do not cover: sigmoid; a stride-2 convolution (im2col, not
 * the direct kernels) with an activation of its own; a direct convolution onto 3×3 maps (batch
 * norm in f64) with ReLU; a batch norm after a dense layer with sigmoid.
 */
const OTHERS: Record<string, ModelSpec> = {
  'conv-bn-sigmoid, stride 2, small maps': {
    input: [1, 28, 28],
    init: 'kaiming-uniform',
    loss: 'cross-entropy',
    layers: [
      { type: 'conv2d', filters: 4, kernel: 5, padding: 2 },
      { type: 'batchnorm' },
      { type: 'activation', fn: 'sigmoid' },
      { type: 'conv2d', filters: 6, kernel: 3, stride: 2 },
      { type: 'activation', fn: 'tanh' },
      { type: 'pool2d', mode: 'max', size: 2 },
      { type: 'conv2d', filters: 5, kernel: 4 },
      { type: 'batchnorm' },
      { type: 'activation', fn: 'relu' },
      { type: 'flatten' },
      { type: 'dense', units: 10 },
      { type: 'batchnorm' },
      { type: 'activation', fn: 'sigmoid' },
      { type: 'dense', units: 10 },
      { type: 'activation', fn: 'softmax' },
    ],
  },
};

const SPECS: Record<string, unknown> = {
  ...Object.fromEntries(['lenet5-relu-ce-bn', 'lenet5-tanh-mse-bn', 'lenet5-tanh-mse', 'mlp-500-150'].map((p) => [p, PRESETS[p].spec])),
  ...OTHERS,
};

describe('Model.inferPixels', () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    for (const n of [1, INFER_SLICE, INFER_SLICE + 1, 5 * INFER_SLICE + 7]) {
      it(`${name}, ${n} images: the outputs of one whole-batch forward pass, bit for bit`, () => {
        const m = newModel(spec).init(3);
        perturbBatchNorm(m, 5);
        const rng = new Rng(7);
        const pixels = Uint8Array.from({ length: 200 * 784 }, () => rng.int(256));
        // Images out of order, one repeated: the slices must follow the indices, not positions.
        const idx = Uint32Array.from({ length: n }, (_, i) => (i * 37 + 11) % 200);
        if (n > 2) idx[n - 1] = idx[0];
        const sliced = m.inferPixels(pixels, idx, n).slice();
        const whole = m.forwardPixels(pixels, idx, n, false).slice();
        expect(sliced.length).toBe(n * m.classes);
        expect(whole.every(Number.isFinite)).toBe(true);
        expect(Buffer.from(sliced.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
      });
    }
  }

  it('leaves a model whose forward and backward work as before', () => {
    const m = newModel(PRESETS['lenet5-relu-ce-bn'].spec).init(3);
    perturbBatchNorm(m, 5);
    const pixels = Uint8Array.from({ length: 4 * 784 }, (_, i) => (i * 13) % 256);
    const idx = Uint32Array.from([0, 1, 2, 3]);
    const labels = Uint8Array.from([1, 2, 3, 4]);
    const before = m.forwardPixels(pixels, idx, 4, true).slice();
    m.zeroGrad();
    m.backward(labels);
    const grads = m.grads.slice();
    const params = m.params.slice();
    const buffers = m.buffers.slice();
    m.inferPixels(pixels, idx, 4);
    expect(m.params).toEqual(params);
    expect(m.buffers).toEqual(buffers);
    expect(m.forwardPixels(pixels, idx, 4, true)).toEqual(before);
    m.zeroGrad();
    m.backward(labels);
    expect(m.grads).toEqual(grads);
  });
});
