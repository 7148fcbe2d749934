// Electron main process: one hardened window and the IPC handlers behind `window.studio`.
// Everything else (files, datasets, training) lives in src/node and src/engine.

import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, session, type IpcMainInvokeEvent } from 'electron';
import { PRESETS } from '../engine/presets';

let mainWindow: BrowserWindow | null = null;

function createWindow(): void {
  mainWindow = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 640,
    show: false,
    title: 'LeNet Studio',
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      disableBlinkFeatures: 'Auxclick',
    },
  });
  mainWindow.on('ready-to-show', () => mainWindow?.show());
  mainWindow.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  mainWindow.webContents.on('will-navigate', (e) => e.preventDefault());
  if (!app.isPackaged && process.env.ELECTRON_RENDERER_URL) {
    void mainWindow.loadURL(process.env.ELECTRON_RENDERER_URL);
  } else {
    void mainWindow.loadFile(join(__dirname, '../renderer/index.html'));
  }
}

/** Only our own window may call the API. */
function fromOurWindow(e: IpcMainInvokeEvent): boolean {
  return mainWindow !== null && e.sender === mainWindow.webContents;
}

function handle(channel: string, fn: () => unknown): void {
  ipcMain.handle(channel, (e) => {
    if (!fromOurWindow(e)) throw new Error('refused: not the app window');
    return fn();
  });
}

void app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, callback) => callback(false));
  handle('studio:appInfo', () => ({ name: app.getName(), version: app.getVersion(), platform: process.platform }));
  handle('studio:presets', () => Object.values(PRESETS));
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
