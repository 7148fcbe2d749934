// Transitional: the kernels a Model gets when its caller does not pass any yet. Removed once
// every caller builds models with `new Model(spec, kernels)`.

import { jsKernels } from './js/backend';
import type { Arena, Kernels } from './types';

export { jsKernels } from './js/backend';
export type { KernelName, Kernels } from './types';

/** The kernels the host loaded last (an ES live binding). */
export let K: Kernels = jsKernels;

export function setKernels(k: Kernels): void {
  K = k;
}

export function defaultKernels(): Kernels {
  return K;
}

/** Models built without kernels hand their arena back when collected, as before (transitional). */
const unowned = new FinalizationRegistry<Arena>((arena) => arena.dispose());

export function disposeWhenCollected(owner: object, arena: Arena): void {
  unowned.register(owner, arena);
}
