// Sweeps, the part both sides share: the settings a sweep varies and how their values are
// written (the CLI's NAME=A,B and NAME=LO..HI, also typed in the app's Sweeps tab), the plan of a
// grid or a random search, the queue file's shape and schema, and the summary of its results.
// Pure: the CLI (node/experiments/sweep.ts), the app's backend (node/studio/sweeps.ts) and the
// window all use it.

import { DEFAULT_AUGMENT, isIdentityAugment, type AugmentConfig } from '../engine/augment';
import { PRESETS, presetNames } from '../engine/presets';
import { Rng } from '../engine/rng';
import { formatSchedule, parseSchedule } from '../engine/schedule';
import { LIMITS, describeRange, inRange, type Range } from '../engine/train-config';
import { bestEpoch, type EpochMetrics } from './records';
import { arr, int, isPlainObject, literal, nullable, num, obj, optional, str, tuple, type Schema } from './schema';
import { trainSettingsSchema, type TrainSettings } from './settings';
import { mean } from './stats';
import { LOG_AXES, sweepImportance, type Importance, type SweepValue } from './sweep-stats';

export const SWEEP_FILE = 'sweep.json';

/** Test accuracy a run must reach for its epochsTo99 (the seed study's target too). */
export const TARGET_ACCURACY = 0.99;

/** The settings a sweep can vary, by the names the CLI takes (train's flag names). */
export const SWEEP_AXES = ['preset', 'lr', 'momentum', 'batch', 'decay', 'epochs', 'schedule', 'shift', 'rotate', 'scale', 'elastic'] as const;
export type SweepAxisName = (typeof SWEEP_AXES)[number];

const NUMERIC: Record<Exclude<SweepAxisName, 'preset' | 'schedule'>, Range> = {
  lr: LIMITS.lr,
  momentum: LIMITS.momentum,
  batch: LIMITS.batchSize,
  decay: LIMITS.decay,
  epochs: LIMITS.epochs,
  shift: LIMITS.shift,
  rotate: LIMITS.rotateDeg,
  scale: LIMITS.scale,
  elastic: LIMITS.elastic,
};

/** One swept setting: listed values (grid or random), or for random search a range to draw from. */
export interface SweepAxis {
  name: SweepAxisName;
  values?: SweepValue[];
  range?: [number, number];
}

/** A bad axis or sweep file, in one line. */
export class SweepError extends Error {
  override readonly name = 'SweepError';
}

function isAxisName(s: string): s is SweepAxisName {
  return (SWEEP_AXES as readonly string[]).includes(s);
}

function numericValue(name: keyof typeof NUMERIC, text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !inRange(v, NUMERIC[name])) throw new SweepError(`${name}: "${text}" is not ${describeRange(NUMERIC[name])}`);
  return v;
}

/**
 * Parses `name=v1,v2,…` (listed values) or `name=lo..hi` (a range, for --random: drawn on a log
 * scale for lr and decay, as whole numbers for batch and epochs).
 */
export function parseAxis(text: string): SweepAxis {
  const eq = text.indexOf('=');
  const name = eq < 0 ? text : text.slice(0, eq);
  if (!isAxisName(name)) throw new SweepError(`"${text}": a swept setting is NAME=VALUES with NAME one of ${SWEEP_AXES.join(', ')}`);
  const body = eq < 0 ? '' : text.slice(eq + 1);
  if (body === '') throw new SweepError(`${name}: no values (write ${name}=A,B or ${name}=LO..HI)`);
  const dots = body.indexOf('..');
  if (dots >= 0) {
    if (name === 'preset' || name === 'schedule') throw new SweepError(`${name}: a range needs numbers; list the values instead (${name}=A,B)`);
    const lo = numericValue(name, body.slice(0, dots));
    const hi = numericValue(name, body.slice(dots + 2));
    if (!(lo < hi)) throw new SweepError(`${name}: the range ${body} is empty (write LO..HI with LO < HI)`);
    return { name, range: [lo, hi] };
  }
  const parts = body.split(',');
  const values: SweepValue[] = parts.map((t) => {
    if (name === 'preset') {
      if (!Object.hasOwn(PRESETS, t)) throw new SweepError(`preset: unknown preset "${t}"; choose from ${presetNames().join(', ')}`);
      return t;
    }
    if (name === 'schedule') {
      try {
        return formatSchedule(parseSchedule(t));
      } catch (e) {
        throw new SweepError(`schedule: ${(e as Error).message}`);
      }
    }
    return numericValue(name, t);
  });
  if (new Set(values).size !== values.length) throw new SweepError(`${name}: a value is listed twice in "${body}"`);
  return { name, values };
}

/** A configuration's swept values as typed: "lr=0.01 momentum=0.9" (the CLI's log, a sweep run's name, the chart's hover). */
export function configLabel(values: Readonly<Record<string, SweepValue>>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** Most configurations a sweep plans (a queue file holds no more). */
export const MAX_CONFIGS = 10_000;

/** Most seeds per configuration, and most configurations, a sweep started from the app's window plans. */
export const APP_SWEEP_LIMITS = { seeds: 20, configs: 1000 } as const;

/** Three significant digits: what a random draw keeps (0.0123456 → 0.0123). */
function round3(v: number): number {
  return Number(v.toPrecision(3));
}

/**
 * The configurations (axis name → value) of a sweep: with random = null the grid, every
 * combination of the listed values (the first axis changes slowest); otherwise `random` draws, each
 * setting independently from its list or range, from a generator seeded with `seed`.
 */
export function planConfigs(axes: readonly SweepAxis[], random: number | null, seed: number): Record<string, SweepValue>[] {
  const names = axes.map((a) => a.name);
  if (new Set(names).size !== names.length) throw new SweepError(`a setting is swept twice (${names.join(', ')})`);
  if (random === null) {
    const ranged = axes.find((a) => a.range);
    if (ranged) throw new SweepError(`${ranged.name}: a range can only be drawn from (--random N); a grid needs listed values`);
    const size = axes.reduce((n, a) => n * a.values!.length, 1);
    if (size > MAX_CONFIGS)
      throw new SweepError(`the grid has ${size} configurations, more than ${MAX_CONFIGS}; list fewer values or draw some with --random N`);
    let configs: Record<string, SweepValue>[] = [{}];
    for (const a of axes) configs = configs.flatMap((c) => a.values!.map((v) => ({ ...c, [a.name]: v })));
    return configs;
  }
  const rng = new Rng(seed);
  return Array.from({ length: random }, () => {
    const c: Record<string, SweepValue> = {};
    for (const a of axes) {
      if (a.values) {
        c[a.name] = a.values[rng.int(a.values.length)];
        continue;
      }
      const [lo, hi] = a.range!;
      const integer = NUMERIC[a.name as keyof typeof NUMERIC].int === true;
      const u = rng.next();
      if (integer) c[a.name] = Math.min(hi, Math.floor(lo + u * (hi - lo + 1)));
      else if (LOG_AXES.has(a.name) && lo > 0) c[a.name] = round3(Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo))));
      else c[a.name] = round3(lo + u * (hi - lo));
    }
    return c;
  });
}

/**
 * A configuration's preset and settings: the base settings for its preset (the preset's defaults
 * under the command's own options) with the swept values in place. Swept distortion strengths
 * start from the base's distortions, or train's defaults (as --shift alone does).
 */
export function applyConfig(
  values: Readonly<Record<string, SweepValue>>,
  basePreset: string,
  baseFor: (preset: string) => TrainSettings,
): { preset: string; settings: TrainSettings } {
  const preset = typeof values.preset === 'string' ? values.preset : basePreset;
  const s: TrainSettings = structuredClone(baseFor(preset));
  let augment: AugmentConfig | null = s.augment ?? null;
  for (const [name, v] of Object.entries(values)) {
    if (name === 'preset') continue;
    if (name === 'schedule') s.schedule = parseSchedule(String(v));
    else if (name === 'lr') s.lr = Number(v);
    else if (name === 'momentum') s.momentum = Number(v);
    else if (name === 'batch') s.batchSize = Number(v);
    else if (name === 'decay') s.decay = Number(v);
    else if (name === 'epochs') s.epochs = Number(v);
    else {
      augment = { ...(augment ?? DEFAULT_AUGMENT) };
      if (name === 'shift') augment.shift = Number(v);
      else if (name === 'rotate') augment.rotateDeg = Number(v);
      else if (name === 'scale') augment.scale = Number(v);
      else if (name === 'elastic') augment.elastic = Number(v);
    }
  }
  if (augment && isIdentityAugment(augment)) augment = null;
  if (augment) s.augment = augment;
  else delete s.augment;
  return { preset, settings: s };
}

// ---------------------------------------------------------------- the queue file

export const SWEEP_RUN_STATUSES = ['pending', 'running', 'done', 'diverged', 'error'] as const;
export type SweepRunStatus = (typeof SWEEP_RUN_STATUSES)[number];

export interface SweepRun {
  seed: number;
  /** The run folder's name: under the sweep folder (the CLI's sweeps) or the app's runs folder (the app's). */
  runId: string;
  status: SweepRunStatus;
  finalTestError: number | null;
  testErrorAtBest: number | null;
  epochsTo99: number | null;
  reason?: string;
}

export interface SweepConfig {
  values: Record<string, SweepValue>;
  preset: string;
  /** Settings of every seed of this configuration, seed aside. */
  settings: TrainSettings;
  runs: SweepRun[];
}

export interface SweepFile {
  kind: 'lenet-studio-sweep';
  version: 1;
  created: string;
  mode: 'grid' | 'random';
  axes: SweepAxis[];
  seeds: number[];
  /** Threads per run (0: all cores of the machine that resumes). */
  threads: number;
  /** The MNIST folder given with --data (or open in the app), or null for the bundled one. */
  dataPath: string | null;
  configs: SweepConfig[];
}

const error01 = nullable(num({ min: 0, max: 1 }));
const value: Schema<SweepValue> = {
  parse(v, path = '') {
    if (typeof v === 'string') return str({ min: 1, max: 100 }).parse(v, path);
    return num().parse(v, path);
  },
};
const values: Schema<Record<string, SweepValue>> = {
  parse(v, path = '') {
    if (!isPlainObject(v)) throw new SweepError(`${path}: expected an object of swept values`);
    const o: Record<string, SweepValue> = {};
    for (const [k, x] of Object.entries(v)) {
      if (!isAxisName(k)) throw new SweepError(`${path}: "${k}" is not a setting a sweep varies`);
      o[k] = value.parse(x, `${path}.${k}`);
    }
    return o;
  },
};

export const sweepFileSchema: Schema<SweepFile> = obj<SweepFile>({
  kind: literal('lenet-studio-sweep'),
  version: literal(1),
  created: str({ max: 40 }),
  mode: literal('grid', 'random'),
  axes: arr(
    obj<SweepAxis>({
      name: literal(...SWEEP_AXES),
      values: optional(arr(value, { min: 1, max: 1000 })),
      range: optional(tuple<[number, number]>(num(), num())),
    }),
    { min: 1, max: SWEEP_AXES.length },
  ),
  seeds: arr(int(LIMITS.seed.min, LIMITS.seed.max), { min: 1, max: 100 }),
  threads: int(0, 64),
  dataPath: nullable(str({ max: 4096 })),
  configs: arr(
    obj<SweepConfig>({
      values,
      preset: str({ min: 1, max: 100 }),
      settings: trainSettingsSchema,
      runs: arr(
        obj<SweepRun>({
          seed: int(LIMITS.seed.min, LIMITS.seed.max),
          // A folder name under the sweep folder: never "..", never a path.
          runId: str({ min: 1, max: 200, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ }),
          status: literal(...SWEEP_RUN_STATUSES),
          finalTestError: error01,
          testErrorAtBest: error01,
          epochsTo99: nullable(int(1, LIMITS.epochs.max)),
          reason: optional(str({ max: 2000 })),
        }),
        { min: 1, max: 100 },
      ),
    }),
    { min: 1, max: MAX_CONFIGS },
  ),
});

/** What a sweep keeps of a run that ended: its final test error, the test error at its best validation epoch, its first epoch at 99 %. */
export function sweepRunOutcome(history: readonly EpochMetrics[]): Pick<SweepRun, 'finalTestError' | 'testErrorAtBest' | 'epochsTo99'> {
  const last = history.length ? history[history.length - 1] : null;
  const b = bestEpoch(history);
  const best = b ? history.find((m) => m.epoch === b.epoch) : undefined;
  return {
    finalTestError: last ? 1 - last.testAccuracy : null,
    testErrorAtBest: best ? 1 - best.testAccuracy : null,
    epochsTo99: history.find((m) => m.testAccuracy >= TARGET_ACCURACY)?.epoch ?? null,
  };
}

export interface ConfigSummary {
  values: Record<string, SweepValue>;
  preset: string;
  /** Runs of this configuration that finished, and their mean final test error (null: none). */
  done: number;
  meanFinalTestError: number | null;
}

export interface SweepSummary {
  configs: ConfigSummary[];
  /** Runs finished, and all runs. */
  done: number;
  total: number;
  /** Over every run that finished: one row per run, its seed a source of noise. */
  importance: Importance[];
  /** The configuration with the lowest mean final test error (index into configs), or null. */
  best: number | null;
}

export function summarizeSweep(s: SweepFile): SweepSummary {
  const rows = s.configs.flatMap((c) =>
    c.runs.filter((r) => r.status === 'done' && r.finalTestError !== null).map((r) => ({ values: c.values, error: r.finalTestError! })),
  );
  const configs = s.configs.map((c) => {
    const errs = c.runs.filter((r) => r.status === 'done' && r.finalTestError !== null).map((r) => r.finalTestError!);
    return { values: c.values, preset: c.preset, done: errs.length, meanFinalTestError: errs.length ? mean(errs) : null };
  });
  let best: number | null = null;
  configs.forEach((c, i) => {
    if (c.meanFinalTestError !== null && (best === null || c.meanFinalTestError < configs[best].meanFinalTestError!)) best = i;
  });
  const total = s.configs.reduce((a, c) => a + c.runs.length, 0);
  const done = s.configs.reduce((a, c) => a + c.runs.filter((r) => r.status !== 'pending' && r.status !== 'running').length, 0);
  return {
    configs,
    done,
    total,
    importance: sweepImportance(
      rows,
      s.axes.map((a) => a.name),
    ),
    best,
  };
}
