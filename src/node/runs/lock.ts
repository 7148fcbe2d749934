// run.lock: one writer per run folder. Whoever trains a run (the CLI's train and --resume, the
// app's trainer process, the seed study) holds the folder's lock for as long as it writes there.
// The lock is a small file created exclusively ('wx'), holding the holder's pid and host; a lock
// whose process is gone (killed, crashed, power cut) is stale and is taken over. Readers use the
// same test to tell a run whose writer died, still marked "running", from one that is live.
//
// The lock is advisory and local: a pid says nothing about another machine, so a lock written on
// another host counts as held. Node's fs calls are synchronous here: the file is tiny, and a
// release must also work from a synchronous dispose or exit path.

import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RUN_FILES, RunFolderError } from './layout';

export interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

/** Lock files this process holds, by path: its own pid on a lock it does not hold means a stale lock of an earlier life. */
const held = new Set<string>();

export class RunLock {
  private released = false;
  constructor(
    readonly dir: string,
    private readonly path: string,
  ) {}

  get active(): boolean {
    return !this.released;
  }

  /**
   * Lets go without removing the file, for a writer that could not record how the run ended: the
   * lock then reads as stale (to this process too), and the next reader marks the run interrupted.
   */
  abandon(): void {
    this.released = true;
    held.delete(this.path);
  }

  /** Removes the lock file (if it is still ours). Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this.path);
    const h = readHolder(this.path);
    if (h && h !== 'unreadable' && h.pid === process.pid && h.host === hostname()) {
      try {
        unlinkSync(this.path);
      } catch {
        // gone already, or the folder went read-only: a stale lock is taken over next time
      }
    }
  }
}

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/** The holder written in a lock file; null when there is none, 'unreadable' when it is not (yet) a lock. */
function readHolder(path: string): LockHolder | null | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return errnoCode(e) === 'ENOENT' ? null : 'unreadable';
  }
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && Number.isSafeInteger(v.pid) && v.pid > 0 && typeof v.host === 'string') {
      return { pid: v.pid, host: v.host, since: typeof v.since === 'string' ? v.since : '' };
    }
  } catch {
    // fall through
  }
  return 'unreadable';
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM'; // alive, someone else's
  }
}

/** Whether the lock's process still runs (and, for our own pid, whether this process really holds it). */
function holderAlive(h: LockHolder, path: string): boolean {
  if (h.host !== hostname()) return true; // cannot tell: assume held
  if (h.pid === process.pid) return held.has(path);
  return processAlive(h.pid);
}

/** A lock being written right now can be empty for a moment; older than this, an unreadable lock is debris. */
const UNREADABLE_GRACE_MS = 2000;

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Infinity;
  }
}

/**
 * The live process that holds `dir`'s lock, or null when nobody does (no lock, or a stale one).
 * `stale` is set when a lock file is there but its process is gone.
 */
export function lockState(dir: string): { holder: LockHolder | null; stale: LockHolder | 'unreadable' | null } {
  const path = join(dir, RUN_FILES.lock);
  const h = readHolder(path);
  if (h === null) return { holder: null, stale: null };
  if (h === 'unreadable') {
    return ageMs(path) < UNREADABLE_GRACE_MS ? { holder: { pid: 0, host: hostname(), since: '' }, stale: null } : { holder: null, stale: 'unreadable' };
  }
  return holderAlive(h, path) ? { holder: h, stale: null } : { holder: null, stale: h };
}

/**
 * Removes a stale lock, safely against a process that takes the folder over at the same moment:
 * the lock is moved aside first and put back if what was moved turns out to be a live lock.
 */
export function breakStaleLock(dir: string): boolean {
  const path = join(dir, RUN_FILES.lock);
  const aside = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return false; // someone else broke it, or the folder is read-only
  }
  const h = readHolder(aside);
  if (h !== null && h !== 'unreadable' && holderAlive(h, path)) {
    // A live lock, taken between our check and the move: put it back (link fails if another appeared).
    try {
      linkSync(aside, path);
    } catch {
      // keep going: the newer lock stands
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // nothing more to do
  }
  return true;
}

function describeHolder(h: LockHolder): string {
  return h.pid === 0 ? 'another process' : `process ${h.pid}${h.host !== hostname() ? ` on ${h.host}` : ''}`;
}

/**
 * Takes `dir`'s lock for this process, or throws RunFolderError RUN_LOCKED naming the holder's
 * pid. A stale lock (its process gone) is taken over. `dir` must exist.
 */
export function lockRun(dir: string): RunLock {
  const abs = resolve(dir);
  const path = join(abs, RUN_FILES.lock);
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      const code = errnoCode(e);
      if (code !== 'EEXIST') {
        const why = e instanceof Error ? e.message.replace(/, \w+ '[^']*'$/, '') : String(e);
        throw new RunFolderError('RUN_LOCKED', `cannot lock the run folder ${dir}: ${why}`);
      }
      const { holder } = lockState(abs);
      if (holder) {
        throw new RunFolderError(
          'RUN_LOCKED',
          `${dir} is in use by ${describeHolder(holder)} (a training or resume of this run is still going); wait for it to end or stop it first`,
        );
      }
      if (!breakStaleLock(abs) && lockState(abs).stale) {
        throw new RunFolderError(
          'RUN_LOCKED',
          `${dir}: its run.lock is stale (the process that held it is gone) but cannot be removed; is the folder read-only?`,
        );
      }
      continue;
    }
    try {
      const holder: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
      writeSync(fd, `${JSON.stringify(holder)}\n`);
      closeSync(fd);
    } catch (e) {
      // A full disk: leave no empty lock behind.
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      try {
        unlinkSync(path);
      } catch {
        // nothing more to do
      }
      throw new RunFolderError('RUN_LOCKED', `cannot lock the run folder ${dir}: ${e instanceof Error ? e.message : String(e)}`);
    }
    held.add(path);
    return new RunLock(abs, path);
  }
  throw new RunFolderError('RUN_LOCKED', `${dir}: could not take the run folder's lock (other processes keep taking it)`);
}
