// The dataset the app trains and evaluates on: the embedded MNIST at start, or a folder the
// user opened. A loading problem is kept here (and shown next to the dataset status) until the
// user dismisses it or tries again.

import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { DatasetInfo } from '@common/records';
import { studio } from '../api/studio';

export const useDatasetStore = defineStore('dataset', () => {
  const info = ref<DatasetInfo | null>(null);
  const error = ref<string | null>(null);
  const loading = ref(false);
  const recent = ref<string[]>([]);

  async function run(f: () => Promise<DatasetInfo | null>): Promise<void> {
    loading.value = true;
    error.value = null; // a new attempt: the old problem no longer describes what is on screen
    try {
      const d = await f();
      if (d) {
        info.value = d;
        error.value = null;
      }
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    } finally {
      loading.value = false;
      recent.value = (await studio.recent().catch(() => ({ datasets: [] as string[] }))).datasets;
    }
  }

  const load = () => run(() => studio.dataset());
  const openDialog = () => run(() => studio.openDatasetDialog());
  const useEmbedded = () => run(() => studio.useEmbeddedDataset());
  const openRecent = (path: string) => run(() => studio.openRecentDataset(path));

  function dismissError(): void {
    error.value = null;
  }

  function changed(d: DatasetInfo): void {
    info.value = d;
    error.value = null;
  }

  return { info, error, loading, recent, load, openDialog, useEmbedded, openRecent, changed, dismissError };
});
