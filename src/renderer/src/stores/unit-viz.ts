// What units want, for the model on screen: each conv filter's, dense unit's and class's
// maximising image (one layer at a time) and the test digits that drive it highest (every layer
// at once). Computed by a worker (workers/unit-viz.worker.ts) so the window stays responsive,
// with progress, and kept per model: coming back to a model, or to a layer, shows it at once.
// Nothing runs until the person asks for it once; after that, choosing a layer computes it.

import { defineStore, storeToRefs } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { ModelPayload } from '@common/records';
import { resolveLayers } from '@engine/spec';
import type { Maximised, TopUnits } from '@engine/unit-viz';
import UnitVizWorker from '../workers/unit-viz.worker?worker';
import type { UnitVizReply, UnitVizRequest } from '../lib/unit-viz-protocol';
import { useDatasetStore } from './dataset';
import { useImagesStore } from './images';
import { useModelStore } from './model';

/** Top test digits kept per unit. */
export const TOP_K = 6;

export interface UnitLayerInfo {
  name: string;
  kind: 'conv2d' | 'dense';
  units: number;
  /** The last layer: its units are the classes. */
  classes: boolean;
}

interface Entry {
  key: number;
  /** The top test digits, of the dataset with fingerprint `topFor`. */
  top: TopUnits[] | null;
  topFor: string | null;
  images: Map<string, Maximised>;
  topP: Promise<TopUnits[]> | null;
  imagesP: Map<string, Promise<Maximised>>;
}

type Distribute<T> = T extends unknown ? Omit<T, 'id' | 'modelKey' | 'model'> : never;

export const useUnitVizStore = defineStore('unit-viz', () => {
  const model = useModelStore();
  const images = useImagesStore();
  const dataset = useDatasetStore();
  const fingerprint = computed(() => dataset.info?.fingerprint ?? '');
  const { current } = storeToRefs(model);

  const layer = ref('');
  /** The person asked for it: choosing a layer or another model computes what is missing. */
  const active = ref(false);
  const status = ref<'idle' | 'running' | 'ready' | 'error'>('idle');
  const progress = ref<{ what: string; done: number; total: number } | null>(null);
  const error = ref<string | null>(null);
  /** Bumped when a result arrives, so the computed views below see it. */
  const version = ref(0);

  const cache = new WeakMap<ModelPayload, Entry>();
  let nextKey = 1;
  let worker: Worker | null = null;
  let nextId = 1;
  const pending = new Map<number, { resolve(r: UnitVizReply): void; reject(e: Error): void; what: string }>();
  let run = 0;

  const layers = computed<UnitLayerInfo[]>(() => {
    const m = current.value;
    if (!m) return [];
    try {
      const ls = resolveLayers(m.spec).filter((l) => l.type === 'conv2d' || l.type === 'dense');
      return ls.map((l, i) => ({ name: l.name, kind: l.type as 'conv2d' | 'dense', units: l.outShape[0], classes: i === ls.length - 1 && l.type === 'dense' }));
    } catch {
      return [];
    }
  });

  function entryOf(m: ModelPayload): Entry {
    let e = cache.get(m);
    if (!e) {
      e = { key: nextKey++, top: null, topFor: null, images: new Map(), topP: null, imagesP: new Map() };
      cache.set(m, e);
    }
    return e;
  }

  const maximised = computed<Maximised | null>(() => {
    void version.value;
    const m = current.value;
    return m ? (cache.get(m)?.images.get(layer.value) ?? null) : null;
  });
  const top = computed<TopUnits | null>(() => {
    void version.value;
    const m = current.value;
    const e = m ? cache.get(m) : undefined;
    return e && e.topFor === fingerprint.value ? (e.top?.find((t) => t.layer === layer.value) ?? null) : null;
  });

  function onReply(e: MessageEvent<UnitVizReply>): void {
    const r = e.data;
    const p = pending.get(r.id);
    if (!p) return;
    if (r.type === 'progress') {
      progress.value = { what: p.what, done: r.done, total: r.total };
      return;
    }
    pending.delete(r.id);
    if (r.type === 'error') p.reject(new Error(r.message));
    else p.resolve(r);
  }

  function ask(m: ModelPayload, key: number, what: string, req: Distribute<UnitVizRequest>): Promise<UnitVizReply> {
    if (!worker) {
      worker = new UnitVizWorker();
      worker.onmessage = onReply;
      worker.onerror = (ev) => {
        for (const p of pending.values()) p.reject(new Error(`the unit-visualisation worker failed: ${ev.message}`));
        pending.clear();
        worker?.terminate();
        worker = null;
      };
    }
    const id = nextId++;
    progress.value = { what, done: 0, total: 1 };
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, what });
      worker!.postMessage({ ...req, id, modelKey: key, model: { spec: m.spec, params: m.params, buffers: m.buffers } } as UnitVizRequest);
    });
  }

  /** Computes what the model on screen lacks for the chosen layer. */
  async function ensure(): Promise<void> {
    const m = current.value;
    if (!m || !active.value) return;
    if (!layers.value.some((l) => l.name === layer.value)) layer.value = layers.value[0]?.name ?? '';
    const name = layer.value;
    if (!name) return;
    const e = entryOf(m);
    // Another dataset: its test digits are other digits.
    if (e.topFor !== fingerprint.value) {
      e.top = null;
      e.topP = null;
      e.topFor = fingerprint.value;
    }
    if (e.top && e.images.has(name)) {
      status.value = 'ready';
      return;
    }
    const id = ++run;
    status.value = 'running';
    error.value = null;
    try {
      // A request under way for the same model and layer is shared, not asked again.
      e.topP ??= (async () => {
        progress.value = { what: 'loading the test digits', done: 0, total: 1 };
        const test = await images.ensure('test');
        const r = await ask(m, e.key, 'ranking the test digits for every unit', { type: 'top', pixels: test.pixels, count: test.count, k: TOP_K });
        return r.type === 'top' ? r.result : [];
      })();
      let p = e.imagesP.get(name);
      if (!p) {
        p = ask(m, e.key, `maximising ${name}'s units`, { type: 'maximise', layer: name }).then((r) => {
          if (r.type !== 'maximise') throw new Error('internal error: the worker answered another request');
          return r.result;
        });
        p.catch(() => {}); // awaited below, after the top digits
        e.imagesP.set(name, p);
      }
      const tp = e.topP;
      const t = await tp;
      if (e.topP === tp) e.top = t;
      version.value++;
      e.images.set(name, await p);
      version.value++;
      if (id !== run) return;
      status.value = 'ready';
      progress.value = null;
    } catch (err) {
      // Asking again tries again.
      if (!e.top) e.topP = null;
      if (!e.images.has(name)) e.imagesP.delete(name);
      if (id !== run) return;
      status.value = 'error';
      progress.value = null;
      error.value = err instanceof Error ? err.message : String(err);
    }
  }

  function show(name: string): void {
    layer.value = name;
    active.value = true;
    void ensure();
  }

  watch([current, fingerprint], () => {
    status.value = 'idle';
    void ensure();
  });

  return { layer, layers, active, status, progress, error, maximised, top, show, ensure };
});
