// Runs the user manages: a run's name, notes and tags, hiding and archiving (all kept in run.json
// beside what was asked, which never changes), deleting a run's folder, and exporting every
// run's curves and per-epoch table as one CSV or JSON file.

import { lstat, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { normalizeTags, runNotesSchema, type EpochMetrics, type RunDetail, type RunNotes } from '../../common/records';
import { check, isPlainObject, ValidationError } from '../../common/schema';
import { nodeFs, writeFileAtomic, type FsLayer } from '../files';
import { listRuns, readRunDetail } from './folder';
import { lockState } from './lock';
import { RUN_FILES, RunFolderError, storedRunConfigSchema, type RunConfig } from './layout';

const NOTE_KEYS = ['name', 'notes', 'tags', 'hidden', 'archived'] as const;

/** One rewrite of a folder's run.json at a time in this process: two edits never lose one another. */
const queues = new Map<string, Promise<unknown>>();
function serialize<T>(dir: string, f: () => Promise<T>): Promise<T> {
  const prev = queues.get(dir) ?? Promise.resolve();
  const next = prev.then(f, f);
  const tail = next.catch(() => undefined);
  queues.set(dir, tail);
  void tail.then(() => {
    if (queues.get(dir) === tail) queues.delete(dir);
  });
  return next;
}

/**
 * Changes what the user says about a run: each key of `patch` replaces the stored one; an empty
 * name, notes or tag list and `false` remove the key, so run.json holds only what was said. The
 * rest of run.json is kept as it is, byte for byte in meaning (older keys included). Refuses a
 * patch outside the limits (RUN_NOTES_LIMITS) with RUN_INVALID naming the field.
 */
export async function updateRunNotes(dir: string, patch: RunNotes, fsl: FsLayer = nodeFs): Promise<RunConfig> {
  const clean: RunNotes = { ...patch };
  if (clean.name !== undefined) clean.name = clean.name.trim();
  if (clean.tags !== undefined) clean.tags = normalizeTags(clean.tags);
  try {
    check(runNotesSchema, clean, 'run notes');
  } catch (e) {
    if (e instanceof ValidationError) throw new RunFolderError('RUN_INVALID', e.message);
    throw e;
  }
  return serialize(dir, async () => {
    const file = join(dir, RUN_FILES.config);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new RunFolderError('RUN_NOT_FOUND', `${dir} is not a run folder (no ${RUN_FILES.config})`);
      throw new RunFolderError('RUN_INVALID', `${file}: ${(e as Error).message}`);
    }
    const check1 = (v: unknown): RunConfig => {
      try {
        return check(storedRunConfigSchema, v, file);
      } catch (e) {
        if (e instanceof ValidationError) throw new RunFolderError('RUN_INVALID', e.message);
        throw e;
      }
    };
    check1(raw); // a broken run.json is reported, never rewritten
    if (!isPlainObject(raw)) throw new RunFolderError('RUN_INVALID', `${file}: not an object`);
    const next: Record<string, unknown> = { ...raw };
    for (const k of NOTE_KEYS) {
      if (!(k in clean)) continue;
      const v = clean[k];
      const empty = v === undefined || v === false || v === '' || (Array.isArray(v) && v.length === 0);
      if (empty) delete next[k];
      else next[k] = v;
    }
    const parsed = check1(next);
    await writeFileAtomic(file, `${JSON.stringify(next)}\n`, fsl);
    return parsed;
  });
}

/**
 * Deletes run `id`'s folder under `runsDir`. Refused while a live process holds the run's lock
 * (lock.ts) or `busy` says the app is training it. The folder is first renamed to a hidden name
 * (one atomic step: the run leaves the list at once, and a crash mid-delete leaves no half run),
 * then removed; removing never follows a symbolic link — a run folder that is itself a link to
 * somewhere else loses only the link, and links inside the folder are removed, not followed.
 */
export async function deleteRunFolder(runsDir: string, id: string, busy: (id: string) => boolean): Promise<void> {
  const dir = join(runsDir, id);
  let st;
  try {
    st = await lstat(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new RunFolderError('RUN_NOT_FOUND', `run ${id} does not exist`);
    throw new RunFolderError('RUN_INVALID', `cannot read ${dir}: ${(e as Error).message}`);
  }
  if (busy(id)) throw new RunFolderError('RUN_LOCKED', `run ${id} is in progress; cancel it before deleting it`);
  if (st.isSymbolicLink()) {
    await unlink(dir);
    return;
  }
  if (!st.isDirectory()) throw new RunFolderError('RUN_INVALID', `${dir} is not a run folder`);
  const config = await lstat(join(dir, RUN_FILES.config)).catch(() => null);
  if (!config?.isFile()) throw new RunFolderError('RUN_NOT_FOUND', `${dir} is not a run folder (no ${RUN_FILES.config})`);
  const { holder } = lockState(dir);
  if (holder) throw new RunFolderError('RUN_LOCKED', `run ${id} is being trained by process ${holder.pid}; stop it before deleting the run`);
  const aside = join(runsDir, `.deleting-${id}-${randomBytes(4).toString('hex')}`);
  await rename(dir, aside);
  await rm(aside, { recursive: true, force: true });
}

// ---------------------------------------------------------------- export

export const EXPORT_FORMAT = 'lenet-studio-runs/1';

/** Every readable run under `runsDir`, newest first, with its epochs and batch-loss curve. */
export async function collectRuns(runsDir: string): Promise<RunDetail[]> {
  const out: RunDetail[] = [];
  for (const r of await listRuns(runsDir)) {
    const d = await readRunDetail(join(runsDir, r.id)).catch(() => null);
    if (d) out.push(d);
  }
  return out;
}

export function runsJson(runs: readonly RunDetail[]): string {
  const body = runs.map((r) => ({
    id: r.id,
    name: r.name ?? null,
    preset: r.preset,
    status: r.status,
    tags: r.tags ?? [],
    notes: r.notes ?? null,
    hidden: r.hidden ?? false,
    archived: r.archived ?? false,
    group: r.group ?? null,
    createdAt: r.createdAt,
    settings: r.settings,
    dataset: {
      name: r.dataset.name,
      fingerprint: r.dataset.fingerprint,
      trainCount: r.trainCount,
      validationCount: r.validationCount,
      testCount: r.dataset.testCount,
    },
    epochs: r.epochs,
    lossCurve: r.lossCurve,
  }));
  return `${JSON.stringify({ format: EXPORT_FORMAT, runs: body }, null, 1)}\n`;
}

export const CSV_COLUMNS = [
  'run',
  'name',
  'preset',
  'status',
  'tags',
  'seed',
  'series',
  'epoch',
  'lr',
  'train_loss',
  'train_accuracy',
  'validation_loss',
  'validation_accuracy',
  'test_loss',
  'test_accuracy',
  'seconds',
  'images_per_second',
  'images_seen',
  'batch_loss',
] as const;

/** A CSV field: quoted when it holds a comma, quote or line break; a leading = + - @ is defused for spreadsheets. */
function field(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * One table for every run: a row per epoch (series "epoch": the per-epoch table) and a row per
 * point of the batch-loss curve (series "batch-loss": images_seen, batch_loss). Columns that do
 * not apply to a row are empty.
 */
export function runsCsv(runs: readonly RunDetail[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of runs) {
    const head = [r.id, r.name ?? '', r.preset, r.status, (r.tags ?? []).join(' '), r.settings.seed ?? 1];
    const row = (values: Partial<Record<(typeof CSV_COLUMNS)[number], string | number | null | undefined>>): void => {
      lines.push(CSV_COLUMNS.map((c, i) => field(i < head.length ? head[i] : values[c])).join(','));
    };
    for (const m of r.epochs as EpochMetrics[]) {
      row({
        series: 'epoch',
        epoch: m.epoch,
        lr: m.lr,
        train_loss: m.trainLoss,
        train_accuracy: m.trainAccuracy,
        validation_loss: m.validationLoss,
        validation_accuracy: m.validationAccuracy,
        test_loss: m.testLoss,
        test_accuracy: m.testAccuracy,
        seconds: m.seconds,
        images_per_second: m.imagesPerSecond,
      });
    }
    for (const [seen, loss] of r.lossCurve) row({ series: 'batch-loss', images_seen: seen, batch_loss: loss });
  }
  return `${lines.join('\n')}\n`;
}
