// Installs the WebAssembly SIMD kernels in a Node process (CLI, trainer, tests, shard workers).
// The engine stays free of fs: this reads the compiled module and hands it over. Two builds of the
// same sources sit side by side (scripts/build-wasm.mjs): kernels.wasm (SIMD) and
// kernels-relaxed.wasm (relaxed SIMD: the GEMMs use fused multiply-add). The relaxed build is
// preferred; Node 20's V8 accepts it only behind --experimental-wasm-relaxed-simd, which is switched
// on here (process-wide) when the module does not validate without it.
//   LENET_KERNELS unset              relaxed SIMD, else SIMD, else the TypeScript kernels
//   LENET_KERNELS=wasm               relaxed SIMD, else SIMD; an error rather than TypeScript
//   LENET_KERNELS=wasm-simd          the plain SIMD build only (an error if it cannot load)
//   LENET_KERNELS=wasm-relaxed-simd  the relaxed SIMD build only (an error if it cannot load)
//   LENET_KERNELS=js                 the plain TypeScript kernels (the reference), e.g. to compare

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { K, jsKernels, setKernels, type KernelName } from '../engine/kernels/backend';
import { createWasmKernels, wasmSimdSupported } from '../engine/kernels/wasm-backend';

export const DEFAULT_WASM_PATH = fileURLToPath(new URL('../../build/wasm/kernels.wasm', import.meta.url));

export type WasmVariant = Exclude<KernelName, 'js'>;

/** The relaxed-SIMD build next to a plain one: …/kernels.wasm → …/kernels-relaxed.wasm. */
export function relaxedWasmPath(wasmPath: string): string {
  return wasmPath.replace(/(\.wasm)?$/, '-relaxed.wasm');
}

/** Whether this runtime accepts the module, switching on V8's relaxed-SIMD flag if it must (Node 20). */
function validateRelaxed(bytes: Uint8Array<ArrayBuffer>): boolean {
  if (WebAssembly.validate(bytes)) return true;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(bytes);
}

/** Compiles one build of the kernels (wasmPath names the plain one); throws saying why it cannot. */
export function compileKernels(variant: WasmVariant, wasmPath = DEFAULT_WASM_PATH): WebAssembly.Module {
  const path = variant === 'wasm-relaxed-simd' ? relaxedWasmPath(wasmPath) : wasmPath;
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`cannot load ${path}: ${(e as Error).message} (run: node scripts/build-wasm.mjs)`);
  }
  if (variant === 'wasm-relaxed-simd' && !validateRelaxed(bytes)) throw new Error(`this runtime rejects the relaxed SIMD module ${path}`);
  return new WebAssembly.Module(bytes);
}

export interface KernelChoice {
  name: KernelName;
  /** Why the fast kernels are not in use, when they aren't. */
  reason?: string;
}

/**
 * Activates the kernels `wanted` asks for (default: LENET_KERNELS, see the top of this file) and
 * returns what is active. wasmPath names the plain build; the relaxed one is its sibling. Throws
 * only when wasm was explicitly required ('wasm', or one build by name) and cannot load. Shard
 * workers pass the coordinator's K.name, so every thread runs the same build.
 */
export function installKernels(wasmPath = DEFAULT_WASM_PATH, wanted: string = process.env.LENET_KERNELS ?? 'auto'): KernelChoice {
  if (wanted === 'js') {
    setKernels(jsKernels);
    return { name: 'js', reason: 'LENET_KERNELS=js' };
  }
  const only = wanted === 'wasm-simd' || wanted === 'wasm-relaxed-simd';
  const variants: WasmVariant[] = only ? [wanted] : ['wasm-relaxed-simd', 'wasm-simd'];
  if (K.name !== 'js' && variants.includes(K.name)) return { name: K.name };
  const problems: string[] = [];
  if (!wasmSimdSupported()) {
    problems.push('this runtime has no WebAssembly SIMD');
  } else {
    for (const v of variants) {
      try {
        const k = createWasmKernels(compileKernels(v, wasmPath));
        if (k.name !== v) throw new Error(`the ${v} file holds the ${k.name} build`);
        setKernels(k);
        return { name: v };
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
  }
  const reason = problems.join('; ');
  if (wanted === 'wasm' || only) throw new Error(`LENET_KERNELS=${wanted} but ${reason}`);
  setKernels(jsKernels);
  return { name: 'js', reason };
}
