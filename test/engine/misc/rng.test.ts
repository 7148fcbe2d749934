// Rng (xoshiro128** seeded by splitmix32): determinism, ranges, and exact resumption from
// getState/setState, which checkpoints rely on.

import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/engine/rng';

const draw = (rng: Rng, count: number): number[] => Array.from({ length: count }, () => rng.nextU32());

/** A mix of every kind of draw, so state that only some of them touch (the normal spare) counts. */
function mixed(rng: Rng, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    switch (i % 5) {
      case 0:
        out.push(rng.normal());
        break;
      case 1:
        out.push(rng.next());
        break;
      case 2:
        out.push(rng.int(10 + i));
        break;
      case 3:
        out.push(rng.normal());
        out.push(rng.normal());
        break;
      default:
        out.push(rng.uniform(-3, 5));
    }
  }
  return out;
}

describe('Rng', () => {
  it('the same seed gives the same stream; different seeds differ', () => {
    expect(draw(new Rng(42), 1000)).toEqual(draw(new Rng(42), 1000));
    expect(mixed(new Rng(42), 200)).toEqual(mixed(new Rng(42), 200));
    const a = draw(new Rng(1), 100);
    const b = draw(new Rng(2), 100);
    expect(a.filter((v, i) => v === b[i]).length).toBeLessThan(2);
  });

  it('seed 0 and seed 2³²−1 give working, distinct streams', () => {
    const z = draw(new Rng(0), 100);
    const m = draw(new Rng(0xffffffff), 100);
    expect(new Set(z).size).toBe(100);
    expect(new Set(m).size).toBe(100);
    expect(z).not.toEqual(m);
  });

  it('nextU32 is an unsigned 32-bit integer; next is in [0, 1) with mean ≈ ½', () => {
    const rng = new Rng(7);
    let sum = 0;
    let hiBit = 0;
    let bad = 0;
    for (let i = 0; i < 20000; i++) {
      const u = rng.nextU32();
      if (!(Number.isInteger(u) && u >= 0 && u <= 0xffffffff)) bad++;
      if (u >= 0x80000000) hiBit++;
      const v = rng.next();
      if (!(v >= 0 && v < 1)) bad++;
      sum += v;
    }
    expect(bad).toBe(0);
    expect(sum / 20000).toBeGreaterThan(0.49);
    expect(sum / 20000).toBeLessThan(0.51);
    expect(hiBit / 20000).toBeGreaterThan(0.48);
    expect(hiBit / 20000).toBeLessThan(0.52);
  });

  it('uniform(lo, hi) stays in [lo, hi); int(n) covers 0..n−1 evenly', () => {
    const rng = new Rng(8);
    const counts = new Array<number>(7).fill(0);
    let bad = 0;
    for (let i = 0; i < 7000; i++) {
      const u = rng.uniform(-2, 3);
      if (!(u >= -2 && u < 3)) bad++;
      const k = rng.int(7);
      if (!(Number.isInteger(k) && k >= 0 && k < 7)) bad++;
      else counts[k]++;
    }
    expect(bad).toBe(0);
    for (const c of counts) {
      expect(c).toBeGreaterThan(850);
      expect(c).toBeLessThan(1150);
    }
    expect(rng.int(1)).toBe(0);
  });

  it('normal() has mean ≈ 0 and standard deviation ≈ 1', () => {
    const rng = new Rng(9);
    const xs = Array.from({ length: 20000 }, () => rng.normal());
    const mean = xs.reduce((a, v) => a + v, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, v) => a + (v - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
    expect(xs.every(Number.isFinite)).toBe(true);
  });

  it('shuffle is a seeded permutation', () => {
    const a = Array.from({ length: 50 }, (_, i) => i);
    const b = Uint32Array.from(a);
    new Rng(3).shuffle(a);
    new Rng(3).shuffle(b);
    expect(Array.from(b)).toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('setState(getState()) resumes exactly, including a cached normal deviate', () => {
    const rng = new Rng(123);
    mixed(rng, 17);
    rng.normal(); // leaves the second Box–Muller deviate cached
    const state = rng.getState();
    expect(state.spare).not.toBeNull();
    const expected = mixed(rng, 300);
    const other = new Rng(999);
    other.normal();
    other.next();
    other.setState(state);
    expect(mixed(other, 300)).toEqual(expected);
  });

  it('setState resumes with no cached deviate too, and the state survives JSON', () => {
    const rng = new Rng(5);
    draw(rng, 10);
    const state = JSON.parse(JSON.stringify(rng.getState()));
    expect(state.spare).toBeNull();
    const expected = mixed(rng, 100);
    const other = new Rng(6);
    other.normal(); // a stale spare in the target must be cleared
    other.setState(state);
    expect(mixed(other, 100)).toEqual(expected);
  });

  it('getState returns a copy: drawing afterwards does not change it', () => {
    const rng = new Rng(77);
    const state = rng.getState();
    const copy = JSON.parse(JSON.stringify(state));
    draw(rng, 5);
    expect(state).toEqual(copy);
  });
});
