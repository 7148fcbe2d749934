// Parity with PyTorch (test/fixtures/torch-golden): every layer's output and output gradient,
// the loss, every parameter gradient, the input gradient, and the parameters and BN running
// statistics after one SGD step (lr 0.1, decay 0.001 on weights, no momentum).

import { afterEach, describe, expect, it } from 'vitest';
import { lossGrad } from '../../../src/engine/loss';
import { Pool2D } from '../../../src/engine/layers/pool2d';
import { Model } from '../../../src/engine/model';
import { Sgd } from '../../../src/engine/optim';
import { LECUN_C3_TABLE, PRESETS } from '../../../src/engine/presets';
import { compareTensors } from '../../helpers/close';
import { loadGolden } from '../../helpers/golden';
import { testKernels } from '../../helpers/kernels';

const CASES = [
  ['lenet5-tanh-avg-mse', 'lenet5-tanh-mse'],
  ['lenet5-tanh-avg-mse-bn', 'lenet5-tanh-mse-bn'],
  ['lenet5-relu-max-ce', 'lenet5-relu-ce'],
  ['lenet5-relu-max-ce-bn', 'lenet5-relu-ce-bn'],
] as const;

function expectClose(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  const r = compareTensors(name, actual, expected);
  expect(r.ok, r.message).toBe(true);
}

/**
 * Where a max-pool window holds two values equal in float32 but not in the reference's float64
 * maths, the reference routed the gradient to the one that was larger in float64. Route ours the
 * same way (only between values equal to 1e-6), so everything downstream is comparable.
 */
function breakTiesLikeReference(model: Model, g: ReturnType<typeof loadGolden>, outs: { name: string; data: Float32Array }[]): number {
  let switched = 0;
  model.layers.forEach((layer, i) => {
    if (!(layer instanceof Pool2D) || layer.mode !== 'max') return;
    const x = outs[i - 1].data;
    const refGrad = g.layers.find((l) => l.name === model.layers[i - 1].name)!.grad_output.data;
    const { H, W, size, stride, OH, OW } = layer.geom;
    for (let o = 0; o < (x.length / (H * W)) * OH * OW; o++) {
      const w = layer.argmax[o];
      if (refGrad[w] !== 0) continue;
      const m = Math.floor(o / (OH * OW));
      const oh = Math.floor((o % (OH * OW)) / OW);
      const ow = o % OW;
      for (let a = 0; a < size; a++) {
        for (let b = 0; b < size; b++) {
          const j = m * H * W + (oh * stride + a) * W + ow * stride + b;
          if (j !== w && refGrad[j] !== 0 && Math.abs(x[j] - x[w]) <= 1e-6 * Math.abs(x[w])) {
            layer.argmax[o] = j;
            switched++;
          }
        }
      }
    }
  });
  return switched;
}

describe.each(CASES)('PyTorch parity: fixture %s = preset %s', (fixture, preset) => {
  const g = loadGolden(fixture);
  const labels = Uint8Array.from(g.labels);
  const n = labels.length;

  const built: Model[] = [];
  afterEach(() => {
    for (const m of built.splice(0)) m.dispose();
  });

  function loaded(): Model {
    const model = new Model(PRESETS[preset].spec, testKernels());
    built.push(model);
    const tensors = new Map([...g.params].filter(([k]) => !k.endsWith('num_batches_tracked')));
    model.loadTensors(tensors, fixture);
    return model;
  }

  it('uses the same C3 table', () => {
    expect(g.conventions.table).toEqual(LECUN_C3_TABLE);
  });

  // PyTorch reshapes between pool2 and fc1 without a module; our flatten layer is that reshape.
  const withoutFlatten = (m: Model): number[] => m.layers.flatMap((l, i) => (l.kind === 'flatten' ? [] : [i]));

  it('layer names and order match the reference', () => {
    const model = loaded();
    expect(withoutFlatten(model).map((i) => model.layers[i].name)).toEqual(g.layers.map((l) => l.name));
  });

  it('forward: every layer output and the loss', () => {
    const model = loaded();
    const outs = model.layerOutputs(g.input.data, n, true);
    const idx = withoutFlatten(model);
    g.layers.forEach((ref, i) => expectClose(`${ref.name}.output`, outs[idx[i]].data, ref.output.data));
    expect(model.lossSum(labels) / n).toBeCloseTo(g.loss, 5);
  });

  it('backward: every layer output gradient, every parameter gradient, the input gradient', () => {
    const model = loaded();
    const outs = model.layerOutputs(g.input.data, n, true);
    // A float32 tie is rare: more than a couple would mean the forward pass is off, not rounding.
    expect(breakTiesLikeReference(model, g, outs)).toBeLessThanOrEqual(2);
    model.zeroGrad();
    // Walk backward layer by layer (unfused) to see each layer's output gradient.
    const layers = model.layers;
    const ref = new Map(g.layers.map((l) => [l.name, l]));
    let dy: Float32Array = new Float32Array(n * model.classes);
    lossGrad(model.spec.loss, dy, outs[outs.length - 1].data, labels, n, model.classes);
    for (let i = layers.length - 1; i >= 0; i--) {
      const r = ref.get(layers[i].name);
      if (r) expectClose(`${r.name}.grad_output`, dy, r.grad_output.data);
      dy = layers[i].backward(dy, n, true);
    }
    expectClose('grad_input', dy, g.grad_input.data);
    for (const [name, ref] of g.grads) expectClose(`grad ${name}`, model.grad(name), ref.data);
  });

  it('model.backward (fused softmax+CE where it applies) gives the same gradients', () => {
    const model = loaded();
    breakTiesLikeReference(model, g, model.layerOutputs(g.input.data, n, true));
    model.zeroGrad();
    const dx = model.backward(labels, true);
    expectClose('grad_input', dx, g.grad_input.data);
    for (const [name, ref] of g.grads) expectClose(`grad ${name}`, model.grad(name), ref.data);
  });

  it('one SGD step (lr 0.1, decay 0.001) and BN running statistics', () => {
    const model = loaded();
    breakTiesLikeReference(model, g, model.layerOutputs(g.input.data, n, true));
    model.zeroGrad();
    model.backward(labels);
    new Sgd(model, { momentum: 0, decay: 0.001 }).step(0.1);
    for (const [name, ref] of g.params_after_step) {
      if (name.endsWith('num_batches_tracked')) continue;
      expectClose(`after step ${name}`, model.tensor(name), ref.data);
    }
  });
});
