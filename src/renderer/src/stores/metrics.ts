// Curves of the run on screen (the live one, or a past one picked from the list): the batch
// loss, downsampled and replaced rather than mutated (STYLE.md: big data in shallowRef, one
// update per event), and the per-epoch metrics. After each epoch the batch loss up to it is taken
// from the run folder, so a live run shows the very curve that reopening it later shows. Also how
// a person likes the charts drawn: the x axis, a log loss axis, the smoothing.

import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { EpochMetrics, RunDetail } from '@common/records';
import { studio } from '../api/studio';
import { mergeStored, type Point, type XAxis } from '../lib/curves';

export type { Point } from '../lib/curves';

/** Points on the loss chart; past this, every other point goes (the chart also decimates). */
export const MAX_POINTS = 2000;

const storedCurve = (d: RunDetail): Point[] => d.lossCurve.map(([x, y]) => ({ x, y }));

export const useMetricsStore = defineStore('metrics', () => {
  const runId = ref<string | null>(null);
  const loss = shallowRef<Point[]>([]);
  const epochs = shallowRef<EpochMetrics[]>([]);
  const confusion = shallowRef<number[][] | null>(null);
  /** Images trained on per epoch, for the epoch and time axes (null until the run folder is read). */
  const trainCount = ref<number | null>(null);
  const xAxis = ref<XAxis>('images');
  const logLoss = ref(false);
  /** Weight of the moving average over the batch loss (0: none). */
  const smoothing = ref(0.6);
  // Replies of the run folder that come back out of order must not undo a newer one.
  let asked = 0;

  function reset(id: string | null): void {
    runId.value = id;
    loss.value = [];
    epochs.value = [];
    confusion.value = null;
    trainCount.value = null;
    if (id) void sync(id);
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
    void sync(id);
  }

  /** Takes the batch loss of the finished epochs from the run folder (written before the epoch event). */
  async function sync(id: string): Promise<void> {
    const n = ++asked;
    let d: RunDetail;
    try {
      d = await studio.getRun(id);
    } catch {
      return; // the live points stay; the next epoch tries again
    }
    if (n !== asked || id !== runId.value) return;
    trainCount.value = d.trainCount;
    if (!d.epochs.length) return;
    loss.value = mergeStored(storedCurve(d), loss.value, d.epochs.length * d.trainCount);
  }

  async function loadRun(id: string): Promise<void> {
    const d = await studio.getRun(id);
    asked++;
    runId.value = id;
    loss.value = storedCurve(d);
    epochs.value = d.epochs;
    confusion.value = d.confusion;
    trainCount.value = d.trainCount;
  }

  return { runId, loss, epochs, confusion, trainCount, xAxis, logLoss, smoothing, reset, addLoss, addEpoch, loadRun };
});
