// PGD, the targeted search and accuracy against ε, by their definitions: PGD stays in the ε-box
// and in [0, 1]; one PGD step of size ε from the image is FGSM; the random start is the seed's;
// the smallest-ε search returns an ε that succeeds with one `tol` below that fails; ε 0 is the
// clean accuracy.

import { describe, expect, it } from 'vitest';
import { Attacker, robustAccuracy } from '../../../src/engine/adversarial';
import { evaluate } from '../../../src/engine/evaluate';
import { PRESETS } from '../../../src/engine/presets';
import { loadGolden, type GoldenTensor } from '../../helpers/golden';
import { testModels } from '../../helpers/kernels';

const build = testModels();
const g = loadGolden('lenet5-relu-max-ce-bn');

function attacker(fixture = 'lenet5-relu-max-ce-bn', preset = 'lenet5-relu-ce-bn'): Attacker {
  const w = fixture === 'lenet5-relu-max-ce-bn' ? g : loadGolden(fixture);
  const model = build(PRESETS[preset].spec);
  model.loadTensors(new Map<string, GoldenTensor>([...w.params, ...w.params_after_step].filter(([k]) => !k.endsWith('num_batches_tracked'))), 'golden');
  return new Attacker(model);
}
const xs = g.input.data.slice(0, 4 * 784);
const labels = Uint8Array.from(g.labels);

describe('PGD', () => {
  it('stays within ε of the image and within [0, 1]', () => {
    const a = attacker();
    const eps = 0.1;
    const adv = a.attack(xs, labels, 4, { attack: 'pgd', eps, steps: 5, seed: 3 });
    let moved = 0;
    for (let i = 0; i < adv.length; i++) {
      expect(adv[i]).toBeGreaterThanOrEqual(0);
      expect(adv[i]).toBeLessThanOrEqual(1);
      expect(Math.abs(adv[i] - xs[i])).toBeLessThanOrEqual(eps + 1e-6);
      if (adv[i] !== xs[i]) moved++;
    }
    expect(moved).toBeGreaterThan(adv.length / 4);
  });

  it('one step of size ε without a random start is FGSM', () => {
    const a = attacker();
    const fgsm = a.attack(xs, labels, 4, { attack: 'fgsm', eps: 0.2 });
    const pgd = a.attack(xs, labels, 4, { attack: 'pgd', eps: 0.2, steps: 1, stepSize: 0.2, randomStart: false });
    expect(pgd).toEqual(fgsm);
  });

  it('draws its random start from the seed', () => {
    const a = attacker();
    const o = { attack: 'pgd', eps: 0.1, steps: 2 } as const;
    expect(a.attack(xs, labels, 4, { ...o, seed: 7 })).toEqual(a.attack(xs, labels, 4, { ...o, seed: 7 }));
    expect(a.attack(xs, labels, 4, { ...o, seed: 7 })).not.toEqual(a.attack(xs, labels, 4, { ...o, seed: 8 }));
  });

  it('raises the loss it climbs (untargeted) and lowers it towards a target', () => {
    const a = attacker();
    const x = xs.slice(0, 784);
    const loss = (img: Float32Array, c: number): number => {
      const y = a.model.forward(img, 1, false);
      return -Math.log(y[c]);
    };
    const up = a.attack(x, labels, 1, { attack: 'pgd', eps: 0.1, steps: 5, randomStart: false });
    expect(loss(up, labels[0])).toBeGreaterThan(loss(x, labels[0]));
    const down = a.attack(x, labels, 1, { attack: 'pgd', eps: 0.1, steps: 5, randomStart: false, target: 3 });
    expect(loss(down, 3)).toBeLessThan(loss(x, 3));
  });

  it('refuses options out of range', () => {
    const a = attacker();
    expect(() => a.attack(xs, labels, 1, { attack: 'fgsm', eps: 2 })).toThrow(/eps must be/);
    expect(() => a.attack(xs, labels, 1, { attack: 'pgd', eps: 0.1, steps: 0 })).toThrow(/steps must be/);
    expect(() => a.attack(xs, labels, 1, { attack: 'fgsm', eps: 0.1, target: 10 })).toThrow(/target must be/);
  });
});

describe('smallest ε that turns a digit into class c', () => {
  it('succeeds at the ε it returns and fails one tolerance below', () => {
    const a = attacker('lenet5-relu-max-ce', 'lenet5-relu-ce'); // one step trained: only some classes are in reach
    const x = xs.slice(0, 784);
    const before = a.predict(x, 1)[0];
    const tol = 1 / 256;
    const found = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => (before + d) % 10).map((t) => [t, a.smallestEps(x, t, { attack: 'fgsm' }, 1, tol)] as const);
    const [target, r] = found.find(([, f]) => f !== null) ?? [-1, null];
    expect(r).not.toBeNull();
    expect(r!.prediction).toBe(target);
    expect(r!.eps).toBeGreaterThan(0);
    expect(a.predict(a.attack(x, labels, 1, { attack: 'fgsm', eps: r!.eps, target }), 1)[0]).toBe(target);
    expect(a.predict(a.attack(x, labels, 1, { attack: 'fgsm', eps: r!.eps - tol, target }), 1)[0]).not.toBe(target);
    expect(a.smallestEps(x, before, { attack: 'fgsm' })!.eps).toBe(0);
  });
});

describe('accuracy against ε', () => {
  it('is the clean accuracy at ε 0 and falls under attack', () => {
    const a = attacker();
    const pixels = Uint8Array.from(xs, (v) => Math.round(v * 255));
    const data = { count: 4, pixels, labels, shape: [1, 28, 28] } as unknown as Parameters<typeof evaluate>[1];
    const clean = evaluate(a.model, data).accuracy;
    const r = robustAccuracy(a.model, data, [0, 0.3], { attack: 'fgsm' });
    expect(r[0]).toEqual({ eps: 0, accuracy: clean });
    expect(r[1].eps).toBe(0.3);
    expect(r[1].accuracy).toBeLessThanOrEqual(clean);
    expect(robustAccuracy(a.model, data, [0], { attack: 'fgsm' }, 2)[0].accuracy).toBe(evaluate(a.model, { ...data, count: 2 }).accuracy);
  });
});
