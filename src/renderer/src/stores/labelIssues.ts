// The Data lab's label issues: the finder's ranking of the current dataset (loaded from the
// backend's cache, or found on request with progress), the user's marks on it (accept the
// suggestion, set another label, exclude) and their saved form, the dataset's label overlay.

import { defineStore, storeToRefs } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { LabelIssue } from '@engine/data-lab/confident';
import type { LabelOverlay, OverlayInfo } from '@common/overlay';
import { onStudioEvent, studio } from '../api/studio';
import { useDatasetStore } from './dataset';
import { useNoticeStore } from './notices';

export type Mark = { kind: 'relabel'; label: number } | { kind: 'exclude' };

export const useLabelIssuesStore = defineStore('labelIssues', () => {
  const dataset = useDatasetStore();
  const notices = useNoticeStore();
  const { info } = storeToRefs(dataset);
  const issues = shallowRef<LabelIssue[] | null>(null);
  const status = ref<'idle' | 'loading' | 'none' | 'finding' | 'ready' | 'error'>('idle');
  const error = ref<string | null>(null);
  const fraction = ref(0);
  /** Cancel was pressed while the finder runs: its failure is then the cancel, not an error. */
  const cancelling = ref(false);
  /** Marks by training-file index. */
  const marks = ref(new Map<number, Mark>());
  /** The overlay as last loaded or saved (entries the ranking may not show are kept). */
  const saved = shallowRef<LabelOverlay | null>(null);
  const savedInfo = ref<OverlayInfo | null>(null);
  const dirty = ref(false);
  const saving = ref(false);

  const relabelled = computed(() => [...marks.value.values()].filter((m) => m.kind === 'relabel').length);
  const excluded = computed(() => [...marks.value.values()].filter((m) => m.kind === 'exclude').length);
  const hasSaved = computed(() => Boolean(saved.value && (saved.value.relabel.length || saved.value.exclude.length)));

  let off: (() => void) | null = null;

  function reset(): void {
    issues.value = null;
    status.value = 'idle';
    error.value = null;
    marks.value = new Map();
    saved.value = null;
    savedInfo.value = null;
    dirty.value = false;
  }
  watch(() => info.value?.fingerprint, reset);

  function adoptOverlay(o: LabelOverlay): void {
    saved.value = o;
    const m = new Map<number, Mark>();
    for (const r of o.relabel) m.set(r.index, { kind: 'relabel', label: r.label });
    for (const i of o.exclude) m.set(i, { kind: 'exclude' });
    marks.value = m;
    dirty.value = false;
  }

  /** The cached ranking (if any) and the saved overlay. */
  async function load(): Promise<void> {
    if (status.value !== 'idle' && status.value !== 'error') return;
    status.value = 'loading';
    error.value = null;
    try {
      const [cached, overlay] = await Promise.all([studio.cachedLabelIssues(), studio.labelOverlay()]);
      adoptOverlay(overlay);
      issues.value = cached;
      status.value = cached ? 'ready' : 'none';
    } catch (e) {
      status.value = 'error';
      error.value = e instanceof Error ? e.message : String(e);
    }
  }

  async function find(): Promise<void> {
    if (status.value === 'finding') return;
    status.value = 'finding';
    fraction.value = 0;
    cancelling.value = false;
    error.value = null;
    off ??= onStudioEvent((e) => {
      if (e.type === 'label-issues-progress') fraction.value = e.fraction;
    });
    try {
      issues.value = await studio.findLabelIssues();
      status.value = 'ready';
    } catch (e) {
      status.value = issues.value ? 'ready' : 'none';
      if (cancelling.value) notices.push('info', 'Finder cancelled: nothing was kept; Find starts it again from the beginning.');
      else notices.error(e);
    } finally {
      cancelling.value = false;
      off?.();
      off = null;
    }
  }

  /** Stops the finder between two batches; find() then ends without a ranking. */
  async function cancel(): Promise<void> {
    if (status.value !== 'finding' || cancelling.value) return;
    cancelling.value = true;
    try {
      await studio.cancelLabelIssues();
    } catch (e) {
      cancelling.value = false;
      notices.error(e);
    }
  }

  function mark(index: number, m: Mark | null): void {
    const next = new Map(marks.value);
    if (m) next.set(index, m);
    else next.delete(index);
    marks.value = next;
    dirty.value = true;
  }

  function overlay(): LabelOverlay | null {
    const fp = info.value?.fingerprint ?? saved.value?.fingerprint;
    if (!fp) return null;
    const relabel: LabelOverlay['relabel'] = [];
    const exclude: number[] = [];
    for (const [index, m] of marks.value) {
      if (m.kind === 'relabel') relabel.push({ index, label: m.label });
      else exclude.push(index);
    }
    return { format: 'lenet-studio-overlay', version: 1, fingerprint: fp, relabel, exclude };
  }

  async function save(): Promise<boolean> {
    const o = overlay();
    if (!o || saving.value) return false;
    saving.value = true;
    try {
      savedInfo.value = await studio.saveLabelOverlay(o);
      saved.value = o;
      dirty.value = false;
      notices.push('info', `Corrections saved: ${o.relabel.length} relabelled, ${o.exclude.length} excluded.`);
      return true;
    } catch (e) {
      notices.error(e);
      return false;
    } finally {
      saving.value = false;
    }
  }

  return {
    issues,
    status,
    error,
    fraction,
    cancelling,
    marks,
    saved,
    savedInfo,
    dirty,
    saving,
    relabelled,
    excluded,
    hasSaved,
    load,
    find,
    mark,
    save,
    reset,
    cancel,
  };
});
