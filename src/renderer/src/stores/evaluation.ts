// The model on screen evaluated on the whole test set (by the trainer process, through the
// API): the confusion matrix and every test digit's prediction and scores, plus what the
// Evaluate view has selected (a confusion cell, the misclassified filters). The result is
// shared with the model store, so the header shows the same accuracy.

import { defineStore, storeToRefs } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { Evaluation, ModelPayload } from '@common/records';
import { studio } from '../api/studio';
import { classReport } from '../lib/metrics';
import { useDatasetStore } from './dataset';
import { useModelStore } from './model';

export const useEvaluationStore = defineStore('evaluation', () => {
  const model = useModelStore();
  const dataset = useDatasetStore();
  const { current, evaluation } = storeToRefs(model);

  const result = shallowRef<Evaluation | null>(null);
  const status = ref<'idle' | 'running' | 'ready' | 'error'>('idle');
  const error = ref<string | null>(null);
  /** The selected confusion cell: true class t, predicted p. */
  const cell = ref<{ t: number; p: number } | null>(null);
  const filterTrue = ref<number | null>(null);
  const filterPred = ref<number | null>(null);
  let forModel: ModelPayload | null = null;
  let request = 0;

  const report = computed(() => (result.value ? classReport(result.value.confusion) : null));

  function clear(): void {
    request++;
    result.value = null;
    forModel = null;
    status.value = 'idle';
    error.value = null;
  }

  // A new model (snapshot, file, run) or dataset makes the old numbers stale.
  watch(current, (m) => {
    if (m !== forModel) clear();
  });
  watch(() => dataset.info?.fingerprint, clear);
  // The header's Evaluate button produced one for the model on screen: use it.
  watch(evaluation, (e) => {
    if (e && current.value && forModel !== current.value) adopt(current.value, e);
  });

  function adopt(m: ModelPayload, e: Evaluation): void {
    forModel = m;
    result.value = e;
    status.value = 'ready';
    error.value = null;
  }

  async function run(): Promise<void> {
    const m = current.value;
    if (!m) return;
    const id = ++request;
    status.value = 'running';
    error.value = null;
    try {
      const r = await studio.evaluateModel(m);
      // Another model came on screen meanwhile: these numbers are not its numbers.
      if (id !== request || current.value !== m) return;
      adopt(m, r);
      model.setEvaluation(m, r);
    } catch (e) {
      if (id !== request) return;
      status.value = 'error';
      error.value = e instanceof Error ? e.message : String(e);
    }
  }

  /** Evaluates the model on screen unless that is done or under way. */
  function ensure(): void {
    const m = current.value;
    if (!m || status.value === 'running') return;
    if (forModel === m && result.value) return;
    // model.evaluation is only ever the evaluation of the model on screen.
    if (evaluation.value) {
      adopt(m, evaluation.value);
      return;
    }
    void run();
  }

  return { result, status, error, cell, filterTrue, filterPred, report, run, ensure, clear };
});
