// The renderer's kernel backend: the wasm SIMD kernels once they load, the TypeScript ones
// until then (and for good if they cannot load). Everything that runs the engine here awaits
// `ready()` first, so models are built with the fast kernels' memory.

import { defineStore } from 'pinia';
import { shallowRef } from 'vue';
import { installRendererKernels, type KernelStatus } from '../lib/kernels';

export const useEngineStore = defineStore('engine', () => {
  const status = shallowRef<KernelStatus | null>(null);
  let loading: Promise<KernelStatus> | null = null;

  function ready(): Promise<KernelStatus> {
    loading ??= installRendererKernels().then((s) => {
      status.value = s;
      return s;
    });
    return loading;
  }

  return { status, ready };
});
