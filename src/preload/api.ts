// The renderer's API, exposed by the preload as `window.studio`. Types only: the renderer
// imports this file with `import type`, and the preload implements it one function per method.

import type { Preset } from '../engine/presets';

export interface AppInfo {
  name: string;
  version: string;
  platform: string;
}

export interface StudioApi {
  /** Name, version and platform of the running app. */
  appInfo(): Promise<AppInfo>;
  /** The built-in presets (specs and default settings). */
  presets(): Promise<Preset[]>;
}
