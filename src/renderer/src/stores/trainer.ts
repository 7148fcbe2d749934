// The run in progress, as a small state machine driven by the user and by events:
//   idle → starting → running ⇄ paused → finished (done, cancelled, diverged) | crashed (failed)
// A finished or crashed run leaves the machine ready to start the next one.

import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { ModelSpec } from '../../../engine/spec';
import type { RunStatus, StudioEvent } from '../../../preload/api';
import { studio } from '../api/studio';
import { useMetricsStore } from './metrics';
import { useModelStore } from './model';
import { useNoticeStore } from './notices';
import { useRunsStore } from './runs';
import { useSettingsStore } from './settings';

export type TrainerState = 'idle' | 'starting' | 'running' | 'paused' | 'finished' | 'crashed';
type Progress = Extract<StudioEvent, { type: 'progress' }>;

export const useTrainerStore = defineStore('trainer', () => {
  const state = ref<TrainerState>('idle');
  const runId = ref<string | null>(null);
  const progress = shallowRef<Progress | null>(null);
  const outcome = ref<{ status: RunStatus; reason?: string } | null>(null);
  const spec = shallowRef<ModelSpec | null>(null);
  const preset = ref<string | undefined>(undefined);
  const busy = computed(() => state.value === 'starting' || state.value === 'running' || state.value === 'paused');

  const metrics = useMetricsStore();
  const model = useModelStore();
  const runs = useRunsStore();
  const notices = useNoticeStore();

  async function start(): Promise<void> {
    const settings = useSettingsStore();
    if (busy.value || !settings.valid || !settings.preset) return;
    state.value = 'starting';
    outcome.value = null;
    progress.value = null;
    spec.value = settings.preset.spec;
    preset.value = settings.preset.name;
    metrics.reset(null);
    try {
      const r = await studio.startRun(settings.presetName, settings.settings());
      adopt(r.runId);
    } catch (e) {
      state.value = 'idle';
      notices.error(e);
    }
    void runs.refresh();
  }

  /** Take a run id as ours (the reply, or an event that beat it here). */
  function adopt(id: string): void {
    if (runId.value === id) return;
    runId.value = id;
    runs.selectedId = id;
    if (metrics.runId !== id) metrics.reset(id);
    if (state.value === 'starting') state.value = 'running';
  }

  async function control(f: (id: string) => Promise<void>): Promise<void> {
    if (!runId.value) return;
    try {
      await f(runId.value);
    } catch (e) {
      notices.error(e);
    }
  }
  const pause = () => control((id) => studio.pauseRun(id));
  const resume = () => control((id) => studio.resumeRun(id));
  const cancel = () => control((id) => studio.cancelRun(id));

  async function continueRun(id: string): Promise<void> {
    if (busy.value) return;
    state.value = 'starting';
    outcome.value = null;
    try {
      await metrics.loadRun(id);
      const detail = await studio.getRun(id);
      spec.value = detail.spec;
      preset.value = detail.preset;
      runId.value = null;
      adopt(id);
      await studio.continueRun(id);
    } catch (e) {
      state.value = 'idle';
      notices.error(e);
    }
    void runs.refresh();
  }

  function mine(id: string): boolean {
    if (state.value === 'starting' && runId.value === null) adopt(id);
    return id === runId.value;
  }

  function onEvent(e: StudioEvent): void {
    switch (e.type) {
      case 'progress':
        if (!mine(e.runId)) return;
        progress.value = e;
        metrics.addLoss(e.runId, e.imagesSeen, e.loss);
        return;
      case 'epoch':
        if (!mine(e.runId)) return;
        metrics.addEpoch(e.runId, e.metrics, e.confusion);
        void runs.refresh();
        return;
      case 'snapshot':
        if (!mine(e.runId) || !spec.value) return;
        model.setSnapshot(e.runId, e.epoch, spec.value, e.params, e.buffers, preset.value);
        return;
      case 'run-status':
        void runs.refresh();
        if (!mine(e.runId)) return;
        if (e.status === 'running') state.value = 'running';
        else if (e.status === 'paused') state.value = 'paused';
        else {
          state.value = e.status === 'failed' ? 'crashed' : 'finished';
          outcome.value = e.reason === undefined ? { status: e.status } : { status: e.status, reason: e.reason };
          if (e.status === 'failed' || e.status === 'diverged') notices.push('error', `Run ${e.runId} ${e.status}: ${e.reason ?? 'no reason given'}`);
        }
        return;
      default:
        return;
    }
  }

  return { state, runId, progress, outcome, busy, start, pause, resume, cancel, continueRun, onEvent };
});
