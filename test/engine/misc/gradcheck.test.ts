// The finite-difference checker itself must be able to fail: it passes a correct layer and
// catches a wrong input gradient, a wrong parameter gradient and a backward that overwrites
// its gradients instead of adding to them.

import { describe, expect, it } from 'vitest';
import { Dense } from '../../../src/engine/layers/dense';
import type { Layer, ParamSpec, Views } from '../../../src/engine/layers/layer';
import { Rng } from '../../../src/engine/rng';
import { bindFresh, gradCheck, randomArray } from '../../helpers/gradcheck';

type Fault = 'none' | 'dx-scaled' | 'dw-one-entry' | 'db-dropped' | 'overwrites';

/** A Dense layer with a deliberate fault in its backward pass. */
class FaultyDense implements Layer {
  readonly kind = 'dense';
  readonly name = 'faulty';
  readonly inShape = [6];
  readonly outShape = [4];
  readonly macs = 24;
  readonly params: readonly ParamSpec[];
  readonly buffers: readonly ParamSpec[] = [];
  private readonly inner = new Dense('fc', [6], [4], 'kaiming-uniform', 0.05);
  private grads: Views = new Map();

  constructor(private readonly fault: Fault) {
    this.params = this.inner.params;
  }
  bind(p: Views, g: Views): void {
    this.grads = g;
    this.inner.bind(p, g);
  }
  init(rng: Rng): void {
    this.inner.init(rng);
  }
  constrain(): void {}
  forward(x: Float32Array, n: number, training: boolean): Float32Array {
    return this.inner.forward(x, n, training);
  }
  backward(dy: Float32Array, n: number, needDx: boolean): Float32Array {
    const dw = this.grads.get('weight')!;
    const db = this.grads.get('bias')!;
    const before = this.fault === 'overwrites' ? dw.slice() : null;
    const savedDb = db.slice();
    const dx = this.inner.backward(dy, n, needDx);
    if (this.fault === 'dx-scaled') for (let i = 0; i < dx.length; i++) dx[i] *= 1.05;
    if (this.fault === 'dw-one-entry') dw[7] += 0.1;
    if (this.fault === 'db-dropped') db.set(savedDb);
    if (before) for (let i = 0; i < dw.length; i++) dw[i] -= before[i];
    return dx;
  }
}

function check(fault: Fault): ReturnType<typeof gradCheck> {
  const layer = new FaultyDense(fault);
  const bound = bindFresh(layer);
  layer.init(new Rng(1));
  return gradCheck(layer, bound, randomArray(new Rng(2), 3 * 6), 3);
}

describe('gradCheck on dense x=[3,6] w=[4,6]', () => {
  it('passes the correct layer', () => {
    const r = check('none');
    expect(r.ok, r.message).toBe(true);
    expect(r.checks.map((c) => [c.name, c.checked])).toEqual([
      ['input', 18],
      ['weight', 24],
      ['bias', 4],
    ]);
  });

  it('catches dL/dx off by 5%', () => {
    const r = check('dx-scaled');
    expect(r.ok).toBe(false);
    expect(r.checks[0].failures).toBeGreaterThan(0);
  });

  it('catches one wrong weight-gradient entry', () => {
    const r = check('dw-one-entry');
    expect(r.ok).toBe(false);
    expect(r.checks[1].failures).toBe(1);
    expect(r.checks[1].worst?.index).toBe(7);
  });

  it('catches a missing bias gradient', () => {
    const r = check('db-dropped');
    expect(r.ok).toBe(false);
    expect(r.checks[2].failures).toBe(4);
  });

  it('catches a backward that overwrites gradients instead of adding', () => {
    const r = check('overwrites');
    expect(r.ok).toBe(false);
    expect(r.accumulateError).toBeGreaterThan(1e-2);
    expect(r.checks[1].failures).toBe(0); // the gradient itself is right
  });

  it('restores every perturbed element bit-exactly', () => {
    const layer = new FaultyDense('none');
    const bound = bindFresh(layer);
    layer.init(new Rng(3));
    const x = randomArray(new Rng(4), 18);
    const x0 = x.slice();
    const w0 = bound.params.get('weight')!.slice();
    gradCheck(layer, bound, x, 3);
    expect(Array.from(x)).toEqual(Array.from(x0));
    expect(Array.from(bound.params.get('weight')!)).toEqual(Array.from(w0));
  });
});
