// The Health view's state: the run shown, the run overlaid, the statistic, and each run's
// health records as last read (read again when the view opens, so a live run's new epochs show).

import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { RunHealth } from '@common/api';
import { studio } from '../api/studio';
import type { HealthStat } from '../lib/health-bands';

export const useHealthStore = defineStore('health', () => {
  const runA = ref<string | null>(null);
  const runB = ref<string | null>(null);
  const stat = ref<HealthStat>('weight');
  const records = shallowRef<Record<string, RunHealth>>({});
  const errors = ref<Record<string, string>>({});
  const loading = ref(0);

  async function load(id: string): Promise<void> {
    loading.value++;
    try {
      const h = await studio.runHealth(id);
      records.value = { ...records.value, [id]: h };
      const { [id]: _gone, ...rest } = errors.value;
      errors.value = rest;
    } catch (e) {
      errors.value = { ...errors.value, [id]: e instanceof Error ? e.message : String(e) };
    } finally {
      loading.value--;
    }
  }

  return { runA, runB, stat, records, errors, loading, load };
});
