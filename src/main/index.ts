// Electron main entry. Everything is in app.ts, so tests can drive it under vi.mock('electron').

import { startApp } from './app';

void startApp().catch((e: unknown) => {
  console.error('[main] failed to start:', e);
  process.exit(1);
});
