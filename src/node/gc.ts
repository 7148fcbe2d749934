// A full garbage collection on demand. The wasm kernels keep tensors in a fixed WebAssembly
// memory and free a block only when the JS view that owns it is collected; V8 does not count
// wasm memory as heap pressure, so a long-lived process that builds model after model (the
// trainer between runs, a test file) can fill it before any GC runs. Collecting after a run or
// an evaluation hands those blocks back.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null = null;

export async function collectGarbage(): Promise<void> {
  if (!gc) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) {
      gc = exposed;
    } else {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    }
  }
  gc();
  // FinalizationRegistry callbacks run in later tasks.
  await new Promise<void>((r) => setImmediate(r));
  await new Promise<void>((r) => setImmediate(r));
}
