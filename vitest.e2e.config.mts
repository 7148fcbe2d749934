import { defineConfig } from 'vitest/config';
import { ALIASES } from './scripts/aliases';

// Browser tests: the built renderer (npm run build) in Debian Chromium through playwright-core,
// served by test/e2e/host with the real backend and trainer. `npm run test:e2e` builds first.
export default defineConfig({
  // The renderer's modules that tests import name the engine and the contract by alias, as in the app.
  resolve: { alias: ALIASES },
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 120_000,
    globalSetup: ['test/setup/build-wasm.ts'],
    fileParallelism: false,
  },
});
