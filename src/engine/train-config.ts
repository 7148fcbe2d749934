// What the engine's Trainer runs with, and the ONE table of limits for every training setting.
// The app's schema (src/common/settings.ts), the settings form, IPC, the CLI flags and run.json
// all check against these ranges; `validateTrainConfig` is the engine's last line of defence.

import type { AdversarialConfig } from './adversarial';
import type { AugmentConfig } from './augment';
import { SpecError } from './errors';
import type { Schedule } from './schedule';

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  decay: number;
  schedule: Schedule;
  seed: number;
  shuffle: boolean;
  /** Random affine distortions of every training image (see augment.ts); absent or null: none. */
  augment?: AugmentConfig | null;
  /** Train on adversarial examples of every batch (see adversarial.ts); absent or null: none. */
  adversarial?: AdversarialConfig | null;
}

/** A closed interval, or half-open at the bottom when `above` is set: (min, max]. */
export interface Range {
  readonly min: number;
  readonly max: number;
  readonly int?: boolean;
  /** The value must be greater than `min`, not equal to it. */
  readonly above?: boolean;
  /** Unit for messages (e.g. 'pixels'). */
  readonly unit?: string;
}

/** The limits of every training setting. */
export const LIMITS = {
  epochs: { min: 1, max: 10_000, int: true },
  batchSize: { min: 1, max: 4096, int: true },
  lr: { min: 0, max: 1e6, above: true },
  momentum: { min: 0, max: 0.999 },
  decay: { min: 0, max: 0.999 },
  seed: { min: 0, max: 0xffffffff, int: true },
  stepEvery: { min: 1, max: 10_000, int: true },
  stepGamma: { min: 0, max: 1e6, above: true },
  cosineMinFactor: { min: 0, max: 1 },
  shift: { min: 0, max: 8, unit: 'pixels' },
  rotateDeg: { min: 0, max: 45, unit: 'degrees' },
  scale: { min: 0, max: 0.5 },
  elastic: { min: 0, max: 6, unit: 'pixels' },
  /** Adversarial training: the L∞ radius in pixel units of [0, 1], and PGD's steps. */
  adversarialEps: { min: 0, max: 1, above: true },
  adversarialSteps: { min: 1, max: 100, int: true },
  /** Train on the first N images only. */
  limit: { min: 1, max: 100_000_000, int: true },
  /** Images held out for validation (0: none). */
  validation: { min: 0, max: 100_000_000, int: true },
} as const satisfies Record<string, Range>;

export function inRange(v: unknown, r: Range): v is number {
  return typeof v === 'number' && Number.isFinite(v) && (r.above ? v > r.min : v >= r.min) && v <= r.max && (!r.int || Number.isInteger(v));
}

function fmt(n: number): string {
  return n >= 1000 && Number.isInteger(n) ? n.toLocaleString('en-US') : String(n);
}

/** The range in words: "a whole number from 1 to 4,096", "a number above 0, at most 1,000,000", "from 0 to 0.999". */
export function describeRange(r: Range): string {
  const unit = r.unit ? ` ${r.unit}` : '';
  if (r.int) return `a whole number from ${fmt(r.min)} to ${fmt(r.max)}${unit}`;
  if (r.above) return `a number above ${fmt(r.min)}, at most ${fmt(r.max)}${unit}`;
  return `from ${fmt(r.min)} to ${fmt(r.max)}${unit}`;
}

/** null when `v` is in range, else the problem in words. */
export function rangeProblem(v: unknown, r: Range): string | null {
  return inRange(v, r) ? null : `${describeRange(r)}, got ${typeof v === 'number' ? v : (JSON.stringify(v) ?? String(v))}`;
}

function check(name: string, v: unknown, r: Range): void {
  const p = rangeProblem(v, r);
  if (p) throw new SpecError('CONFIG_INVALID', `${name} must be ${p}`);
}

export function validateAugment(a: AugmentConfig): AugmentConfig {
  check('augmentation shift', a.shift, LIMITS.shift);
  check('augmentation rotation', a.rotateDeg, LIMITS.rotateDeg);
  check('augmentation scale', a.scale, LIMITS.scale);
  if (a.elastic !== undefined) check('elastic displacement', a.elastic, LIMITS.elastic);
  return a;
}

export function validateAdversarial(a: AdversarialConfig): AdversarialConfig {
  if (a.attack !== 'fgsm' && a.attack !== 'pgd')
    throw new SpecError('CONFIG_INVALID', `adversarial attack must be fgsm or pgd, got ${JSON.stringify(a.attack)}`);
  check('adversarial ε', a.eps, LIMITS.adversarialEps);
  if (a.attack === 'pgd') check('adversarial PGD steps', a.steps, LIMITS.adversarialSteps);
  else if (a.steps !== undefined) throw new SpecError('CONFIG_INVALID', 'adversarial steps are for PGD only');
  return a;
}

export function validateSchedule(s: Schedule): Schedule {
  if (s.type === 'step') {
    check('step schedule interval', s.every, LIMITS.stepEvery);
    check('step schedule factor', s.gamma, LIMITS.stepGamma);
  } else if (s.type === 'cosine') {
    if (s.minFactor !== undefined) check('cosine schedule floor', s.minFactor, LIMITS.cosineMinFactor);
  } else if (s.type !== 'constant') {
    throw new SpecError('CONFIG_INVALID', `unknown learning-rate schedule ${JSON.stringify((s as { type: unknown }).type)}`);
  }
  return s;
}

/** The engine's last line of defence: throws SpecError CONFIG_INVALID naming the first bad value. */
export function validateTrainConfig(c: TrainConfig): TrainConfig {
  check('epochs', c.epochs, LIMITS.epochs);
  check('batch size', c.batchSize, LIMITS.batchSize);
  check('learning rate', c.lr, LIMITS.lr);
  check('momentum', c.momentum, LIMITS.momentum);
  check('decay', c.decay, LIMITS.decay);
  check('seed', c.seed, LIMITS.seed);
  validateSchedule(c.schedule);
  if (c.augment) validateAugment(c.augment);
  if (c.adversarial) validateAdversarial(c.adversarial);
  return c;
}
