// The Embedding view's state: the map of the test set for the model on screen (PCA or UMAP,
// computed and cached by the backend), how far a computation has come, the colouring, and the
// digits picked by a lasso or a legend entry. One request at a time: a model that changes while a
// map is computed (a live run's snapshots) is mapped when that one is done.

import { defineStore, storeToRefs } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { Projection, ProjectionMethod, StudioEvent } from '@common/api';
import type { ModelPayload } from '@common/records';
import { studio } from '../api/studio';
import { useDatasetStore } from './dataset';
import { useModelStore } from './model';

export type ColourBy = 'label' | 'correct';

export interface Selection {
  /** What picked them, e.g. "lasso" or "class 7". */
  title: string;
  indices: number[];
}

export const useEmbeddingStore = defineStore('embedding', () => {
  const model = useModelStore();
  const dataset = useDatasetStore();
  const { current } = storeToRefs(model);

  const method = ref<ProjectionMethod>('pca');
  const colourBy = ref<ColourBy>('label');
  const projection = shallowRef<Projection | null>(null);
  const status = ref<'idle' | 'running' | 'ready' | 'error'>('idle');
  const error = ref<string | null>(null);
  const progress = ref<{ phase: string; done: number; total: number } | null>(null);
  const selection = shallowRef<Selection | null>(null);
  let forModel: ModelPayload | null = null;
  let forMethod: ProjectionMethod | null = null;
  let running: Promise<void> | null = null;
  /** The last request that failed: not repeated on its own, only by retry(). */
  let lastFailed: ModelPayload | null = null;
  let lastFailedMethod: ProjectionMethod | null = null;
  /** Whether the view is on screen: only then does a new model get mapped. */
  let active = false;

  const wrongCount = computed(() => {
    const p = projection.value;
    if (!p) return 0;
    let n = 0;
    for (let i = 0; i < p.count; i++) if (p.labels[i] !== p.predictions[i]) n++;
    return n;
  });

  function clear(): void {
    projection.value = null;
    forModel = null;
    forMethod = null;
    selection.value = null;
    status.value = 'idle';
    error.value = null;
    progress.value = null;
  }
  watch(() => dataset.info?.fingerprint, clear);

  async function compute(m: ModelPayload, how: ProjectionMethod): Promise<void> {
    status.value = 'running';
    error.value = null;
    progress.value = null;
    try {
      const p = await studio.embeddingProjection(m, how);
      if (current.value === m && method.value === how) {
        const sameSet = projection.value?.count === p.count;
        projection.value = p;
        forModel = m;
        forMethod = how;
        if (!sameSet) selection.value = null;
        status.value = 'ready';
      }
    } catch (e) {
      if (current.value === m && method.value === how) {
        status.value = 'error';
        error.value = e instanceof Error ? e.message : String(e);
      }
    } finally {
      progress.value = null;
    }
  }

  /** Maps the model on screen with the chosen method, unless that map is shown or under way. */
  function ensure(): void {
    const m = current.value;
    if (!m) {
      clear();
      return;
    }
    if (running) return; // re-checked when it settles
    if (forModel === m && forMethod === method.value && projection.value) return;
    if (lastFailed === m && lastFailedMethod === method.value) return; // until retry()
    const how = method.value;
    running = compute(m, how).finally(() => {
      running = null;
      if (status.value === 'error') {
        lastFailed = m;
        lastFailedMethod = how;
      }
      if (active) ensure();
    });
  }
  /** Computes the map again after an error. */
  function retry(): void {
    lastFailed = null;
    ensure();
  }

  function setActive(on: boolean): void {
    active = on;
    if (on) ensure();
  }
  watch([current, method], () => {
    if (active) ensure();
  });

  function onEvent(e: StudioEvent): void {
    if (e.type !== 'projection-progress' || status.value !== 'running' || e.method !== method.value) return;
    progress.value = { phase: e.phase, done: e.done, total: e.total };
  }

  function select(s: Selection | null): void {
    selection.value = s && s.indices.length ? s : s ? { ...s, indices: [] } : null;
  }

  return { method, colourBy, projection, status, error, progress, selection, wrongCount, ensure, retry, setActive, onEvent, select, clear };
});
