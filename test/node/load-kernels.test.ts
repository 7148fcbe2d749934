// Which kernel build a Node process loads (src/node/load-kernels.ts): the relaxed-SIMD build by
// default, the plain SIMD one when LENET_KERNELS=wasm-simd asks or the relaxed file is missing, an
// error when a build asked for by name cannot load, and shard workers running exactly the
// coordinator's build whatever LENET_KERNELS says.

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { limitSet } from '../../src/engine/data';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { localGradients } from '../../src/engine/train';
import { loadMnist, type MnistData } from '../../src/node/datasets';
import { DEFAULT_WASM_PATH, KernelsError, loadKernels, relaxedWasmPath } from '../../src/node/load-kernels';
import { ParallelGradients } from '../../src/node/parallel/gradients';
import { compareTensors } from '../helpers/close';

const env = process.env.LENET_KERNELS;
let dir: string;
let data: MnistData;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lenet-kernels-'));
  data = await loadMnist();
});
afterEach(() => {
  process.env.LENET_KERNELS = env;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What loadKernels reports, without the kernels object. */
function choice(wasmPath?: string, wanted?: string): { name: string; reason?: string } {
  const { kernels, ...rest } = loadKernels(wasmPath, wanted);
  expect(kernels.name).toBe(rest.name);
  return rest;
}

describe('loadKernels', () => {
  it('refuses a LENET_KERNELS value it does not know, rather than take the default', () => {
    for (const bad of ['bogus', 'WASM', 'wasm ', 'simd']) {
      expect(() => loadKernels(undefined, bad)).toThrow(
        new KernelsError(`LENET_KERNELS must be one of auto, wasm, wasm-simd, wasm-relaxed-simd, js (or unset), got "${bad}"`, true),
      );
    }
    process.env.LENET_KERNELS = 'bogus';
    expect(() => loadKernels()).toThrow(KernelsError);
    process.env.LENET_KERNELS = '';
    expect(choice().name).toBe('wasm-relaxed-simd'); // empty: as if unset
  });

  it('finds the relaxed build next to the plain one', () => {
    expect(relaxedWasmPath('/a/b/kernels.wasm')).toBe('/a/b/kernels-relaxed.wasm');
  });

  it('prefers the relaxed-SIMD build; LENET_KERNELS=wasm-simd forces the plain one', () => {
    expect(choice(DEFAULT_WASM_PATH, 'auto')).toEqual({ name: 'wasm-relaxed-simd' });
    process.env.LENET_KERNELS = 'wasm-simd';
    expect(choice()).toEqual({ name: 'wasm-simd' });
    expect(choice(DEFAULT_WASM_PATH, 'wasm')).toEqual({ name: 'wasm-relaxed-simd' });
    expect(choice(DEFAULT_WASM_PATH, 'js')).toEqual({ name: 'js', reason: 'LENET_KERNELS=js' });
    // Each build is instantiated once per process: its memory is shared by the process's models.
    expect(loadKernels(DEFAULT_WASM_PATH, 'wasm-simd').kernels).toBe(loadKernels(DEFAULT_WASM_PATH, 'wasm-simd').kernels);
    expect(loadKernels(DEFAULT_WASM_PATH, 'wasm').kernels).toBe(loadKernels(DEFAULT_WASM_PATH, 'wasm-relaxed-simd').kernels);
  });

  it('falls back to the plain build without the relaxed file, and fails when that one was asked for', () => {
    const plainOnly = join(dir, 'kernels.wasm');
    copyFileSync(DEFAULT_WASM_PATH, plainOnly);
    expect(choice(plainOnly, 'auto')).toEqual({ name: 'wasm-simd' });
    expect(() => loadKernels(plainOnly, 'wasm-relaxed-simd')).toThrow(/LENET_KERNELS=wasm-relaxed-simd but cannot load .*kernels-relaxed\.wasm/);
    // A file that holds the other build is refused, not mislabelled.
    const swapped = join(dir, 'swapped.wasm');
    copyFileSync(DEFAULT_WASM_PATH, relaxedWasmPath(swapped));
    expect(() => loadKernels(swapped, 'wasm-relaxed-simd')).toThrow(/holds the wasm-simd build/);
  });
});

describe('shard workers', () => {
  // LENET_KERNELS=wasm here would make a worker pick the relaxed build on its own; each must
  // instead report the coordinator's (ParallelGradients.create checks), and the gradients agree.
  it.each(['wasm-simd', 'wasm-relaxed-simd', 'js'] as const)('run the coordinator’s %s kernels', async (name) => {
    const { kernels } = loadKernels(DEFAULT_WASM_PATH, name);
    const spec = PRESETS['lenet5-relu-ce'].spec;
    const a = new Model(spec, kernels).init(3);
    const b = new Model(spec, kernels).init(3);
    const set = limitSet(data.train, 256);
    const idx = Uint32Array.from({ length: 33 }, (_, i) => i * 7);
    const labels = Uint8Array.from(idx, (i) => set.labels[i]);
    localGradients(a, set).compute(idx, labels, idx.length);
    const p = await ParallelGradients.create(b, set, 2, 64);
    try {
      p.compute(idx, labels, idx.length);
    } finally {
      await p.close();
      a.dispose();
      b.dispose();
    }
    const r = compareTensors('grads', b.grads, a.grads, 1e-4, 1e-6);
    expect(r.ok, r.message).toBe(true);
  });
});
