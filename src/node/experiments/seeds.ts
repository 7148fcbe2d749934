// A seed group: one configuration trained with N seeds, one run after another, and what the
// seeds say together — mean, sample std and a 95 % interval of the final test error, of the test
// error at the best-validation epoch, and of the epochs to 99 % test accuracy.

import { PRESETS } from '../../engine/presets';
import { seedGroupKey } from '../../common/groups';
import type { TrainSettings } from '../../common/settings';
import { summarize, type Summary } from '../../common/stats';
import { describeDataset, type MnistData } from '../datasets';
import { buildRunConfig } from '../runs/config';
import { newRunId } from '../runs/folder';
import type { RunConfig } from '../runs/layout';
import type { RunResult } from './seed-study';

/** One RunConfig per seed (first, first + 1, …): the settings are the same apart from the seed, so the runs form one seed group. */
export function planSeeds(o: {
  preset: string;
  settings: TrainSettings;
  seeds: number;
  firstSeed: number;
  data: MnistData;
  dataPath: string | null;
}): RunConfig[] {
  const dataset = describeDataset(o.data, o.dataPath);
  const p = PRESETS[o.preset];
  const plans = Array.from({ length: o.seeds }, (_, i) =>
    buildRunConfig({
      id: newRunId(`${o.preset}-s${o.firstSeed + i}`),
      preset: { name: p.name, spec: p.spec },
      settings: { ...o.settings, seed: o.firstSeed + i },
      dataset,
    }),
  );
  const keys = new Set(
    plans.map((r) =>
      seedGroupKey({
        preset: r.preset,
        settings: r.settings,
        datasetFingerprint: r.dataset.fingerprint,
        split: { limit: r.limit, validation: r.validation },
        init: r.init,
      }),
    ),
  );
  if (keys.size !== 1) throw new Error('internal error: the planned seeds do not form one seed group');
  return plans;
}

export interface SeedRunRow {
  seed: number;
  runId: string;
  status: RunResult['status'];
  finalTestError: number | null;
  testErrorAtBest: number | null;
  epochsTo99: number | null;
}

export interface SeedGroupResult {
  preset: string;
  seeds: number[];
  /** The shared settings (without the seed). */
  settings: Omit<TrainSettings, 'seed'>;
  runs: SeedRunRow[];
  /** Over the runs that finished. */
  finalTestError: Summary;
  /** Test error of each run's best-validation epoch (runs without validation images leave it out). */
  bestValidationTestError: Summary;
  /** Over the runs that reached 99 % test accuracy; `reached99` says how many did. */
  epochsTo99: Summary;
  reached99: number;
}

export function summarizeSeeds(preset: string, results: RunResult[]): SeedGroupResult {
  const done = results.filter((r) => r.status === 'done');
  const vals = (f: (r: RunResult) => number | null, rs: RunResult[] = done): number[] => rs.map(f).filter((v): v is number => v !== null);
  const { seed: _seed, ...settings } = results[0]?.settings ?? ({} as TrainSettings);
  const reached = vals((r) => r.epochsTo99);
  return {
    preset,
    seeds: results.map((r) => r.settings.seed ?? 1),
    settings,
    runs: results.map((r) => ({
      seed: r.settings.seed ?? 1,
      runId: r.runId,
      status: r.status,
      finalTestError: r.finalTestError,
      testErrorAtBest: r.testErrorAtBest,
      epochsTo99: r.epochsTo99,
    })),
    finalTestError: summarize(vals((r) => r.finalTestError)),
    bestValidationTestError: summarize(vals((r) => (r.bestEpoch === null ? null : r.testErrorAtBest))),
    epochsTo99: summarize(reached),
    reached99: reached.length,
  };
}

const pc = (x: number): string => `${(100 * x).toFixed(2)} %`;

/** "0.81 % ± 0.05 (95 % CI 0.69–0.93 %), 3 seeds" — for an error rate; `unit` formats other values. */
export function formatSummary(s: Summary, unit: (x: number) => string = pc): string {
  if (s.n === 0) return '—';
  if (s.std === null || s.ci95 === null) return `${unit(s.mean)} (1 run)`;
  return `${unit(s.mean)} ± ${unit(s.std)} (95 % CI ${unit(s.ci95[0])} to ${unit(s.ci95[1])}), ${s.n} runs`;
}
