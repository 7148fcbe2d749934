// Runs side by side: the user's pick of two or more runs (their details from the run folders),
// a baseline A and a challenger B, and both final models evaluated on the test set to find the
// test digits B fixed or broke relative to A.

import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { RunDetail } from '@common/records';
import { studio } from '../api/studio';
import type { XAxis } from '../lib/curves';
import { fixedBroken } from '../lib/metrics';
import { useImagesStore } from './images';

interface RunEval {
  predictions: Uint8Array;
  accuracy: number;
}

export const MAX_COMPARED = 6;

export const useCompareStore = defineStore('compare', () => {
  const images = useImagesStore();
  const ids = ref<string[]>([]);
  const details = shallowRef<Record<string, RunDetail>>({});
  const loading = ref(false);
  const error = ref<string | null>(null);
  const a = ref<string | null>(null);
  const b = ref<string | null>(null);
  const evals = shallowRef<Record<string, RunEval>>({});
  const diffStatus = ref<'idle' | 'running' | 'ready' | 'error'>('idle');
  const diffError = ref<string | null>(null);
  /** How the curves are drawn: x axis, log loss, moving-average weight over the batch loss. */
  const xAxis = ref<XAxis>('epoch');
  const logLoss = ref(false);
  const smoothing = ref(0.6);

  const runs = computed(() => ids.value.map((id) => details.value[id]).filter((d): d is RunDetail => d !== undefined));

  const diff = computed(() => {
    const test = images.test;
    const ea = a.value ? evals.value[a.value] : undefined;
    const eb = b.value ? evals.value[b.value] : undefined;
    if (!test || !ea || !eb) return null;
    return fixedBroken(test.labels, ea.predictions, eb.predictions);
  });

  async function loadDetails(): Promise<void> {
    const missing = ids.value.filter((id) => !details.value[id]);
    if (!missing.length) return;
    loading.value = true;
    try {
      const got = await Promise.all(missing.map((id) => studio.getRun(id)));
      const next = { ...details.value };
      got.forEach((d) => (next[d.id] = d));
      details.value = next;
      error.value = null;
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    } finally {
      loading.value = false;
    }
  }

  function pickPair(): void {
    if (!a.value || !ids.value.includes(a.value)) a.value = ids.value[0] ?? null;
    if (!b.value || !ids.value.includes(b.value) || b.value === a.value) b.value = ids.value.find((id) => id !== a.value) ?? null;
  }

  async function toggle(id: string): Promise<void> {
    if (ids.value.includes(id)) ids.value = ids.value.filter((x) => x !== id);
    else if (ids.value.length < MAX_COMPARED) ids.value = [...ids.value, id];
    pickPair();
    await loadDetails();
  }

  /** Refreshes the details of the selected runs (e.g. a run that was still training). */
  async function reload(): Promise<void> {
    details.value = {};
    evals.value = {};
    await loadDetails();
  }

  async function evaluateRun(id: string): Promise<RunEval> {
    const have = evals.value[id];
    if (have) return have;
    const m = await studio.runModel(id, 'latest');
    const r = await studio.evaluateModel(m);
    const e = { predictions: r.predictions, accuracy: r.accuracy };
    evals.value = { ...evals.value, [id]: e };
    return e;
  }

  /** Evaluates A's and B's final models (once each) for the fixed/broke digits. */
  async function comparePair(): Promise<void> {
    const ia = a.value;
    const ib = b.value;
    if (!ia || !ib || ia === ib) return;
    diffStatus.value = 'running';
    diffError.value = null;
    try {
      await images.ensure('test');
      await evaluateRun(ia);
      await evaluateRun(ib);
      if (a.value === ia && b.value === ib) diffStatus.value = 'ready';
    } catch (e) {
      diffStatus.value = 'error';
      diffError.value = e instanceof Error ? e.message : String(e);
    }
  }

  // Picking B's run as A swaps the two (A and B are never the same run).
  watch(a, (now, before) => {
    if (now !== null && b.value === now) b.value = before !== null && before !== now ? before : (ids.value.find((id) => id !== now) ?? null);
  });
  watch([a, b], () => {
    diffStatus.value = a.value && b.value && evals.value[a.value] && evals.value[b.value] ? 'ready' : 'idle';
  });

  return { ids, details, runs, loading, error, a, b, evals, diff, diffStatus, diffError, xAxis, logLoss, smoothing, toggle, reload, comparePair, pickPair };
});
