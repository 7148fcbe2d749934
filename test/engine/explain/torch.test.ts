// Attributions against PyTorch (test/fixtures/torch-explain, made by its generate.py from the
// torch-golden weights after one step, in inference mode): the input gradient of the target's
// pre-non-linearity score, gradient × input, integrated gradients (black and blurred baselines,
// 16 steps), the blurred baseline itself, occlusion (two patch/stride/baseline settings) and
// Grad-CAM on both convolutions.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Explainer } from '../../../src/engine/explain';
import { PRESETS } from '../../../src/engine/presets';
import { compareTensors } from '../../helpers/close';
import { loadGolden, type GoldenTensor } from '../../helpers/golden';
import { testModels } from '../../helpers/kernels';

const CASES = [
  ['lenet5-tanh-avg-mse', 'lenet5-tanh-mse'],
  ['lenet5-tanh-avg-mse-bn', 'lenet5-tanh-mse-bn'],
  ['lenet5-relu-max-ce', 'lenet5-relu-ce'],
  ['lenet5-relu-max-ce-bn', 'lenet5-relu-ce-bn'],
] as const;

interface RawTensor {
  shape: number[];
  f32le_base64: string;
}

function tensor(t: RawTensor): Float32Array {
  const buf = Buffer.from(t.f32le_base64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

interface Case {
  image: number;
  target: number;
  score: number;
  baselineScore: { black: number; blur: number };
  [k: string]: unknown;
}

function expectClose(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-4, atol = 1e-5): void {
  const r = compareTensors(name, actual, expected, rtol, atol);
  expect(r.ok, r.message).toBe(true);
}

const build = testModels();

describe.each(CASES)('attributions match PyTorch: %s', (fixture, preset) => {
  const g = loadGolden(fixture);
  const ref = JSON.parse(readFileSync(fileURLToPath(new URL(`../../fixtures/torch-explain/${fixture}.json`, import.meta.url)), 'utf8')) as { cases: Case[] };

  function explainer(): Explainer {
    const model = build(PRESETS[preset].spec);
    const t = new Map<string, GoldenTensor>([...g.params, ...g.params_after_step].filter(([k]) => !k.endsWith('num_batches_tracked')));
    model.loadTensors(t, fixture);
    return new Explainer(model);
  }
  const image = (i: number): Float32Array => g.input.data.slice(i * 784, (i + 1) * 784);

  it.each(ref.cases.map((c) => [c.image, c.target, c] as const))('image %i, target %i', (i, target, c) => {
    const ex = explainer();
    const x = image(i);
    const want = (k: string): Float32Array => tensor(c[k] as RawTensor);
    const grad = ex.explain('gradient', x, target);
    expect(grad.score).toBeCloseTo(c.score, 5);
    expectClose('gradient', grad.attributions, want('gradient'));
    expectClose('gradxinput', ex.explain('gradxinput', x, target).attributions, want('gradxinput'));
    expectClose('blur', ex.baselineOf(x, 'blur'), want('blur'), 1e-5, 1e-6);
    for (const b of ['black', 'blur'] as const) {
      const ig = ex.explain('ig', x, target, { steps: 16, baseline: b });
      expect(ig.baselineScore).toBeCloseTo(c.baselineScore[b], 5);
      expectClose(`ig ${b}`, ig.attributions, want(`ig_${b}_16`));
    }
    // Occlusion differences of scores: float32 rounding of each score, so an absolute floor.
    expectClose(
      'occlusion black 4/2',
      ex.explain('occlusion', x, target, { patch: 4, stride: 2, baseline: 'black' }).attributions,
      want('occlusion_black_4_2'),
      1e-3,
      2e-6,
    );
    expectClose(
      'occlusion blur 5/3',
      ex.explain('occlusion', x, target, { patch: 5, stride: 3, baseline: 'blur' }).attributions,
      want('occlusion_blur_5_3'),
      1e-3,
      2e-6,
    );
    for (const layer of ['conv1', 'conv2']) expectClose(`gradcam ${layer}`, ex.explain('gradcam', x, target, { layer }).attributions, want(`gradcam_${layer}`));
  });
});
