// Adversarial examples against PyTorch (test/fixtures/torch-explain, `adversarial`, made by its
// generate.py on the torch-golden weights after one step, in inference mode): each test image's
// own loss gradient, and FGSM images (untargeted, and targeted at (label + 3) mod 10) at three ε.
// A perturbed pixel may differ only where the gradient is too small for its sign to be meaningful
// (|∂L/∂x| below 1e-6 of the image's largest).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Attacker } from '../../../src/engine/adversarial';
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
const EPS = [0.05, 0.1, 0.2];

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
  label: number;
  target: number;
  loss_gradient: RawTensor;
  target_gradient: RawTensor;
  [k: string]: unknown;
}

/** Pixels of `actual` that differ from `expected` where the reference gradient is not negligible. */
function mismatches(actual: Float32Array, expected: Float32Array, grad: Float32Array): number[] {
  let gmax = 0;
  for (const g of grad) gmax = Math.max(gmax, Math.abs(g));
  const bad: number[] = [];
  for (let i = 0; i < actual.length; i++) if (Math.abs(actual[i] - expected[i]) > 1e-6 && Math.abs(grad[i]) >= 1e-6 * gmax) bad.push(i);
  return bad;
}

const build = testModels();

describe.each(CASES)('FGSM matches PyTorch: %s', (fixture, preset) => {
  const g = loadGolden(fixture);
  const ref = JSON.parse(readFileSync(fileURLToPath(new URL(`../../fixtures/torch-explain/${fixture}.json`, import.meta.url)), 'utf8')) as {
    adversarial: Case[];
  };

  function attacker(): Attacker {
    const model = build(PRESETS[preset].spec);
    const t = new Map<string, GoldenTensor>([...g.params, ...g.params_after_step].filter(([k]) => !k.endsWith('num_batches_tracked')));
    model.loadTensors(t, fixture);
    return new Attacker(model);
  }

  it.each(ref.adversarial.map((c) => [c.image, c.label, c] as const))('image %i (label %i)', (i, label, c) => {
    const a = attacker();
    const x = g.input.data.slice(i * 784, (i + 1) * 784);
    const want = (k: string): Float32Array => tensor(c[k] as RawTensor);
    const grad = want('loss_gradient');
    const tgrad = want('target_gradient');
    const mine = a.lossGradients(x, Uint8Array.of(label), 1).grads;
    let r = compareTensors('loss gradient', mine, grad, 1e-4, 1e-5);
    expect(r.ok, r.message).toBe(true);
    r = compareTensors('target loss gradient', a.lossGradients(x, Uint8Array.of(c.target), 1).grads, tgrad, 1e-4, 1e-5);
    expect(r.ok, r.message).toBe(true);
    for (const eps of EPS) {
      const adv = a.attack(x, Uint8Array.of(label), 1, { attack: 'fgsm', eps });
      expect(mismatches(adv, want(`fgsm_${eps}`), grad), `fgsm ε ${eps}`).toEqual([]);
      const tadv = a.attack(x, Uint8Array.of(label), 1, { attack: 'fgsm', eps, target: c.target });
      expect(mismatches(tadv, want(`fgsm_targeted_${eps}`), tgrad), `targeted fgsm ε ${eps}`).toEqual([]);
    }
  });
});
