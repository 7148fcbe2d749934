// Curves of the run on screen (the live one, or a past one picked from the list): the batch
// loss, downsampled and replaced rather than mutated (STYLE.md: big data in shallowRef, one
// update per event), and the per-epoch metrics.

import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { EpochMetrics } from '@common/records';
import { studio } from '../api/studio';

export interface Point {
  x: number;
  y: number;
}

/** Points on the loss chart; past this, every other point goes (the chart also decimates). */
export const MAX_POINTS = 2000;

export const useMetricsStore = defineStore('metrics', () => {
  const runId = ref<string | null>(null);
  const loss = shallowRef<Point[]>([]);
  const epochs = shallowRef<EpochMetrics[]>([]);
  const confusion = shallowRef<number[][] | null>(null);

  function reset(id: string | null): void {
    runId.value = id;
    loss.value = [];
    epochs.value = [];
    confusion.value = null;
  }

  function addLoss(id: string, x: number, y: number): void {
    if (id !== runId.value || !Number.isFinite(y)) return;
    let pts = [...loss.value, { x, y }];
    if (pts.length > MAX_POINTS) pts = pts.filter((_, i) => i % 2 === 1);
    loss.value = pts;
  }

  function addEpoch(id: string, m: EpochMetrics, c: number[][]): void {
    if (id !== runId.value) return;
    epochs.value = [...epochs.value.filter((e) => e.epoch !== m.epoch), m];
    confusion.value = c;
  }

  async function loadRun(id: string): Promise<void> {
    const d = await studio.getRun(id);
    runId.value = id;
    loss.value = d.lossCurve.map(([x, y]) => ({ x, y }));
    epochs.value = d.epochs;
    confusion.value = d.confusion;
  }

  return { runId, loss, epochs, confusion, reset, addLoss, addEpoch, loadRun };
});
