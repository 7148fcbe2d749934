// Runtime checks for everything that crosses a process boundary (main ⇄ trainer messages, IPC
// arguments from the renderer, JSON files of a run folder). A dozen small combinators instead of
// a schema library: each schema is written against the TypeScript type it checks
// (`obj<TrainSettings>({...})`), so the compiler keeps the two in step, and each failure names
// the path of the bad value and what was expected. Pure: the renderer uses it too.

import { describeRange, inRange, type Range } from '../engine/train-config';

export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  readonly code = 'INVALID_VALUE';
}

export interface Schema<T> {
  /** Returns `value` (narrowed) or throws ValidationError naming `path`. */
  parse(value: unknown, path?: string): T;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of ${(v as unknown as { length?: number }).length ?? v.byteLength}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && !isPlainObject(v)) {
    return `an object with prototype ${(Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'null'}`;
  }
  return typeof v;
}

function fail(path: string, expected: string, got: unknown): never {
  throw new ValidationError(`${path || 'value'}: expected ${expected}, got ${describe(got)}`);
}

function schema<T>(parse: (value: unknown, path: string) => T): Schema<T> {
  return { parse: (value, path = '') => parse(value, path) };
}

/** A finite number in [min, max]; `int` requires an integer. */
export function num(opts: { min?: number; max?: number; int?: boolean } = {}): Schema<number> {
  const { min = -Number.MAX_VALUE, max = Number.MAX_VALUE, int = false } = opts;
  const what = `${int ? 'an integer' : 'a number'} in [${min}, ${max}]`;
  return schema((v, p) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) fail(p, what, v);
    return v;
  });
}

/** A number within one of the engine's limits (train-config.ts `LIMITS`), described the same way everywhere. */
export function range(r: Range): Schema<number> {
  return schema((v, p) => {
    if (!inRange(v, r)) fail(p, describeRange(r), v);
    return v;
  });
}

export function int(min: number, max: number): Schema<number> {
  return num({ min, max, int: true });
}

export function str(opts: { max?: number; pattern?: RegExp; min?: number } = {}): Schema<string> {
  const { max = 4096, min = 0, pattern } = opts;
  return schema((v, p) => {
    if (typeof v !== 'string') fail(p, 'a string', v);
    if (v.length < min || v.length > max) fail(p, `a string of ${min}..${max} characters`, v);
    if (pattern && !pattern.test(v)) fail(p, `a string matching ${pattern}`, v);
    return v;
  });
}

export function bool(): Schema<boolean> {
  return schema((v, p) => {
    if (typeof v !== 'boolean') fail(p, 'true or false', v);
    return v;
  });
}

export function literal<const T extends string | number | boolean | null>(...values: T[]): Schema<T> {
  return schema((v, p) => {
    if (!values.includes(v as T)) fail(p, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, v);
    return v as T;
  });
}

export function optional<T>(s: Schema<T>): Schema<T | undefined> {
  return schema((v, p) => (v === undefined ? undefined : s.parse(v, p)));
}

export function nullable<T>(s: Schema<T>): Schema<T | null> {
  return schema((v, p) => (v === null ? null : s.parse(v, p)));
}

export function arr<T>(item: Schema<T>, opts: { max?: number; min?: number } = {}): Schema<T[]> {
  const { max = 100_000, min = 0 } = opts;
  return schema((v, p) => {
    if (!Array.isArray(v)) fail(p, 'an array', v);
    if (v.length < min || v.length > max) fail(p, `an array of ${min}..${max} items`, v);
    return v.map((x, i) => item.parse(x, `${p}[${i}]`));
  });
}

/** A fixed-length array whose items have their own schemas. */
export function tuple<T extends unknown[]>(...items: { [K in keyof T]: Schema<T[K]> }): Schema<T> {
  return schema((v, p) => {
    if (!Array.isArray(v) || v.length !== items.length) fail(p, `an array of ${items.length}`, v);
    return items.map((s, i) => s.parse(v[i], `${p}[${i}]`)) as T;
  });
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

type Fields<T> = { [K in keyof T]-?: Schema<T[K]> };

/**
 * A plain object with exactly these keys (unknown keys are an error, so a typo or an injected
 * field never passes silently). Optional keys use `optional(...)`. The result is a fresh object,
 * so later mutation by the sender cannot reach us.
 */
export function obj<T>(shape: Fields<T>): Schema<T> {
  const keys = Object.keys(shape) as (keyof T & string)[];
  return schema((v, p) => {
    if (!isPlainObject(v)) fail(p, 'an object', v);
    // Own properties only: `k in shape` would let inherited names (constructor, toString,
    // __proto__…) through, and `v[k]` would read an inherited value for a missing key.
    for (const k of Object.keys(v)) if (!Object.hasOwn(shape, k)) fail(p, `no key "${k}"`, v[k]);
    const out: Partial<T> = {};
    for (const k of keys) {
      const parsed = shape[k].parse(Object.hasOwn(v, k) ? v[k] : undefined, p ? `${p}.${k}` : k);
      if (parsed !== undefined) out[k] = parsed;
    }
    return out as T;
  });
}

/** A union of object schemas told apart by their `type` field. */
export function tagged<T extends { type: string }>(key: 'type', cases: { [K in T['type']]: Schema<Extract<T, { type: K }>> }): Schema<T> {
  const table = cases as Record<string, Schema<T>>;
  return schema((v, p) => {
    if (!isPlainObject(v)) fail(p, 'an object', v);
    const tag = v[key];
    if (typeof tag !== 'string' || !Object.hasOwn(table, tag)) fail(p ? `${p}.${key}` : key, `one of ${Object.keys(table).join(', ')}`, tag);
    return table[tag].parse(v, p);
  });
}

/** A Float32Array (structured clone keeps the type) of at most `max` values, all finite unless allowed. */
export function f32(opts: { max?: number; length?: number; finite?: boolean } = {}): Schema<Float32Array> {
  const { max = 16_000_000, length, finite = true } = opts;
  return schema((v, p) => {
    if (!(v instanceof Float32Array)) fail(p, 'a Float32Array', v);
    if (v.length > max || (length !== undefined && v.length !== length)) fail(p, length !== undefined ? `${length} values` : `at most ${max} values`, v);
    if (finite) for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) fail(`${p}[${i}]`, 'a finite number', v[i]);
    return v;
  });
}

export function u8(opts: { max?: number } = {}): Schema<Uint8Array> {
  const { max = 64_000_000 } = opts;
  return schema((v, p) => {
    if (!(v instanceof Uint8Array)) fail(p, 'a Uint8Array', v);
    if (v.length > max) fail(p, `at most ${max} bytes`, v);
    return v;
  });
}

/** Any JSON-like value, checked later by a domain validator (e.g. `validateSpec`); bounded in depth and size. */
export function json(opts: { maxDepth?: number; maxNodes?: number } = {}): Schema<unknown> {
  const { maxDepth = 12, maxNodes = 20_000 } = opts;
  return schema((v, p) => {
    let nodes = 0;
    const walk = (x: unknown, depth: number, at: string): void => {
      if (++nodes > maxNodes) fail(p, `at most ${maxNodes} JSON values`, v);
      if (depth > maxDepth) fail(at, `nesting at most ${maxDepth} deep`, x);
      if (x === null || typeof x === 'string' || typeof x === 'boolean') return;
      if (typeof x === 'number') {
        if (!Number.isFinite(x)) fail(at, 'a finite number', x);
        return;
      }
      if (Array.isArray(x)) {
        x.forEach((y, i) => walk(y, depth + 1, `${at}[${i}]`));
        return;
      }
      if (isPlainObject(x)) {
        for (const [k, y] of Object.entries(x)) walk(y, depth + 1, `${at}.${k}`);
        return;
      }
      fail(at, 'a JSON value', x);
    };
    walk(v, 0, p);
    return v;
  });
}

/** Checks `value` and turns the optional ValidationError into one prefixed by `what`. */
export function check<T>(s: Schema<T>, value: unknown, what: string): T {
  try {
    return s.parse(value, '');
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(`${what}: ${e.message}`);
    throw e;
  }
}
