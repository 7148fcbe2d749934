// The Electron main process, wired: single-instance lock, OS file opens (command line,
// double-click, macOS open-file, a second instance), the hardened window, IPC, menus, dialogs,
// and the trainer utility process. The logic lives in src/node/studio/; this file only
// connects Electron to it, so it stays thin and testable with vi.mock('electron').

import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, screen, session, type OpenDialogOptions } from 'electron';
import trainerEntry from '../node/trainer/entry?modulePath';
import { Studio } from '../node/studio/studio';
import type { StudioEvent } from '../common/api';
import { EVENT_CHANNEL } from '../common/channels';
import { registerIpc } from './ipc';
import { buildMenuTemplate } from './menu';
import { spawnUtilityTrainer } from './trainer-host';
import { resourcePaths } from './paths';
import { createMainWindow, type MainWindow } from './window';
import { readWindowState, trackWindowState, WINDOW_STATE_FILE } from './window-state';

export interface AppPaths {
  /** runs/ and recent.json */
  dataDir: string;
  embeddedDatasetDir: string;
  /** The plain SIMD kernels (kernels.wasm); the relaxed-SIMD build sits next to it (kernels-relaxed.wasm). */
  wasmPath: string;
  /** The bundled data-parallel shard worker (out/main/shard-worker.js); absent: the TypeScript one under tsx. */
  shardWorker?: string;
  /** Trainer worker threads. */
  threads?: number;
  preload: string;
  rendererFile: string;
  /** The window icon; absent: Electron's default. */
  icon?: string;
  devServerUrl?: string;
}

/** Where things are in a dev tree (`npm start`) and in a packaged app (electron-builder's extraResources): see paths.ts. */
export function defaultPaths(): AppPaths {
  const r = resourcePaths({ packaged: app.isPackaged, resourcesPath: process.resourcesPath, appPath: app.getAppPath(), mainDir: __dirname });
  const paths: AppPaths = {
    dataDir: app.getPath('userData'),
    embeddedDatasetDir: r.embeddedDatasetDir,
    wasmPath: r.wasmPath,
    shardWorker: r.shardWorker,
    // Leave a core for the window; one thread on a 2-core machine.
    threads: Math.max(1, availableParallelism() - 1),
    preload: r.preload,
    rendererFile: r.rendererFile,
    icon: r.icon,
  };
  if (!app.isPackaged && process.env.ELECTRON_RENDERER_URL) paths.devServerUrl = process.env.ELECTRON_RENDERER_URL;
  return paths;
}

/**
 * `.lenet` files named on a command line: a double-click on Windows and Linux arrives this way, as
 * a path or (the Linux desktop entry passes %U) a `file:` URL, percent-encoded. Other URLs and
 * flags are skipped.
 */
export function lenetFilesIn(argv: readonly string[], cwd: string): string[] {
  const files: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) continue;
    let path: string;
    if (/^file:/i.test(a)) {
      try {
        path = fileURLToPath(a);
      } catch {
        continue; // a file: URL naming another host, or malformed
      }
    } else if (/^[a-z][a-z0-9+.-]+:\/\//i.test(a)) {
      continue;
    } else {
      path = resolve(cwd, a);
    }
    if (path.toLowerCase().endsWith('.lenet')) files.push(path);
  }
  return files;
}

export interface MainApp {
  studio: Studio;
  window(): MainWindow | null;
  /** What quitting does: stop the trainer (checkpointing a run in progress), then exit. */
  shutdown(): Promise<void>;
}

const FILTERS = [
  { name: 'Models (.lenet, PyTorch .safetensors)', extensions: ['lenet', 'safetensors'] },
  { name: 'All files', extensions: ['*'] },
];

export async function startApp(paths: AppPaths = defaultPaths()): Promise<MainApp | null> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return null;
  }
  let main: MainWindow | null = null;
  /** The window's page has loaded: an opened model can be shown. */
  let loaded = false;
  /** The app is up (studio ready, first window made): an OS open may make a window. */
  let ready = false;
  let windowState: { saved(): Promise<void> } | null = null;
  const windowStateFile = join(paths.dataDir, WINDOW_STATE_FILE);
  const pendingOpens = lenetFilesIn(process.argv.slice(1), process.cwd());
  const log = (m: string): void => console.error(`[main] ${m}`);

  const emit = (e: StudioEvent): void => {
    const w = main?.window;
    if (w && !w.isDestroyed()) w.webContents.send(EVENT_CHANNEL, e);
  };
  const parent = (): BrowserWindow | undefined => main?.window ?? undefined;
  const openDialog = async (o: OpenDialogOptions): Promise<string | null> => {
    const w = parent();
    const r = w ? await dialog.showOpenDialog(w, o) : await dialog.showOpenDialog(o);
    return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
  };

  let recent = { datasets: [] as string[], models: [] as string[] };
  const studio = new Studio({
    dataDir: paths.dataDir,
    embeddedDatasetDir: paths.embeddedDatasetDir,
    app: { name: app.getName(), version: app.getVersion(), platform: process.platform },
    spawnTrainer: () =>
      spawnUtilityTrainer(trainerEntry, [
        `--wasm=${paths.wasmPath}`,
        ...(paths.shardWorker ? [`--worker=${paths.shardWorker}`] : []),
        `--threads=${paths.threads ?? 1}`,
      ]),
    emit,
    log,
    wasmPath: paths.wasmPath,
    hooks: {
      chooseDatasetFolder: () =>
        openDialog({ title: 'Open Dataset', message: 'A folder with the four MNIST IDX files (plain or .gz)', properties: ['openDirectory'] }),
      chooseModelFile: () => openDialog({ title: 'Open Model', properties: ['openFile'], filters: FILTERS }),
      chooseSaveModelPath: async (name) => {
        const w = parent();
        const o = { title: 'Save Model', defaultPath: join(app.getPath('documents'), name), filters: FILTERS };
        const r = w ? await dialog.showSaveDialog(w, o) : await dialog.showSaveDialog(o);
        return r.canceled || !r.filePath ? null : r.filePath;
      },
      chooseRunsExportPath: async (name, format) => {
        const w = parent();
        const filter = format === 'csv' ? { name: 'CSV tables', extensions: ['csv'] } : { name: 'JSON files', extensions: ['json'] };
        const o = { title: 'Export All Runs', defaultPath: join(app.getPath('documents'), name), filters: [filter] };
        const r = w ? await dialog.showSaveDialog(w, o) : await dialog.showSaveDialog(o);
        return r.canceled || !r.filePath ? null : r.filePath;
      },
      chooseExportPath: async (name) => {
        const w = parent();
        const o = { title: 'Export ONNX', defaultPath: join(app.getPath('documents'), name), filters: [{ name: 'ONNX models', extensions: ['onnx'] }] };
        const r = w ? await dialog.showSaveDialog(w, o) : await dialog.showSaveDialog(o);
        return r.canceled || !r.filePath ? null : r.filePath;
      },
      addRecentDocument: (p) => app.addRecentDocument(p),
      recentChanged: (r) => {
        recent = r;
        setMenu();
      },
    },
  });

  const focus = (w: BrowserWindow): void => {
    if (w.isMinimized()) w.restore();
    w.show();
    w.focus();
  };
  /** A file from the OS: shown in the window (made if there is none, e.g. macOS after closing it), which comes to the front. */
  const openFromOS = (path: string): void => {
    const w = main?.window;
    if (!ready || !w || w.isDestroyed()) {
      pendingOpens.push(path);
      if (ready) void createWindow();
      return;
    }
    focus(w);
    if (loaded) void studio.openFromOS(path);
    else pendingOpens.push(path);
  };
  app.on('open-file', (e, path) => {
    e.preventDefault();
    openFromOS(path);
  });
  app.on('second-instance', (_e, argv, cwd) => {
    const files = lenetFilesIn(argv.slice(1), cwd);
    for (const p of files) openFromOS(p);
    if (files.length > 0) return;
    const w = main?.window;
    if (w && !w.isDestroyed()) focus(w);
    else if (ready) void createWindow();
  });

  function setMenu(): void {
    const template = buildMenuTemplate({
      isMac: process.platform === 'darwin',
      appName: app.getName(),
      dev: !app.isPackaged,
      recent,
      actions: {
        send: (action) => emit({ type: 'menu', action }),
        openRecentModel: (p) => void studio.openFromOS(p),
        openDataset: (p) => void studio.openDatasetFromMenu(p),
        about: () => {
          const w = parent();
          const o = {
            type: 'info' as const,
            title: `About ${app.getName()}`,
            message: `${app.getName()} ${app.getVersion()}`,
            detail: 'LeNet-5 on MNIST, trained and inspected with a from-scratch engine.',
          };
          void (w ? dialog.showMessageBox(w, o) : dialog.showMessageBox(o));
        },
      },
    });
    Menu.setApplicationMenu(Menu.buildFromTemplate(template));
  }

  let creating: Promise<void> | null = null;
  function createWindow(): Promise<void> {
    creating ??= makeWindow().finally(() => (creating = null));
    return creating;
  }
  async function makeWindow(): Promise<void> {
    loaded = false;
    const state = await readWindowState(
      windowStateFile,
      screen.getAllDisplays().map((d) => d.workArea),
    );
    const m = createMainWindow({ preload: paths.preload, rendererFile: paths.rendererFile, devServerUrl: paths.devServerUrl, icon: paths.icon, state });
    main = m;
    windowState = trackWindowState(m.window, windowStateFile, log);
    const wc = m.window.webContents;
    wc.on('did-finish-load', () => {
      loaded = true;
      for (const p of pendingOpens.splice(0)) void studio.openFromOS(p);
    });
    wc.on('render-process-gone', (_e, d) => {
      log(`renderer gone (${d.reason}); reloading`);
      if (!m.window.isDestroyed()) m.window.reload();
    });
    m.window.on('closed', () => {
      if (main === m) {
        main = null;
        loaded = false;
      }
    });
  }

  await app.whenReady();
  // No page may get a permission (camera, notifications…) or open anything.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_e, wc) => {
    wc.setWindowOpenHandler(() => ({ action: 'deny' }));
    wc.on('will-navigate', (ev) => ev.preventDefault());
  });

  registerIpc(ipcMain, studio, (e) => main?.isTrustedSender(e) ?? false, log);
  await studio.init();
  recent = await studio.recent();
  setMenu();
  await createWindow();
  ready = true;

  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  let stopped = false;
  const shutdown = async (): Promise<void> => {
    if (!stopped) {
      stopped = true;
      await windowState?.saved();
      await studio.dispose().catch((e: unknown) => log(`stopping the trainer: ${(e as Error).message}`));
    }
  };
  app.on('will-quit', (e) => {
    if (stopped) return;
    // Give the trainer its moment to checkpoint a run in progress, then quit for real.
    e.preventDefault();
    void shutdown().finally(() => app.quit());
  });
  return { studio, window: () => main, shutdown };
}
