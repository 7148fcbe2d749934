// The Data lab's data map: the run it is of and its map, fetched once per run (and again when the
// run finishes another epoch), the points ready to draw. The map's digits come from the current
// dataset's training images (the images store), which must be the run's dataset.

import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { DataMapPayload } from '@common/records';
import { REGIONS, type Region } from '@engine/data-lab/data-map';
import { studio } from '../api/studio';
import { mapPoints, regionImages, type MapPoints } from '../lib/data-map-plot';

export const useDataMapStore = defineStore('datamap', () => {
  /** The run the Data lab shows (its picker). */
  const runId = ref<string | null>(null);
  const map = shallowRef<DataMapPayload | null>(null);
  const points = shallowRef<MapPoints | null>(null);
  const status = ref<'idle' | 'loading' | 'ready' | 'error'>('idle');
  const error = ref<string | null>(null);
  let asked = 0;

  const regions = computed<Record<Region, number[]>>(() => {
    const p = points.value;
    const out = { easy: [], ambiguous: [], hard: [] } as Record<Region, number[]>;
    if (p) for (const g of REGIONS) out[g] = regionImages(p, g);
    return out;
  });

  /** Fetches the map of `id` (again, when `force`: the run has more epochs). */
  async function load(id: string | null, force = false): Promise<void> {
    if (!force && id === runId.value && (status.value === 'ready' || status.value === 'loading')) return;
    runId.value = id;
    const mine = ++asked;
    if (!id) {
      map.value = null;
      points.value = null;
      status.value = 'idle';
      return;
    }
    status.value = 'loading';
    error.value = null;
    try {
      const m = await studio.dataMap(id);
      if (mine !== asked) return;
      map.value = m;
      points.value = mapPoints(m);
      status.value = 'ready';
    } catch (e) {
      if (mine !== asked) return;
      map.value = null;
      points.value = null;
      error.value = e instanceof Error ? e.message : String(e);
      status.value = 'error';
    }
  }

  return { runId, map, points, status, error, regions, load };
});
