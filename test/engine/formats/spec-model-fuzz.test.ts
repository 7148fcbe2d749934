// Seeded fuzzing of the JSON model spec (structure-aware: values and keys swapped for hostile
// ones) and of whole .lenet model files (bytes mutated inside a valid file): each case gives a
// valid result or a typed error, never another exception.

import { describe, expect, it } from 'vitest';
import { EngineError, ModelFileError, SpecError } from '../../../src/engine/errors';
import { decodeModelFile, encodeModelFile } from '../../../src/engine/formats/modelfile';
import { Model } from '../../../src/engine/model';
import { PRESETS } from '../../../src/engine/presets';
import { validateSpec } from '../../../src/engine/spec';
import { type Prng, mulberry32 } from '../../helpers/prng';
import { jsKernels } from '../../../src/engine/kernels/js/backend';
import { testKernels } from '../../helpers/kernels';

const CASES = 10_000;

const HOSTILE: unknown[] = [
  null,
  undefined,
  true,
  0,
  -1,
  1.5,
  1e9,
  -1e9,
  NaN,
  Infinity,
  '',
  'x',
  'relu',
  'softmax',
  'max',
  'avg',
  [],
  [1],
  [[1]],
  {},
  { type: 'dense' },
  '__proto__',
  2 ** 31,
  65536,
  1025,
  33,
  3,
  5,
  28,
];
const KEYS = [
  'type',
  'filters',
  'kernel',
  'stride',
  'padding',
  'table',
  'init',
  'units',
  'mode',
  'size',
  'fn',
  'eps',
  'momentum',
  'name',
  'bogus',
  'input',
  'layers',
  'loss',
  '__proto__',
];

function mutateValue(rng: Prng, v: unknown, depth: number): unknown {
  if (depth > 6) return v;
  if (rng.next() < 0.08) return rng.pick(HOSTILE);
  if (Array.isArray(v)) {
    const a = v.map((x) => (rng.next() < 0.3 ? mutateValue(rng, x, depth + 1) : x));
    const r = rng.next();
    if (r < 0.05 && a.length) a.splice(rng.int(a.length), 1);
    else if (r < 0.1 && a.length) a.push(structuredClone(a[rng.int(a.length)]));
    else if (r < 0.12) a.reverse();
    return a;
  }
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    for (const k of Object.keys(o)) if (rng.next() < 0.3) o[k] = mutateValue(rng, o[k], depth + 1);
    if (rng.next() < 0.05) delete o[rng.pick(Object.keys(o).length ? Object.keys(o) : ['x'])];
    if (rng.next() < 0.05) o[rng.pick(KEYS)] = rng.pick(HOSTILE);
    return o;
  }
  return v;
}

describe('seeded fuzzing', () => {
  it(`model spec: ${CASES} seeded mutations of the presets give a valid spec or a SpecError`, () => {
    const presets = Object.values(PRESETS).map((p) => JSON.parse(JSON.stringify(p.spec)));
    let valid = 0;
    const codes = new Set<string>();
    for (let i = 0; i < CASES; i++) {
      const rng = mulberry32(0xabc0 + i);
      const spec = mutateValue(rng, rng.pick(presets), 0);
      try {
        const s = validateSpec(spec);
        // Whatever validates must build: shapes were checked, nothing else may throw. (Building
        // every one would dominate the run; a few hundred cover the kinds of survivors.)
        if (valid < 300) new Model(s, testKernels()).dispose();
        valid++;
      } catch (e) {
        if (!(e instanceof SpecError)) throw new Error(`case ${i}: ${(e as Error).stack}\nspec: ${JSON.stringify(spec).slice(0, 400)}`);
        codes.add(e.code);
      }
    }
    expect(codes).toContain('SPEC_INVALID');
    // The mutator must also produce specs that still validate, or it tests nothing.
    expect(valid).toBeGreaterThan(100);
    expect(valid).toBeLessThan(CASES);
  });

  it(`.lenet model files: ${CASES} seeded byte mutations give a model or a ModelFileError`, () => {
    const model = new Model(PRESETS['lenet5-relu-ce-bn'].spec, jsKernels).init(1); // only encoded
    const file = encodeModelFile(model, { preset: 'lenet5-relu-ce-bn', training: { epochs: 1 }, metrics: { accuracy: 0.5 } });
    // Header length (8 bytes) + JSON header: mutations concentrate there, where parsing happens.
    const headerEnd = 8 + Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
    let loaded = 0;
    for (let i = 0; i < CASES; i++) {
      const rng = mulberry32(0xf11e + i);
      let b: Uint8Array = file.slice();
      const r = rng.next();
      if (r < 0.6) {
        for (let k = 1 + rng.int(4); k > 0; k--) b[rng.int(headerEnd)] = rng.byte();
      } else if (r < 0.8) {
        for (let k = 1 + rng.int(8); k > 0; k--) b[rng.int(b.length)] ^= 1 << rng.int(8);
      } else if (r < 0.9) {
        b = b.slice(0, rng.int(b.length));
      } else {
        // Rewrite one number in the header JSON, keeping the length consistent.
        const text = new TextDecoder().decode(b.subarray(8, headerEnd));
        const nums = [...text.matchAll(/\d+/g)];
        if (nums.length) {
          const m = rng.pick(nums);
          const repl = String(rng.pick([0, 1, 7, 99999999, 4294967295]))
            .padStart(m[0].length, '0')
            .slice(0, m[0].length);
          const t2 = text.slice(0, m.index) + repl + text.slice(m.index! + m[0].length);
          b.set(new TextEncoder().encode(t2), 8);
        }
      }
      try {
        decodeModelFile(b, `case-${i}.lenet`);
        loaded++;
      } catch (e) {
        if (!(e instanceof ModelFileError) && !(e instanceof EngineError)) throw new Error(`case ${i}: ${(e as Error).stack}`);
      }
    }
    expect(loaded).toBeLessThan(CASES);
  });
});
