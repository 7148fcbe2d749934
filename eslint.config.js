// Lint: typescript-eslint's recommended rules, eslint-plugin-vue's recommended rules for the .vue
// files, and the import boundaries of DESIGN.md, for .ts and .vue alike:
//   engine   imports only engine (pure: no Node, no Electron)
//   common   imports common and engine (the app's contract, pure as well)
//   node     imports engine, common, node (shared by main, the trainer and the CLI: no Electron)
//   main     imports engine, common, node, main, and electron
//   preload  imports common and electron only (sandboxed: no Node)
//   renderer imports engine, common, renderer (sandboxed: no Node, no Electron)
// Which file an import lands in is decided by resolving it (relative paths and the @common/@engine
// aliases alike, through the tsconfig paths), so `components/common/…` is not mistaken for src/common.
// Prettier owns formatting: eslint-config-prettier comes last and turns the formatting rules off.
// Only the AssemblyScript sources (src/engine/kernels/wasm/*.as.ts) are not linted; the TypeScript beside them is engine code.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import eslintConfigPrettier from 'eslint-config-prettier/flat';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import pluginVue from 'eslint-plugin-vue';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Bare names here; the `node:` forms are caught by a pattern.
const NODE_BUILTINS = builtinModules.filter((name) => !name.startsWith('node:'));

const LAYERS = ['engine', 'common', 'node', 'main', 'preload', 'renderer'];

// Per layer: the layers it may import (itself included), whether it may import Node's built-in
// modules and `electron`, and the reason given when it imports something else.
const RULES = {
  engine: { allows: ['engine'], node: false, electron: false, why: 'src/engine is pure and imports only src/engine' },
  common: {
    allows: ['common', 'engine'],
    node: false,
    electron: false,
    why: "src/common is the app's pure contract and imports only src/common and src/engine",
  },
  node: {
    allows: ['engine', 'common', 'node'],
    node: true,
    electron: false,
    why: 'src/node is shared by main, the trainer and the CLI: it imports only src/engine, src/common and src/node, and never Electron',
  },
  main: {
    allows: ['engine', 'common', 'node', 'main'],
    node: true,
    electron: true,
    why: 'src/main imports only src/engine, src/common, src/node, src/main and electron',
  },
  preload: { allows: ['common', 'preload'], node: false, electron: true, why: 'src/preload is sandboxed: it imports only src/common and electron' },
  renderer: {
    allows: ['engine', 'common', 'renderer'],
    node: false,
    electron: false,
    why: 'src/renderer is sandboxed: it imports only src/engine, src/common and src/renderer',
  },
};

/** Every layering error carries this, so that a test (or a reader) can tell them apart. */
const layering = (layer) => `Layering (DESIGN.md): ${RULES[layer].why}.`;

const SOURCES = ['ts', 'mts', 'cts', 'js', 'mjs', 'vue'];
const filesOf = (layer) => SOURCES.map((ext) => `src/${layer}/**/*.${ext}`);

const layerConfigs = LAYERS.map((layer) => {
  const rule = RULES[layer];
  const paths = [];
  if (!rule.node) paths.push(...NODE_BUILTINS.map((name) => ({ name, message: `${layering(layer)} No Node built-in modules.` })));
  if (!rule.electron) paths.push({ name: 'electron', message: `${layering(layer)} No Electron.` });
  const patterns = [];
  if (!rule.node) patterns.push({ group: ['node:*'], message: `${layering(layer)} No Node built-in modules.` });
  if (!rule.electron) patterns.push({ group: ['electron/*'], message: `${layering(layer)} No Electron.` });
  // The aliases resolve only in the renderer and preload builds (electron.vite.config.ts).
  if (layer !== 'renderer' && layer !== 'preload') {
    patterns.push({
      group: ['@common/*', '@engine/*'],
      message: `The @common and @engine aliases exist only in the renderer and preload builds: use a relative path in src/${layer}.`,
    });
  }
  const forbidden = LAYERS.filter((other) => !rule.allows.includes(other));
  return {
    name: `lenet/layers/${layer}`,
    files: filesOf(layer),
    rules: {
      'no-restricted-imports': ['error', { paths, patterns }],
      'import-x/no-restricted-paths': [
        'error',
        { zones: [{ target: `./src/${layer}`, from: forbidden.map((other) => `./src/${other}`), message: `${layering(layer)}` }] },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['src/engine/kernels/wasm/**/*.as.ts', 'out/**', 'dist/**', 'build/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' } },
  },
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      curly: ['error', 'multi-line'],
      eqeqeq: ['error', 'always'],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/**/*.{ts,mts,cts,js,mjs,vue}'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.mts', '.cts', '.js', '.mjs', '.vue'],
      'import-x/resolver-next': [
        createTypeScriptImportResolver({ project: 'tsconfig.json', extensions: ['.ts', '.mts', '.js', '.mjs', '.vue', '.d.ts', '.json'] }),
      ],
    },
  },
  ...layerConfigs,
  {
    files: ['src/engine/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['src/renderer/**/*.{ts,vue}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  eslintConfigPrettier,
);
