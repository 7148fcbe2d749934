// Seeded fuzzing of everything that crosses a process boundary: the renderer's IPC arguments
// (every StudioApi method) and the main ⇄ trainer messages. Valid messages are mutated (values
// swapped for hostile ones, keys added and removed, typed arrays replaced); each case must parse
// or throw ValidationError — never another exception, never a hang.

import { describe, expect, it } from 'vitest';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { API_ARGS, parseArgs } from '../../src/common/api-schema';
import { parseTrainerEvent, parseTrainerRequest } from '../../src/node/protocol';
import { ValidationError } from '../../src/common/schema';
import type { StudioMethod } from '../../src/common/channels';
import { type Prng, mulberry32 } from '../helpers/prng';
import { jsKernels } from '../../src/engine/kernels/js/backend';

const CASES = 10_000;

const model = new Model(PRESETS['lenet5-relu-ce'].spec, jsKernels).init(1);
const payload = {
  spec: model.spec,
  params: model.params.slice(),
  buffers: model.buffers.slice(),
  preset: 'lenet5-relu-ce',
  source: { kind: 'run', runId: 'r1', epoch: 1 },
};
const settings = { ...PRESETS['lenet5-relu-ce'].defaults, seed: 1, shuffle: true, limit: 100 };

/** One valid argument list per method (the fuzzer mutates these). */
const VALID: Partial<Record<StudioMethod, unknown[]>> = {
  startRun: ['lenet5-relu-ce', settings],
  pauseRun: ['r1'],
  getRun: ['r1'],
  runModel: ['r1', 'best'],
  datasetImages: ['test', 0, 10],
  openRecentDataset: ['/data/mnist'],
  openModelPath: ['/models/a.lenet'],
  saveModel: [payload, false],
  evaluateModel: [payload],
};

const REQUESTS: unknown[] = [
  { type: 'train', id: 3, runId: 'r1', runDir: '/runs/r1', datasetDir: '/data', resume: false },
  { type: 'evaluate', id: 4, spec: model.spec, params: model.params.slice(), buffers: model.buffers.slice(), datasetDir: '/data' },
  { type: 'pause', id: 1, runId: 'r1' },
  { type: 'cancel', id: 2, runId: 'r1' },
];
const EVENTS: unknown[] = [
  { type: 'status', runId: 'r1', status: 'paused' },
  { type: 'reply', id: 3, ok: true, runId: 'r1' },
  { type: 'reply', id: 4, ok: false, error: { name: 'DatasetError', code: 'IDX_TRUNCATED', message: 'short' } },
  { type: 'finished', runId: 'r1', reason: 'diverged', error: { name: 'DivergedError', code: 'DIVERGED', message: 'diverged' } },
];

const HOSTILE: unknown[] = [
  null,
  undefined,
  true,
  0,
  -1,
  0.5,
  1e300,
  NaN,
  Infinity,
  -Infinity,
  '',
  'x'.repeat(5000),
  '../../etc/passwd',
  [],
  [1, 2],
  {},
  { __proto__: { polluted: true } },
  new Float32Array(3),
  new Float32Array([NaN]),
  new Uint8Array(2),
  new Float64Array(2),
  new ArrayBuffer(8),
  Object.create(null),
  new Date(0),
  () => 1,
  Symbol('s'),
  10n,
];

/** Keys no schema lists but `key in shape` finds on every object. */
const INHERITED = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];

/** Whether a plain object in `v` has an inherited name as an own key (outside `spec`, which is free JSON checked later by validateSpec). */
function hasInheritedKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasInheritedKey);
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return false;
  return Object.keys(v).some((k) => INHERITED.includes(k) || (k !== 'spec' && hasInheritedKey((v as Record<string, unknown>)[k])));
}

function mutate(rng: Prng, v: unknown, depth: number): unknown {
  if (depth > 5) return v;
  if (rng.next() < 0.1) return rng.pick(HOSTILE);
  if (Array.isArray(v)) {
    const a = v.map((x) => (rng.next() < 0.4 ? mutate(rng, x, depth + 1) : x));
    if (rng.next() < 0.1) a.push(rng.pick(HOSTILE));
    if (rng.next() < 0.1 && a.length) a.pop();
    return a;
  }
  if (ArrayBuffer.isView(v)) return rng.next() < 0.5 ? v : rng.pick(HOSTILE);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    for (const k of Object.keys(o)) if (rng.next() < 0.35) o[k] = mutate(rng, o[k], depth + 1);
    if (rng.next() < 0.1) delete o[rng.pick(Object.keys(o).length ? Object.keys(o) : ['x'])];
    if (rng.next() < 0.1) o[rng.pick(['type', 'id', 'runId', 'extra', 'constructor'])] = rng.pick(HOSTILE);
    // Names every object inherits, as own keys (structured clone and JSON.parse make them so, even __proto__).
    if (rng.next() < 0.1) Object.defineProperty(o, rng.pick(INHERITED), { value: rng.pick(HOSTILE), enumerable: true, writable: true, configurable: true });
    return o;
  }
  return v;
}

function outcome(f: () => unknown, what: string): 'ok' | 'rejected' {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof ValidationError) return 'rejected';
    throw new Error(`${what}: ${(e as Error).stack}`);
  }
}

describe('seeded fuzzing of process boundaries', () => {
  it('every valid fixture parses (so the fuzzer starts from real messages)', () => {
    for (const [m, args] of Object.entries(VALID)) expect(outcome(() => parseArgs(m as StudioMethod, args as unknown[]), m)).toBe('ok');
    for (const r of REQUESTS) expect(outcome(() => parseTrainerRequest(r), 'request')).toBe('ok');
    for (const e of EVENTS) expect(outcome(() => parseTrainerEvent(e), 'event')).toBe('ok');
  });

  it(`IPC arguments: ${CASES} seeded mutations give parsed arguments or a ValidationError`, () => {
    const methods = Object.keys(VALID) as StudioMethod[];
    const seen = { ok: 0, rejected: 0, inherited: 0 };
    for (let i = 0; i < CASES; i++) {
      const rng = mulberry32(0x1bc + i);
      // Sometimes send a valid argument list to the wrong method.
      const m = rng.pick(methods);
      const args = rng.next() < 0.1 ? VALID[rng.pick(methods)]! : VALID[m]!;
      const mutant = mutate(rng, args, 0) as unknown[];
      const got = outcome(() => parseArgs(m, mutant), `case ${i} (${m})`);
      seen[got]++;
      // An inherited name is an unknown key like any other: always refused.
      if (hasInheritedKey(mutant)) {
        seen.inherited++;
        expect(got, `case ${i} (${m}) passed with an inherited name as a key`).toBe('rejected');
      }
    }
    expect(seen.ok).toBeGreaterThan(100);
    expect(seen.rejected).toBeGreaterThan(100);
    expect(seen.inherited).toBeGreaterThan(100);
    expect(Object.keys(API_ARGS).length).toBeGreaterThan(methods.length); // the rest take no or trivial arguments
  });

  it(`trainer messages: ${CASES} seeded mutations of requests and events parse or give a ValidationError`, () => {
    const seen = { ok: 0, rejected: 0 };
    for (let i = 0; i < CASES; i++) {
      const rng = mulberry32(0x7a1 + i);
      const mutant = mutate(rng, rng.pick(i % 2 ? REQUESTS : EVENTS), 0);
      const got = outcome(() => (i % 2 ? parseTrainerRequest(mutant) : parseTrainerEvent(mutant)), `case ${i}`);
      seen[got]++;
      if (hasInheritedKey(mutant)) expect(got, `case ${i} passed with an inherited name as a key`).toBe('rejected');
    }
    expect(seen.ok).toBeGreaterThan(100);
    expect(seen.rejected).toBeGreaterThan(100);
  });
});
