// A new run's RunConfig from what the user asked for (the app's Start, the CLI's flags): the
// settings as given, the split sizes, the dataset and where it starts from. The settings were
// checked at the boundary they crossed (IPC, CLI flags); the engine checks them once more when
// the Trainer is built.

import type { ModelSpec } from '../../engine/spec';
import type { DatasetInfo } from '../../common/records';
import { splitOf, type TrainSettings } from '../../common/settings';
import { RUN_FORMAT, RunFolderError, type RunConfig } from './layout';

export interface NewRun {
  id: string;
  preset: { name: string; spec: ModelSpec };
  settings: TrainSettings;
  dataset: DatasetInfo;
  init?: string | null;
  createdAt?: Date;
  threads?: number;
}

/** Throws RunFolderError RUN_MISMATCH when the split is impossible for this dataset. */
export function buildRunConfig(r: NewRun): RunConfig {
  const split = splitOf(r.settings, r.dataset.trainCount);
  if (typeof split === 'string') throw new RunFolderError('RUN_MISMATCH', split);
  return {
    format: RUN_FORMAT,
    id: r.id,
    preset: r.preset.name,
    spec: r.preset.spec,
    settings: r.settings,
    ...split,
    dataset: r.dataset,
    createdAt: (r.createdAt ?? new Date()).toISOString(),
    init: r.init ?? null,
    ...(r.threads !== undefined ? { threads: r.threads } : {}),
  };
}
