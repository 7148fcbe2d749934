// The application menu. A pure template builder (testable without Electron) plus the actions
// it calls: actions that need the renderer's state (save the model it shows) go to the window
// as `menu` events; recent files open directly.

import type { MenuItemConstructorOptions } from 'electron';
import type { MenuAction } from '../common/api';

export interface MenuActions {
  send(action: MenuAction): void;
  openRecentModel(path: string): void;
  /** '' = the embedded MNIST. */
  openDataset(path: string): void;
  about(): void;
}

export function buildMenuTemplate(opts: {
  isMac: boolean;
  appName: string;
  dev: boolean;
  recent: { datasets: string[]; models: string[] };
  actions: MenuActions;
}): MenuItemConstructorOptions[] {
  const { isMac, recent, actions: a } = opts;
  const recentModels: MenuItemConstructorOptions[] = recent.models.length
    ? recent.models.map((p) => ({ label: p, click: () => a.openRecentModel(p) }))
    : [{ label: 'No recent models', enabled: false }];
  const recentDatasets: MenuItemConstructorOptions[] = [
    { label: 'Embedded MNIST', click: () => a.openDataset('') },
    ...(recent.datasets.length ? [{ type: 'separator' } as const, ...recent.datasets.map((p) => ({ label: p, click: () => a.openDataset(p) }))] : []),
  ];
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'Open Model…', accelerator: 'CmdOrCtrl+O', click: () => a.send('open-model') },
      { label: 'Open Recent', submenu: recentModels },
      { type: 'separator' },
      { label: 'Save Model', accelerator: 'CmdOrCtrl+S', click: () => a.send('save-model') },
      { label: 'Save Model As…', accelerator: 'CmdOrCtrl+Shift+S', click: () => a.send('save-model-as') },
      { label: 'Export', submenu: [{ label: 'ONNX…', click: () => a.send('export-onnx') }] },
      { type: 'separator' },
      { label: 'Open Dataset…', click: () => a.send('open-dataset') },
      { label: 'Datasets', submenu: recentDatasets },
      { type: 'separator' },
      { label: 'Runs', click: () => a.send('open-runs') },
      ...(isMac ? [] : [{ type: 'separator' } as const, { role: 'quit' } as const]),
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      ...(opts.dev ? [{ role: 'reload' } as const, { role: 'toggleDevTools' } as const, { type: 'separator' } as const] : []),
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  };
  const help: MenuItemConstructorOptions = { role: 'help', submenu: [{ label: `About ${opts.appName}`, click: () => a.about() }] };
  const mac: MenuItemConstructorOptions[] = isMac ? [{ role: 'appMenu' }] : [];
  return [...mac, file, { role: 'editMenu' }, view, { role: 'windowMenu' }, help];
}
