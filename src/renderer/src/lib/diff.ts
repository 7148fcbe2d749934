// The configuration of a run as label → text, and the rows that differ between runs: what the
// Compare view's table shows (only the differences, so the reason two curves differ stands out).

import { formatAdversarial } from '@engine/adversarial';
import type { ModelSpec } from '@engine/spec';
import type { RunDetail } from '@common/records';

export interface DiffRow {
  key: string;
  label: string;
  /** One value per run, in the runs' order. */
  values: string[];
}

function schedule(s: RunDetail['settings']['schedule']): string {
  return s.type === 'step' ? `step ×${s.gamma} every ${s.every}` : s.type;
}

/** A compact, comparable description of the layers: "conv 6@5×5 p2 · bn · relu · max 2 · …". */
export function architecture(spec: ModelSpec): string {
  return spec.layers
    .map((l) => {
      switch (l.type) {
        case 'conv2d':
          return `conv ${l.filters}@${l.kernel}×${l.kernel}${l.padding ? ` p${l.padding}` : ''}${l.table ? ' (table)' : ''}`;
        case 'pool2d':
          return `${l.mode} ${l.size}`;
        case 'dense':
          return `fc ${l.units}`;
        case 'batchnorm':
          return 'bn';
        case 'activation':
          return l.fn;
        case 'flatten':
          return 'flatten';
      }
    })
    .join(' · ');
}

export function configOf(r: RunDetail): [key: string, label: string, value: string][] {
  const s = r.settings;
  return [
    ['preset', 'Preset', r.preset],
    ['architecture', 'Layers', architecture(r.spec)],
    ['loss', 'Loss', r.spec.loss],
    ['init', 'Init', r.spec.init ?? 'default'],
    ['epochs', 'Epochs', String(s.epochs)],
    ['batchSize', 'Batch size', String(s.batchSize)],
    ['lr', 'Learning rate', String(s.lr)],
    ['momentum', 'Momentum', String(s.momentum)],
    ['decay', 'L2 decay', String(s.decay)],
    ['schedule', 'Schedule', schedule(s.schedule)],
    ['seed', 'Seed', s.seed === undefined ? 'default' : String(s.seed)],
    ['shuffle', 'Shuffle', s.shuffle === false ? 'no' : 'yes'],
    ['adversarial', 'Adversarial training', formatAdversarial(s.adversarial)],
    ['trainCount', 'Training images', r.trainCount.toLocaleString('en-US')],
    ['validationCount', 'Validation images', r.validationCount.toLocaleString('en-US')],
    ['dataset', 'Dataset', `${r.dataset.name} (${r.dataset.fingerprint.slice(0, 8)})`],
    // The Data lab's overlay the run trained with: what its corrections changed.
    [
      'corrections',
      'Label corrections',
      r.dataset.overlay
        ? `${r.dataset.overlay.relabelled.toLocaleString('en-US')} relabelled, ${r.dataset.overlay.excluded.toLocaleString('en-US')} excluded`
        : 'none',
    ],
  ];
}

/** Rows whose value is not the same for every run. */
export function diffConfigs(runs: RunDetail[]): DiffRow[] {
  if (runs.length < 2) return [];
  const configs = runs.map(configOf);
  const rows: DiffRow[] = [];
  configs[0].forEach(([key, label], i) => {
    const values = configs.map((c) => c[i][2]);
    if (values.some((v) => v !== values[0])) rows.push({ key, label, values });
  });
  return rows;
}
