// Past and present runs, as the run folders record them, and the run the Train charts show
// (remembered in the renderer's storage, so a restart brings its charts back).

import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { RunSummary } from '@common/records';
import { studio } from '../api/studio';

const STORAGE_KEY = 'lenet-studio.shown-run';

export const useRunsStore = defineStore('runs', () => {
  const list = ref<RunSummary[]>([]);
  const error = ref<string | null>(null);
  /** The run whose curves the Train view shows. */
  const selectedId = ref<string | null>(null);
  const selected = computed(() => list.value.find((r) => r.id === selectedId.value) ?? null);

  async function refresh(): Promise<void> {
    try {
      list.value = await studio.listRuns();
      error.value = null;
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    }
  }

  watch(selectedId, (id) => {
    try {
      if (id) localStorage.setItem(STORAGE_KEY, id);
    } catch {
      // storage disabled: a restart starts without charts
    }
  });

  /** The run shown before the last restart, if it is still in the list. */
  function remembered(): string | null {
    let id: string | null = null;
    try {
      id = localStorage.getItem(STORAGE_KEY);
    } catch {
      return null;
    }
    return id && list.value.some((r) => r.id === id) ? id : null;
  }

  return { list, error, selectedId, selected, refresh, remembered };
});
