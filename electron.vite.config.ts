import { resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';
import { ALIASES } from './scripts/aliases';

// The renderer and the preload name the app's contract and the engine by alias, never by a
// relative path into another layer (eslint.config.js enforces which layer may import which).

export default defineConfig({
  main: {
    build: {
      // The data-parallel shard worker and the model-file worker are their own entries: the
      // trainer and the studio start them as Workers (next to index.js, where each looks for it).
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          'shard-worker': resolve(__dirname, 'src/node/parallel/shard-worker.ts'),
          'model-worker': resolve(__dirname, 'src/node/studio/model-worker.ts'),
          'projection-worker': resolve(__dirname, 'src/node/studio/projection-worker.ts'),
        },
      },
    },
  },
  preload: {
    resolve: { alias: ALIASES },
    build: {
      // Sandboxed preloads must be CommonJS.
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    resolve: { alias: ALIASES },
    plugins: [vue()],
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
});
