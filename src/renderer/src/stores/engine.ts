// The renderer's kernels, loaded once: the wasm SIMD kernels when they load, the TypeScript ones
// otherwise. Everything that builds a model to run here awaits `ready()` and builds it with
// `status.kernels`.

import { defineStore } from 'pinia';
import { shallowRef } from 'vue';
import { loadRendererKernels, type KernelStatus } from '../lib/renderer-kernels';

export const useEngineStore = defineStore('engine', () => {
  const status = shallowRef<KernelStatus | null>(null);
  let loading: Promise<KernelStatus> | null = null;

  function ready(): Promise<KernelStatus> {
    loading ??= loadRendererKernels().then((s) => {
      status.value = s;
      return s;
    });
    return loading;
  }

  return { status, ready };
});
