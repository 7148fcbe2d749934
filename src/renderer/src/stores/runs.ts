// Past and present runs, as the run folders record them, and the run the Train charts show
// (remembered in the renderer's storage, so a restart brings its charts back).

import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { RunNotes, RunSummary } from '@common/records';
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

  /** Changes a run's name, notes, tags, hidden or archived; the list shows what run.json now holds. */
  async function updateNotes(id: string, notes: RunNotes): Promise<void> {
    const s = await studio.updateRunNotes(id, notes);
    list.value = list.value.map((r) => (r.id === id ? s : r));
  }

  /** Deletes a run's folder (the list asked the user first). */
  async function remove(id: string): Promise<void> {
    await studio.deleteRun(id);
    if (selectedId.value === id) selectedId.value = null;
    await refresh();
  }

  /** Every run's epochs and loss curve as one file; the path written, or null when cancelled. */
  async function exportAll(format: 'csv' | 'json'): Promise<string | null> {
    return (await studio.exportRuns(format))?.path ?? null;
  }

  return { list, error, selectedId, selected, refresh, remembered, updateNotes, remove, exportAll };
});
