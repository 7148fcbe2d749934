import { defineConfig } from 'vitest/config';

// Two projects: everything with the WebAssembly SIMD kernels (what users run), and the engine
// tests again with the plain TypeScript kernels, so "fast kernels off" stays correct too.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/setup/build-wasm.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'wasm', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**'], setupFiles: ['test/setup/kernels.ts'], env: { LENET_KERNELS: 'wasm' } },
      },
      {
        extends: true,
        test: { name: 'js', include: ['test/engine/**/*.test.ts'], exclude: ['test/engine/formats/**'], setupFiles: ['test/setup/kernels.ts'], env: { LENET_KERNELS: 'js' } },
      },
    ],
  },
});
