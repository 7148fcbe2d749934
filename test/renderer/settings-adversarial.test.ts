// The settings form's adversarial-training fields become the one setting (TrainSettings.adversarial)
// and are checked with LIMITS, each refused value under its own field.

import { describe, expect, it } from 'vitest';
import { toSettings, validateForm, type SettingsForm } from '../../src/renderer/src/stores/settings';

const base: SettingsForm = {
  epochs: 1,
  batchSize: 32,
  lr: 0.05,
  momentum: 0.9,
  decay: 0,
  schedule: 'constant',
  stepEvery: 5,
  stepGamma: 0.5,
  seed: 1,
  shuffle: true,
  limit: null,
  validation: null,
  adversarial: 'none',
  adversarialEps: 0.1,
  adversarialSteps: 7,
};

describe('adversarial training in the settings form', () => {
  it('none, FGSM and PGD become the setting', () => {
    expect(toSettings(base).adversarial).toBeUndefined();
    expect(toSettings({ ...base, adversarial: 'fgsm' }).adversarial).toEqual({ attack: 'fgsm', eps: 0.1 });
    expect(toSettings({ ...base, adversarial: 'pgd', adversarialSteps: 3 }).adversarial).toEqual({ attack: 'pgd', eps: 0.1, steps: 3 });
  });

  it('out-of-range values are refused under their field', () => {
    expect(validateForm({ ...base, adversarial: 'fgsm', adversarialEps: 0 }, null)).toEqual({ adversarialEps: 'a number above 0, at most 1' });
    expect(validateForm({ ...base, adversarial: 'pgd', adversarialSteps: 500 }, null)).toEqual({ adversarialSteps: 'a whole number from 1 to 100' });
    expect(validateForm({ ...base, adversarialEps: 5 }, null)).toEqual({}); // ignored while off
  });
});
