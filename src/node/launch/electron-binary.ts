// What `npm start` does before electron-vite: make sure Electron's binary is on disk. Electron 45
// downloads it on first use (its install.js, also the `install-electron` bin), and electron-vite 6
// reads only node_modules/electron/path.txt (or ELECTRON_EXEC_PATH) and otherwise throws
// "Electron uninstall". So: if the binary is there, go on; otherwise run Electron's own installer
// (it honours ELECTRON_MIRROR, ELECTRON_GET_USE_PROXY + HTTPS_PROXY, electron_config_cache…) with a
// time limit, and when it fails, say so in one line: what failed, why, and what to do.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Electron's installer and electron-vite's launcher declare this; the CLI and tests run on Node 20. */
export const DESKTOP_NODE = '22.12.0';

/** The installer's download must have started (a response from the server) by then. */
export const CONNECT_TIMEOUT_MS = 120_000;
/** And a download that has started must end by then (~100 MB). */
export const DOWNLOAD_TIMEOUT_MS = 20 * 60_000;

/** The line the fetch hook (scripts/electron-fetch-reason.mjs) writes to the installer's stderr. */
export const FETCH_MARK = '[lenet-fetch]';

/** The executable electron-vite will run, or null if Electron's download has not happened (yet). */
export function electronBinary(electronDir: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.ELECTRON_EXEC_PATH) return existsSync(env.ELECTRON_EXEC_PATH) ? env.ELECTRON_EXEC_PATH : null;
  const pathFile = join(electronDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const rel = readFileSync(pathFile, 'utf8').trim();
  if (!rel) return null;
  const dist = env.ELECTRON_OVERRIDE_DIST_PATH ?? join(electronDir, 'dist');
  const exe = join(dist, rel);
  if (!existsSync(exe)) return null;
  // A binary left from an older electron package (after an upgrade) is not this one: install.js replaces it.
  const versionFile = join(dist, 'version');
  if (existsSync(versionFile)) {
    const want = (JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')) as { version: string }).version;
    if (readFileSync(versionFile, 'utf8').trim().replace(/^v/, '') !== want) return null;
  }
  return exe;
}

/** True when `version` (e.g. "20.20.2" or "v22.12.0") is older than `min`. */
export function olderThan(version: string, min: string): boolean {
  const a = version.replace(/^v/, '').split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  }
  return false;
}

export interface InstallerResult {
  code: number | null;
  stderr: string;
  /** Set when the time limit ended the installer: which one. */
  timedOut?: 'connect' | 'download';
}

/**
 * Runs Electron's installer (`node <installer>`) with the fetch hook, capturing its stderr. The
 * connect limit applies until the hook reports a response; then the download limit.
 */
export function runInstaller(opts: {
  installer: string;
  hook: string;
  env?: NodeJS.ProcessEnv;
  connectMs?: number;
  downloadMs?: number;
}): Promise<InstallerResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(opts.hook).href, opts.installer], {
      env: { ...(opts.env ?? process.env), ELECTRON_GET_NO_PROGRESS: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let timedOut: InstallerResult['timedOut'];
    let timer = setTimeout(() => stop('connect'), opts.connectMs ?? CONNECT_TIMEOUT_MS);
    function stop(which: 'connect' | 'download'): void {
      timedOut = which;
      child.kill('SIGKILL');
    }
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr += s;
      if (!timedOut && stderr.includes(`${FETCH_MARK} response `)) {
        clearTimeout(timer);
        timer = setTimeout(() => stop('download'), opts.downloadMs ?? DOWNLOAD_TIMEOUT_MS);
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolvePromise({ code: null, stderr: `${stderr}${e.message}\n` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stderr, ...(timedOut ? { timedOut } : {}) });
    });
  });
}

/** Why the installer failed, in a few words: the fetch hook's report, else its first meaningful stderr line. */
export function failureReason(r: InstallerResult, limits = { connectMs: CONNECT_TIMEOUT_MS, downloadMs: DOWNLOAD_TIMEOUT_MS }): string {
  const span = (ms: number): string => (ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);
  if (r.timedOut === 'connect') return `no answer from the download server within ${span(limits.connectMs)}`;
  if (r.timedOut === 'download') return `the download did not finish within ${span(limits.downloadMs)}`;
  const lines = r.stderr.split(/\r?\n/).map((l) => l.trim());
  const failed = lines.find((l) => l.startsWith(`${FETCH_MARK} failed `));
  if (failed) return failed.slice(`${FETCH_MARK} failed `.length);
  const candidates = lines.filter(
    (l) => l !== '' && !l.startsWith(FETCH_MARK) && !l.startsWith('at ') && !/^(node:|file:|\/|[A-Za-z]:\\)\S*:\d+$/.test(l) && !/^\^+$/.test(l),
  );
  // Node prints an uncaught error after the source line that threw: prefer the error itself.
  const meaningful = candidates.find((l) => /^\w*Error\b.*:/.test(l)) ?? candidates[0];
  return meaningful ?? (r.code === null ? 'the installer could not be started' : `the installer exited with code ${r.code}`);
}

/** The one line `npm start` prints when the binary cannot be had. */
export function failureLine(version: string, reason: string): string {
  return (
    `LeNet Studio: Electron ${version}'s binary could not be downloaded (${reason}). ` +
    'Set ELECTRON_MIRROR to a reachable mirror (behind a proxy: ELECTRON_GET_USE_PROXY=1 and HTTPS_PROXY) and run `npx install-electron`, ' +
    'or train without the window: `npm run train`.'
  );
}

export interface EnsureOptions {
  electronDir: string;
  /** The fetch hook loaded into the installer with --import. */
  hook: string;
  /** Default: <electronDir>/install.js, Electron's own installer. */
  installer?: string;
  env?: NodeJS.ProcessEnv;
  nodeVersion?: string;
  connectMs?: number;
  downloadMs?: number;
  /** Where the warning and the failure line go (stderr). */
  warn(line: string): void;
  /** Where the "downloading…" note goes if the download takes a while (stdout). */
  note?(line: string): void;
  /** After how long the note is printed. */
  noteAfterMs?: number;
}

/**
 * The Electron executable, downloaded first if needed; null after printing the one failure line.
 * On a Node older than Electron's tools want it warns once and still goes on: a separate line when
 * the binary is there, a clause of the failure line when it is not.
 */
export async function ensureElectron(o: EnsureOptions): Promise<string | null> {
  const env = o.env ?? process.env;
  const nodeVersion = (o.nodeVersion ?? process.versions.node).replace(/^v/, '');
  const oldNode = olderThan(nodeVersion, DESKTOP_NODE);
  const ok = (exe: string): string => {
    if (oldNode) o.warn(`LeNet Studio: Node ${nodeVersion} is older than the ${DESKTOP_NODE} that Electron's tools want; trying anyway.`);
    return exe;
  };
  const have = electronBinary(o.electronDir, env);
  if (have) return ok(have);
  const version = (JSON.parse(readFileSync(join(o.electronDir, 'package.json'), 'utf8')) as { version: string }).version;
  const note = setTimeout(() => o.note?.(`Downloading Electron ${version} (first start only, about 100 MB)…`), o.noteAfterMs ?? 5_000);
  const connectMs = o.connectMs ?? CONNECT_TIMEOUT_MS;
  const downloadMs = o.downloadMs ?? DOWNLOAD_TIMEOUT_MS;
  const r = await runInstaller({ installer: o.installer ?? join(o.electronDir, 'install.js'), hook: o.hook, env, connectMs, downloadMs });
  clearTimeout(note);
  const exe = r.code === 0 ? electronBinary(o.electronDir, env) : null;
  if (exe) return ok(exe);
  let reason = r.code === 0 ? 'the installer finished but path.txt names no executable' : failureReason(r, { connectMs, downloadMs });
  if (oldNode) reason += `; on Node ${nodeVersion}, older than the ${DESKTOP_NODE} Electron's installer wants`;
  o.warn(failureLine(version, reason));
  return null;
}
