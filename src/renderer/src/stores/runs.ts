// Past and present runs, as the run folders record them.

import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { RunSummary } from '@common/records';
import { studio } from '../api/studio';

export const useRunsStore = defineStore('runs', () => {
  const list = ref<RunSummary[]>([]);
  const error = ref<string | null>(null);
  const selectedId = ref<string | null>(null);

  async function refresh(): Promise<void> {
    try {
      list.value = await studio.listRuns();
      error.value = null;
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    }
  }

  return { list, error, selectedId, refresh };
});
