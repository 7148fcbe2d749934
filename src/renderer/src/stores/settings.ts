// The run the user is about to start: a preset and its hyper-parameters, edited in a form and
// checked with the one table of limits (src/common/settings.ts) that IPC, the CLI and the engine
// use, so a bad value is explained before it is sent rather than refused after.

import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';
import type { PresetInfo } from '@common/api';
import { DEFAULT_PRESET } from '@engine/presets';
import { isIdentityAugment, type AugmentConfig } from '@engine/augment';
import { settingsProblems, type TrainSettings } from '@common/settings';
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
  /** Adversarial training: none, or FGSM/PGD at adversarialEps (PGD: adversarialSteps). */
  adversarial: 'none' | 'fgsm' | 'pgd';
  adversarialEps: number;
  adversarialSteps: number;
  /** Random distortions of each training image: the largest shift, rotation and size change (all 0: none). */
  shift: number;
  rotateDeg: number;
  scale: number;
  elastic: number;
}

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
    adversarial: 'none',
    adversarialEps: 0.1,
    adversarialSteps: 7,
    shift: d.augment?.shift ?? 0,
    rotateDeg: d.augment?.rotateDeg ?? 0,
    scale: d.augment?.scale ?? 0,
    elastic: d.augment?.elastic ?? 0,
  };
}

/** Field → message for every value the backend would refuse: the one schema's limits, in words. */
export function validateForm(f: SettingsForm, trainCount: number | null): Partial<Record<keyof SettingsForm, string>> {
  return settingsProblems(toSettings(f), trainCount);
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
  const augment: AugmentConfig = { shift: f.shift, rotateDeg: f.rotateDeg, scale: f.scale };
  if (f.elastic !== 0) augment.elastic = f.elastic;
  if (!isIdentityAugment(augment)) s.augment = augment;
  if (f.adversarial === 'fgsm') s.adversarial = { attack: 'fgsm', eps: f.adversarialEps };
  else if (f.adversarial === 'pgd') s.adversarial = { attack: 'pgd', eps: f.adversarialEps, steps: f.adversarialSteps };
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
    adversarial: 'none',
    adversarialEps: 0.1,
    adversarialSteps: 7,
    shift: 0,
    rotateDeg: 0,
    scale: 0,
    elastic: 0,
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
