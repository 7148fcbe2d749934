// Typed errors for everything the engine rejects. Each carries a stable `code` so callers
// (CLI, trainer, app) can react without parsing messages, and a message that names the
// file or value at fault.

export type EngineErrorCode =
  | 'IDX_TRUNCATED'
  | 'IDX_BAD_MAGIC'
  | 'IDX_BAD_DIMS'
  | 'IDX_TOO_LARGE'
  | 'IDX_TRAILING_BYTES'
  | 'IDX_LABEL_RANGE'
  | 'IDX_COUNT_MISMATCH'
  | 'DATASET_NOT_FOUND'
  | 'DATASET_UNREADABLE'
  | 'GZIP_TOO_LARGE'
  | 'GZIP_CORRUPT'
  | 'MODEL_TRUNCATED'
  | 'MODEL_BAD_HEADER'
  | 'MODEL_BAD_TENSOR'
  | 'MODEL_NOT_FINITE'
  | 'MODEL_FOREIGN'
  | 'MODEL_MISMATCH'
  | 'MODEL_BAD_VALUE'
  | 'SPEC_INVALID'
  | 'CONFIG_INVALID'
  | 'SHAPE_MISMATCH'
  | 'CSV_INVALID'
  | 'DIVERGED'
  | 'KERNEL_MEMORY_FULL';

export class EngineError extends Error {
  override readonly name: string = 'EngineError';
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    /** The technical cause behind a message written for a person (e.g. the header length read). */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** A dataset file (IDX, raw or gzip) that cannot be used. */
export class DatasetError extends EngineError {
  override readonly name = 'DatasetError';
}

/** A model file (.lenet / safetensors) that cannot be used. */
export class ModelFileError extends EngineError {
  override readonly name = 'ModelFileError';
}

/** A model spec or training configuration that describes something impossible. */
export class SpecError extends EngineError {
  override readonly name = 'SpecError';
}

/** Training produced a non-finite loss or non-finite weights. */
export class DivergedError extends EngineError {
  override readonly name = 'DivergedError';
}

/** `assert(cond, msg)`: an internal invariant; failing it is a bug, not a user error. */
export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`internal error: ${message}`);
}

const INVISIBLE = /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u206f\ufeff]/g;

/**
 * A value from an untrusted file, quoted for a one-line message: as JSON (which escapes C0
 * controls such as ESC), with C1 controls and invisible or reordering characters escaped too, cut
 * to at most `max` characters. Linear in the value's size.
 */
export function quoteValue(v: unknown, max = 80): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = Object.prototype.toString.call(v); // too deep, or a cycle
  }
  s = s.replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
