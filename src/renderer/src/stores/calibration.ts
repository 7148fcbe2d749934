// Calibration of the model on screen (Evaluate) and its nearest training digits (Inspect). Both
// run here, in the renderer, with src/engine on the model on screen:
// - fit(): the temperature that minimises the NLL of held-out images — the run's validation
//   images for a model of a run that held some out, otherwise the last 5,000 training images —
//   shown before and after; apply() makes it the model's (saved and exported with it).
// - neighbours(): the K training images nearest to an embedding, the training embeddings computed
//   once per model and kept in memory.

import { defineStore, storeToRefs } from 'pinia';
import { ref, shallowRef, watch } from 'vue';
import type { ModelPayload } from '@common/records';
import { trainConfigOf } from '@common/settings';
import { applyTemperature, calibrationOf, fitTemperature, type Calibration } from '@engine/calibration';
import { splitData, type ImageSet } from '@engine/data';
import { embed, embeddingSize } from '@engine/embedding';
import { evaluate } from '@engine/evaluate';
import { Model } from '@engine/model';
import { nearest, type Neighbour } from '@engine/neighbours';
import { studio } from '../api/studio';
import { useEngineStore } from './engine';
import { useImagesStore, type SplitImages } from './images';
import { useInspectStore } from './inspect';
import { useModelStore } from './model';

export const CALIBRATION_HOLDOUT = 5000;

export interface Fit {
  temperature: number;
  images: number;
  source: string;
  before: Calibration;
  after: Calibration;
}

export const useCalibrationStore = defineStore('calibration', () => {
  const model = useModelStore();
  const images = useImagesStore();
  const engine = useEngineStore();
  const { current } = storeToRefs(model);

  /** The temperature of the model on screen (1: not calibrated). */
  const temperature = ref(1);
  const fit = shallowRef<Fit | null>(null);
  const fitting = ref(false);
  const fitError = ref<string | null>(null);
  let fitFor: ModelPayload | null = null;

  watch(
    current,
    (m) => {
      temperature.value = m?.temperature ?? 1;
      if (m !== fitFor) {
        fit.value = null;
        fitError.value = null;
      }
    },
    { immediate: true },
  );

  async function withModel<T>(m: ModelPayload, f: (model: Model) => T): Promise<T> {
    const { kernels } = await engine.ready();
    const local = new Model(m.spec, kernels);
    try {
      local.restore({ params: m.params, buffers: m.buffers });
      return f(local);
    } finally {
      local.dispose();
    }
  }

  async function heldOut(m: ModelPayload, train: SplitImages): Promise<{ set: ImageSet; source: string }> {
    if (m.source.kind === 'run') {
      const run = await studio.getRun(m.source.runId).catch(() => null);
      if (run && run.validationCount > 0 && run.dataset.fingerprint === (await studio.dataset()).fingerprint) {
        const split = splitData({ train, test: train }, run.settings.limit ?? null, run.validationCount, trainConfigOf(run.settings).seed);
        if (split.validation) return { set: split.validation, source: `the run's ${split.validation.count.toLocaleString('en-US')} validation images` };
      }
    }
    const n = Math.min(CALIBRATION_HOLDOUT, train.count);
    const per = train.rows * train.cols;
    const start = train.count - n;
    const set: ImageSet = { count: n, rows: train.rows, cols: train.cols, pixels: train.pixels.subarray(start * per), labels: train.labels.subarray(start) };
    return { set, source: `the last ${n.toLocaleString('en-US')} training images` };
  }

  /** Fits a temperature for the model on screen; nothing changes until apply(). */
  async function runFit(): Promise<void> {
    const m = current.value;
    if (!m || fitting.value) return;
    fitting.value = true;
    fitError.value = null;
    try {
      const train = await images.ensure('train');
      const { set, source } = await heldOut(m, train);
      const r = await withModel(m, (local) => evaluate(local, set));
      const K = r.scores.length / Math.max(1, r.count);
      const T = fitTemperature(r.scores, set.labels, K);
      if (current.value !== m) return;
      fitFor = m;
      fit.value = {
        temperature: T,
        images: set.count,
        source,
        before: calibrationOf(r.scores, r.predictions, set.labels, K),
        after: calibrationOf(applyTemperature(r.scores, K, T), r.predictions, set.labels, K),
      };
    } catch (e) {
      fitError.value = e instanceof Error ? e.message : String(e);
    } finally {
      fitting.value = false;
    }
  }

  /** Makes `t` the temperature of the model on screen (1 removes it): the inspector uses it, Save and Export write it. */
  function apply(t: number): void {
    const m = current.value;
    if (!m) return;
    if (t === 1) delete m.temperature;
    else m.temperature = t;
    temperature.value = t;
    void useInspectStore().refresh();
  }

  // ------------------------------------------------------------ nearest training digits

  let cacheFor: ModelPayload | null = null;
  let cache: Promise<Float32Array> | null = null;
  const embedding = ref<{ done: number; total: number } | null>(null);

  /** Training embeddings of the model on screen, computed once, in slices so the window stays responsive. */
  function trainEmbeddings(m: ModelPayload): Promise<Float32Array> {
    if (cache && cacheFor === m) return cache;
    cacheFor = m;
    cache = (async () => {
      const train = await images.ensure('train');
      const { kernels } = await engine.ready();
      const local = new Model(m.spec, kernels);
      try {
        local.restore({ params: m.params, buffers: m.buffers });
        const dim = embeddingSize(local);
        const out = new Float32Array(train.count * dim);
        const SLICE = 2000;
        for (let s = 0; s < train.count; s += SLICE) {
          const n = Math.min(SLICE, train.count - s);
          const idx = Array.from({ length: n }, (_, i) => s + i);
          out.set(embed(local, train.pixels, train.count, { indices: idx }), s * dim);
          embedding.value = { done: s + n, total: train.count };
          await new Promise((r) => setTimeout(r, 0));
        }
        return out;
      } finally {
        local.dispose();
        embedding.value = null;
      }
    })();
    cache.catch(() => {
      if (cacheFor === m) cache = null;
    });
    return cache;
  }

  /** The k training images nearest to `query` (an embedding of the model on screen). */
  async function neighbours(m: ModelPayload, query: Float32Array, k: number): Promise<Neighbour[]> {
    const all = await trainEmbeddings(m);
    return nearest(all, query.length, query, k);
  }

  return { temperature, fit, fitting, fitError, runFit, apply, embedding, neighbours };
});
