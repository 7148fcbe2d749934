// The current dataset's images in the renderer, one split at a time, loaded on demand in pages
// of 1,000 (the API's limit per call) into one Uint8Array per split. The Data view browses
// them; the Evaluate and Compare views draw test digits and need the test labels. Dropped when
// the dataset changes.

import { defineStore, storeToRefs } from 'pinia';
import { ref, shallowRef, watch } from 'vue';
import { studio } from '../api/studio';
import { useDatasetStore } from './dataset';

export type Split = 'train' | 'test';

export interface SplitImages {
  split: Split;
  count: number;
  rows: number;
  cols: number;
  /** count × rows × cols bytes. */
  pixels: Uint8Array;
  labels: Uint8Array;
  /** Indices of each class, in dataset order. */
  byClass: number[][];
}

export interface SplitState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  /** Images received so far while loading. */
  loaded: number;
  total: number;
  error: string | null;
}

const PAGE = 1000;
const idle = (): SplitState => ({ status: 'idle', loaded: 0, total: 0, error: null });

export const useImagesStore = defineStore('images', () => {
  const dataset = useDatasetStore();
  const { info } = storeToRefs(dataset);
  const train = shallowRef<SplitImages | null>(null);
  const test = shallowRef<SplitImages | null>(null);
  const state = ref<Record<Split, SplitState>>({ train: idle(), test: idle() });
  const loads: Partial<Record<Split, Promise<SplitImages>>> = {};
  let generation = 0;

  function reset(): void {
    generation++;
    train.value = null;
    test.value = null;
    state.value = { train: idle(), test: idle() };
    delete loads.train;
    delete loads.test;
  }
  watch(() => info.value?.fingerprint, reset);

  async function load(split: Split): Promise<SplitImages> {
    const gen = generation;
    const d = info.value ?? (await studio.dataset());
    const count = split === 'train' ? d.trainCount : d.testCount;
    const per = d.rows * d.cols;
    const pixels = new Uint8Array(count * per);
    const labels = new Uint8Array(count);
    state.value[split] = { status: 'loading', loaded: 0, total: count, error: null };
    for (let start = 0; start < count; start += PAGE) {
      const slice = await studio.datasetImages(split, start, Math.min(PAGE, count - start));
      if (gen !== generation) throw new Error('the dataset changed while its images were loading');
      pixels.set(slice.pixels, start * per);
      labels.set(slice.labels, start);
      state.value[split].loaded = start + slice.count;
      if (slice.count === 0) break;
    }
    const byClass: number[][] = Array.from({ length: 10 }, () => []);
    for (let i = 0; i < count; i++) (byClass[labels[i]] ??= []).push(i);
    const set: SplitImages = { split, count, rows: d.rows, cols: d.cols, pixels, labels, byClass };
    if (split === 'train') train.value = set;
    else test.value = set;
    state.value[split] = { status: 'ready', loaded: count, total: count, error: null };
    return set;
  }

  /** The split's images, loading them the first time (or again after an error). */
  function ensure(split: Split): Promise<SplitImages> {
    const have = split === 'train' ? train.value : test.value;
    if (have) return Promise.resolve(have);
    const p =
      loads[split] ??
      load(split).catch((e: unknown) => {
        delete loads[split];
        const message = e instanceof Error ? e.message : String(e);
        state.value[split] = { ...state.value[split], status: 'error', error: message };
        throw e;
      });
    loads[split] = p;
    return p;
  }

  function get(split: Split): SplitImages | null {
    return split === 'train' ? train.value : test.value;
  }

  return { train, test, state, ensure, get, reset };
});
