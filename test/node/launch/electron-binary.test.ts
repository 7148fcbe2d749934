// `npm start`'s first step (src/node/launch/electron-binary.ts) with stand-in installers: the binary
// already there, a download that works, one that cannot connect (through the real fetch hook, to a
// closed local port), an installer that hangs before and after the server answers, and the Node
// version warning. Electron's real installer needs the internet; these run offline.

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP_NODE, electronBinary, ensureElectron, failureReason, olderThan, FETCH_MARK } from '../../../src/node/launch/electron-binary';

const HOOK = join(import.meta.dirname, '..', '..', '..', 'scripts', 'electron-fetch-reason.mjs');
let root: string;
/** A local port nothing listens on: connecting is refused at once, offline or not. */
let closedPort = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-electron-'));
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closedPort = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
/** A fake node_modules/electron with the given install.js body. */
async function electronDir(installJs: string): Promise<string> {
  const dir = join(root, `electron-${n++}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'electron', version: '45.5.0' }));
  await writeFile(join(dir, 'install.js'), installJs);
  return dir;
}

/** What Electron's install.js leaves behind when it succeeds. */
const INSTALLS = `
const fs = require('fs'), path = require('path');
fs.mkdirSync(path.join(__dirname, 'dist'), { recursive: true });
fs.writeFileSync(path.join(__dirname, 'dist', 'electron'), '#!/bin/sh\\n');
fs.writeFileSync(path.join(__dirname, 'path.txt'), 'electron');
`;
/** What it does when the download cannot connect: fetch fails, the stack goes to stderr, exit 1. */
const FAILS = () => `
fetch('http://127.0.0.1:${closedPort}/electron-v45.5.0-linux-x64.zip').then(() => process.exit(0), (err) => { console.error(err.stack); process.exit(1); });
`;

function run(dir: string, extra: Partial<Parameters<typeof ensureElectron>[0]> = {}) {
  const warned: string[] = [];
  const noted: string[] = [];
  const result = ensureElectron({
    electronDir: dir,
    hook: HOOK,
    env: {},
    nodeVersion: '22.12.0',
    warn: (l) => warned.push(l),
    note: (l) => noted.push(l),
    ...extra,
  });
  return { result, warned, noted };
}

describe('npm start: Electron binary', () => {
  it('finds the binary that path.txt names, honours ELECTRON_EXEC_PATH, and reports a missing one', async () => {
    const dir = await electronDir(INSTALLS);
    expect(electronBinary(dir, {})).toBeNull();
    await mkdir(join(dir, 'dist'));
    await writeFile(join(dir, 'path.txt'), 'electron');
    expect(electronBinary(dir, {})).toBeNull(); // path.txt without the executable: not installed
    await writeFile(join(dir, 'dist', 'electron'), '');
    expect(electronBinary(dir, {})).toBe(join(dir, 'dist', 'electron'));
    await writeFile(join(dir, 'dist', 'version'), 'v44.0.0'); // left over from an older electron package
    expect(electronBinary(dir, {})).toBeNull();
    await writeFile(join(dir, 'dist', 'version'), 'v45.5.0');
    expect(electronBinary(dir, {})).toBe(join(dir, 'dist', 'electron'));
    expect(electronBinary(dir, { ELECTRON_EXEC_PATH: join(dir, 'nope') })).toBeNull();
    expect(electronBinary(dir, { ELECTRON_EXEC_PATH: join(dir, 'install.js') })).toBe(join(dir, 'install.js'));
  });

  it('goes on without running the installer when the binary is there', async () => {
    const dir = await electronDir(`require('fs').writeFileSync(__dirname + '/ran', ''); process.exit(1);`);
    await mkdir(join(dir, 'dist'));
    await writeFile(join(dir, 'dist', 'electron'), '');
    await writeFile(join(dir, 'path.txt'), 'electron');
    const { result, warned } = run(dir);
    expect(await result).toBe(join(dir, 'dist', 'electron'));
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(warned).toEqual([]);
  });

  it("runs Electron's installer when the binary is missing, then goes on", async () => {
    const dir = await electronDir(INSTALLS);
    const { result, warned } = run(dir);
    expect(await result).toBe(join(dir, 'dist', 'electron'));
    expect(await readFile(join(dir, 'path.txt'), 'utf8')).toBe('electron');
    expect(warned).toEqual([]);
  });

  it('a download that cannot connect ends in one line: what failed, why, and what to do — no stack', async () => {
    const dir = await electronDir(FAILS());
    const { result, warned } = run(dir);
    expect(await result).toBeNull();
    expect(warned).toHaveLength(1);
    const line = warned[0];
    expect(line).not.toContain('\n');
    expect(
      line.startsWith(`LeNet Studio: Electron 45.5.0's binary could not be downloaded (http://127.0.0.1:${closedPort}/electron-v45.5.0-linux-x64.zip: `),
    ).toBe(true);
    expect(line).toMatch(/ECONNREFUSED/);
    expect(line).toContain('ELECTRON_MIRROR');
    expect(line).toContain('npx install-electron');
    expect(line).toContain('npm run train');
    expect(line).not.toMatch(/\bat |TypeError|Electron uninstall/);
  });

  it('an installer that hangs is stopped by the connect limit', async () => {
    const dir = await electronDir('setInterval(() => {}, 1000);');
    const t0 = Date.now();
    const { result, warned } = run(dir, { connectMs: 1000 });
    expect(await result).toBeNull();
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(warned).toEqual([expect.stringContaining('(no answer from the download server within 1 s)')]);
  });

  it('once the server answers, the download limit applies instead of the connect limit', async () => {
    // Answers at once, then takes 1.5 s (longer than the connect limit) and succeeds.
    const slow = await electronDir(`process.stderr.write('${FETCH_MARK} response 200 https://x/e.zip\\n'); setTimeout(() => { ${INSTALLS} }, 1500);`);
    const { result: ok } = run(slow, { connectMs: 500, downloadMs: 10_000 });
    expect(await ok).toBe(join(slow, 'dist', 'electron'));
    const stuck = await electronDir(`process.stderr.write('${FETCH_MARK} response 200 https://x/e.zip\\n'); setInterval(() => {}, 1000);`);
    const { result, warned } = run(stuck, { connectMs: 10_000, downloadMs: 2000 });
    expect(await result).toBeNull();
    expect(warned[0]).toMatch(/\(the download did not finish within 2 s\)/);
  });

  it('a Node older than 22.12 gets one warning and still tries: a line when it works, a clause when it does not', async () => {
    const good = run(await electronDir(INSTALLS), { nodeVersion: 'v20.20.2' });
    expect(await good.result).not.toBeNull();
    expect(good.warned).toEqual([expect.stringMatching(/Node 20\.20\.2 is older than the 22\.12\.0 .*trying anyway/)]);
    const bad = run(await electronDir(FAILS()), { nodeVersion: '20.20.2' });
    expect(await bad.result).toBeNull();
    expect(bad.warned).toHaveLength(1);
    expect(bad.warned[0]).toMatch(/ECONNREFUSED.*on Node 20\.20\.2, older than the 22\.12\.0/);
    expect(olderThan('22.11.9', '22.12.0')).toBe(true);
    expect(olderThan('22.12.0', '22.12.0')).toBe(false);
    expect(olderThan('24.0.0', '22.12.0')).toBe(false);
  });

  it("without the hook's report, the reason is the installer's first meaningful line", () => {
    const stack =
      'file:///x/install.js:3\nthrow e\n^\n\nHTTPError: Response code 404 (Not Found) for https://mirror/e.zip\n    at FetchDownloader.download (file:///x.js:1:1)\n';
    expect(failureReason({ code: 1, stderr: stack })).toBe('HTTPError: Response code 404 (Not Found) for https://mirror/e.zip');
    expect(failureReason({ code: 1, stderr: '' })).toBe('the installer exited with code 1');
  });
});

describe('Node versions, said once', () => {
  it("DESKTOP_NODE is what Electron's installer declares; engines and the README agree with it", async () => {
    const root = join(import.meta.dirname, '..', '..', '..');
    const electron = JSON.parse(await readFile(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(electron.engines.node.replace(/\s/g, '')).toBe(`>=${DESKTOP_NODE}`);
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe('>=20'); // the CLI, build and tests (CI runs Node 20)
    const readme = (await readFile(join(root, 'README.md'), 'utf8')).replace(/\s+/g, ' ');
    expect(readme).toContain('run on Node 20 or newer (`engines`)');
    expect(readme).toContain(`declare Node ≥ ${DESKTOP_NODE.replace(/\.0$/, '')}`);
  });
});

describe('npm start', () => {
  it('makes sure of the binary before electron-vite starts', async () => {
    const pkg = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toMatch(/tsx src\/node\/launch\/ensure-electron\.ts && electron-vite dev$/);
  });
});
