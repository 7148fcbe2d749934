// Flatten: NCHW per sample is already contiguous, so forward and backward are the identity.

import { describe, expect, it } from 'vitest';
import { Flatten } from '../../../src/engine/layers/flatten';
import { Rng } from '../../../src/engine/rng';
import { bindFresh, gradCheck, randomArray } from '../../helpers/gradcheck';

describe.each([
  { name: 'flatten x=[2,16,5,5] → [2,400]', n: 2, shape: [16, 5, 5] },
  { name: 'flatten x=[3,1,7,7] → [3,49]', n: 3, shape: [1, 7, 7] },
  { name: 'flatten x=[4,9] → [4,9]', n: 4, shape: [9] },
])('$name', ({ n, shape }) => {
  const size = shape.reduce((a, d) => a * d, 1);

  it('forward keeps values in NCHW order; backward hands dy back', () => {
    const f = new Flatten('flatten', shape, [size]);
    expect(f.params).toEqual([]);
    expect(f.buffers).toEqual([]);
    const x = randomArray(new Rng(1), n * size);
    expect(Array.from(f.forward(x))).toEqual(Array.from(x));
    const dy = randomArray(new Rng(2), n * size);
    expect(Array.from(f.backward(dy))).toEqual(Array.from(dy));
  });

  it('dL/dx matches finite differences', () => {
    const f = new Flatten('flatten', shape, [size]);
    const report = gradCheck(f, bindFresh(f), randomArray(new Rng(3), n * size), n);
    expect(report.ok, report.message).toBe(true);
    expect(report.checks).toHaveLength(1);
  });
});
