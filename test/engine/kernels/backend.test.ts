// The kernels a project claims are the kernels that run: "wasm on" cannot silently mean off. And
// a model's memory is its own: dispose() hands back every byte it took.
import { describe, expect, it } from 'vitest';
import type { WasmKernels } from '../../../src/engine/kernels/wasm/backend';
import { Model } from '../../../src/engine/model';
import { Sgd } from '../../../src/engine/optim';
import { PRESETS } from '../../../src/engine/presets';
import { testKernels } from '../../helpers/kernels';

const kernels = testKernels();

describe(`kernel backend (LENET_KERNELS=${process.env.LENET_KERNELS})`, () => {
  it('the requested backend is loaded', () => {
    // In Node the relaxed-SIMD build loads (Node 20 after switching on V8's flag).
    expect(kernels.name).toBe(process.env.LENET_KERNELS === 'js' ? 'js' : 'wasm-relaxed-simd');
  });

  it('model tensors live in the memory of the kernels it was built with', () => {
    const model = new Model(PRESETS['lenet5-relu-ce-bn'].spec, kernels).init(1);
    try {
      expect(model.kernels).toBe(kernels);
      if (kernels.name !== 'js') {
        const memory = (kernels as WasmKernels).memory;
        expect(model.params.buffer).toBe(memory.buffer);
        expect(model.grads.buffer).toBe(memory.buffer);
      } else {
        expect(model.params.buffer).toBeInstanceOf(ArrayBuffer);
      }
    } finally {
      model.dispose();
    }
  });
});

describe.runIf(kernels.name !== 'js')('model memory ownership (wasm)', () => {
  const wasm = kernels as WasmKernels;

  it('dispose() returns everything a model took: parameters, grown batch buffers, plans, optimizer state', () => {
    const free0 = wasm.freeBytes();
    const model = new Model(PRESETS['lenet5-relu-ce-bn'].spec, kernels).init(2);
    const built = wasm.freeBytes();
    expect(built).toBeLessThan(free0);
    const pixels = new Uint8Array(64 * 28 * 28).map((_, i) => i % 251);
    const labels = new Uint8Array(64).map((_, i) => i % 10);
    const idx = Uint32Array.from({ length: 64 }, (_, i) => i);
    // Growing from 8 to 64 images frees the smaller blocks: memory in use grows by the difference only.
    model.forwardPixels(pixels, idx, 8, true);
    model.backward(labels);
    const at8 = wasm.freeBytes();
    model.forwardPixels(pixels, idx, 64, true);
    model.backward(labels);
    new Sgd(model, { momentum: 0.9, decay: 1e-4 }).step(0.01);
    const at64 = wasm.freeBytes();
    expect(at64).toBeLessThan(at8);
    model.forwardPixels(pixels, idx, 8, false);
    expect(wasm.freeBytes()).toBe(at64);
    model.dispose();
    expect(wasm.freeBytes()).toBe(free0);
    model.dispose(); // a second call does nothing
    expect(wasm.freeBytes()).toBe(free0);
  });

  it('growing a batch hands the smaller blocks back: grown from 8 to 64 images, a model holds what one run at 64 holds', () => {
    const pixels = new Uint8Array(64 * 28 * 28).map((_, i) => i % 251);
    const labels = new Uint8Array(64).map((_, i) => i % 10);
    const idx = Uint32Array.from({ length: 64 }, (_, i) => i);
    const held = (sizes: number[]): number => {
      const free0 = wasm.freeBytes();
      const model = new Model(PRESETS['lenet5-tanh-mse'].spec, kernels).init(3);
      for (const n of sizes) {
        model.forwardPixels(pixels, idx, n, true);
        model.backward(labels, true);
      }
      const bytes = free0 - wasm.freeBytes();
      model.dispose();
      return bytes;
    };
    expect(held([8, 64])).toBe(held([64]));
  });

  it('a model that does not fit throws KERNEL_MEMORY_FULL and keeps nothing', () => {
    const free0 = wasm.freeBytes();
    const models: Model[] = [];
    let error: unknown;
    try {
      for (let i = 0; i < 10_000; i++) models.push(new Model(PRESETS['mlp-500-150'].spec, kernels));
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'KERNEL_MEMORY_FULL' });
    expect(models.length).toBeGreaterThan(10);
    for (const m of models) m.dispose();
    expect(wasm.freeBytes()).toBe(free0);
  });
});
