// The one app window, hardened per Electron's security checklist: context isolation, sandbox,
// no Node in the page, no navigation, no new windows, no permissions, no auxclick. IPC senders
// are checked against this window's main frame and its own URL.

import { join } from 'node:path';
import { BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { WINDOW_DEFAULTS, type WindowState } from './window-state';

export interface MainWindow {
  window: BrowserWindow;
  /** True only for requests from this window's top frame showing our renderer. */
  isTrustedSender(e: IpcMainInvokeEvent): boolean;
}

export function createMainWindow(opts: { preload: string; rendererFile: string; devServerUrl?: string; icon?: string; state?: WindowState }): MainWindow {
  const st = opts.state;
  const window = new BrowserWindow({
    width: st?.width ?? WINDOW_DEFAULTS.width,
    height: st?.height ?? WINDOW_DEFAULTS.height,
    ...(st?.x !== undefined && st.y !== undefined ? { x: st.x, y: st.y } : {}),
    minWidth: WINDOW_DEFAULTS.minWidth,
    minHeight: WINDOW_DEFAULTS.minHeight,
    ...(opts.icon ? { icon: opts.icon } : {}),
    show: false,
    title: 'LeNet Studio',
    backgroundColor: '#1e1f24',
    webPreferences: {
      preload: opts.preload,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      disableBlinkFeatures: 'Auxclick',
    },
  });
  const wc = window.webContents;
  window.once('ready-to-show', () => {
    if (st?.maximized) window.maximize();
    window.show();
  });
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  wc.on('will-navigate', (e) => e.preventDefault());
  wc.on('will-redirect', (e) => e.preventDefault());
  wc.on('will-attach-webview', (e) => e.preventDefault());

  const url = opts.devServerUrl ? new URL(opts.devServerUrl) : null;
  if (url) void window.loadURL(url.href);
  else void window.loadFile(opts.rendererFile);

  const isOurs = (frameUrl: string): boolean => {
    try {
      const u = new URL(frameUrl);
      if (url) return u.origin === url.origin;
      return u.protocol === 'file:' && decodeURIComponent(u.pathname).endsWith(join('renderer', 'index.html').replaceAll('\\', '/'));
    } catch {
      return false;
    }
  };
  return {
    window,
    isTrustedSender(e) {
      if (window.isDestroyed() || e.sender !== wc) return false;
      const frame = e.senderFrame;
      return frame !== null && frame === wc.mainFrame && isOurs(frame.url);
    },
  };
}
