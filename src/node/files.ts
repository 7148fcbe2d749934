// File I/O shared by main, the trainer and the CLI: crash-safe writes and dataset reads
// (plain or gzip) with size caps, turning OS errors into errors that name the file.

import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { DatasetError } from '../engine/errors';

// ---------------------------------------------------------------- atomic writes

/** The handful of file operations an atomic write needs; injectable so tests can make them fail. */
export interface FsHandle {
  /** Writes all of `data` at the current position. */
  write(data: Uint8Array): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FsLayer {
  /** `flags` is 'wx' for the temp file (must not exist yet) or 'r' for the directory fsync. */
  open(path: string, flags: 'wx' | 'r'): Promise<FsHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Creates one folder (not its parents); node's fs.mkdir when absent. */
  mkdir?(path: string): Promise<void>;
}

export const nodeFs: FsLayer = {
  async open(path, flags) {
    const fh = await fsp.open(path, flags);
    return {
      write: async (data) => {
        await fh.writeFile(data);
      },
      sync: () => fh.sync(),
      close: () => fh.close(),
    };
  },
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  mkdir: async (path) => {
    await fsp.mkdir(path);
  },
};

export class FileWriteError extends Error {
  override readonly name = 'FileWriteError';
  constructor(
    /** errno code of the cause (`ENOSPC`, `EACCES`, ...), or `EUNKNOWN`. */
    readonly code: string,
    /** The target path, not the temp file. */
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface WriteFileAtomicOptions {
  /** Test hook: runs after the temp file is written and synced, before the rename. */
  beforeRename?: () => Promise<void>;
}

function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * An OS error's message without the path node appends (`ENOENT: no such file or directory, open
 * '/x/.m.lenet.1.ab.tmp'` → `ENOENT: no such file or directory`): callers name the file the user
 * gave, never the temp file behind it.
 */
export function osReason(err: unknown): string {
  return errMessage(err).replace(/, \w+ '[^']*'(?: -> '[^']*')?$/, '');
}

/**
 * Writes `data` to `path` so that a crash or a full disk leaves either the old file or the new
 * one, never half of either: temp file in the same folder (same filesystem, so the rename is
 * atomic), fsync, rename over the target, then fsync the folder so the rename itself is durable.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, fsl: FsLayer = nodeFs, options: WriteFileAtomicOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let handle: FsHandle | undefined;
  let created = false;
  try {
    handle = await fsl.open(tmp, 'wx');
    created = true;
    await handle.write(bytes);
    await handle.sync();
    const h = handle;
    handle = undefined;
    await h.close();
    if (options.beforeRename) await options.beforeRename();
    await crashTestPause(path);
    await fsl.rename(tmp, path);
    created = false;
  } catch (err) {
    if (handle) await handle.close().catch(() => undefined);
    if (created) await fsl.unlink(tmp).catch(() => undefined);
    throw new FileWriteError(errnoCode(err) ?? 'EUNKNOWN', path, `could not write ${path}: ${osReason(err)}`, { cause: err });
  }
  // The new content is in place; a folder fsync only hardens the rename against power loss and
  // is unsupported on some platforms (Windows: EPERM/EISDIR), so its failure is not an error.
  try {
    const d = await fsl.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // see above
  }
}

/**
 * Crash-test hook, off unless LENET_TEST_PAUSE_BEFORE_RENAME is set to `NAME#N`: the N-th atomic
 * write of a file called NAME announces itself on stderr (`pause-before-rename PATH`) and then
 * waits, its temp file complete and the target untouched, so a test can kill the process mid-save.
 */
const pauseCounts = new Map<string, number>();
async function crashTestPause(path: string): Promise<void> {
  const spec = process.env.LENET_TEST_PAUSE_BEFORE_RENAME;
  if (!spec) return;
  const [name, nth] = spec.split('#');
  if (basename(path) !== name) return;
  const count = (pauseCounts.get(name) ?? 0) + 1;
  pauseCounts.set(name, count);
  if (count !== Number(nth ?? 1)) return;
  process.stderr.write(`pause-before-rename ${path}\n`);
  await new Promise((resolve) => setTimeout(resolve, 60_000));
}

/** Temp files an atomic write leaves behind when its process is killed mid-save (`.NAME.PID.HEX.tmp`). */
export async function removeStaleTempFiles(dir: string): Promise<string[]> {
  const { readdir, unlink } = await import('node:fs/promises');
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    await unlink(join(dir, name)).then(
      () => removed.push(name),
      () => undefined,
    );
  }
  return removed;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------- output paths, checked before work

/** What a path is: absent, a folder, or something else (a file, a device). */
async function kindOf(path: string): Promise<'none' | 'dir' | 'other'> {
  try {
    return (await fsp.stat(path)).isDirectory() ? 'dir' : 'other';
  } catch (e) {
    const code = errnoCode(e);
    // ENOTDIR: a path under a regular file cannot exist either.
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'none';
    throw new FileWriteError(code ?? 'EUNKNOWN', path, `cannot use ${path}: ${osReason(e)}`, { cause: e });
  }
}

/** Creates and removes a probe file in `dir`: the one test of writability that holds for root, ACLs and read-only mounts alike. */
async function probeFolder(dir: string, target: string, what: string, fsl: FsLayer): Promise<void> {
  const probe = join(dir, `.write-probe.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let h: FsHandle;
  try {
    h = await fsl.open(probe, 'wx');
  } catch (e) {
    const where = dir === target ? `the folder does not take new files` : `the folder ${dir} does not take new files`;
    throw new FileWriteError(errnoCode(e) ?? 'EUNKNOWN', target, `cannot ${what} ${target}: ${where} (${osReason(e)})`, { cause: e });
  }
  await h.close().catch(() => undefined);
  await fsl.unlink(probe).catch(() => undefined);
}

/**
 * Checks, before any work, that `path` can be written as a file: its folder exists, is a folder
 * and takes new files, and `path` itself is not a folder. Errors name `path` as given.
 */
export async function checkOutputFile(path: string, fsl: FsLayer = nodeFs): Promise<void> {
  if ((await kindOf(path)) === 'dir') throw new FileWriteError('EISDIR', path, `cannot write ${path}: it is a folder`);
  const dir = dirname(path);
  const kind = await kindOf(dir);
  if (kind === 'none') throw new FileWriteError('ENOENT', path, `cannot write ${path}: the folder ${dir} does not exist`);
  if (kind === 'other') throw new FileWriteError('ENOTDIR', path, `cannot write ${path}: ${dir} is not a folder`);
  await probeFolder(dir, path, 'write', fsl);
}

/** The folders `mkdirs(path)` would create, outermost first (none when `path` exists). */
async function missingFolders(path: string): Promise<string[]> {
  const missing: string[] = [];
  let p = resolve(path);
  for (;;) {
    const kind = await kindOf(p);
    if (kind === 'dir') return missing;
    if (kind === 'other') throw new FileWriteError('ENOTDIR', path, `cannot create ${path}: ${p} is a file, not a folder`);
    missing.unshift(p);
    const up = dirname(p);
    if (up === p) return missing;
    p = up;
  }
}

/**
 * Checks, before any work, that `path` is a new or empty folder that can be written (or can be
 * created, with its parents): the rule for run folders and study folders. Creates nothing.
 */
export async function checkNewFolder(path: string, what: string, fsl: FsLayer = nodeFs): Promise<void> {
  const kind = await kindOf(path);
  if (kind === 'other') throw new FileWriteError('EEXIST', path, `${what} ${path} is a file; it must be a new or empty folder`);
  if (kind === 'dir') {
    const names = await fsp.readdir(path).catch((e: unknown) => {
      throw new FileWriteError(errnoCode(e) ?? 'EUNKNOWN', path, `cannot read ${what} ${path}: ${osReason(e)}`, { cause: e });
    });
    if (names.length)
      throw new FileWriteError(
        'ENOTEMPTY',
        path,
        `${what} ${path} is not empty (it holds ${names.length > 1 ? `${names.length} entries such as ` : ''}${names[0]}); it must be a new or empty folder`,
      );
    await probeFolder(path, path, `write into ${what}`, fsl);
    return;
  }
  const missing = await missingFolders(path);
  await probeFolder(dirname(missing[0]), path, `create ${what}`, fsl);
}

/**
 * mkdir -p that fails with the path instead of hanging: node's recursive mkdir spins forever on
 * some pseudo file systems (/proc). Returns the folders it created, outermost first, so a caller
 * that gives up can remove exactly those.
 */
export async function mkdirs(path: string, fsl: FsLayer = nodeFs): Promise<string[]> {
  const missing = await missingFolders(path);
  const made: string[] = [];
  for (const p of missing) {
    try {
      await (fsl.mkdir ?? ((d: string) => fsp.mkdir(d)))(p);
      made.push(p);
    } catch (e) {
      if (errnoCode(e) === 'EEXIST' && (await kindOf(p)) === 'dir') continue; // made by someone else meanwhile
      await removeFolders(made);
      throw new FileWriteError(errnoCode(e) ?? 'EUNKNOWN', path, `cannot create ${path}: ${osReason(e)}`, { cause: e });
    }
  }
  return made;
}

/** Removes folders mkdirs created (innermost first), if they are still empty. */
export async function removeFolders(made: string[]): Promise<void> {
  for (const p of [...made].reverse()) await fsp.rmdir(p).catch(() => undefined);
}

// ---------------------------------------------------------------- dataset reads

/** Real MNIST is 47 MB uncompressed; 256 MiB leaves room for larger IDX sets. */
export const DEFAULT_MAX_DATA_BYTES = 256 * 1024 * 1024;

const gunzipAsync = promisify(gunzip);

function showSize(n: number): string {
  const MiB = 1024 * 1024;
  return n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`;
}

/**
 * Reads a dataset file. Gzip (detected by its 1f 8b magic, not by the name) is inflated with
 * the output capped at `maxBytes`, so a small bomb cannot exhaust memory.
 */
export async function readDataFile(path: string, opts: { maxBytes?: number } = {}): Promise<Uint8Array> {
  const cap = opts.maxBytes ?? DEFAULT_MAX_DATA_BYTES;
  let raw: Uint8Array;
  try {
    const st = await fsp.stat(path);
    if (!st.isFile()) {
      throw new DatasetError('DATASET_UNREADABLE', `${path}: not a regular file`);
    }
    if (st.size > cap) {
      throw new DatasetError('IDX_TOO_LARGE', `${path}: the file is ${st.size} bytes, above the cap of ${showSize(cap)}`);
    }
    const buf = await fsp.readFile(path);
    // The file may have grown between stat and read.
    if (buf.length > cap) {
      throw new DatasetError('IDX_TOO_LARGE', `${path}: the file is ${buf.length} bytes, above the cap of ${showSize(cap)}`);
    }
    raw = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new DatasetError('DATASET_NOT_FOUND', `${path}: no such file`);
    }
    throw new DatasetError('DATASET_UNREADABLE', `${path}: could not read the file: ${errMessage(err)}`);
  }

  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    const out = await gunzipAsync(raw, { maxOutputLength: cap });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    if (errnoCode(err) === 'ERR_BUFFER_TOO_LARGE') {
      throw new DatasetError('GZIP_TOO_LARGE', `${path}: the gzip data inflates to more than the cap of ${showSize(cap)}`);
    }
    throw new DatasetError('GZIP_CORRUPT', `${path}: the gzip data is corrupt: ${errMessage(err)}`);
  }
}
