// Reading and writing run folders (layout.ts has what each file holds): creating a run, its
// status and progress files, and listing runs for the app.

import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../../engine/errors';
import {
  RUN_ID_PATTERN,
  bestEpoch,
  confusionSchema,
  epochMetricsSchema,
  isActive,
  type EpochMetrics,
  type RunDetail,
  type RunState,
  type RunSummary,
} from '../../common/records';
import { arr } from '../../common/schema';
import { nodeFs, writeFileAtomic, type FsLayer } from '../files';
import { RUN_FILES, RunFolderError, readJson, runStatusSchema, storedRunConfigSchema, type RunConfig, type RunStatusFile } from './layout';
import { LossCurve, curveSchema, type CurveState } from './loss-curve';

function writeJson(dir: string, name: string, value: unknown, fsl: FsLayer): Promise<void> {
  return writeFileAtomic(join(dir, name), `${JSON.stringify(value)}\n`, fsl);
}

/**
 * Creates the run folder with run.json and an initial status. The folder may exist if empty
 * (the CLI's --run-dir), never if it already holds a run. `config` comes from buildRunConfig over
 * settings checked where they entered (IPC, CLI flags); the trainer checks run.json when it reads it.
 */
export async function createRun(dir: string, config: RunConfig, fsl: FsLayer = nodeFs): Promise<void> {
  await mkdir(dir, { recursive: true });
  const existing = await readdir(dir);
  if (existing.includes(RUN_FILES.config)) throw new RunFolderError('RUN_EXISTS', `${dir} already holds a run (resume it instead)`);
  await writeJson(dir, RUN_FILES.config, config, fsl);
  await writeRunStatus(dir, { status: 'running' }, fsl);
  await writeJson(dir, RUN_FILES.metrics, [], fsl);
  await writeJson(dir, RUN_FILES.loss, new LossCurve().state, fsl);
}

export async function readRunConfig(dir: string): Promise<RunConfig> {
  const c = await readJson(dir, RUN_FILES.config, storedRunConfigSchema);
  if (!c) throw new RunFolderError('RUN_NOT_FOUND', `${dir} is not a run folder (no ${RUN_FILES.config})`);
  return c;
}

export async function readRunStatus(dir: string): Promise<RunStatusFile> {
  return (await readJson(dir, RUN_FILES.status, runStatusSchema)) ?? { status: 'failed', reason: `${RUN_FILES.status} is missing`, updatedAt: '' };
}

export async function writeRunStatus(dir: string, s: { status: RunState; reason?: string }, fsl: FsLayer = nodeFs): Promise<void> {
  const file: RunStatusFile = { status: s.status, updatedAt: new Date().toISOString() };
  if (s.reason !== undefined) file.reason = s.reason;
  await writeJson(dir, RUN_FILES.status, file, fsl);
}

/** metrics.json, loss.json and confusion.json: the readers' view, rewritten after every epoch. */
export async function writeRunProgress(
  dir: string,
  p: { history: EpochMetrics[]; curve: CurveState; confusion: number[][] | null },
  fsl: FsLayer = nodeFs,
): Promise<void> {
  await writeJson(dir, RUN_FILES.metrics, p.history, fsl);
  await writeJson(dir, RUN_FILES.loss, p.curve, fsl);
  if (p.confusion) await writeJson(dir, RUN_FILES.confusion, p.confusion, fsl);
}

// ---------------------------------------------------------------- listing

/** A new run id: sortable by time, readable, safe as a folder name. */
export function newRunId(preset: string, now = new Date(), suffix = Math.floor(Math.random() * 0x10000)): string {
  const d = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15); // 20250101-120000
  const p = preset.replace(/[^A-Za-z0-9-]/g, '').slice(0, 40) || 'run';
  return `${d}-${p}-${suffix.toString(16).padStart(4, '0')}`;
}

export async function readRunSummary(dir: string): Promise<RunSummary> {
  const [config, status, history] = await Promise.all([
    readRunConfig(dir),
    readRunStatus(dir),
    readJson(dir, RUN_FILES.metrics, arr(epochMetricsSchema, { max: 10_000 })),
  ]);
  const h = history ?? [];
  const best = bestEpoch(h);
  const s: RunSummary = {
    id: config.id,
    preset: config.preset,
    settings: config.settings,
    status: status.status,
    createdAt: config.createdAt,
    epochsDone: h.length,
    bestEpoch: best?.epoch ?? null,
    finalTestAccuracy: h.length ? h[h.length - 1].testAccuracy : null,
    bestValidationAccuracy: best?.validationAccuracy ?? null,
  };
  if (status.reason !== undefined) s.reason = status.reason;
  return s;
}

export async function readRunDetail(dir: string): Promise<RunDetail> {
  const summary = await readRunSummary(dir);
  const [config, history, curve, confusion] = await Promise.all([
    readRunConfig(dir),
    readJson(dir, RUN_FILES.metrics, arr(epochMetricsSchema, { max: 10_000 })),
    readJson(dir, RUN_FILES.loss, curveSchema),
    readJson(dir, RUN_FILES.confusion, confusionSchema),
  ]);
  return {
    ...summary,
    spec: config.spec,
    epochs: history ?? [],
    lossCurve: curve?.points ?? [],
    confusion,
    dataset: config.dataset,
    trainCount: config.trainCount,
    validationCount: config.validation,
  };
}

/**
 * Every run under `runsDir`, newest first. A folder that cannot be read is listed as failed
 * with the reason rather than hidden (unless it isn't a run folder at all).
 */
export async function listRuns(runsDir: string): Promise<RunSummary[]> {
  let names: string[];
  try {
    names = await readdir(runsDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: RunSummary[] = [];
  for (const name of names) {
    if (!RUN_ID_PATTERN.test(name)) continue;
    const dir = join(runsDir, name);
    try {
      if (!(await stat(dir)).isDirectory()) continue;
      out.push(await readRunSummary(dir));
    } catch (e) {
      if (e instanceof RunFolderError && e.code === 'RUN_NOT_FOUND') continue;
      const msg = e instanceof RunFolderError || e instanceof EngineError ? e.message : String(e);
      out.push({
        id: name,
        preset: '?',
        settings: { epochs: 1, batchSize: 1, lr: 1, momentum: 0, decay: 0, schedule: { type: 'constant' } },
        status: 'failed',
        reason: `unreadable run folder: ${msg}`,
        createdAt: '',
        epochsDone: 0,
        bestEpoch: null,
        finalTestAccuracy: null,
        bestValidationAccuracy: null,
      });
    }
  }
  return out.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/**
 * Runs left "running" or "paused" by a process that is gone (the app or trainer was killed)
 * become "failed", so the list tells the truth and Continue is offered. `active` are ids a live
 * trainer still owns.
 */
export async function markInterruptedRuns(runsDir: string, active: ReadonlySet<string>, fsl: FsLayer = nodeFs): Promise<string[]> {
  const marked: string[] = [];
  for (const r of await listRuns(runsDir)) {
    if (isActive(r.status) && !active.has(r.id)) {
      await writeRunStatus(join(runsDir, r.id), { status: 'failed', reason: 'interrupted: the app or the trainer stopped during the run' }, fsl);
      marked.push(r.id);
    }
  }
  return marked;
}
