// The run the user is about to start: a preset and its hyper-parameters, edited in a form and
// validated with the same limits the backend enforces, so a bad value is explained before it is
// sent rather than refused after.

import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';
import type { PresetInfo, TrainSettings } from '../../../preload/api';
import { studio } from '../api/studio';
import { useDatasetStore } from './dataset';

export type ScheduleKind = 'constant' | 'cosine' | 'step';

export interface SettingsForm {
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  decay: number;
  schedule: ScheduleKind;
  stepEvery: number;
  stepGamma: number;
  seed: number;
  shuffle: boolean;
  /** null: all training images. */
  limit: number | null;
  /** null: the default hold-out (5,000, at most a twelfth). */
  validation: number | null;
}

export const DEFAULT_PRESET = 'lenet5-relu-ce-bn';

function formFrom(p: PresetInfo): SettingsForm {
  const d = p.defaults;
  return {
    epochs: d.epochs,
    batchSize: d.batchSize,
    lr: d.lr,
    momentum: d.momentum,
    decay: d.decay,
    schedule: d.schedule.type,
    stepEvery: d.schedule.type === 'step' ? d.schedule.every : 5,
    stepGamma: d.schedule.type === 'step' ? d.schedule.gamma : 0.5,
    seed: d.seed ?? 1,
    shuffle: d.shuffle ?? true,
    limit: null,
    validation: null,
  };
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Field → message for every value the backend would refuse. */
export function validateForm(f: SettingsForm, trainCount: number | null): Partial<Record<keyof SettingsForm, string>> {
  const e: Partial<Record<keyof SettingsForm, string>> = {};
  if (!isInt(f.epochs) || f.epochs < 1 || f.epochs > 10000) e.epochs = 'a whole number from 1 to 10,000';
  if (!isInt(f.batchSize) || f.batchSize < 1 || f.batchSize > 4096) e.batchSize = 'a whole number from 1 to 4,096';
  if (!isNum(f.lr) || f.lr <= 0 || f.lr > 1e6) e.lr = 'a number above 0';
  if (!isNum(f.momentum) || f.momentum < 0 || f.momentum > 0.999) e.momentum = 'from 0 to 0.999';
  if (!isNum(f.decay) || f.decay < 0 || f.decay > 0.999) e.decay = 'from 0 to 0.999';
  if (f.schedule === 'step') {
    if (!isInt(f.stepEvery) || f.stepEvery < 1) e.stepEvery = 'a whole number of epochs ≥ 1';
    if (!isNum(f.stepGamma) || f.stepGamma <= 0) e.stepGamma = 'a factor above 0';
  }
  if (!isInt(f.seed) || f.seed < 0 || f.seed > 0xffffffff) e.seed = 'a whole number from 0 to 4,294,967,295';
  const pool = f.limit ?? trainCount ?? Infinity;
  if (f.limit !== null && (!isInt(f.limit) || f.limit < 1)) e.limit = 'a whole number ≥ 1, or empty for all';
  else if (f.limit !== null && trainCount !== null && f.limit > trainCount) e.limit = `at most ${trainCount.toLocaleString('en-US')} (the training images)`;
  if (f.validation !== null && (!isInt(f.validation) || f.validation < 0)) e.validation = 'a whole number ≥ 0, or empty for the default';
  else if (f.validation !== null && f.validation >= pool) e.validation = `fewer than the ${pool.toLocaleString('en-US')} training images`;
  return e;
}

export function toSettings(f: SettingsForm): TrainSettings {
  const s: TrainSettings = {
    epochs: f.epochs,
    batchSize: f.batchSize,
    lr: f.lr,
    momentum: f.momentum,
    decay: f.decay,
    schedule: f.schedule === 'step' ? { type: 'step', every: f.stepEvery, gamma: f.stepGamma } : { type: f.schedule },
    seed: f.seed,
    shuffle: f.shuffle,
  };
  if (f.limit !== null) s.limit = f.limit;
  if (f.validation !== null) s.validation = f.validation;
  return s;
}

export const useSettingsStore = defineStore('settings', () => {
  const presets = ref<PresetInfo[]>([]);
  const presetName = ref('');
  const form = reactive<SettingsForm>({
    epochs: 1,
    batchSize: 32,
    lr: 0.01,
    momentum: 0,
    decay: 0,
    schedule: 'constant',
    stepEvery: 5,
    stepGamma: 0.5,
    seed: 1,
    shuffle: true,
    limit: null,
    validation: null,
  });
  const dataset = useDatasetStore();
  const errors = computed(() => validateForm(form, dataset.info?.trainCount ?? null));
  const valid = computed(() => presetName.value !== '' && Object.keys(errors.value).length === 0);
  const preset = computed(() => presets.value.find((p) => p.name === presetName.value) ?? null);

  function selectPreset(name: string): void {
    const p = presets.value.find((x) => x.name === name);
    if (!p) return;
    presetName.value = name;
    Object.assign(form, formFrom(p));
  }

  async function load(): Promise<void> {
    presets.value = await studio.presets();
    if (!presetName.value) selectPreset(presets.value.some((p) => p.name === DEFAULT_PRESET) ? DEFAULT_PRESET : (presets.value[0]?.name ?? ''));
  }

  return { presets, presetName, preset, form, errors, valid, selectPreset, load, settings: () => toSettings(form) };
});
