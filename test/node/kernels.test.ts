// Which kernel build a Node process installs (src/node/kernels.ts): the relaxed-SIMD build by
// default, the plain SIMD one when LENET_KERNELS=wasm-simd asks or the relaxed file is missing, an
// error when a build asked for by name cannot load, and shard workers running exactly the
// coordinator's build whatever LENET_KERNELS says.

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { limitSet } from '../../src/engine/data';
import { K, setKernels } from '../../src/engine/kernels/backend';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { localGradients } from '../../src/engine/train';
import { loadMnist, type MnistData } from '../../src/node/datasets';
import { DEFAULT_WASM_PATH, installKernels, relaxedWasmPath } from '../../src/node/kernels';
import { ParallelGradients } from '../../src/node/parallel/gradients';
import { compareTensors } from '../helpers/close';

const before = K;
const env = process.env.LENET_KERNELS;
let dir: string;
let data: MnistData;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lenet-kernels-'));
  data = await loadMnist();
});
afterEach(() => {
  setKernels(before);
  process.env.LENET_KERNELS = env;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('installKernels', () => {
  it('finds the relaxed build next to the plain one', () => {
    expect(relaxedWasmPath('/a/b/kernels.wasm')).toBe('/a/b/kernels-relaxed.wasm');
  });

  it('prefers the relaxed-SIMD build; LENET_KERNELS=wasm-simd forces the plain one', () => {
    expect(installKernels(DEFAULT_WASM_PATH, 'auto')).toEqual({ name: 'wasm-relaxed-simd' });
    process.env.LENET_KERNELS = 'wasm-simd';
    expect(installKernels()).toEqual({ name: 'wasm-simd' });
    expect(K.name).toBe('wasm-simd');
    // Already a wasm build: 'wasm' keeps it; a build by name switches.
    expect(installKernels(DEFAULT_WASM_PATH, 'wasm')).toEqual({ name: 'wasm-simd' });
    expect(installKernels(DEFAULT_WASM_PATH, 'wasm-relaxed-simd')).toEqual({ name: 'wasm-relaxed-simd' });
    expect(K.name).toBe('wasm-relaxed-simd');
  });

  it('falls back to the plain build without the relaxed file, and fails when that one was asked for', () => {
    const plainOnly = join(dir, 'kernels.wasm');
    copyFileSync(DEFAULT_WASM_PATH, plainOnly);
    installKernels(plainOnly, 'js'); // start from the TypeScript kernels
    expect(installKernels(plainOnly, 'auto')).toEqual({ name: 'wasm-simd' });
    installKernels(plainOnly, 'js');
    expect(() => installKernels(plainOnly, 'wasm-relaxed-simd')).toThrow(/LENET_KERNELS=wasm-relaxed-simd but cannot load .*kernels-relaxed\.wasm/);
    // A file that holds the other build is refused, not mislabelled.
    const swapped = join(dir, 'swapped.wasm');
    copyFileSync(DEFAULT_WASM_PATH, relaxedWasmPath(swapped));
    expect(() => installKernels(swapped, 'wasm-relaxed-simd')).toThrow(/holds the wasm-simd build/);
  });
});

describe('shard workers', () => {
  // LENET_KERNELS=wasm here would make a worker pick the relaxed build on its own; each must
  // instead report the coordinator's (ParallelGradients.create checks), and the gradients agree.
  it.each(['wasm-simd', 'wasm-relaxed-simd', 'js'] as const)('run the coordinator’s %s kernels', async (name) => {
    installKernels(DEFAULT_WASM_PATH, name);
    expect(K.name).toBe(name);
    const spec = PRESETS['lenet5-relu-ce'].spec;
    const a = new Model(spec).init(3);
    const b = new Model(spec).init(3);
    const set = limitSet(data.train, 256);
    const idx = Uint32Array.from({ length: 33 }, (_, i) => i * 7);
    const labels = Uint8Array.from(idx, (i) => set.labels[i]);
    localGradients(a, set).compute(idx, labels, idx.length);
    const p = await ParallelGradients.create(b, set, 2, 64);
    try {
      p.compute(idx, labels, idx.length);
    } finally {
      await p.close();
    }
    const r = compareTensors('grads', b.grads, a.grads, 1e-4, 1e-6);
    expect(r.ok, r.message).toBe(true);
  });
});
