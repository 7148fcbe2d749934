// The model on screen: the live run's latest snapshot, a run's saved model, or a .lenet file.
// Open, save, evaluate. (The inspector adds local inference on it with src/engine.)

import { useSettingsStore } from './settings';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { jsKernels } from '@engine/kernels/js/backend';
import { Model } from '@engine/model';
import type { ModelSpec } from '@engine/spec';
import type { Evaluation, ModelPayload } from '@common/records';
import { studio } from '../api/studio';
import { useNoticeStore } from './notices';

export const useModelStore = defineStore('model', () => {
  const current = shallowRef<ModelPayload | null>(null);
  const evaluation = shallowRef<Evaluation | null>(null);
  const busy = ref(false);
  const savedPath = ref<string | null>(null);
  const notices = useNoticeStore();

  const parameterCount = computed(() => {
    const spec = current.value?.spec;
    if (!spec) return null;
    try {
      return new Model(spec, jsKernels).parameterCount; // a count only: nothing runs
    } catch {
      return null;
    }
  });

  const label = computed(() => {
    const m = current.value;
    if (!m) return null;
    if (m.source.kind === 'file') return m.source.path.split(/[\\/]/).pop() ?? m.source.path;
    return `${m.source.runId}, epoch ${m.source.epoch}`;
  });

  function set(m: ModelPayload): void {
    current.value = m;
    evaluation.value = null;
    savedPath.value = m.source.kind === 'file' ? m.source.path : null;
  }

  function setSnapshot(runId: string, epoch: number, spec: ModelSpec, params: Float32Array, buffers: Float32Array, preset?: string): void {
    const m: ModelPayload = { spec, params, buffers, source: { kind: 'run', runId, epoch } };
    if (preset) m.preset = preset;
    set(m);
  }

  async function task(f: () => Promise<void>): Promise<void> {
    busy.value = true;
    try {
      await f();
    } catch (e) {
      notices.error(e);
    } finally {
      busy.value = false;
    }
  }

  const open = () =>
    task(async () => {
      // A plain safetensors state_dict is imported into the preset chosen in the Train form.
      const m = await studio.openModelDialog(useSettingsStore().presetName || undefined);
      if (m) set(m);
    });
  const openPath = (path: string) => task(async () => set(await studio.openModelPath(path)));
  const openDropped = (file: File) => task(async () => set(await studio.openDroppedModel(file)));
  const openRun = (runId: string, which: 'latest' | 'best') => task(async () => set(await studio.runModel(runId, which)));

  const save = (saveAs: boolean) =>
    task(async () => {
      const m = current.value;
      if (!m) {
        notices.push('info', 'There is no model to save yet: train one or open a .lenet file.');
        return;
      }
      const r = await studio.saveModel(m, saveAs);
      if (r) {
        savedPath.value = r.path;
        notices.push('info', `Saved ${r.path}`);
      }
    });

  const exportOnnx = () =>
    task(async () => {
      const m = current.value;
      if (!m) {
        notices.push('info', 'There is no model to export yet: train one or open a .lenet file.');
        return;
      }
      const r = await studio.exportModel(m, 'onnx');
      if (r) notices.push('info', `Exported ${r.path}`);
    });

  const evaluate = () =>
    task(async () => {
      if (current.value) evaluation.value = await studio.evaluateModel(current.value);
    });

  return { current, evaluation, busy, savedPath, parameterCount, label, set, setSnapshot, open, openPath, openDropped, openRun, save, exportOnnx, evaluate };
});
