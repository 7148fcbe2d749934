// Adversarial digits for the digit on screen: FGSM or PGD at the slider's ε (untargeted, away
// from the predicted class, or towards a chosen class), the perturbed digit's live prediction,
// and the smallest ε that turns the digit into a class. Runs here, in the renderer, with
// src/engine on its own copy of the model on screen.

import { defineStore, storeToRefs } from 'pinia';
import { reactive, ref, shallowRef } from 'vue';
import { ATTACK_DEFAULTS, Attacker, type AttackKind } from '@engine/adversarial';
import { classScores } from '@engine/loss';
import { ModelHolder } from '../lib/model-holder';
import { useEngineStore } from './engine';
import { useModelStore } from './model';

export interface AttackParams {
  attack: AttackKind;
  eps: number;
  steps: number;
  /** null: untargeted, away from the predicted class. */
  target: number | null;
}

export interface AttackResult {
  /** The perturbed digit, pixels in [0, 1]. */
  image: Float32Array;
  /** image − input. */
  delta: Float32Array;
  predicted: number;
  /** Class scores of the perturbed digit (softmax, or (y+1)/2 normalised). */
  scores: Float32Array;
  ms: number;
}

export interface SearchResult {
  target: number;
  /** null: no ε up to 1 turns the digit into the target. */
  eps: number | null;
  ms: number;
}

export const useAdversarialStore = defineStore('adversarial', () => {
  const engine = useEngineStore();
  const { current } = storeToRefs(useModelStore());
  const params = reactive<AttackParams>({ attack: 'fgsm', eps: 0.1, steps: ATTACK_DEFAULTS.steps, target: null });
  const result = shallowRef<AttackResult | null>(null);
  const search = shallowRef<SearchResult | null>(null);
  const error = ref<string | null>(null);
  const busy = ref(false);

  const holder = new ModelHolder((model) => new Attacker(model));

  async function getAttacker(): Promise<Attacker | null> {
    const { kernels } = await engine.ready();
    return holder.get(current.value, kernels)?.value ?? null;
  }

  /** The attack on `x` (the model's prediction at x is the label an untargeted attack moves away from). */
  async function run(x: Float32Array | null): Promise<void> {
    try {
      const a = await getAttacker();
      if (!a || !x) {
        result.value = null;
        return;
      }
      const t0 = performance.now();
      const label = a.predict(x, 1);
      const image = a.attack(x, label, 1, { attack: params.attack, eps: params.eps, steps: params.steps, target: params.target, seed: 1 });
      const y = a.model.forward(image, 1, false);
      const scores = classScores(a.model.spec.loss, y, 0, a.classes, new Float32Array(a.classes));
      let predicted = 0;
      for (let k = 1; k < a.classes; k++) if (scores[k] > scores[predicted]) predicted = k;
      const delta = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) delta[i] = image[i] - x[i];
      result.value = { image, delta, predicted, scores, ms: performance.now() - t0 };
      error.value = null;
    } catch (e) {
      result.value = null;
      error.value = e instanceof Error ? e.message : String(e);
    }
  }

  /** The smallest ε at which the targeted attack turns `x` into `target` (grid scan, then bisection). */
  async function findSmallest(x: Float32Array | null, target: number): Promise<void> {
    busy.value = true;
    try {
      const a = await getAttacker();
      if (!a || !x) return;
      const t0 = performance.now();
      const r = a.smallestEps(x, target, { attack: params.attack, steps: params.steps, seed: 1 });
      search.value = { target, eps: r ? r.eps : null, ms: performance.now() - t0 };
      if (r) {
        params.target = target;
        params.eps = r.eps;
      }
      error.value = null;
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    } finally {
      busy.value = false;
    }
  }

  return { params, result, search, error, busy, run, findSmallest };
});
