// The main process and the OS, under vi.mock('electron'): files handed over on the first launch's
// command line and by a second instance (paths, or file: URLs from the Linux desktop entry's %U),
// macOS open-file with and without a window, the window icon, and the window's size, position
// and maximised state kept across windows in userData/window-state.json.

import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeModelFile } from '../../src/engine/formats/modelfile';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { lenetFilesIn, startApp, type MainApp } from '../../src/main/app';
import { parseWindowState, WINDOW_STATE_FILE } from '../../src/main/window-state';
import type { StudioEvent } from '../../src/common/api';
import { EVENT_CHANNEL } from '../../src/common/channels';
import { mnistSubset } from '../helpers/mnist-subset';
import * as fake from './fake-electron';
import { jsKernels } from '../../src/engine/kernels/js/backend';

vi.mock('electron', () => import('./fake-electron'));

let root: string;
let dataDir: string;
let mainApp: MainApp;
let firstLaunchFile: string;
const argv0 = process.argv;

async function modelFile(name: string, seed = 1): Promise<string> {
  const path = join(root, name);
  await writeFile(path, encodeModelFile(new Model(PRESETS['lenet5-relu-ce'].spec, jsKernels).init(seed), { preset: 'lenet5-relu-ce' }));
  return path;
}

function opened(w: fake.BrowserWindow): string[] {
  return w.webContents.sent
    .filter((s) => s.channel === EVENT_CHANNEL && (s.payload as StudioEvent).type === 'model-opened')
    .map((s) => ((s.payload as Extract<StudioEvent, { type: 'model-opened' }>).model.source as { path: string }).path);
}

/** Opening a model reads and decodes it: on a loaded machine that can take longer than waitFor's default second. */
const OPENED = { timeout: 10_000 };

const current = (): fake.BrowserWindow => fake.BrowserWindow.getAllWindows().at(-1)!;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-os-opens-'));
  dataDir = join(root, 'user data');
  await mkdir(dataDir);
  // A window state from an earlier launch.
  await writeFile(join(dataDir, WINDOW_STATE_FILE), JSON.stringify({ width: 1500, height: 900, x: 40, y: 30, maximized: false }));
  firstLaunchFile = await modelFile('first launch ü.lenet', 2);
  // The desktop entry's %U: a percent-encoded file: URL.
  process.argv = ['/opt/LeNet Studio/lenet-studio', '--no-sandbox', pathToFileURL(firstLaunchFile).href];
  fake.state.paths.userData = dataDir;
  mainApp = (await startApp({
    dataDir,
    embeddedDatasetDir: await mnistSubset(1500, 200),
    wasmPath: '/nonexistent/kernels.wasm',
    preload: '/app/out/preload/index.cjs',
    rendererFile: '/app/out/renderer/index.html',
    icon: '/app/resources/icon.png',
  }))!;
  process.argv = argv0;
});

afterAll(async () => {
  process.argv = argv0;
  await mainApp?.shutdown();
  await rm(root, { recursive: true, force: true });
});

describe('lenetFilesIn', () => {
  it('takes paths (relative to the cwd) and file: URLs (percent-decoded); skips flags, other URLs and other files', () => {
    expect(
      lenetFilesIn(
        [
          'a.lenet',
          '/abs/B.LENET',
          'file:///home/u/My%20Models/caf%C3%A9.lenet',
          'FILE:///x/y.lenet',
          '--inspect=x.lenet',
          'https://example.com/m.lenet',
          'file://otherhost/share/m.lenet',
          'notes.txt',
          'file:///home/u/notes.txt',
        ],
        '/work',
      ),
    ).toEqual(['/work/a.lenet', '/abs/B.LENET', '/home/u/My Models/café.lenet', '/x/y.lenet']);
  });
});

describe('OS opens', () => {
  it('the first launch opens the file: URL on its command line once the page has loaded', async () => {
    const w = current();
    expect(opened(w)).toEqual([]);
    w.webContents.emit('did-finish-load');
    await vi.waitFor(() => expect(opened(w)).toEqual([firstLaunchFile]), OPENED);
  });

  it('a second instance passing a file: URL opens it in this window and brings the window forward', async () => {
    const w = current();
    const file = await modelFile('second instance #1.lenet', 3);
    w.minimized = true;
    const focused = w.focused;
    fake.app.emit('second-instance', {}, ['/opt/LeNet Studio/lenet-studio', pathToFileURL(file).href], '/');
    await vi.waitFor(() => expect(opened(w).at(-1)).toBe(file), OPENED);
    expect(w.minimized).toBe(false);
    expect(w.focused).toBeGreaterThan(focused);
  });

  it('macOS open-file with a window: shown there, window focused', async () => {
    const w = current();
    const file = await modelFile('mac open.lenet', 4);
    const focused = w.focused;
    const e = { preventDefault: vi.fn() };
    fake.app.emit('open-file', e, file);
    expect(e.preventDefault).toHaveBeenCalled();
    await vi.waitFor(() => expect(opened(w).at(-1)).toBe(file), OPENED);
    expect(w.focused).toBeGreaterThan(focused);
  });

  it('macOS open-file with no window (closed, app still running): makes the window and shows the model', async () => {
    const old = current();
    old.close();
    expect(fake.BrowserWindow.getAllWindows()).toEqual([]);
    const file = await modelFile('mac no window.lenet', 5);
    fake.app.emit('open-file', { preventDefault: vi.fn() }, file);
    await vi.waitFor(() => expect(fake.BrowserWindow.getAllWindows()).toHaveLength(1));
    const w = current();
    expect(w).not.toBe(old);
    expect(opened(w)).toEqual([]); // not before the page can take it
    w.webContents.emit('did-finish-load');
    await vi.waitFor(() => expect(opened(w)).toEqual([file]), OPENED);
    expect(opened(old)).not.toContain(file);
  });
});

describe('the window', () => {
  it('has the app icon', () => {
    expect(current().options.icon).toBe('/app/resources/icon.png');
  });

  it('opens at the size and position saved by the last launch', () => {
    expect(fake.BrowserWindow.instances[0].options).toMatchObject({ width: 1500, height: 900, x: 40, y: 30 });
  });

  it('saves its size, position and maximised state atomically when closed; the next window restores them', async () => {
    const w = current();
    w.bounds = { x: 200, y: 150, width: 1100, height: 700 };
    w.maximized = true;
    w.close();
    await vi.waitFor(async () =>
      expect(JSON.parse(await readFile(join(dataDir, WINDOW_STATE_FILE), 'utf8'))).toEqual({ x: 200, y: 150, width: 1100, height: 700, maximized: true }),
    );
    expect((await readdir(dataDir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    fake.app.emit('activate');
    await vi.waitFor(() => expect(fake.BrowserWindow.getAllWindows()).toHaveLength(1));
    const next = current();
    expect(next.options).toMatchObject({ x: 200, y: 150, width: 1100, height: 700 });
    expect(next.maximized).toBe(false);
    next.emit('ready-to-show');
    expect(next.maximized).toBe(true);
  });

  it('a corrupt state file gives the defaults', async () => {
    const w = current();
    w.bounds = { x: 5, y: 5, width: 1001, height: 701 };
    w.close();
    await vi.waitFor(async () => expect(await readFile(join(dataDir, WINDOW_STATE_FILE), 'utf8')).toContain('"width":1001'));
    await writeFile(join(dataDir, WINDOW_STATE_FILE), '{"width": 1100, "hei');
    fake.app.emit('activate');
    await vi.waitFor(() => expect(fake.BrowserWindow.getAllWindows()).toHaveLength(1));
    expect(current().options).toMatchObject({ width: 1280, height: 800 });
    expect(current().options).not.toHaveProperty('x');
  });
});

describe('parseWindowState', () => {
  const screen = [{ x: 0, y: 0, width: 1920, height: 1080 }];
  it('keeps a valid state', () => {
    expect(parseWindowState({ width: 1000, height: 700, x: 10, y: 20, maximized: true }, screen)).toEqual({
      width: 1000,
      height: 700,
      x: 10,
      y: 20,
      maximized: true,
    });
  });
  it.each([
    ['not an object', 'big', { width: 1280, height: 800, maximized: false }],
    ['an array', [1, 2], { width: 1280, height: 800, maximized: false }],
    ['below the minimum size', { width: 200, height: 100 }, { width: 1280, height: 800, maximized: false }],
    ['fractions and strings', { width: 1000.5, height: '700', x: 'a', maximized: 'yes' }, { width: 1280, height: 800, maximized: false }],
    ['absurd sizes', { width: 1e9, height: 1e9 }, { width: 1280, height: 800, maximized: false }],
    ['a position on a display that is gone', { width: 1000, height: 700, x: 3000, y: 20 }, { width: 1000, height: 700, maximized: false }],
    ['a title bar above the screen', { width: 1000, height: 700, x: 10, y: -600 }, { width: 1000, height: 700, maximized: false }],
  ])('%s → the defaults for what is wrong', (_name, data, want) => {
    expect(parseWindowState(data, screen)).toEqual(want);
  });
  it('a position on a second display is kept', () => {
    expect(parseWindowState({ width: 1000, height: 700, x: 2000, y: 100 }, [...screen, { x: 1920, y: 0, width: 1920, height: 1080 }])).toMatchObject({
      x: 2000,
      y: 100,
    });
  });
});
