// The Sweeps tab: the app's sweeps as the backend reports them (listSweeps, then `sweep-changed`
// events), the one on screen, and the plan being written: which settings vary over which values
// (typed as the CLI takes them), grid or random, and seeds per configuration. The settings not
// swept are the Train form's.

import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';
import type { SweepInfo } from '@common/api';
import { APP_SWEEP_LIMITS, SWEEP_AXES, SweepError, parseAxis, planConfigs, type SweepAxisName } from '@common/sweep';
import { studio } from '../api/studio';
import { useNoticeStore } from './notices';
import { useSettingsStore } from './settings';

export interface AxisRow {
  name: SweepAxisName;
  /** "0.01,0.05" or, for random search, "0.001..0.1". */
  values: string;
}

export const useSweepsStore = defineStore('sweeps', () => {
  const notices = useNoticeStore();
  const settings = useSettingsStore();
  const list = ref<SweepInfo[]>([]);
  const selectedId = ref<string | null>(null);
  const loaded = ref(false);
  const busy = ref(false);
  const plan = reactive({
    rows: [
      { name: 'lr', values: '0.02,0.05' },
      { name: 'momentum', values: '0.9,0.95' },
    ] as AxisRow[],
    mode: 'grid' as 'grid' | 'random',
    random: 8,
    seeds: 2,
  });

  const selected = computed(() => list.value.find((s) => s.id === selectedId.value) ?? list.value[0] ?? null);
  const running = computed(() => list.value.find((s) => s.state === 'running') ?? null);

  /** The plan's size ("4 configurations × 2 seeds"), or what is wrong with it, checked as the backend will. */
  const check = computed((): { configs: number; runs: number; error: null } | { error: string } => {
    try {
      if (plan.rows.length === 0) return { error: 'Add a setting to sweep.' };
      const axes = plan.rows.map((r) => parseAxis(`${r.name}=${r.values.replace(/\s+/g, '')}`));
      if (!Number.isInteger(plan.seeds) || plan.seeds < 1 || plan.seeds > APP_SWEEP_LIMITS.seeds)
        return { error: `Seeds: a whole number from 1 to ${APP_SWEEP_LIMITS.seeds}.` };
      if (plan.mode === 'random' && (!Number.isInteger(plan.random) || plan.random < 1 || plan.random > APP_SWEEP_LIMITS.configs))
        return { error: `Configurations: a whole number from 1 to ${APP_SWEEP_LIMITS.configs}.` };
      const configs = planConfigs(axes, plan.mode === 'random' ? plan.random : null, 1).length;
      if (configs > APP_SWEEP_LIMITS.configs) return { error: `${configs} configurations: the app trains at most ${APP_SWEEP_LIMITS.configs}.` };
      return { configs, runs: configs * plan.seeds, error: null };
    } catch (e) {
      if (e instanceof SweepError) return { error: e.message };
      throw e;
    }
  });

  function unusedAxis(): SweepAxisName | null {
    return SWEEP_AXES.find((n) => !plan.rows.some((r) => r.name === n)) ?? null;
  }

  function addRow(): void {
    const name = unusedAxis();
    if (name) plan.rows.push({ name, values: '' });
  }

  function removeRow(i: number): void {
    plan.rows.splice(i, 1);
  }

  function put(info: SweepInfo): void {
    const i = list.value.findIndex((s) => s.id === info.id);
    list.value = i < 0 ? [info, ...list.value] : list.value.map((s) => (s.id === info.id ? info : s));
  }

  async function refresh(): Promise<void> {
    try {
      list.value = await studio.listSweeps();
    } catch (e) {
      notices.error(e);
    } finally {
      loaded.value = true;
    }
  }

  async function act(f: () => Promise<unknown>): Promise<void> {
    busy.value = true;
    try {
      await f();
    } catch (e) {
      notices.error(e);
    } finally {
      busy.value = false;
    }
  }

  async function start(): Promise<void> {
    if (check.value.error !== null || !settings.valid) return;
    await act(async () => {
      const info = await studio.startSweep({
        preset: settings.presetName,
        settings: settings.settings(),
        axes: plan.rows.map((r) => `${r.name}=${r.values.replace(/\s+/g, '')}`),
        seeds: plan.seeds,
        random: plan.mode === 'random' ? plan.random : null,
      });
      put(info);
      selectedId.value = info.id;
    });
  }

  const stop = (id: string): Promise<void> => act(() => studio.stopSweep(id));
  const resume = (id: string): Promise<void> => act(() => studio.resumeSweep(id));
  async function remove(id: string): Promise<void> {
    await act(async () => {
      await studio.deleteSweep(id);
      list.value = list.value.filter((s) => s.id !== id);
      if (selectedId.value === id) selectedId.value = null;
    });
  }

  /** Whether `runId` is the run of a sweep that is training (the Train view shows it under its controls). */
  function isSweepRun(runId: string): boolean {
    return running.value?.sweep.configs.some((c) => c.runs.some((r) => r.runId === runId)) ?? false;
  }

  function onEvent(e: { type: 'sweep-changed'; sweep: SweepInfo }): void {
    put(e.sweep);
  }

  return {
    list,
    selectedId,
    selected,
    running,
    loaded,
    busy,
    plan,
    check,
    addRow,
    removeRow,
    unusedAxis,
    refresh,
    start,
    stop,
    resume,
    remove,
    isSweepRun,
    onEvent,
  };
});
