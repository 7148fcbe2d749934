// The window's size, position and maximised state, kept across launches in a small JSON file in
// the app's userData (written atomically). What is read back is checked: numbers in range, a size
// no smaller than the window's minimum, and a position that still lands on one of today's
// displays (else the window is centred by the OS).

import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../node/files';

export const WINDOW_STATE_FILE = 'window-state.json';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  width: number;
  height: number;
  /** Absent: let the OS place the window. */
  x?: number;
  y?: number;
  maximized: boolean;
}

export const WINDOW_DEFAULTS = { width: 1280, height: 800, minWidth: 960, minHeight: 640 } as const;
const MAX_SIDE = 32_768;

const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** A valid state from whatever was read (null, garbage, an old format): the defaults fill what is not. */
export function parseWindowState(data: unknown, displays: readonly Rect[]): WindowState {
  const state: WindowState = { width: WINDOW_DEFAULTS.width, height: WINDOW_DEFAULTS.height, maximized: false };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return state;
  const d = data as Record<string, unknown>;
  if (isInt(d.width, WINDOW_DEFAULTS.minWidth, MAX_SIDE) && isInt(d.height, WINDOW_DEFAULTS.minHeight, MAX_SIDE)) {
    state.width = d.width;
    state.height = d.height;
  }
  if (d.maximized === true) state.maximized = true;
  if (isInt(d.x, -MAX_SIDE, MAX_SIDE) && isInt(d.y, -MAX_SIDE, MAX_SIDE)) {
    const r = { x: d.x, y: d.y, width: state.width, height: state.height };
    // At least a 100×50 corner of the title bar area on some display, so the window can be grabbed.
    const visible = displays.some((a) => overlap(r.x, r.x + r.width, a.x, a.x + a.width) >= 100 && overlap(r.y, r.y + 50, a.y, a.y + a.height) >= 50);
    if (visible) {
      state.x = d.x;
      state.y = d.y;
    }
  }
  return state;
}

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

export async function readWindowState(file: string, displays: readonly Rect[]): Promise<WindowState> {
  try {
    return parseWindowState(JSON.parse(await readFile(file, 'utf8')), displays);
  } catch {
    return parseWindowState(null, displays);
  }
}

/** What the window looks like now: its normal (unmaximised) bounds and whether it is maximised. */
export interface TrackedWindow {
  getNormalBounds(): Rect;
  isMaximized(): boolean;
  once(event: 'close', listener: () => void): unknown;
}

/** Saves the window's state when it closes. Resolves `saved()` when the write is done (or failed, logged). */
export function trackWindowState(win: TrackedWindow, file: string, log: (m: string) => void = () => undefined): { saved(): Promise<void> } {
  let pending: Promise<void> = Promise.resolve();
  win.once('close', () => {
    const b = win.getNormalBounds();
    const state: WindowState = { width: b.width, height: b.height, x: b.x, y: b.y, maximized: win.isMaximized() };
    pending = writeFileAtomic(file, `${JSON.stringify(state)}\n`).catch((e: unknown) => log(`saving the window state: ${(e as Error).message}`));
  });
  return { saved: () => pending };
}
