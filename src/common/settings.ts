// The settings of a training run as the user gives them (the form, the CLI flags, IPC, run.json),
// their ONE schema, and how they resolve into what the engine runs with. The limits themselves
// live with the engine (`LIMITS` in src/engine/train-config.ts), which checks them once more.

import type { AdversarialConfig } from '../engine/adversarial';
import type { AugmentConfig } from '../engine/augment';
import type { TrainDefaults } from '../engine/presets';
import type { Schedule } from '../engine/schedule';
import { LIMITS, describeRange, inRange, type Range, type TrainConfig } from '../engine/train-config';
import { bool, literal, nullable, obj, optional, range, type Schema } from './schema';

/**
 * Hyper-parameters of a run: a preset's defaults (epochs, batch size, learning rate, momentum,
 * decay, schedule) and the optional rest, with defaults (`trainConfigOf`, `splitOf`).
 */
export interface TrainSettings extends TrainDefaults {
  /** Default 1. Seeds the initial weights, the shuffles, the validation split and the distortions. */
  seed?: number;
  /** Default true. */
  shuffle?: boolean;
  /** Train on the first N images only. */
  limit?: number;
  /**
   * Images held out of the training images (after `limit`), chosen by a permutation seeded from
   * `seed`, to pick the best model by validation accuracy. Default: 5,000, at most a twelfth of
   * the training images (MNIST: 5,000 of 60,000). 0 keeps none (and no best model is chosen).
   * The test set is never used to choose anything.
   */
  validation?: number;
  /** Random distortions of every training image (CLI --augment); absent or null: none. */
  augment?: AugmentConfig | null;
  /**
   * Train on each batch's adversarial examples against the current weights (CLI --adversarial
   * fgsm:EPS or pgd:EPS:STEPS); absent or null: plain training.
   */
  adversarial?: AdversarialConfig | null;
}

export const DEFAULT_SEED = 1;
/** Default validation hold-out: 5,000 images, at most a twelfth of the training images. */
export const DEFAULT_VALIDATION = 5000;

export function defaultValidation(pool: number): number {
  return Math.min(DEFAULT_VALIDATION, Math.floor(pool / 12));
}

// ---------------------------------------------------------------- the schema

export const scheduleSchema: Schema<Schedule> = {
  parse(v, p) {
    const t = (v as { type?: unknown } | null)?.type;
    if (t === 'step') {
      return obj<{ type: 'step'; every: number; gamma: number }>({
        type: literal('step'),
        every: range(LIMITS.stepEvery),
        gamma: range(LIMITS.stepGamma),
      }).parse(v, p);
    }
    if (t === 'cosine') {
      return obj<{ type: 'cosine'; minFactor?: number }>({ type: literal('cosine'), minFactor: optional(range(LIMITS.cosineMinFactor)) }).parse(v, p);
    }
    return obj<{ type: 'constant' }>({ type: literal('constant') }).parse(v, p);
  },
};

export const augmentSchema: Schema<AugmentConfig> = obj<AugmentConfig>({
  shift: range(LIMITS.shift),
  rotateDeg: range(LIMITS.rotateDeg),
  scale: range(LIMITS.scale),
  elastic: optional(range(LIMITS.elastic)),
});

export const adversarialSchema: Schema<AdversarialConfig> = {
  parse(v, p) {
    if ((v as { attack?: unknown } | null)?.attack === 'pgd') {
      return obj<{ attack: 'pgd'; eps: number; steps: number }>({
        attack: literal('pgd'),
        eps: range(LIMITS.adversarialEps),
        steps: range(LIMITS.adversarialSteps),
      }).parse(v, p);
    }
    return obj<{ attack: 'fgsm'; eps: number }>({ attack: literal('fgsm'), eps: range(LIMITS.adversarialEps) }).parse(v, p);
  },
};

export const trainSettingsSchema: Schema<TrainSettings> = obj<TrainSettings>({
  epochs: range(LIMITS.epochs),
  batchSize: range(LIMITS.batchSize),
  lr: range(LIMITS.lr),
  momentum: range(LIMITS.momentum),
  decay: range(LIMITS.decay),
  schedule: scheduleSchema,
  seed: optional(range(LIMITS.seed)),
  shuffle: optional(bool()),
  limit: optional(range(LIMITS.limit)),
  validation: optional(range(LIMITS.validation)),
  augment: optional(nullable(augmentSchema)),
  adversarial: optional(nullable(adversarialSchema)),
});

// ---------------------------------------------------------------- resolving

/** What the engine's Trainer runs with: the settings with their defaults filled in. */
export function trainConfigOf(s: TrainSettings): TrainConfig {
  const c: TrainConfig = {
    epochs: s.epochs,
    batchSize: s.batchSize,
    lr: s.lr,
    momentum: s.momentum,
    decay: s.decay,
    schedule: { ...s.schedule },
    seed: s.seed ?? DEFAULT_SEED,
    shuffle: s.shuffle ?? true,
  };
  if (s.augment) c.augment = { ...s.augment };
  if (s.adversarial) c.adversarial = { ...s.adversarial };
  return c;
}

/** How a run divides the dataset's training images. */
export interface SplitSizes {
  /** First N training images (before the validation split); null: all of them. */
  limit: number | null;
  /** Images held out for validation. */
  validation: number;
  /** Images trained on per epoch. */
  trainCount: number;
}

/** The training images a run draws from, validation included: the first `limit`, at most all of them. */
function poolOf(s: Pick<TrainSettings, 'limit'>, datasetTrainCount: number): number {
  return Math.min(s.limit ?? datasetTrainCount, datasetTrainCount);
}

/** The split, or the reason it is impossible (the form shows it; buildRunConfig throws it). */
export function splitOf(s: Pick<TrainSettings, 'limit' | 'validation'>, datasetTrainCount: number): SplitSizes | string {
  const pool = poolOf(s, datasetTrainCount);
  const validation = s.validation ?? defaultValidation(pool);
  if (validation >= pool) {
    return `cannot hold out ${validation.toLocaleString('en-US')} validation images from ${pool.toLocaleString('en-US')} training images; lower the validation count or raise the limit`;
  }
  return { limit: s.limit !== undefined && s.limit < datasetTrainCount ? s.limit : null, validation, trainCount: pool - validation };
}

// ---------------------------------------------------------------- the form's view

/** The fields a form shows problems for; schedule parameters by their own names. */
export type SettingsField =
  | Exclude<keyof TrainSettings, 'schedule' | 'augment' | 'adversarial'>
  | 'stepEvery'
  | 'stepGamma'
  | 'adversarialEps'
  | 'adversarialSteps'
  | 'shift'
  | 'rotateDeg'
  | 'scale'
  | 'elastic';

/**
 * Every problem with `s`, field by field, in the words of the limits table (no values echoed),
 * including the split against the dataset when its size is known. Empty when the schema accepts
 * `s` and the split is possible.
 */
export function settingsProblems(s: TrainSettings, datasetTrainCount: number | null): Partial<Record<SettingsField, string>> {
  const e: Partial<Record<SettingsField, string>> = {};
  const field = (k: SettingsField, v: unknown, r: Range, optionalValue = false): void => {
    if (optionalValue && v === undefined) return;
    if (!inRange(v, r)) e[k] = describeRange(r);
  };
  field('epochs', s.epochs, LIMITS.epochs);
  field('batchSize', s.batchSize, LIMITS.batchSize);
  field('lr', s.lr, LIMITS.lr);
  field('momentum', s.momentum, LIMITS.momentum);
  field('decay', s.decay, LIMITS.decay);
  field('seed', s.seed, LIMITS.seed, true);
  if (s.schedule.type === 'step') {
    field('stepEvery', s.schedule.every, LIMITS.stepEvery);
    field('stepGamma', s.schedule.gamma, LIMITS.stepGamma);
  }
  if (s.augment) {
    field('shift', s.augment.shift, LIMITS.shift);
    field('rotateDeg', s.augment.rotateDeg, LIMITS.rotateDeg);
    field('scale', s.augment.scale, LIMITS.scale);
    field('elastic', s.augment.elastic, LIMITS.elastic, true);
  }
  if (s.adversarial) {
    field('adversarialEps', s.adversarial.eps, LIMITS.adversarialEps);
    if (s.adversarial.attack === 'pgd') field('adversarialSteps', s.adversarial.steps, LIMITS.adversarialSteps);
  }
  field('limit', s.limit, LIMITS.limit, true);
  field('validation', s.validation, LIMITS.validation, true);
  if (datasetTrainCount !== null && !e.limit && !e.validation) {
    if (s.limit !== undefined && s.limit > datasetTrainCount) e.limit = `at most ${datasetTrainCount.toLocaleString('en-US')} (the training images)`;
    else {
      const split = splitOf(s, datasetTrainCount);
      if (typeof split === 'string') e.validation = `fewer than the ${poolOf(s, datasetTrainCount).toLocaleString('en-US')} training images`;
    }
  }
  return e;
}

/** Each field's label, as the settings form shows it; messages about a field start with it. */
export const SETTINGS_FIELD_LABELS: Readonly<Record<SettingsField, string>> = {
  epochs: 'Epochs',
  batchSize: 'Batch size',
  lr: 'Learning rate',
  momentum: 'Momentum',
  decay: 'L2 decay',
  seed: 'Seed',
  shuffle: 'Shuffle each epoch',
  stepEvery: 'Step every (epochs)',
  stepGamma: 'Step factor (gamma)',
  limit: 'Limit images',
  validation: 'Validation images',
  adversarialEps: 'Adversarial ε',
  adversarialSteps: 'PGD steps',
  shift: 'Shift (px)',
  rotateDeg: 'Rotate (°)',
  scale: 'Size ±',
  elastic: 'Elastic',
};

/** A problem of `settingsProblems` as a sentence in the field's label's words: "Batch size must be a whole number from 1 to 4,096." */
export function fieldMessage(field: SettingsField, problem: string): string {
  return `${SETTINGS_FIELD_LABELS[field]} must be ${problem}.`;
}

/** `settingsProblems` as sentences that name each field by its label. */
export function settingsMessages(s: TrainSettings, datasetTrainCount: number | null): Partial<Record<SettingsField, string>> {
  const problems = settingsProblems(s, datasetTrainCount);
  const out: Partial<Record<SettingsField, string>> = {};
  for (const k of Object.keys(problems) as SettingsField[]) out[k] = fieldMessage(k, problems[k] as string);
  return out;
}
