// Adversarial training: on real digits, a short FGSM-trained run is more robust to FGSM at the
// trained ε than plain training with the same seed and data; the run resumes bit for bit from
// state(); two threads make the same adversarial examples as one; the setting parses and validates in LIMITS' words.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAdversarial, robustAccuracy } from '../../src/engine/adversarial';
import { limitSet } from '../../src/engine/data';
import { PRESETS } from '../../src/engine/presets';
import { Trainer } from '../../src/engine/train';
import { validateTrainConfig, type TrainConfig } from '../../src/engine/train-config';
import { adversarialSchema, trainConfigOf, trainSettingsSchema } from '../../src/common/settings';
import { loadMnist, type MnistData } from '../../src/node/datasets';
import { ParallelGradients } from '../../src/node/parallel/gradients';
import { testModels } from '../helpers/kernels';

const newModel = testModels();
let mnist: MnistData;
beforeAll(async () => {
  mnist = await loadMnist();
});
const pools: ParallelGradients[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

const preset = PRESETS['lenet5-relu-ce'];
const config = (adversarial: TrainConfig['adversarial'], epochs = 1): TrainConfig => ({
  ...preset.defaults,
  epochs,
  batchSize: 32,
  seed: 3,
  shuffle: true,
  adversarial,
});

function runToEnd(t: Trainer): void {
  while (!t.done) t.step();
}

describe('adversarial training', () => {
  it('raises FGSM accuracy at the trained ε over plain training (same seed and data)', () => {
    const train = limitSet(mnist.train, 3000);
    const eps = 0.1;
    const robust = (adversarial: TrainConfig['adversarial']): { clean: number; attacked: number } => {
      const m = newModel(preset.spec).init(3);
      runToEnd(new Trainer(m, train, config(adversarial)));
      const [clean, attacked] = robustAccuracy(m, mnist.test, [0, eps], { attack: 'fgsm' }, 1000);
      return { clean: clean.accuracy, attacked: attacked.accuracy };
    };
    const plain = robust(null);
    const adv = robust({ attack: 'fgsm', eps });
    expect(plain.clean).toBeGreaterThan(0.8); // both learnt to read digits
    expect(adv.clean).toBeGreaterThan(0.6);
    // Measured: plain 92.0 % clean, 53.0 % attacked; adversarial 85.5 % and 59.9 % (1,000 test images).
    expect(adv.attacked).toBeGreaterThan(plain.attacked + 0.04);
  });

  it('state()/restore() mid-epoch continues to bit-identical weights (PGD with its random starts)', () => {
    const train = limitSet(mnist.train, 192);
    const cfg = config({ attack: 'pgd', eps: 0.1, steps: 2 }, 2);
    const full = newModel(preset.spec).init(4);
    runToEnd(new Trainer(full, train, cfg));
    const m1 = newModel(preset.spec).init(4);
    const t1 = new Trainer(m1, train, cfg);
    for (let i = 0; i < 9; i++) t1.step(); // 6 batches, the epoch's end, 2 batches of epoch 2
    const m2 = newModel(preset.spec).init(99);
    const t2 = new Trainer(m2, train, cfg);
    m2.restore(m1.snapshot());
    t2.restore(t1.state());
    runToEnd(t2);
    expect(Array.from(m2.params)).toEqual(Array.from(full.params));
    // …and the attack changed the run.
    const plain = newModel(preset.spec).init(4);
    runToEnd(new Trainer(plain, train, config(null, 2)));
    expect(Array.from(plain.params)).not.toEqual(Array.from(full.params));
  });

  it('on two threads each shard attacks its share with the current weights: FGSM matches one thread closely', async () => {
    const train = limitSet(mnist.train, 64);
    const run = async (threads: number, adversarial: TrainConfig['adversarial']): Promise<Float32Array> => {
      const m = newModel(preset.spec).init(4);
      const p = await ParallelGradients.create(m, train, threads, 32);
      pools.push(p);
      runToEnd(new Trainer(m, train, config(adversarial), p));
      return m.params.slice();
    };
    const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((d, v, i) => Math.max(d, Math.abs(v - b[i])), 0);
    const fgsm = { attack: 'fgsm', eps: 0.1 } as const;
    const two = await run(2, fgsm);
    const one = await run(1, fgsm);
    const plain = await run(1, null);
    expect(maxDiff(two, one)).toBeLessThan(1e-5); // only the order of the gradient sums differs
    expect(maxDiff(one, plain)).toBeGreaterThan(1e-3);
  });

  it('the setting: fgsm:EPS or pgd:EPS:STEPS, checked against LIMITS everywhere', () => {
    expect(parseAdversarial('fgsm:0.1')).toEqual({ attack: 'fgsm', eps: 0.1 });
    expect(parseAdversarial('pgd:0.2:7')).toEqual({ attack: 'pgd', eps: 0.2, steps: 7 });
    expect(() => parseAdversarial('pgd:0.2')).toThrow(/fgsm:EPS or pgd:EPS:STEPS/);
    expect(() => parseAdversarial('fgsm:0')).toThrow(/ε must be a number above 0, at most 1/);
    expect(() => parseAdversarial('pgd:0.1:0')).toThrow(/PGD steps must be a whole number from 1 to 100/);
    expect(() => adversarialSchema.parse({ attack: 'pgd', eps: 0.1 }, 'adversarial')).toThrow();
    expect(() => adversarialSchema.parse({ attack: 'fgsm', eps: 0.1, steps: 3 }, 'adversarial')).toThrow();
    const s = trainSettingsSchema.parse({ ...preset.defaults, adversarial: { attack: 'pgd', eps: 0.1, steps: 3 } }, 'settings');
    expect(trainConfigOf(s).adversarial).toEqual({ attack: 'pgd', eps: 0.1, steps: 3 });
    expect(() => validateTrainConfig(config({ attack: 'fgsm', eps: 2 }))).toThrow(/adversarial ε/);
  });
});
