// One table of limits: the schema IPC and run.json use, the form's problems, the CLI's flags and
// the engine's last check must accept and refuse exactly the same values, at every edge.

import { describe, expect, it } from 'vitest';
import { PRESETS } from '../../src/engine/presets';
import { LIMITS, validateTrainConfig, type Range } from '../../src/engine/train-config';
import { check, ValidationError } from '../../src/common/schema';
import { settingsProblems, splitOf, trainConfigOf, trainSettingsSchema, type TrainSettings } from '../../src/common/settings';
import { UsageError, settingsFromFlags, type HyperFlags } from '../../src/node/cli/common';
import { storedRunConfigSchema } from '../../src/node/runs/layout';

const BASE: TrainSettings = { ...PRESETS['lenet5-relu-ce'].defaults, seed: 1, shuffle: true };

/** Values on and around a range's edges, and ones no range accepts. */
function probes(r: Range): number[] {
  const eps = r.int ? 1 : Math.max(1e-9, (r.max - r.min) * 1e-6);
  const v = [r.min, r.min - eps, r.min + eps, r.max, r.max + eps, r.max - eps, (r.min + r.max) / 2, Number.NaN, Number.POSITIVE_INFINITY];
  if (r.int) v.push(r.min + 0.5);
  return v;
}

type Field = 'epochs' | 'batchSize' | 'lr' | 'momentum' | 'decay' | 'seed';
const FLAG: Record<Field, keyof HyperFlags> = { epochs: 'epochs', batchSize: 'batch', lr: 'lr', momentum: 'momentum', decay: 'decay', seed: 'seed' };

function accepts(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (e instanceof ValidationError || e instanceof UsageError || (e as { code?: string }).code === 'CONFIG_INVALID') return false;
    throw e;
  }
}

describe('the limits of every training setting agree everywhere', () => {
  const fields: Field[] = ['epochs', 'batchSize', 'lr', 'momentum', 'decay', 'seed'];
  it.each(fields)('%s: schema, form, CLI flag and engine accept the same values', (field) => {
    const range: Range = LIMITS[field];
    for (const value of probes(range)) {
      const s = { ...BASE, [field]: value };
      const schema = accepts(() => check(trainSettingsSchema, s, 'settings'));
      const form = settingsProblems(s, null)[field] === undefined;
      const flag = accepts(() => settingsFromFlags({ [FLAG[field]]: String(value) }, BASE));
      const engine = accepts(() => validateTrainConfig(trainConfigOf(s)));
      expect({ value, schema, form, flag, engine }).toEqual({ value, schema, form: schema, flag: schema, engine: schema });
    }
    // and the edges themselves are where the table says
    expect(accepts(() => check(trainSettingsSchema, { ...BASE, [field]: range.max }, 's'))).toBe(true);
    expect(accepts(() => check(trainSettingsSchema, { ...BASE, [field]: range.min }, 's'))).toBe(!range.above);
  });

  it('the words are the same: the form shows what the schema and the CLI say', () => {
    const form = settingsProblems({ ...BASE, batchSize: 5000 }, null).batchSize;
    expect(form).toBe('a whole number from 1 to 4,096');
    expect(() => check(trainSettingsSchema, { ...BASE, batchSize: 5000 }, 'settings')).toThrow(`settings: batchSize: expected ${form}, got 5000`);
    expect(() => settingsFromFlags({ batch: '5000' }, BASE)).toThrow(`--batch must be ${form}, got "5000"`);
    expect(() => validateTrainConfig(trainConfigOf({ ...BASE, batchSize: 5000 }))).toThrow(`batch size must be ${form}, got 5000`);
  });

  it('schedules and distortions are checked by the same table', () => {
    const step = { ...BASE, schedule: { type: 'step' as const, every: 0, gamma: 0.5 } };
    expect(settingsProblems(step, null).stepEvery).toBe('a whole number from 1 to 10,000');
    expect(() => check(trainSettingsSchema, step, 's')).toThrow(/schedule\.every/);
    expect(() => validateTrainConfig(trainConfigOf(step))).toThrow(/step schedule interval/);
    const shake = { ...BASE, augment: { shift: 9, rotateDeg: 10, scale: 0.1 } };
    expect(() => check(trainSettingsSchema, shake, 's')).toThrow(/augment\.shift: expected from 0 to 8 pixels/);
    expect(() => validateTrainConfig(trainConfigOf(shake))).toThrow(/augmentation shift must be from 0 to 8 pixels, got 9/);
  });
});

describe('the split', () => {
  it('holds out 5,000 of 60,000 by default, a twelfth of smaller pools, none when asked', () => {
    expect(splitOf({}, 60_000)).toEqual({ limit: null, validation: 5000, trainCount: 55_000 });
    expect(splitOf({ limit: 1200 }, 60_000)).toEqual({ limit: 1200, validation: 100, trainCount: 1100 });
    expect(splitOf({ validation: 0 }, 60_000)).toEqual({ limit: null, validation: 0, trainCount: 60_000 });
  });

  it('an impossible split is refused in words, by the form too', () => {
    expect(splitOf({ limit: 100, validation: 100 }, 60_000)).toMatch(/cannot hold out 100 validation images from 100 training images/);
    expect(settingsProblems({ ...BASE, limit: 100, validation: 100 }, 60_000).validation).toBe('fewer than the 100 training images');
    expect(settingsProblems({ ...BASE, limit: 70_000 }, 60_000).limit).toBe('at most 60,000 (the training images)');
  });
});

describe('run.json written before the settings carried the distortions', () => {
  const dataset = { path: null, name: 'MNIST', trainCount: 60_000, testCount: 10_000, rows: 28, cols: 28, fingerprint: 'f' };
  const stored = {
    format: 'lenet-studio-run/1',
    id: 'old-run',
    preset: 'lenet5-relu-ce',
    spec: PRESETS['lenet5-relu-ce'].spec,
    settings: { ...PRESETS['lenet5-relu-ce'].defaults },
    config: { ...trainConfigOf(BASE), augment: { shift: 2, rotateDeg: 10, scale: 0.1 } },
    limit: null,
    validation: 5000,
    trainCount: 55_000,
    dataset,
    createdAt: '2025-01-01T00:00:00.000Z',
    init: null,
  };

  it('reads back with its distortions in the settings, and the old key gone', () => {
    const c = storedRunConfigSchema.parse(stored, 'run.json');
    expect(c.settings.augment).toEqual({ shift: 2, rotateDeg: 10, scale: 0.1 });
    expect('config' in c).toBe(false);
    expect(trainConfigOf(c.settings).augment).toEqual({ shift: 2, rotateDeg: 10, scale: 0.1 });
  });

  it('still refuses what is malformed in it', () => {
    expect(() => storedRunConfigSchema.parse({ ...stored, settings: { ...stored.settings, lr: -1 } }, 'run.json')).toThrow(/settings\.lr/);
    expect(() => storedRunConfigSchema.parse({ ...stored, bogus: 1 }, 'run.json')).toThrow(/no key "bogus"/);
  });
});
