// Seed groups on screen: the runs that differ from a run only by seed (the `group` key the run
// folders report, one rule in @common/groups), their details read once, and how the band is drawn.

import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { Band } from '@common/groups';
import type { RunDetail, RunSummary } from '@common/records';
import { studio } from '../api/studio';
import { useRunsStore } from './runs';

export const useGroupsStore = defineStore('groups', () => {
  const runs = useRunsStore();
  /** ± std or the 95 % interval of the mean. */
  const band = ref<Band>('std');
  /** Draw each run of the group as well, faintly. */
  const showRuns = ref(false);
  const details = shallowRef<Record<string, RunDetail>>({});
  const error = ref<string | null>(null);

  /** The runs (with a finished epoch) in `id`'s seed group, itself included, oldest first. */
  function members(id: string | null): RunSummary[] {
    const me = runs.list.find((r) => r.id === id);
    if (!me?.group) return [];
    return runs.list.filter((r) => r.group === me.group && r.epochsDone > 0).reverse();
  }

  /** Reads the details of runs not read yet (a run still training is read again each time). */
  async function load(ids: string[]): Promise<void> {
    const missing = ids.filter((id) => !details.value[id] || runs.list.find((r) => r.id === id)?.status === 'running');
    if (!missing.length) return;
    try {
      const got = await Promise.all(missing.map((id) => studio.getRun(id)));
      const next = { ...details.value };
      for (const d of got) next[d.id] = d;
      details.value = next;
      error.value = null;
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    }
  }

  return { band, showRuns, details, error, members, load };
});
