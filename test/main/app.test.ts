// The main process as it runs in Electron, under vi.mock('electron'): window hardening, IPC
// sender checks and argument validation, dialogs, atomic saves and recent files, OS file opens,
// menus, and the trainer utility process (a real child running the real entry) crashing.

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeModelFile, encodeModelFile } from '../../src/engine/formats/modelfile';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { startApp, type MainApp } from '../../src/main/app';
import { TRAINER_SERVICE_NAME } from '../../src/main/trainer-host';
import { DEFAULT_WASM_PATH } from '../../src/node/load-kernels';
import { readRunStatus } from '../../src/node/runs/folder';
import type { ModelPayload } from '../../src/common/records';
import type { StudioEvent } from '../../src/common/api';
import type { TrainSettings } from '../../src/common/settings';
import { EVENT_CHANNEL, STUDIO_METHODS, type StudioMethod, channel } from '../../src/common/channels';
import { mnistSubset } from '../helpers/mnist-subset';
import * as fake from './fake-electron';
import { jsKernels } from '../../src/engine/kernels/js/backend';

vi.mock('electron', () => import('./fake-electron'));

let root: string;
let dataDir: string;
let datasetDir: string;
let mainApp: MainApp;
let win: fake.BrowserWindow;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-main-'));
  dataDir = join(root, 'userData');
  datasetDir = await mnistSubset(1500, 200);
  fake.state.paths.userData = dataDir;
  fake.state.paths.documents = root;
  const started = await startApp({
    dataDir,
    embeddedDatasetDir: datasetDir,
    wasmPath: DEFAULT_WASM_PATH,
    preload: '/app/out/preload/index.cjs',
    rendererFile: '/app/out/renderer/index.html',
  });
  mainApp = started!;
  win = fake.BrowserWindow.instances[0];
  win.webContents.emit('did-finish-load');
});

afterAll(async () => {
  await mainApp?.shutdown();
  await rm(root, { recursive: true, force: true });
});

const trusted = () => ({ sender: win.webContents, senderFrame: win.webContents.mainFrame });

function call<M extends StudioMethod>(method: M, ...args: unknown[]): Promise<unknown> {
  return fake.ipcMain.invoke(channel(method), trusted(), ...args);
}

function events(): StudioEvent[] {
  return win.webContents.sent.filter((s) => s.channel === EVENT_CHANNEL).map((s) => s.payload as StudioEvent);
}

function nextEvent<T extends StudioEvent['type']>(
  type: T,
  pred: (e: Extract<StudioEvent, { type: T }>) => boolean = () => true,
): Promise<Extract<StudioEvent, { type: T }>> {
  return new Promise((resolve) => {
    const on = (ch: string, payload: StudioEvent): void => {
      if (ch === EVENT_CHANNEL && payload.type === type && pred(payload as Extract<StudioEvent, { type: T }>)) {
        win.webContents.off('sent', on);
        resolve(payload as Extract<StudioEvent, { type: T }>);
      }
    };
    win.webContents.on('sent', on);
  });
}

async function modelFile(name: string, seed = 1): Promise<string> {
  const path = join(root, name);
  await writeFile(path, encodeModelFile(new Model(PRESETS['lenet5-relu-ce'].spec, jsKernels).init(seed), { preset: 'lenet5-relu-ce' }));
  return path;
}

// Batches of one: ~1,400 steps an epoch, long enough for progress events (at most one per 100 ms,
// the interval restarting each epoch) and for the crash test to kill a run still going, however
// fast the engine gets.
const SETTINGS: TrainSettings = { epochs: 4, batchSize: 1, lr: 0.005, momentum: 0.9, decay: 0, schedule: { type: 'constant' }, validation: 100 };

describe('window', () => {
  it('is hardened: isolation, sandbox, no Node, no auxclick, no new windows, no navigation, no permissions', () => {
    const prefs = win.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      disableBlinkFeatures: 'Auxclick',
      webviewTag: false,
    });
    expect(win.webContents.windowOpenHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    const nav = { preventDefault: vi.fn() };
    win.webContents.emit('will-navigate', nav);
    expect(nav.preventDefault).toHaveBeenCalled();
    const granted = vi.fn();
    fake.session.defaultSession.permissionRequestHandler!(win.webContents, 'media', granted);
    expect(granted).toHaveBeenCalledWith(false);
    expect(fake.session.defaultSession.permissionCheckHandler!()).toBe(false);
    expect(win.loadedFile).toBe('/app/out/renderer/index.html');
  });

  it('registers exactly one handler per API method', () => {
    expect([...fake.ipcMain.handlers.keys()].sort()).toEqual(STUDIO_METHODS.map(channel).sort());
  });
});

describe('IPC', () => {
  it('answers the app window', async () => {
    const info = (await call('appInfo')) as { name: string; kernels: string };
    expect(info.name).toBe('LeNet Studio');
    // The trainer child is Node: the relaxed-SIMD build, after switching on V8's flag on Node 20.
    expect(info.kernels).toBe('wasm-relaxed-simd');
    const ds = (await call('dataset')) as { trainCount: number; path: string | null };
    expect(ds).toMatchObject({ trainCount: 1500, path: null });
  });

  it('refuses other senders: another webContents, a subframe, a foreign page, a closed window', async () => {
    const other = new fake.FakeWebContents();
    await expect(fake.ipcMain.invoke(channel('listRuns'), { sender: other, senderFrame: other.mainFrame })).rejects.toThrow(/refused/);
    await expect(fake.ipcMain.invoke(channel('listRuns'), { sender: win.webContents, senderFrame: { url: win.webContents.mainFrame.url } })).rejects.toThrow(
      /refused/,
    );
    await expect(fake.ipcMain.invoke(channel('listRuns'), { sender: win.webContents, senderFrame: null })).rejects.toThrow(/refused/);
    const saved = win.webContents.mainFrame.url;
    win.webContents.mainFrame.url = 'https://evil.example/index.html';
    await expect(call('listRuns')).rejects.toThrow(/refused/);
    win.webContents.mainFrame.url = saved;
    win.destroyed = true;
    await expect(call('listRuns')).rejects.toThrow(/refused/);
    win.destroyed = false;
    await expect(call('listRuns')).resolves.toEqual(expect.any(Array));
  });

  it.each<[StudioMethod, unknown[], RegExp]>([
    ['startRun', ['lenet5-relu-ce', { ...SETTINGS, lr: 'fast' }], /\[1\]\.lr: expected a number/],
    ['startRun', ['lenet5-relu-ce', { ...SETTINGS, epochs: -1 }], /\[1\]\.epochs/],
    ['startRun', ['lenet5-relu-ce', { ...SETTINGS, extra: true }], /no key "extra"/],
    [
      'startRun',
      ['lenet5-relu-ce', Object.assign(Object.create({ polluted: true }) as object, SETTINGS)],
      /\[1\]: expected an object, got an object with prototype/,
    ],
    ['startRun', ['lenet5-relu-ce'], /expected an array of 2/],
    ['startRun', ['no-such-preset', SETTINGS], /unknown preset/],
    ['startRun', ['lenet5-relu-ce', { ...SETTINGS, limit: 50, validation: 100 }], /cannot hold out 100/],
    ['getRun', ['../../etc'], /\[0\]: expected a string matching/],
    ['pauseRun', [42], /expected a string/],
    ['datasetImages', ['train', 0, 5000], /\[2\]: expected an integer in \[1, 1000\]/],
    ['datasetImages', ['valid', 0, 10], /one of "train", "test"/],
    ['openModelPath', ['relative/model.lenet'], /did not offer this path/],
    ['openModelPath', ['/etc/passwd'], /did not offer this path/],
    ['openRecentDataset', ['/tmp'], /did not offer this path/],
    [
      'saveModel',
      [{ spec: {}, params: [1], buffers: new Float32Array(0), source: { kind: 'file', path: '/tmp/x.lenet' } }, true],
      /params: expected a Float32Array/,
    ],
    [
      'evaluateModel',
      [
        {
          spec: { input: [1, 28, 28], layers: [], loss: 'mse' },
          params: new Float32Array(1),
          buffers: new Float32Array(0),
          source: { kind: 'file', path: '/x' },
        },
      ],
      /cannot be used/,
    ],
    ['runModel', ['20250101-000000-x-0000', 'worst'], /one of "latest", "best"/],
  ])('%s rejects %j', async (method, args, message) => {
    await expect(call(method, ...args)).rejects.toThrow(message);
  });

  it('bounds the calls of each method at once: a flood is refused at once with BUSY, and the app carries on', async () => {
    const logged = vi.spyOn(console, 'error');
    const results = await Promise.allSettled(Array.from({ length: 80 }, () => call('useEmbeddedDataset')));
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(80 - 3); // one running, two waiting
    for (const r of refused) expect((r.reason as Error).message).toMatch(/useEmbeddedDataset: too many calls at once \(1 running, 2 waiting\)/);
    // Logged once, not 77 times.
    expect(logged.mock.calls.filter(([m]) => /too many calls/.test(String(m)))).toHaveLength(1);
    logged.mockRestore();
    await expect(call('dataset')).resolves.toMatchObject({ path: null, trainCount: 1500 });
  });

  it('invalid requests leave no run behind', async () => {
    expect(await readdir(join(dataDir, 'runs'))).toEqual([]);
  });
});

describe('models: dialogs, atomic save, recent files', () => {
  it('Open Model… cancelled → null; chosen → the model, remembered in the recent list and on disk', async () => {
    fake.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: true, filePaths: [] });
    expect(await call('openModelDialog')).toBeNull();
    const file = await modelFile('chosen.lenet', 5);
    fake.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [file] });
    const m = (await call('openModelDialog')) as ModelPayload;
    expect(m.source).toEqual({ kind: 'file', path: file });
    expect(m.params).toBeInstanceOf(Float32Array);
    expect(m.preset).toBe('lenet5-relu-ce');
    expect(((await call('recent')) as { models: string[] }).models[0]).toBe(file);
    expect(JSON.parse(await readFile(join(dataDir, 'recent.json'), 'utf8')).models[0]).toBe(file);
    expect(fake.app.addRecentDocument).toHaveBeenCalledWith(file);
    // Now that the app handed it out, the renderer may reopen it by path.
    await expect(call('openModelPath', file)).resolves.toMatchObject({ source: { kind: 'file', path: file } });
  });

  it('Save Model As… writes atomically where the dialog says (adding .lenet); Save writes back without a dialog', async () => {
    const file = await modelFile('orig.lenet', 6);
    fake.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [file] });
    const m = (await call('openModelDialog')) as ModelPayload;
    m.params[0] = 0.125;
    const target = join(root, 'saved-copy');
    fake.dialog.showSaveDialog.mockResolvedValueOnce({ canceled: false, filePath: target });
    const r = (await call('saveModel', m, true)) as { path: string };
    expect(r.path).toBe(`${target}.lenet`);
    const back = decodeModelFile(await readFile(r.path), r.path);
    expect(back.model.params[0]).toBe(0.125);
    expect((await readdir(root)).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    fake.dialog.showSaveDialog.mockClear();
    m.params[0] = -0.5;
    await expect(call('saveModel', m, false)).resolves.toEqual({ path: file });
    expect(fake.dialog.showSaveDialog).not.toHaveBeenCalled();
    expect(decodeModelFile(await readFile(file), file).model.params[0]).toBe(-0.5);

    fake.dialog.showSaveDialog.mockResolvedValueOnce({ canceled: true, filePath: '' });
    await expect(call('saveModel', m, true)).resolves.toBeNull();
  });

  it('a file handed out for reading only (a dropped victim.txt) is never written: Save asks where, and the file stays as it was', async () => {
    const victim = join(root, 'victim.txt');
    await writeFile(victim, 'the user’s notes\n');
    await expect(call('openDroppedModel', victim)).rejects.toThrow(/victim\.txt/);
    const m = new Model(PRESETS['lenet5-relu-ce'].spec, jsKernels).init(9);
    const payload: ModelPayload = { spec: m.spec, ...m.snapshot(), preset: 'lenet5-relu-ce', source: { kind: 'file', path: victim } };
    fake.dialog.showSaveDialog.mockClear();
    fake.dialog.showSaveDialog.mockResolvedValueOnce({ canceled: true, filePath: '' });
    await expect(call('saveModel', payload, false)).resolves.toBeNull();
    expect(fake.dialog.showSaveDialog).toHaveBeenCalledTimes(1);
    expect(await readFile(victim, 'utf8')).toBe('the user’s notes\n');
    expect(((await call('recent')) as { models: string[] }).models).not.toContain(victim);
  });

  it('a corrupt model file is refused with a message naming it', async () => {
    const bad = join(root, 'corrupt.lenet');
    await writeFile(bad, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    fake.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [bad] });
    await expect(call('openModelDialog')).rejects.toThrow(/corrupt\.lenet/);
  });

  it('a .lenet from a second instance (double-click) opens in this window; a bad one becomes an error event', async () => {
    const file = await modelFile('double-clicked.lenet', 7);
    const opened = nextEvent('model-opened');
    fake.app.emit('second-instance', {}, ['/opt/LeNet Studio/lenet-studio', '--flag', 'double-clicked.lenet'], root);
    expect((await opened).model.source).toEqual({ kind: 'file', path: file });
    const failed = nextEvent('error');
    fake.app.emit('second-instance', {}, ['/opt/x', join(root, 'missing.lenet')], root);
    expect((await failed).message).toMatch(/missing\.lenet/);
  });

  it('the menu has the file shortcuts and sends actions to the window', () => {
    type Item = { label?: string; accelerator?: string; click?: () => void; submenu?: Item[] };
    const template = fake.Menu.template as Item[];
    const file = template.find((t) => t.label === 'File')!.submenu!;
    const byLabel = (l: string) => file.find((i) => i.label === l)!;
    expect(byLabel('Open Model…').accelerator).toBe('CmdOrCtrl+O');
    expect(byLabel('Save Model').accelerator).toBe('CmdOrCtrl+S');
    expect(byLabel('Save Model As…').accelerator).toBe('CmdOrCtrl+Shift+S');
    byLabel('Save Model').click!();
    expect(events().at(-1)).toEqual({ type: 'menu', action: 'save-model' });
    // Open Recent lists what was opened.
    expect(byLabel('Open Recent').submenu!.some((i) => i.label?.endsWith('double-clicked.lenet'))).toBe(true);
  });
});

describe('training through IPC', () => {
  it('a run streams progress to the window; a trainer crash marks it failed and a new run can start', async () => {
    const progress = nextEvent('progress');
    const { runId } = (await call('startRun', 'lenet5-relu-ce', SETTINGS)) as { runId: string };
    expect((await progress).runId).toBe(runId);
    expect(fake.utilityProcess.fork).toHaveBeenCalledWith(
      expect.stringMatching(/entry\.ts$/),
      [`--wasm=${DEFAULT_WASM_PATH}`, '--threads=1'],
      expect.objectContaining({ serviceName: TRAINER_SERVICE_NAME }),
    );
    // A second run while one trains is refused.
    await expect(call('startRun', 'lenet5-relu-ce', SETTINGS)).rejects.toThrow(/still in progress/);

    const failed = nextEvent('run-status', (e) => e.runId === runId && e.status === 'failed');
    fake.utilityProcess.children.at(-1)!.kill();
    const st = await failed;
    expect(st.reason).toMatch(/killed/);
    const runs = (await call('listRuns')) as { id: string; status: string }[];
    expect(runs.find((r) => r.id === runId)?.status).toBe('failed');
    expect((await readRunStatus(join(dataDir, 'runs', runId))).status).toBe('failed');

    // The app carries on: a new trainer process starts for the next request.
    const childrenBefore = fake.utilityProcess.children.length;
    const next = (await call('startRun', 'lenet5-relu-ce', { ...SETTINGS, epochs: 1 })) as { runId: string };
    expect(fake.utilityProcess.children.length).toBe(childrenBefore + 1);
    const done = nextEvent('run-status', (e) => e.runId === next.runId && e.status === 'done');
    await done;

    // The crashed run continues from its checkpoint.
    const resumed = nextEvent('run-status', (e) => e.runId === runId && e.status === 'done');
    await call('continueRun', runId);
    await resumed;
    const detail = (await call('getRun', runId)) as { epochs: unknown[]; status: string };
    expect(detail.epochs).toHaveLength(SETTINGS.epochs);
    const best = (await call('runModel', runId, 'best')) as ModelPayload;
    expect(best.source).toMatchObject({ kind: 'run', runId });
  });

  it('quitting stops the trainer process', async () => {
    const child = fake.utilityProcess.children.at(-1)!;
    expect(child.child.exitCode).toBeNull();
    const quitEvent = { preventDefault: vi.fn() };
    fake.app.emit('will-quit', quitEvent);
    expect(quitEvent.preventDefault).toHaveBeenCalled();
    await vi.waitFor(() => expect(fake.app.quit).toHaveBeenCalled(), { timeout: 10_000 });
    expect(child.child.exitCode !== null || child.child.signalCode !== null).toBe(true);
  });
});
