// The schema combinators at the process boundaries: an object schema accepts exactly its own keys,
// so names every object inherits (constructor, toString, __proto__…) are unknown keys like any other.

import { describe, expect, it } from 'vitest';
import { int, obj, optional, str, ValidationError } from '../../src/common/schema';
import { parseArgs } from '../../src/common/api-schema';
import type { StudioMethod } from '../../src/common/channels';
import { PRESETS } from '../../src/engine/presets';

const point = obj<{ x: number; label?: string }>({ x: int(0, 10), label: optional(str({ max: 10 })) });

/** Names on Object.prototype: `k in shape` is true for each of them although no schema lists them. */
const INHERITED = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];

/** An object with `key` as an own, enumerable property (as structured clone or JSON.parse make them, even for __proto__). */
function withOwn(base: object, key: string, value: unknown): Record<string, unknown> {
  const o: Record<string, unknown> = { ...base };
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  return o;
}

describe('obj: unknown keys are errors, inherited names included', () => {
  it.each(INHERITED)('refuses an own "%s" key', (key) => {
    const v = withOwn({ x: 1 }, key, 1);
    expect(Object.keys(v)).toContain(key);
    expect(() => point.parse(v, 'p')).toThrow(ValidationError);
    expect(() => point.parse(v, 'p')).toThrow(`p: expected no key "${key}"`);
  });

  it('refuses them from JSON too (JSON.parse makes "__proto__" an own key), and still accepts exactly the listed keys', () => {
    expect(point.parse({ x: 3 })).toEqual({ x: 3 });
    expect(point.parse({ x: 3, label: 'a' })).toEqual({ x: 3, label: 'a' });
    expect(() => point.parse({ x: 3, extra: 1 })).toThrow(/no key "extra"/);
    expect(() => point.parse(JSON.parse('{"x": 1, "__proto__": {"polluted": true}}'))).toThrow(/no key "__proto__"/);
    expect(() => point.parse(JSON.parse('{"x": 1, "constructor": {"prototype": {}}}'))).toThrow(/no key "constructor"/);
  });

  it('an IPC argument carrying an inherited name is refused (startRun settings)', () => {
    const settings = { ...PRESETS['lenet5-relu-ce'].defaults, seed: 1, shuffle: true };
    expect(() => parseArgs('startRun', ['lenet5-relu-ce', settings])).not.toThrow();
    for (const key of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      expect(() => parseArgs('startRun', ['lenet5-relu-ce', withOwn(settings, key, 'x')])).toThrow(`startRun arguments: [1]: expected no key "${key}"`);
    }
  });

  it('a method name is looked up among the API methods only (the test host takes it from a socket)', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'noSuchMethod']) {
      expect(() => parseArgs(name as StudioMethod, [])).toThrow(ValidationError);
      expect(() => parseArgs(name as StudioMethod, [])).toThrow(`unknown method "${name}"`);
    }
  });
});
