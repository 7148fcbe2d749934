// The engine object kept for the model on screen: built once per model and kernels, built again
// (and the old model disposed) when either changes, dropped when no model is on screen.

import { describe, expect, it } from 'vitest';
import type { ModelPayload } from '../../src/common/records';
import type { Kernels } from '../../src/engine/kernels/types';
import { jsKernels } from '../../src/engine/kernels/js/backend';
import { Model } from '../../src/engine/model';
import { lenet5Spec } from '../../src/engine/presets';
import { ModelHolder, modelFrom } from '../../src/renderer/src/lib/model-holder';

function payload(seed: number): ModelPayload {
  const m = new Model(lenet5Spec({ act: 'relu', bn: false }), jsKernels).init(seed);
  const p = { spec: m.spec, params: m.params.slice(), buffers: m.buffers.slice() } as ModelPayload;
  m.dispose();
  return p;
}

describe('ModelHolder', () => {
  it('reuses the object for the same model and kernels; rebuilds on a new model or kernels; disposes what it drops', () => {
    const disposed: number[] = [];
    let made = 0;
    const holder = new ModelHolder((model) => {
      const id = made++;
      const dispose = model.dispose.bind(model);
      model.dispose = () => {
        disposed.push(id);
        dispose();
      };
      return { model, id };
    });
    const a = payload(1);
    const first = holder.get(a, jsKernels)!;
    expect(first.fresh).toBe(true);
    expect(first.value.model.params).toEqual(a.params);
    expect(holder.get(a, jsKernels)).toEqual({ value: first.value, fresh: false });
    const b = payload(2);
    const second = holder.get(b, jsKernels)!;
    expect([second.fresh, second.value.id, disposed]).toEqual([true, 1, [0]]);
    const other: Kernels = { ...jsKernels, name: 'wasm-simd' };
    expect(holder.get(b, other)!.value.id).toBe(2);
    expect(disposed).toEqual([0, 1]);
    expect(holder.get(null, other)).toBeNull();
    expect(disposed).toEqual([0, 1, 2]);
  });

  it('a payload whose weights do not fit is refused, and its half-built model disposed', () => {
    const bad = { ...payload(1), params: new Float32Array(3) };
    expect(() => modelFrom(bad, jsKernels)).toThrow();
    const holder = new ModelHolder((model) => ({ model }));
    expect(() => holder.get(bad, jsKernels)).toThrow();
    expect(holder.get(null, jsKernels)).toBeNull();
  });
});
