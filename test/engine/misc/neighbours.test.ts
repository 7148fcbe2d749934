// nearest(): the k smallest Euclidean distances against a full sort of every distance.

import { describe, expect, it } from 'vitest';
import { nearest } from '../../../src/engine/neighbours';
import { Rng } from '../../../src/engine/rng';

describe('nearest', () => {
  it('returns the k nearest rows, nearest first, as a full sort does (ties in row order)', () => {
    const rng = new Rng(5);
    const dim = 7;
    const count = 500;
    const e = new Float32Array(count * dim);
    // small integers, so many exact ties
    for (let i = 0; i < e.length; i++) e[i] = Math.floor(rng.next() * 3);
    const q = Array.from({ length: dim }, () => Math.floor(rng.next() * 3));
    const all = Array.from({ length: count }, (_, r) => {
      let s = 0;
      for (let j = 0; j < dim; j++) s += (e[r * dim + j] - q[j]) ** 2;
      return { index: r, distance: Math.sqrt(s) };
    }).sort((a, b) => a.distance - b.distance || a.index - b.index);
    for (const k of [1, 5, 37, 500]) expect(nearest(e, dim, q, k)).toEqual(all.slice(0, k));
    expect(nearest(e, dim, q, 900)).toHaveLength(500);
    expect(nearest(e, dim, q, 0)).toEqual([]);
  });
});
