// The time machine's renderer side: the epochs of the run whose model is on screen, the epoch
// slider's choice, and the run's per-sample history (for the learned / forgotten galleries).
//
// Moving the slider is the user choosing the model on screen: the chosen epoch's snapshot
// replaces it ("run X, epoch N" in the header) and every view that shows the model follows. A
// drag sends no flood of requests: at most one snapshot load is in flight; choices made meanwhile
// replace each other, and only the latest loads next. A load overtaken by a newer choice is kept in
// the cache, never shown. Recently loaded snapshots are cached, so dragging back is instant. The
// first move loads at once (no debounce delay): a step to another epoch costs one load.

import { defineStore, storeToRefs } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { TestHistory } from '@common/api';
import type { ModelPayload } from '@common/records';
import { studio } from '../api/studio';
import { useModelStore } from './model';

/** Snapshots kept in memory (LeNet-5: ~250 KB each). */
const CACHE_SIZE = 16;

export const useTimelineStore = defineStore('timeline', () => {
  const model = useModelStore();
  const { current } = storeToRefs(model);

  /** The run of the model on screen, and its epoch (null for a model from a file). */
  const runId = computed(() => (current.value?.source.kind === 'run' ? current.value.source.runId : null));
  const shownEpoch = computed(() => (current.value?.source.kind === 'run' ? current.value.source.epoch : null));

  /** The epochs of `epochsOf` with a snapshot, ascending. */
  const epochs = ref<number[]>([]);
  const epochsOf = ref<string | null>(null);
  /** The epoch the slider points at: ahead of shownEpoch while its snapshot loads. */
  const target = ref<number | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);

  const cache = new Map<string, ModelPayload>();
  let inFlight = false;
  /** The choice waiting to load: run, epoch, and which choice it is. */
  let wanted: { runId: string; epoch: number; id: number } | null = null;
  /** Bumped by every choice, and by anything else that makes earlier choices stale (another model put on screen by other means). */
  let choice = 0;
  /** Snapshot loads asked of the backend (for tests and the benchmark). */
  const requests = ref(0);

  async function refreshEpochs(id: string | null = runId.value): Promise<void> {
    if (!id) {
      epochs.value = [];
      epochsOf.value = null;
      return;
    }
    try {
      const list = await studio.runEpochs(id);
      if (runId.value === id || epochsOf.value === id || !epochsOf.value) {
        epochs.value = list;
        epochsOf.value = id;
      }
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    }
  }

  // Another run on screen: its epochs. A newer epoch of the same run than we know of (a live
  // run's snapshot, a finished epoch): list again.
  watch(
    [runId, shownEpoch],
    ([id, e]) => {
      if (id !== epochsOf.value || (e !== null && e > 0 && !epochs.value.includes(e))) void refreshEpochs(id);
      if (!loading.value) target.value = e;
    },
    { immediate: true },
  );
  // A model put on screen some other way (Open, Latest, Follow) cancels a choice still waiting.
  watch(current, (m) => {
    if (m && m !== lastSet) {
      choice++;
      wanted = null;
      loading.value = false;
      target.value = shownEpoch.value;
    }
  });
  let lastSet: ModelPayload | null = null;

  async function fetchSnapshot(id: string, epoch: number): Promise<ModelPayload> {
    const key = `${id}\u0000${epoch}`;
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    requests.value++;
    const m = await studio.runEpochModel(id, epoch);
    cache.set(key, m);
    while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    return m;
  }

  /** Loads the latest choice; a choice made meanwhile loads next (one request at a time). */
  async function pump(): Promise<void> {
    if (inFlight) return;
    inFlight = true;
    try {
      while (wanted) {
        const w = wanted;
        wanted = null;
        try {
          const m = await fetchSnapshot(w.runId, w.epoch);
          // Overtaken by a newer choice (or by another model put on screen): not shown.
          if (w.id !== choice) continue;
          lastSet = m;
          model.set(m, { kind: 'run', runId: w.runId, which: 'latest', epoch: w.epoch });
          error.value = null;
        } catch (e) {
          if (w.id !== choice) continue;
          error.value = e instanceof Error ? e.message : String(e);
          target.value = shownEpoch.value;
        }
      }
    } finally {
      inFlight = false;
      if (!wanted) loading.value = false;
    }
  }

  function schedule(id: string, epoch: number): void {
    target.value = epoch;
    loading.value = true;
    wanted = { runId: id, epoch, id: ++choice };
    void pump();
  }

  /** The slider moved: `epoch` of the run on screen. */
  function choose(epoch: number): void {
    const id = runId.value;
    if (!id || epoch === shownEpoch.value) {
      if (id && epoch === shownEpoch.value && (wanted || inFlight)) {
        // Back where it started before the load: nothing to load, nothing to show.
        choice++;
        wanted = null;
        target.value = epoch;
        if (!inFlight) loading.value = false;
      }
      return;
    }
    schedule(id, epoch);
  }

  /** Puts `epoch` of run `id` on screen now (a flag, a gallery): resolves once it is there or has failed. */
  async function open(id: string, epoch: number): Promise<boolean> {
    if (runId.value === id && shownEpoch.value === epoch) return true;
    schedule(id, epoch);
    await new Promise<void>((resolve) => {
      const stop = watch(loading, (l) => {
        if (!l) {
          stop();
          resolve();
        }
      });
    });
    return runId.value === id && shownEpoch.value === epoch;
  }

  // ---------------------------------------------------------------- per-sample history

  const history = shallowRef<TestHistory | null>(null);
  const historyError = ref<string | null>(null);
  const historyLoading = ref(false);

  async function loadHistory(force = false): Promise<void> {
    const id = runId.value;
    if (!id) {
      history.value = null;
      return;
    }
    if (!force && history.value?.runId === id) return;
    historyLoading.value = true;
    try {
      const h = await studio.runHistory(id);
      if (runId.value === id) {
        history.value = h;
        historyError.value = null;
      }
    } catch (e) {
      if (runId.value === id) {
        history.value = null;
        historyError.value = e instanceof Error ? e.message : String(e);
      }
    } finally {
      historyLoading.value = false;
    }
  }

  return {
    runId,
    shownEpoch,
    epochs,
    target,
    loading,
    error,
    requests,
    refreshEpochs,
    choose,
    open,
    history,
    historyError,
    historyLoading,
    loadHistory,
  };
});
