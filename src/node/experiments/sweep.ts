// Sweeps from the command line: trains a sweep's queue (node/runs/sweep-file.ts) one run after
// another into run folders under the sweep folder, rewriting sweep.json (atomically) whenever a
// run starts or ends, so a sweep stopped at any point — Ctrl-C, a crash, a shutdown — continues
// with `sweep --resume DIR`: finished runs stay finished, the run that was training continues from
// its last epoch's checkpoint, the rest follow in order.

import { join } from 'node:path';
import { sweepRunOutcome, type SweepFile } from '../../common/sweep';
import { describeDataset } from '../datasets';
import { readRunConfig } from '../runs/folder';
import { hasCheckpoint } from '../runs/checkpoint';
import { planRun, runName, writeSweep } from '../runs/sweep-file';
import { trainRun, type RunResult, type StudyHooks, type StudyOptions } from './seed-study';

/**
 * Trains every run of the sweep in `dir` that has not finished, in order, rewriting sweep.json as
 * each starts and ends. A run marked running (the sweep was stopped during it) continues from its
 * checkpoint when it has one, and starts again under a new folder name when it has none. When
 * `signal` aborts, the current run stops with its checkpoint saved and stays marked running, and
 * the sweep returns: `stopped` says so.
 */
export async function runSweep(
  dir: string,
  sweep: SweepFile,
  o: Pick<StudyOptions, 'data' | 'kernels' | 'threads'>,
  hooks: StudyHooks = {},
  signal?: AbortSignal,
): Promise<{ sweep: SweepFile; stopped: boolean }> {
  const all = sweep.configs.flatMap((c) => c.runs.map((r) => ({ c, r })));
  const total = all.length;
  for (const [i, { c, r }] of all.entries()) {
    if (r.status !== 'pending' && r.status !== 'running') continue;
    if (signal?.aborted) return { sweep, stopped: true };
    let resume = false;
    if (r.status === 'running') {
      resume = await hasCheckpoint(join(dir, r.runId));
      if (!resume) r.runId = runName(sweep.configs.indexOf(c), sweep.configs.length, r.seed);
    }
    r.status = 'running';
    await writeSweep(dir, sweep);
    const run = resume ? await readRunConfig(join(dir, r.runId)) : planRun(c, r, describeDataset(o.data, sweep.dataPath));
    const result: RunResult = await trainRun(run, i, total, { ...o, out: dir, augment: c.settings.augment ?? null }, hooks, resume, signal);
    if (signal?.aborted) return { sweep, stopped: true }; // the run stays "running", its checkpoint saved
    r.status = result.status;
    Object.assign(r, sweepRunOutcome(result.history));
    if (result.reason) r.reason = result.reason;
    await writeSweep(dir, sweep);
  }
  return { sweep, stopped: false };
}
