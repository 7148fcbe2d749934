// Just enough of Electron's main-process API to run src/main unchanged under
// vi.mock('electron'): app, BrowserWindow (with webContents and frames), ipcMain (handlers a test
// can invoke with a forged event), dialog, Menu, session, and utilityProcess.fork backed by a
// real child process running the real trainer entry (through the parentPort shim).

import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { vi } from 'vitest';
import { forkWithShim } from '../helpers/fork-trainer';

export const state = {
  paths: { userData: '/nonexistent', documents: '/nonexistent' } as Record<string, string>,
  appPath: process.cwd(),
  singleInstance: true,
};

class FakeApp extends EventEmitter {
  isPackaged = false;
  quit = vi.fn();
  exit = vi.fn();
  addRecentDocument = vi.fn();
  getName(): string {
    return 'LeNet Studio';
  }
  getVersion(): string {
    return '0.1.0-test';
  }
  getPath(name: string): string {
    return state.paths[name] ?? `/nonexistent/${name}`;
  }
  getAppPath(): string {
    return state.appPath;
  }
  requestSingleInstanceLock(): boolean {
    return state.singleInstance;
  }
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
}
export const app = new FakeApp();

export interface FakeFrame {
  url: string;
}

export class FakeWebContents extends EventEmitter {
  readonly mainFrame: FakeFrame = { url: 'about:blank' };
  readonly sent: { channel: string; payload: unknown }[] = [];
  windowOpenHandler: ((d: { url: string }) => { action: string }) | null = null;
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
    this.emit('sent', channel, payload);
  }
  setWindowOpenHandler(h: (d: { url: string }) => { action: string }): void {
    this.windowOpenHandler = h;
  }
}

export class BrowserWindow extends EventEmitter {
  static instances: BrowserWindow[] = [];
  static getAllWindows(): BrowserWindow[] {
    return BrowserWindow.instances.filter((w) => !w.destroyed);
  }
  readonly webContents = new FakeWebContents();
  destroyed = false;
  loadedFile: string | null = null;
  constructor(readonly options: Record<string, unknown>) {
    super();
    const n = (k: string, d: number): number => (typeof options[k] === 'number' ? (options[k] as number) : d);
    this.bounds = { x: n('x', 100), y: n('y', 100), width: n('width', 800), height: n('height', 600) };
    BrowserWindow.instances.push(this);
  }
  loadFile(file: string): Promise<void> {
    this.loadedFile = file;
    this.webContents.mainFrame.url = `file://${file}`;
    return Promise.resolve();
  }
  loadURL(url: string): Promise<void> {
    this.webContents.mainFrame.url = url;
    return Promise.resolve();
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  minimized = false;
  maximized = false;
  focused = 0;
  /** The normal (unmaximised) bounds: the options it was made with until a test moves it. */
  bounds = { x: 0, y: 0, width: 0, height: 0 };
  isMinimized(): boolean {
    return this.minimized;
  }
  restore(): void {
    this.minimized = false;
  }
  focus(): void {
    this.focused++;
  }
  show(): void {}
  reload(): void {}
  maximize(): void {
    this.maximized = true;
  }
  isMaximized(): boolean {
    return this.maximized;
  }
  getNormalBounds(): { x: number; y: number; width: number; height: number } {
    return { ...this.bounds };
  }
  /** What closing the window does: 'close', then destroyed and 'closed'. */
  close(): void {
    this.emit('close', { preventDefault: () => undefined });
    this.destroyed = true;
    this.emit('closed');
  }
}

type Handler = (event: unknown, ...args: unknown[]) => unknown;
export const ipcMain = {
  handlers: new Map<string, Handler>(),
  handle(channel: string, fn: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, fn);
  },
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  },
  /** What ipcRenderer.invoke does on the other side: run the handler with an event naming the sender. */
  async invoke(channel: string, event: { sender: unknown; senderFrame: FakeFrame | null }, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`No handler registered for '${channel}'`);
    return h(event, ...args);
  },
};

export const dialog = {
  showOpenDialog: vi.fn(async (..._a: unknown[]) => ({ canceled: true, filePaths: [] as string[] })),
  showSaveDialog: vi.fn(async (..._a: unknown[]) => ({ canceled: true, filePath: '' })),
  showMessageBox: vi.fn(async () => ({ response: 0 })),
};

export const Menu = {
  template: null as unknown,
  buildFromTemplate: vi.fn((t: unknown) => {
    Menu.template = t;
    return { template: t };
  }),
  setApplicationMenu: vi.fn(),
};

export const session = {
  defaultSession: {
    permissionRequestHandler: null as null | ((wc: unknown, p: string, cb: (ok: boolean) => void) => void),
    permissionCheckHandler: null as null | ((...a: unknown[]) => boolean),
    setPermissionRequestHandler(h: (wc: unknown, p: string, cb: (ok: boolean) => void) => void): void {
      this.permissionRequestHandler = h;
    },
    setPermissionCheckHandler(h: (...a: unknown[]) => boolean): void {
      this.permissionCheckHandler = h;
    },
  },
};

/** A UtilityProcess lookalike over a Node child: 'message' and 'exit' events, postMessage, kill. */
export class FakeUtilityProcess extends EventEmitter {
  readonly child: ChildProcess;
  constructor(
    readonly entry: string,
    readonly args: string[],
    readonly options: { serviceName?: string },
  ) {
    super();
    this.child = forkWithShim(entry, args);
    this.child.on('message', (m) => this.emit('message', m));
    this.child.on('exit', (code, signal) => {
      // Electron reports how a utility process died through app's 'child-process-gone'.
      if (signal) {
        app.emit(
          'child-process-gone',
          {},
          { type: 'Utility', reason: signal === 'SIGKILL' ? 'killed' : 'crashed', serviceName: options.serviceName, exitCode: code ?? -1 },
        );
      }
      this.emit('exit', code ?? 9);
    });
  }
  get pid(): number | undefined {
    return this.child.pid;
  }
  /** Like Electron's, a message to a process that has exited is dropped quietly. */
  postMessage(m: unknown): void {
    if (this.child.connected) this.child.send(m as never);
  }
  kill(): boolean {
    return this.child.kill('SIGKILL');
  }
}

export const utilityProcess = {
  children: [] as FakeUtilityProcess[],
  fork: vi.fn((entry: string, args: string[] = [], options: { serviceName?: string } = {}) => {
    const p = new FakeUtilityProcess(entry, args, options);
    utilityProcess.children.push(p);
    return p;
  }),
};

export const screen = {
  displays: [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }],
  getAllDisplays(): { workArea: { x: number; y: number; width: number; height: number } }[] {
    return screen.displays;
  },
};

export const webUtils = { getPathForFile: () => '' };
export const contextBridge = { exposeInMainWorld: vi.fn() };
export const ipcRenderer = { invoke: vi.fn(), on: vi.fn(), removeListener: vi.fn() };
