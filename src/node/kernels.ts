// Installs the WebAssembly SIMD kernels in a Node process (CLI, trainer, tests). The engine
// stays free of fs: this reads the compiled module and hands it over.
//   LENET_KERNELS=js   forces the plain TypeScript kernels (the reference), e.g. to compare.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { K, jsKernels, setKernels, type KernelName } from '../engine/kernels/backend';
import { createWasmKernels, wasmSimdSupported } from '../engine/kernels/wasm-backend';

export const DEFAULT_WASM_PATH = fileURLToPath(new URL('../../build/wasm/kernels.wasm', import.meta.url));

export interface KernelChoice {
  name: KernelName;
  /** Why the fast kernels are not in use, when they aren't. */
  reason?: string;
}

/**
 * Activates the wasm kernels unless LENET_KERNELS=js. Returns what is active. Throws only when
 * wasm was explicitly required (LENET_KERNELS=wasm) and cannot load.
 */
export function installKernels(wasmPath = DEFAULT_WASM_PATH): KernelChoice {
  const wanted = process.env.LENET_KERNELS ?? 'auto';
  if (wanted === 'js') {
    setKernels(jsKernels);
    return { name: 'js', reason: 'LENET_KERNELS=js' };
  }
  if (K.name === 'wasm-simd') return { name: K.name };
  let reason: string;
  if (!wasmSimdSupported()) {
    reason = 'this runtime has no WebAssembly SIMD';
  } else {
    try {
      setKernels(createWasmKernels(new WebAssembly.Module(readFileSync(wasmPath))));
      return { name: 'wasm-simd' };
    } catch (e) {
      reason = `cannot load ${wasmPath}: ${(e as Error).message} (run: node scripts/build-wasm.mjs)`;
    }
  }
  if (wanted === 'wasm') throw new Error(`LENET_KERNELS=wasm but ${reason}`);
  setKernels(jsKernels);
  return { name: 'js', reason };
}
