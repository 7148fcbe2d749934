// The run in progress, as a small state machine driven by the user and by events:
//   idle → starting → running ⇄ paused → done | cancelled | diverged | failed
// The states after `starting` are the run's own (RunState, src/common/records.ts); a run that has
// ended leaves the machine ready to start the next one.
// The run's snapshots are kept here, not put on screen: the model on screen changes only when the
// user asks, e.g. with "Follow this run" (`follow`).

import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { ModelSpec } from '@engine/spec';
import { isActive, type RunState } from '@common/records';
import type { StudioEvent } from '@common/api';
import type { ModelPayload } from '@common/records';
import { studio } from '../api/studio';
import { useMetricsStore } from './metrics';
import { useModelStore } from './model';
import { useNavStore } from './nav';
import { useNoticeStore } from './notices';
import { useRunsStore } from './runs';
import { useSettingsStore } from './settings';
import { useSweepsStore } from './sweeps';

/** Before a run exists: idle, or waiting for the trainer to take it; after: the run's own state. */
export type RunControlState = 'idle' | 'starting' | RunState;
type Progress = Extract<StudioEvent, { type: 'progress' }>;

export const useTrainerStore = defineStore('trainer', () => {
  const state = ref<RunControlState>('idle');
  const runId = ref<string | null>(null);
  const progress = shallowRef<Progress | null>(null);
  const outcome = ref<{ status: RunState; reason?: string } | null>(null);
  const spec = shallowRef<ModelSpec | null>(null);
  const preset = ref<string | undefined>(undefined);
  const busy = computed(() => state.value === 'starting' || state.value === 'running' || state.value === 'paused');
  /** The run's latest snapshot (epoch 0: before training). */
  const live = shallowRef<ModelPayload | null>(null);

  const metrics = useMetricsStore();
  const model = useModelStore();
  const runs = useRunsStore();
  const notices = useNoticeStore();
  const nav = useNavStore();
  /** The model on screen is this run's, snapshot by snapshot. */
  const following = computed(() => runId.value !== null && model.following === runId.value);

  /** "Follow this run": its latest snapshot goes on screen now and each new one as it comes. */
  function follow(on: boolean): void {
    const id = runId.value;
    if (!id) return;
    if (!on) {
      if (model.following === id) model.following = null;
      return;
    }
    if (live.value) model.set(live.value, { kind: 'run', runId: id, which: 'latest' }, id);
    else model.following = id;
  }

  const start = (): Promise<void> => begin(false);
  /** A new run with the dataset's saved label corrections (the Data lab's). */
  const startWithOverlay = (): Promise<void> => begin(true);

  async function begin(withOverlay: boolean): Promise<void> {
    const settings = useSettingsStore();
    if (busy.value || !settings.valid || !settings.preset) return;
    state.value = 'starting';
    outcome.value = null;
    progress.value = null;
    spec.value = settings.preset.spec;
    preset.value = settings.preset.name;
    live.value = null;
    runId.value = null; // the last run is no longer the one these controls act on
    metrics.reset(null);
    try {
      const r = withOverlay
        ? await studio.startRunWithOverlay(settings.presetName, settings.settings())
        : await studio.startRun(settings.presetName, settings.settings());
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
      live.value = null;
      runId.value = null;
      adopt(id);
      await studio.continueRun(id);
    } catch (e) {
      state.value = 'idle';
      notices.error(e);
    }
    void runs.refresh();
  }

  /** Puts a run the backend started (a sweep's) under these controls: its curves, its snapshots. */
  async function show(id: string): Promise<void> {
    state.value = 'running';
    outcome.value = null;
    progress.value = null;
    live.value = null;
    runId.value = null;
    adopt(id);
    try {
      const detail = await studio.getRun(id);
      if (runId.value !== id) return;
      spec.value = detail.spec;
      preset.value = detail.preset;
    } catch {
      // Its spec comes with the next look at the run; the curves need none.
    }
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
        live.value = {
          spec: spec.value,
          params: e.params,
          buffers: e.buffers,
          source: { kind: 'run', runId: e.runId, epoch: e.epoch },
          ...(preset.value ? { preset: preset.value } : {}),
        };
        if (model.following === e.runId) model.set(live.value, { kind: 'run', runId: e.runId, which: 'latest' }, e.runId);
        return;
      case 'run-status':
        void runs.refresh();
        // A sweep's next run, while these controls are free: shown here.
        if (e.status === 'running' && !busy.value && e.runId !== runId.value && useSweepsStore().isSweepRun(e.runId)) void show(e.runId);
        if (!mine(e.runId)) return;
        state.value = e.status;
        if (!isActive(e.status)) {
          outcome.value = e.reason === undefined ? { status: e.status } : { status: e.status, reason: e.reason };
          // The Train view says so beside its controls; elsewhere a notice does.
          if ((e.status === 'failed' || e.status === 'diverged') && nav.view !== 'train') {
            notices.push('error', `Run ${e.runId} ${e.status}: ${e.reason ?? 'no reason given'}`);
          }
        }
        return;
      default:
        return;
    }
  }

  return { state, runId, progress, outcome, busy, live, following, follow, start, startWithOverlay, pause, resume, cancel, continueRun, onEvent };
});
