// Loads the kernels a Node process (CLI, trainer, tests, shard workers) builds its models with:
// `loadKernels()` is the one place that reads LENET_KERNELS, and callers pass what it returns to
// `new Model(spec, kernels)`. The engine stays free of fs: this reads the compiled module and hands
// it over. Two builds of the same sources sit side by side (scripts/build-wasm.mjs): kernels.wasm
// (SIMD) and kernels-relaxed.wasm (relaxed SIMD: the GEMMs use fused multiply-add). The relaxed
// build is preferred; Node 20's V8 accepts it only behind --experimental-wasm-relaxed-simd, which
// is switched on here (process-wide) when the module does not validate without it.
//   LENET_KERNELS unset              relaxed SIMD, else SIMD, else the TypeScript kernels
//   LENET_KERNELS=wasm               relaxed SIMD, else SIMD; an error rather than TypeScript
//   LENET_KERNELS=wasm-simd          the plain SIMD build only (an error if it cannot load)
//   LENET_KERNELS=wasm-relaxed-simd  the relaxed SIMD build only (an error if it cannot load)
//   LENET_KERNELS=js                 the plain TypeScript kernels (the reference), e.g. to compare
//   LENET_KERNELS=auto (or empty)    the same as unset
// Any other value is refused (KernelsError), never silently taken for the default.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { jsKernels } from '../engine/kernels/js/backend';
import type { KernelName, Kernels } from '../engine/kernels/types';
import { createWasmKernels, wasmSimdSupported, type WasmKernels } from '../engine/kernels/wasm/backend';

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

/** The values LENET_KERNELS (and loadKernels' `wanted`) accept. */
export const KERNEL_CHOICES = ['auto', 'wasm', 'wasm-simd', 'wasm-relaxed-simd', 'js'] as const;

/** The kernels asked for cannot be used. `usage`: the request itself is invalid (an unknown LENET_KERNELS value). */
export class KernelsError extends Error {
  override readonly name = 'KernelsError';
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message);
  }
}

export interface KernelChoice {
  kernels: Kernels;
  name: KernelName;
  /** Why the fast kernels are not in use, when they aren't. */
  reason?: string;
}

/**
 * Each wasm build is instantiated once per process (and wasm file): its memory is reserved once,
 * 128 MiB, and every model of the process takes its share of it through its own arena.
 */
const loaded = new Map<string, WasmKernels>();

function wasmKernels(variant: WasmVariant, wasmPath: string): WasmKernels {
  const key = `${variant} ${wasmPath}`;
  let k = loaded.get(key);
  if (!k) {
    k = createWasmKernels(compileKernels(variant, wasmPath));
    if (k.name !== variant) throw new Error(`the ${variant} file holds the ${k.name} build`);
    loaded.set(key, k);
  }
  return k;
}

/**
 * The kernels `wanted` asks for (default: LENET_KERNELS, see the top of this file). wasmPath
 * names the plain build; the relaxed one is its sibling. Throws only when wasm was explicitly
 * required ('wasm', or one build by name) and cannot load. Shard workers pass the coordinator's
 * kernel name, so every thread runs the same build.
 */
export function loadKernels(wasmPath = DEFAULT_WASM_PATH, wanted: string = process.env.LENET_KERNELS || 'auto'): KernelChoice {
  if (!(KERNEL_CHOICES as readonly string[]).includes(wanted)) {
    throw new KernelsError(`LENET_KERNELS must be one of ${KERNEL_CHOICES.join(', ')} (or unset), got "${wanted}"`, true);
  }
  if (wanted === 'js') return { kernels: jsKernels, name: 'js', reason: 'LENET_KERNELS=js' };
  const only = wanted === 'wasm-simd' || wanted === 'wasm-relaxed-simd';
  const variants: WasmVariant[] = only ? [wanted] : ['wasm-relaxed-simd', 'wasm-simd'];
  const problems: string[] = [];
  if (!wasmSimdSupported()) {
    problems.push('this runtime has no WebAssembly SIMD');
  } else {
    for (const v of variants) {
      try {
        return { kernels: wasmKernels(v, wasmPath), name: v };
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
  }
  const reason = problems.join('; ');
  if (wanted === 'wasm' || only) throw new KernelsError(`LENET_KERNELS=${wanted} but ${reason}`);
  return { kernels: jsKernels, name: 'js', reason };
}
