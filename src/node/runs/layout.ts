// The run folder: one folder per training run, written by the trainer process and by the CLI
// (`--run-dir`), read by the app to list and compare runs after a restart.
//
//   run.json          what was asked: preset, spec, settings, dataset (name, counts, fingerprint),
//                     the split sizes, creation time; never changed. Beside it, what the user says
//                     about the run (name, notes, tags, hidden, archived: RunNotes), which only
//                     manage.ts rewrites, atomically.
//   status.json       the run's state (running | paused | done | cancelled | diverged | failed) and why.
//   metrics.json      one EpochMetrics per finished epoch (train, validation, test).
//   loss.json         the batch-loss curve, smoothed and downsampled to at most 1,000 points
//                     (loss-curve.ts).
//   confusion.json    test confusion matrix of the latest finished epoch (the final one when done).
//   checkpoint.lenet  the latest checkpoint (checkpoint.ts): an ordinary .lenet model file whose
//                     metadata "x-resume" holds everything resuming needs, so one atomic file is
//                     the whole truth. Written at the start, after every epoch and on cancel.
//   best.lenet        the model of the epoch with the best VALIDATION accuracy (never test).
//   epochs/NNN.lenet  the model after epoch NNN (epochs.ts): all, only the best, or none.
//   history.bin       every image's predicted class and true-class probability per epoch (history.ts).
//   health.json       layer health per epoch: histograms, gradient norms, update ratios (health.ts).
//   run.lock          while a process trains the run: its pid (lock.ts). One writer at a time;
//                     a lock whose process is gone is stale, and a "running" status under it is
//                     marked failed (interrupted) the next time the folder is read.
//
// Every file is written atomically (temp file, fsync, rename): a crash leaves the previous
// version. When a crash falls between checkpoint.lenet and the JSON files, the checkpoint wins.
// This file holds the layout, its record types and schemas; folder.ts reads and writes it.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelSpec } from '../../engine/spec';
import { RUN_ID_PATTERN, RUN_STATES, datasetInfoSchema, runNotesFields, type DatasetInfo, type RunNotes, type RunState } from '../../common/records';
import { check, int, isPlainObject, json, literal, nullable, obj, optional, str, ValidationError, type Schema } from '../../common/schema';
import { trainSettingsSchema, type TrainSettings } from '../../common/settings';

export const RUN_FORMAT = 'lenet-studio-run/1';
export const RUN_FILES = {
  config: 'run.json',
  status: 'status.json',
  metrics: 'metrics.json',
  loss: 'loss.json',
  confusion: 'confusion.json',
  checkpoint: 'checkpoint.lenet',
  best: 'best.lenet',
  lock: 'run.lock',
} as const;

export class RunFolderError extends Error {
  override readonly name = 'RunFolderError';
  constructor(
    readonly code: 'RUN_NOT_FOUND' | 'RUN_INVALID' | 'RUN_EXISTS' | 'RUN_MISMATCH' | 'RUN_LOCKED',
    message: string,
  ) {
    super(message);
  }
}

export interface RunConfig extends RunNotes {
  format: typeof RUN_FORMAT;
  id: string;
  preset: string;
  spec: ModelSpec;
  /** As requested, with `augment` when the run distorts its images; the engine runs `trainConfigOf(settings)`. */
  settings: TrainSettings;
  /** First N training images, before the validation split. */
  limit: number | null;
  /** Images held out for validation. */
  validation: number;
  /** Images trained on per epoch. */
  trainCount: number;
  dataset: DatasetInfo;
  createdAt: string;
  /** Model file the weights started from (CLI --init), if any. */
  init: string | null;
  /** Data-parallel threads the run was started with (the CLI resumes with the same, for bit-identical results). */
  threads?: number;
}

export interface RunStatusFile {
  status: RunState;
  reason?: string;
  updatedAt: string;
}

// ---------------------------------------------------------------- schemas

const runConfigFields = {
  format: literal(RUN_FORMAT),
  id: str({ pattern: RUN_ID_PATTERN }),
  preset: str({ max: 100 }),
  spec: json() as Schema<ModelSpec>, // checked by validateSpec when a model is built
  settings: trainSettingsSchema,
  limit: nullable(int(1, 1e9)),
  validation: int(0, 1e9),
  trainCount: int(1, 1e9),
  dataset: datasetInfoSchema,
  createdAt: str({ max: 40 }),
  init: nullable(str({ max: 4096 })),
  threads: optional(int(1, 64)),
  // RunNotes: older folders have none of them.
  ...runNotesFields,
};

const runConfigSchema: Schema<RunConfig> = obj<RunConfig>(runConfigFields);

/**
 * run.json as read: older folders also hold `config`, the engine config resolved at the start,
 * whose `augment` predates `settings.augment`. It is folded into the settings and dropped.
 */
export const storedRunConfigSchema: Schema<RunConfig> = {
  parse(v, p) {
    if (!isPlainObject(v) || !('config' in v)) return runConfigSchema.parse(v, p);
    const { config, ...rest } = v;
    const augment = isPlainObject(config) ? config.augment : undefined;
    const settings = isPlainObject(rest.settings) && augment && !('augment' in rest.settings) ? { ...rest.settings, augment } : rest.settings;
    return runConfigSchema.parse({ ...rest, settings }, p);
  },
};

export const runStatusSchema: Schema<RunStatusFile> = obj<RunStatusFile>({
  status: literal(...RUN_STATES),
  reason: optional(str({ max: 20_000 })),
  updatedAt: str({ max: 40 }),
});

// ---------------------------------------------------------------- reading

/** A run file's bytes; null when it does not exist. */
export async function readBytes(path: string): Promise<Uint8Array | null> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new RunFolderError('RUN_INVALID', `could not read ${path}: ${(e as Error).message}`);
  }
}

/** A JSON run file checked against its schema; null when absent, RunFolderError naming the file when malformed. */
export async function readJson<T>(dir: string, name: string, s: Schema<T>): Promise<T | null> {
  const file = join(dir, name);
  const bytes = await readBytes(file);
  if (!bytes) return null;
  if (bytes.length > 64 * 1024 * 1024) throw new RunFolderError('RUN_INVALID', `${file}: ${bytes.length} bytes is too large for a run file`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new RunFolderError('RUN_INVALID', `${file}: not valid JSON`);
  }
  try {
    return check(s, value, file);
  } catch (e) {
    if (e instanceof ValidationError) throw new RunFolderError('RUN_INVALID', e.message);
    throw e;
  }
}
