// A sweep's queue file on disk (sweep.json, schema in common/sweep.ts): a new sweep's plan with
// every run folder named, reading and writing it (atomically), and the run folder configuration
// of one of its runs. The CLI's sweeps and the app's both keep their queue this way.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRESETS } from '../../engine/presets';
import { check } from '../../common/schema';
import type { TrainSettings } from '../../common/settings';
import {
  SWEEP_FILE,
  SweepError,
  applyConfig,
  planConfigs,
  sweepFileSchema,
  type SweepAxis,
  type SweepConfig,
  type SweepFile,
  type SweepRun,
} from '../../common/sweep';
import type { DatasetInfo } from '../../common/records';
import { writeFileAtomic } from '../files';
import { buildRunConfig } from './config';
import { newRunId } from './folder';
import type { RunConfig } from './layout';

/** A new run folder name for seed `seed` of configuration `c` (0-based) of `count`: …-sweep-c03-s2-…. */
export function runName(c: number, count: number, seed: number, now?: Date): string {
  return newRunId(`sweep-c${String(c + 1).padStart(String(count).length, '0')}-s${seed}`, now);
}

/** A new sweep's queue: every configuration × seed pending, each with its run folder's name. */
export function newSweep(o: {
  axes: SweepAxis[];
  random: number | null;
  seeds: number[];
  threads: number;
  dataPath: string | null;
  basePreset: string;
  baseFor: (preset: string) => TrainSettings;
  now?: Date;
}): SweepFile {
  const configs = planConfigs(o.axes, o.random, o.seeds[0]);
  if (configs.length === 0) throw new SweepError('the sweep has no configurations');
  return {
    kind: 'lenet-studio-sweep',
    version: 1,
    created: (o.now ?? new Date()).toISOString(),
    mode: o.random === null ? 'grid' : 'random',
    axes: o.axes,
    seeds: o.seeds,
    threads: o.threads,
    dataPath: o.dataPath,
    configs: configs.map((values, c) => {
      const { preset, settings } = applyConfig(values, o.basePreset, o.baseFor);
      const { seed: _seed, ...shared } = settings;
      return {
        values,
        preset,
        settings: shared,
        runs: o.seeds.map((seed) => ({
          seed,
          runId: runName(c, configs.length, seed, o.now),
          status: 'pending',
          finalTestError: null,
          testErrorAtBest: null,
          epochsTo99: null,
        })),
      };
    }),
  };
}

export async function writeSweep(dir: string, s: SweepFile): Promise<void> {
  await writeFileAtomic(join(dir, SWEEP_FILE), `${JSON.stringify(s, null, 1)}\n`);
}

export async function readSweep(dir: string): Promise<SweepFile> {
  const path = join(dir, SWEEP_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new SweepError(`${dir} is not a sweep folder (no ${SWEEP_FILE})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SweepError(`${path} is not valid JSON (${(e as Error).message})`);
  }
  try {
    return check(sweepFileSchema, raw, path);
  } catch (e) {
    throw new SweepError((e as Error).message);
  }
}

/** The run folder's configuration of one seed of a configuration. */
export function planRun(c: SweepConfig, r: SweepRun, dataset: DatasetInfo): RunConfig {
  const p = PRESETS[c.preset];
  if (!p) throw new SweepError(`the sweep names preset "${c.preset}", which this version does not have`);
  return buildRunConfig({
    id: r.runId,
    preset: { name: p.name, spec: p.spec },
    settings: { ...c.settings, seed: r.seed },
    dataset,
  });
}
