// Exposes `window.studio`: one function per API method, nothing from Node, no raw ipcRenderer.

import { contextBridge, ipcRenderer } from 'electron';
import type { StudioApi } from './api';

const api: StudioApi = {
  appInfo: () => ipcRenderer.invoke('studio:appInfo'),
  presets: () => ipcRenderer.invoke('studio:presets'),
};

contextBridge.exposeInMainWorld('studio', api);
