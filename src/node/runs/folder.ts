// Reading and writing run folders (layout.ts has what each file holds): creating a run, its
// status and progress files, and listing runs for the app.

import { readdir, rm, stat } from 'node:fs/promises';
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
import { seedGroupKey } from '../../common/groups';
import { arr } from '../../common/schema';
import { FileWriteError, checkNewFolder, mkdirs, nodeFs, removeFolders, writeFileAtomic, type FsLayer } from '../files';
import { breakStaleLock, lockRun, lockState, type RunLock } from './lock';
import { RUN_FILES, RunFolderError, readJson, runStatusSchema, storedRunConfigSchema, type RunConfig, type RunStatusFile } from './layout';
import { LossCurve, curveSchema, type CurveState } from './loss-curve';

function writeJson(dir: string, name: string, value: unknown, fsl: FsLayer): Promise<void> {
  return writeFileAtomic(join(dir, name), `${JSON.stringify(value)}\n`, fsl);
}

/**
 * Creates the run folder with run.json and an initial status, and returns it locked (lock.ts) for
 * the caller, who trains it and releases the lock. The folder may exist if empty (the CLI's
 * --run-dir), never if it holds anything, a run least of all. Two processes creating the same
 * folder at once: one wins, the other gets RUN_LOCKED or RUN_EXISTS. On failure nothing is left
 * behind (no files, no folders it made). `config` comes from buildRunConfig over settings checked
 * where they entered (IPC, CLI flags); the trainer checks run.json when it reads it.
 */
export async function openNewRun(dir: string, config: RunConfig, fsl: FsLayer = nodeFs): Promise<RunLock> {
  const made = await mkdirs(dir, fsl);
  let lock: RunLock;
  try {
    lock = lockRun(dir);
  } catch (e) {
    await removeFolders(made);
    throw e;
  }
  const written: string[] = [];
  try {
    const existing = (await readdir(dir)).filter((n) => n !== RUN_FILES.lock);
    if (existing.includes(RUN_FILES.config)) throw new RunFolderError('RUN_EXISTS', `${dir} already holds a run (resume it instead)`);
    if (existing.length) {
      throw new RunFolderError(
        'RUN_EXISTS',
        `${dir} is not empty (it holds ${existing.length > 1 ? `${existing.length} entries such as ` : ''}${existing[0]}); a run folder must be new or empty`,
      );
    }
    const write = async (name: string, value: unknown): Promise<void> => {
      written.push(name);
      await writeJson(dir, name, value, fsl);
    };
    await write(RUN_FILES.config, config);
    await write(RUN_FILES.status, { status: 'running', updatedAt: new Date().toISOString() } satisfies RunStatusFile);
    await write(RUN_FILES.metrics, []);
    await write(RUN_FILES.loss, new LossCurve().state);
    return lock;
  } catch (e) {
    for (const name of written) await rm(join(dir, name), { force: true }).catch(() => undefined);
    lock.release();
    await removeFolders(made);
    throw e;
  }
}

/**
 * What openNewRun will refuse, checked before any work and without creating anything (the CLI
 * checks --run-dir before it loads data and builds the model): a file, a folder that holds a run
 * or anything else, a place that cannot be written.
 */
export async function checkNewRunFolder(dir: string, fsl: FsLayer = nodeFs): Promise<void> {
  try {
    await checkNewFolder(dir, 'the run folder', fsl);
  } catch (e) {
    if (e instanceof FileWriteError && e.code === 'ENOTEMPTY' && (await readdir(dir).catch(() => [] as string[])).includes(RUN_FILES.config)) {
      throw new RunFolderError('RUN_EXISTS', `${dir} already holds a run (resume it instead)`);
    }
    throw e;
  }
}

/** openNewRun for a caller that does not train the run itself (the app: its trainer process takes the lock). */
export async function createRun(dir: string, config: RunConfig, fsl: FsLayer = nodeFs): Promise<void> {
  (await openNewRun(dir, config, fsl)).release();
}

export async function readRunConfig(dir: string): Promise<RunConfig> {
  const c = await readJson(dir, RUN_FILES.config, storedRunConfigSchema);
  if (!c) throw new RunFolderError('RUN_NOT_FOUND', `${dir} is not a run folder (no ${RUN_FILES.config})`);
  return c;
}

/**
 * status.json, told the truth: a run still "running" or "paused" whose lock (lock.ts) names a
 * process that is gone was interrupted (a kill, a crash, a full disk on its first save). Such a
 * status is rewritten as failed with that reason, and the stale lock removed, when the folder is
 * read; on read-only storage the corrected status is only returned.
 */
export async function readRunStatus(dir: string, fsl: FsLayer = nodeFs): Promise<RunStatusFile> {
  const s = (await readJson(dir, RUN_FILES.status, runStatusSchema)) ?? { status: 'failed', reason: `${RUN_FILES.status} is missing`, updatedAt: '' };
  if (!isActive(s.status)) return s;
  const { stale } = lockState(dir);
  if (!stale) return s;
  const who = stale === 'unreadable' ? 'the process that trained it' : `process ${stale.pid}`;
  const reason = `interrupted: ${who} stopped during the run (killed, crashed or out of disk space) while it was ${s.status}`;
  const fixed: RunStatusFile = { status: 'failed', reason, updatedAt: new Date().toISOString() };
  try {
    // Take the folder over for the rewrite, so a process resuming it right now is not overwritten.
    breakStaleLock(dir);
    const lock = lockRun(dir);
    try {
      const again = await readJson(dir, RUN_FILES.status, runStatusSchema);
      if (again && isActive(again.status)) await writeJson(dir, RUN_FILES.status, fixed, fsl);
      else if (again) return again;
    } finally {
      lock.release();
    }
  } catch {
    // read-only, or a live process took it over meanwhile: report what we found
  }
  return fixed;
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
  for (const k of ['name', 'notes', 'tags', 'hidden', 'archived'] as const)
    if (config[k] !== undefined) (s as unknown as Record<string, unknown>)[k] = config[k];
  s.group = seedGroupKey({
    preset: config.preset,
    settings: config.settings,
    datasetFingerprint: config.dataset.fingerprint,
    split: { limit: config.limit, validation: config.validation },
    init: config.init,
  });
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
  return out.sort((a, b) => compareDesc(idSecond(a.id), idSecond(b.id)) || compareDesc(a.createdAt, b.createdAt) || compareDesc(a.id, b.id));
}

/**
 * The second a run id names (ids start with it, see newRunId). Runs started in the same second
 * are then ordered by run.json's `createdAt` (milliseconds), not by the id's random suffix.
 */
function idSecond(id: string): string {
  return /^\d{8}-\d{6}/.exec(id)?.[0] ?? '';
}

function compareDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

/**
 * Runs left "running" or "paused" by a process that is gone (the app or trainer was killed)
 * become "failed", so the list tells the truth and Continue is offered. `active` are ids a live
 * trainer still owns; a run whose lock a live process holds (a CLI training into the folder) is
 * left alone.
 */
export async function markInterruptedRuns(runsDir: string, active: ReadonlySet<string>, fsl: FsLayer = nodeFs): Promise<string[]> {
  const marked: string[] = [];
  for (const r of await listRuns(runsDir)) {
    if (isActive(r.status) && !active.has(r.id) && !lockState(join(runsDir, r.id)).holder) {
      await writeRunStatus(join(runsDir, r.id), { status: 'failed', reason: 'interrupted: the app or the trainer stopped during the run' }, fsl);
      marked.push(r.id);
    }
  }
  return marked;
}
