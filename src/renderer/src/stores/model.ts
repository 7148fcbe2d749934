// The model on screen. Only the person at the screen changes it: Open (dialog, drop, the OS), a
// run's "Latest"/"Best" model, or "Follow this run" while a run trains — starting a run never
// does. Save writes to the file the model came from or was last saved to; Save As asks. The
// header's test accuracy belongs to the model it was measured on and to no other.

import { useSettingsStore } from './settings';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { jsKernels } from '@engine/kernels/js/backend';
import { Model } from '@engine/model';
import type { Evaluation, ModelPayload } from '@common/records';
import { studio } from '../api/studio';
import { useNoticeStore } from './notices';

/** Where the model on screen can be found again after a restart (renderer storage; the backend still decides what it opens). */
export type ModelOrigin = { kind: 'file'; path: string } | { kind: 'run'; runId: string; which: 'latest' | 'best'; epoch?: number };

const STORAGE_KEY = 'lenet-studio.model-on-screen';

function remembered(): ModelOrigin | null {
  try {
    const raw: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
    if (!raw || typeof raw !== 'object') return null;
    const o = raw as Record<string, unknown>;
    if (o.kind === 'file' && typeof o.path === 'string') return { kind: 'file', path: o.path };
    if (o.kind === 'run' && typeof o.runId === 'string' && (o.which === 'latest' || o.which === 'best')) {
      // An epoch chosen on the epoch slider.
      if (Number.isInteger(o.epoch) && (o.epoch as number) > 0) return { kind: 'run', runId: o.runId, which: o.which, epoch: o.epoch as number };
      return { kind: 'run', runId: o.runId, which: o.which };
    }
  } catch {
    // unreadable storage: start without a model
  }
  return null;
}

function remember(o: ModelOrigin | null): void {
  try {
    if (o) localStorage.setItem(STORAGE_KEY, JSON.stringify(o));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage full or disabled: the app works, it just forgets
  }
}

const baseName = (path: string): string => path.split(/[\\/]/).pop() ?? path;

export const useModelStore = defineStore('model', () => {
  const current = shallowRef<ModelPayload | null>(null);
  /** The last evaluation and the model it measured; shown only while that model is on screen. */
  const measured = shallowRef<{ model: ModelPayload; result: Evaluation } | null>(null);
  const busy = ref(false);
  /** The file Save writes to: the one the model came from, or was last saved to. */
  const savedPath = ref<string | null>(null);
  /** The run whose snapshots replace the model on screen (the user chose "Follow this run"). */
  const following = ref<string | null>(null);
  const notices = useNoticeStore();

  const evaluation = computed(() => (measured.value && measured.value.model === current.value ? measured.value.result : null));

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
    if (savedPath.value) return baseName(savedPath.value);
    if (m.source.kind === 'file') return baseName(m.source.path);
    return `${m.source.runId}, epoch ${m.source.epoch}`;
  });

  /** Puts a model on screen; `origin` says how to find it again after a restart. */
  function set(m: ModelPayload, origin?: ModelOrigin, followRun: string | null = null): void {
    current.value = m;
    measured.value = null;
    // Save writes back only to a LeNet Studio file (an imported PyTorch state_dict asks where).
    savedPath.value = m.source.kind === 'file' && m.source.path.toLowerCase().endsWith('.lenet') ? m.source.path : null;
    following.value = followRun;
    const o = origin ?? (m.source.kind === 'file' ? { kind: 'file', path: m.source.path } : { kind: 'run', runId: m.source.runId, which: 'latest' });
    remember(o);
  }

  /** The evaluation of `m`; ignored when another model is on screen by now. */
  function setEvaluation(m: ModelPayload, e: Evaluation): void {
    if (current.value === m) measured.value = { model: m, result: e };
  }

  // One file action at a time, in the order asked: a Save pressed while another is under way
  // runs after it rather than beside it (or not at all).
  let queue: Promise<void> = Promise.resolve();
  let pending = 0;
  function task(f: () => Promise<void>): Promise<void> {
    pending++;
    busy.value = true;
    const run = async (): Promise<void> => {
      try {
        await f();
      } catch (e) {
        notices.error(e);
      } finally {
        if (--pending === 0) busy.value = false;
      }
    };
    queue = queue.then(run);
    return queue;
  }

  const open = () =>
    task(async () => {
      // A plain safetensors state_dict is imported into the preset chosen in the Train form.
      const m = await studio.openModelDialog(useSettingsStore().presetName || undefined);
      if (m) set(m);
    });
  const openPath = (path: string) => task(async () => set(await studio.openModelPath(path)));
  const openDropped = (file: File) => task(async () => set(await studio.openDroppedModel(file)));
  const openRun = (runId: string, which: 'latest' | 'best') => task(async () => set(await studio.runModel(runId, which), { kind: 'run', runId, which }));

  /** The payload as the backend should see it: a saved model is that file's model. */
  function withFile(m: ModelPayload): ModelPayload {
    return savedPath.value && !(m.source.kind === 'file' && m.source.path === savedPath.value) ? { ...m, source: { kind: 'file', path: savedPath.value } } : m;
  }

  const save = (saveAs: boolean) =>
    task(async () => {
      const m = current.value;
      if (!m) {
        notices.push('info', 'There is no model to save yet: train one or open a .lenet file.');
        return;
      }
      const r = await studio.saveModel(withFile(m), saveAs);
      if (r) {
        if (current.value === m) {
          savedPath.value = r.path;
          remember({ kind: 'file', path: r.path });
        }
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
      const r = await studio.exportModel(withFile(m), 'onnx');
      if (r) notices.push('info', `Exported ${r.path}`);
    });

  const evaluate = () =>
    task(async () => {
      const m = current.value;
      if (m) setEvaluation(m, await studio.evaluateModel(m));
    });

  /** After a restart: the model that was on screen, if the backend still opens it. */
  async function restore(): Promise<void> {
    const o = remembered();
    if (!o || current.value) return;
    try {
      const m =
        o.kind === 'file'
          ? await studio.openModelPath(o.path)
          : o.epoch !== undefined
            ? await studio.runEpochModel(o.runId, o.epoch)
            : await studio.runModel(o.runId, o.which);
      if (!current.value) set(m, o);
    } catch (e) {
      remember(null);
      notices.push('info', `The last model could not be brought back: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  return {
    current,
    evaluation,
    busy,
    savedPath,
    following,
    parameterCount,
    label,
    set,
    setEvaluation,
    open,
    openPath,
    openDropped,
    openRun,
    save,
    exportOnnx,
    evaluate,
    restore,
  };
});
