import { dirname, resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vitest/config';
import { ALIASES } from './scripts/aliases';

// electron-vite turns `import p from './x?modulePath'` into the path of a separately built chunk
// (main forks the trainer from it); under vitest it is the path of the TypeScript source.
const modulePath: Plugin = {
  name: 'lenet:module-path',
  enforce: 'pre',
  resolveId(id, importer) {
    if (!id.endsWith('?modulePath') || !importer) return null;
    return `\0module-path:${resolve(dirname(importer), id.slice(0, -'?modulePath'.length))}.ts`;
  },
  load(id) {
    return id.startsWith('\0module-path:') ? `export default ${JSON.stringify(id.slice('\0module-path:'.length))};` : null;
  },
};

// Two projects: everything with the WebAssembly SIMD kernels (what users run), and the engine
// tests again with the plain TypeScript kernels, so "fast kernels off" stays correct too.
export default defineConfig({
  plugins: [modulePath],
  resolve: { alias: ALIASES },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/setup/build-wasm.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'wasm',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**'],
          setupFiles: ['test/setup/project-kernels.ts'],
          env: { LENET_KERNELS: 'wasm' },
        },
      },
      {
        extends: true,
        test: {
          name: 'js',
          include: ['test/engine/**/*.test.ts'],
          exclude: ['test/engine/formats/**'],
          setupFiles: ['test/setup/project-kernels.ts'],
          env: { LENET_KERNELS: 'js' },
        },
      },
    ],
  },
});
