// The digit under the inspector and what the model makes of it. The digit comes from the
// dataset (Data view, a confusion cell, a gallery: with the list it came from, to step through)
// or from the drawing pad. Inference runs here, in the renderer, on the model on screen (the
// live run's latest snapshot or an opened model), with src/engine: instant, no round trip.

import { defineStore, storeToRefs } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { ModelPayload } from '@common/records';
import { applyTemperature } from '@engine/calibration';
import { Inspector, type ConvBreakdown, type ConvWeights, type Inspection } from '../lib/inspector';
import { toInput } from '../lib/preprocess';
import { useEngineStore } from './engine';
import { useImagesStore, type Split } from './images';
import { useModelStore } from './model';

export type DigitSource = { kind: 'dataset'; split: Split; index: number; label: number } | { kind: 'drawn' };

export interface DigitSequence {
  /** What the list is, e.g. "true 4 → predicted 9". */
  title: string;
  split: Split;
  indices: number[];
}

export const useInspectStore = defineStore('inspect', () => {
  const model = useModelStore();
  const images = useImagesStore();
  const engine = useEngineStore();
  const { current } = storeToRefs(model);

  const source = ref<DigitSource | null>(null);
  const input = shallowRef<Float32Array | null>(null);
  const result = shallowRef<Inspection | null>(null);
  const kernels = shallowRef<ConvWeights[]>([]);
  const sequence = shallowRef<DigitSequence | null>(null);
  const error = ref<string | null>(null);
  const loading = ref(false);
  /** Each layer its own colour scale (fc and output layers wash out on one shared scale), or one for all. */
  const scaleMode = ref<'shared' | 'layer'>('layer');
  const showSaliency = ref(true);
  /** The enlarged feature map and the cell picked in it; kept across view switches and digits. */
  const detail = ref<{ layer: string; map: number; y: number; x: number } | null>(null);

  // The engine model is a cache, not state: rebuilt when the model on screen or the kernels change.
  let inspector: Inspector | null = null;
  let builtFor: ModelPayload | null = null;
  let builtWith = '';

  const position = computed(() => {
    const s = source.value;
    const q = sequence.value;
    if (!s || s.kind !== 'dataset' || !q || q.split !== s.split) return -1;
    return q.indices.indexOf(s.index);
  });

  async function getInspector(): Promise<Inspector | null> {
    const m = current.value;
    if (!m) {
      inspector?.dispose();
      inspector = null;
      builtFor = null;
      kernels.value = [];
      return null;
    }
    const { kernels: k } = await engine.ready();
    if (inspector && builtFor === m && builtWith === k.name) return inspector;
    inspector?.dispose();
    inspector = new Inspector(m, k);
    builtFor = m;
    builtWith = k.name;
    kernels.value = inspector.convWeights();
    return inspector;
  }

  function runNow(ins: Inspector | null): void {
    if (!ins || !input.value) {
      result.value = null;
      return;
    }
    const r = ins.inspect(input.value);
    // A calibrated model's scores at its temperature (the prediction does not change).
    const t = current.value?.temperature;
    if (t !== undefined && t !== 1) r.scores = applyTemperature(r.scores, r.scores.length, t);
    result.value = r;
  }

  /** Re-runs the digit on screen through the current model. */
  async function refresh(): Promise<void> {
    try {
      runNow(await getInspector());
      error.value = null;
    } catch (e) {
      result.value = null;
      error.value = e instanceof Error ? e.message : String(e);
    }
  }

  async function showDataset(split: Split, index: number, seq: DigitSequence | null = sequence.value): Promise<void> {
    loading.value = true;
    try {
      const set = await images.ensure(split);
      if (!Number.isInteger(index) || index < 0 || index >= set.count) throw new Error(`there is no ${split} image ${index} (0 to ${set.count - 1})`);
      const per = set.rows * set.cols;
      sequence.value = seq && seq.split === split && seq.indices.includes(index) ? seq : null;
      source.value = { kind: 'dataset', split, index, label: set.labels[index] };
      input.value = toInput(set.pixels, index * per, per);
      await refresh();
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    } finally {
      loading.value = false;
    }
  }

  /** A drawn digit, already preprocessed to the model's input; null clears it. Synchronous once the model is built, so drawing stays live. */
  function showDrawn(x: Float32Array | null): void {
    source.value = x ? { kind: 'drawn' } : null;
    input.value = x;
    if (inspector && builtFor === current.value) {
      try {
        runNow(inspector);
        error.value = null;
      } catch (e) {
        error.value = e instanceof Error ? e.message : String(e);
      }
    } else {
      void refresh();
    }
  }

  /** The next or previous digit of the list the digit came from (or of the dataset). */
  function step(delta: number): void {
    const s = source.value;
    if (!s || s.kind !== 'dataset') return;
    const q = sequence.value;
    if (q && position.value >= 0) {
      const i = position.value + delta;
      if (i >= 0 && i < q.indices.length) void showDataset(s.split, q.indices[i], q);
      return;
    }
    const set = images.get(s.split);
    const i = s.index + delta;
    if (set && i >= 0 && i < set.count) void showDataset(s.split, i, null);
  }

  /** One output of a conv layer for the digit on screen, taken apart (null when there is none). */
  function convBreakdown(layer: string, map: number, y: number, x: number): ConvBreakdown | null {
    const r = result.value;
    if (!inspector || !r || builtFor !== current.value) return null;
    try {
      return inspector.convBreakdown(r, layer, map, y, x);
    } catch {
      return null;
    }
  }

  watch(current, () => void refresh());

  return {
    source,
    input,
    result,
    kernels,
    sequence,
    position,
    error,
    loading,
    scaleMode,
    showSaliency,
    detail,
    refresh,
    showDataset,
    showDrawn,
    step,
    convBreakdown,
  };
});
