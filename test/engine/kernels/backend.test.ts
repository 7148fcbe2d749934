// The kernels a project claims are the kernels that run: "wasm on" cannot silently mean off.
import { describe, expect, it } from 'vitest';
import { K } from '../../../src/engine/kernels/backend';
import { Model } from '../../../src/engine/model';
import { PRESETS } from '../../../src/engine/presets';

describe(`kernel backend (LENET_KERNELS=${process.env.LENET_KERNELS})`, () => {
  it('the requested backend is active', () => {
    // In Node the relaxed-SIMD build loads (Node 20 after switching on V8's flag).
    expect(K.name).toBe(process.env.LENET_KERNELS === 'js' ? 'js' : 'wasm-relaxed-simd');
  });

  it('model tensors live in the backend memory', () => {
    const model = new Model(PRESETS['lenet5-relu-ce-bn'].spec).init(1);
    if (K.name !== 'js') {
      const memory = (K as unknown as { memory: WebAssembly.Memory }).memory;
      expect(model.params.buffer).toBe(memory.buffer);
      expect(model.grads.buffer).toBe(memory.buffer);
    } else {
      expect(model.params.buffer).toBeInstanceOf(ArrayBuffer);
    }
  });
});
