// Explanations of the digit on screen: the six attribution methods side by side for a target
// class (default: the predicted one), their parameters, and on request the sanity checks (model
// randomisation, deletion/insertion curves). Runs here, in the renderer, with src/engine on its
// own copy of the model on screen (randomisation changes weights and puts them back).

import { defineStore, storeToRefs } from 'pinia';
import { reactive, ref, shallowRef } from 'vue';
import {
  EXPLAIN_DEFAULTS,
  EXPLAIN_METHODS,
  Explainer,
  deletionInsertion,
  modelRandomisation,
  type Baseline,
  type ExplainMethod,
  type Explanation,
  type PixelCurve,
  type RandomisationStep,
} from '@engine/explain';
import { ModelHolder } from '../lib/model-holder';
import { useEngineStore } from './engine';
import { useModelStore } from './model';

export interface ExplainParams {
  steps: number;
  baseline: Baseline;
  noise: number;
  samples: number;
  patch: number;
  stride: number;
  layer: string;
}

export interface SanityResult {
  target: number;
  steps: RandomisationStep[];
  curves: Partial<Record<ExplainMethod, { deletion: PixelCurve; insertion: PixelCurve }>>;
  ms: number;
}

export const useExplainStore = defineStore('explain', () => {
  const model = useModelStore();
  const engine = useEngineStore();
  const { current } = storeToRefs(model);

  /** The class explained; null: the predicted class. */
  const target = ref<number | null>(null);
  const params = reactive<ExplainParams>({
    steps: EXPLAIN_DEFAULTS.steps,
    baseline: EXPLAIN_DEFAULTS.baseline,
    noise: EXPLAIN_DEFAULTS.noise,
    samples: EXPLAIN_DEFAULTS.samples,
    patch: EXPLAIN_DEFAULTS.patch,
    stride: EXPLAIN_DEFAULTS.stride,
    layer: '',
  });
  const results = shallowRef<Explanation[]>([]);
  const convs = shallowRef<string[]>([]);
  const sanity = shallowRef<SanityResult | null>(null);
  const error = ref<string | null>(null);
  const busy = ref(false);

  const holder = new ModelHolder((model) => new Explainer(model));

  async function getExplainer(): Promise<Explainer | null> {
    const m = current.value;
    const { kernels } = await engine.ready();
    const got = holder.get(m, kernels);
    if (!got) return null;
    if (got.fresh) {
      convs.value = got.value.convLayers();
      if (!convs.value.includes(params.layer)) params.layer = convs.value[convs.value.length - 1] ?? '';
    }
    return got.value;
  }

  function options(): Parameters<Explainer['explain']>[3] {
    return { ...params, layer: params.layer || undefined };
  }

  /** Every method for `x` and the target (or the predicted class). */
  async function run(x: Float32Array | null): Promise<void> {
    try {
      const ex = await getExplainer();
      if (!ex || !x) {
        results.value = [];
        sanity.value = null;
        return;
      }
      const t = target.value ?? ex.predict(x);
      const methods = EXPLAIN_METHODS.filter((m) => m !== 'gradcam' || convs.value.length > 0);
      results.value = methods.map((m) => ex.explain(m, x, t, options()));
      sanity.value = null; // it was for another digit, target, model or parameters
      error.value = null;
    } catch (e) {
      results.value = [];
      error.value = e instanceof Error ? e.message : String(e);
    }
  }

  /** Model randomisation and deletion/insertion for every method, on `x`. */
  async function runSanity(x: Float32Array | null): Promise<void> {
    busy.value = true;
    try {
      const ex = await getExplainer();
      if (!ex || !x) return;
      const t0 = performance.now();
      const t = target.value ?? ex.predict(x);
      const methods = results.value.map((r) => r.method);
      const r = modelRandomisation(ex, x, t, methods, options());
      const curves: SanityResult['curves'] = {};
      for (const m of methods) curves[m] = deletionInsertion(ex, x, t, r.original[m]!);
      sanity.value = { target: t, steps: r.steps, curves, ms: performance.now() - t0 };
      error.value = null;
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    } finally {
      busy.value = false;
    }
  }

  return { target, params, results, convs, sanity, error, busy, run, runSanity };
});
