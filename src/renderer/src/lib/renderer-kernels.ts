// Loads the kernels the renderer builds its models with (once, from the engine store): the
// engine's WebAssembly SIMD kernels, with the plain TypeScript kernels as the fallback. Both builds (scripts/build-wasm.mjs) are inlined into the bundle as base64 rather
// than fetched: the packaged app loads the page from file://, where Chromium's fetch() is not
// available, and the modules are small (about 25 kB each). The relaxed-SIMD build (fused multiply-add)
// is used when WebAssembly.validate accepts it (Chromium does by default), else the plain SIMD
// one. The module is compiled asynchronously (Chromium refuses synchronous compiles of larger
// modules on the main thread; the CSP allows it through 'wasm-unsafe-eval'), and checked against
// the TypeScript GEMM before it is used.

import wasmDataUrl from '../../../../build/wasm/kernels.wasm?url&inline';
import relaxedDataUrl from '../../../../build/wasm/kernels-relaxed.wasm?url&inline';
import { jsKernels } from '@engine/kernels/js/backend';
import type { KernelName, Kernels } from '@engine/kernels/types';
import { createWasmKernels, wasmSimdSupported } from '@engine/kernels/wasm/backend';

export interface KernelStatus {
  /** What the renderer's models are built with. */
  kernels: Kernels;
  name: KernelName;
  /** Why the fast kernels are not in use, when they aren't. */
  reason?: string;
  /** Largest difference between the wasm and TypeScript GEMM on a small random problem. */
  checkDiff?: number;
  /** Time to decode, compile, instantiate and check, in ms. */
  loadMs: number;
}

/** Wasm memory the renderer reserves: single images and test-set batches fit easily. */
const MEMORY_BYTES = 64 * 1024 * 1024;

function decodeDataUrl(url: string): Uint8Array<ArrayBuffer> {
  const comma = url.indexOf(',');
  if (!url.startsWith('data:') || comma < 0) throw new Error('the kernels were not inlined as a data URL');
  const bin = atob(url.slice(comma + 1));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** max |C_wasm − C_js| for C = A·B with A 7×13 and B 13×9 (odd sizes exercise the SIMD tails). */
export function selfCheck(k: Kernels): number {
  const M = 7;
  const N = 9;
  const Kd = 13;
  const mem = k.arena();
  const a = mem.alloc(M * Kd);
  const b = mem.alloc(Kd * N);
  const c = mem.alloc(M * N);
  let seed = 12345;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (let i = 0; i < a.length; i++) a[i] = rnd();
  for (let i = 0; i < b.length; i++) b[i] = rnd();
  const ref = new Float32Array(M * N);
  jsKernels.gemmNN(ref, 0, a, 0, b, 0, M, N, Kd, false);
  k.gemmNN(c, 0, a, 0, b, 0, M, N, Kd, false);
  let diff = 0;
  for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ref[i] - c[i]));
  mem.dispose();
  return diff;
}

/** The wasm kernels when this browser can run them; otherwise the TypeScript ones. */
export async function loadRendererKernels(): Promise<KernelStatus> {
  const t0 = performance.now();
  const fallback = (reason: string): KernelStatus => ({ kernels: jsKernels, name: 'js', reason, loadMs: performance.now() - t0 });
  if (!wasmSimdSupported()) return fallback('this browser has no WebAssembly SIMD');
  try {
    const relaxed = decodeDataUrl(relaxedDataUrl);
    const module = await WebAssembly.compile(WebAssembly.validate(relaxed) ? relaxed : decodeDataUrl(wasmDataUrl));
    const k = createWasmKernels(module, MEMORY_BYTES);
    const checkDiff = selfCheck(k);
    if (!(checkDiff < 1e-4)) throw new Error(`the wasm GEMM differs from the reference by ${checkDiff}`);
    return { kernels: k, name: k.name, checkDiff, loadMs: performance.now() - t0 };
  } catch (e) {
    return fallback(`the wasm kernels could not load: ${e instanceof Error ? e.message : String(e)}`);
  }
}
