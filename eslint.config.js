// Lint: typescript-eslint's recommended rules, plus the import boundaries of DESIGN.md:
// engine ← node ← main; the renderer imports the engine and only types from the preload.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['node:*', 'fs', 'fs/*', 'path', 'os', 'zlib', 'crypto', 'child_process', 'worker_threads', 'util', 'stream'];

export default tseslint.config(
  { ignores: ['src/engine/kernels/wasm/**', 'out/**', 'dist/**', 'build/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
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
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: NODE_BUILTINS, message: 'src/engine is pure: no Node modules (bytes in, typed errors out).' },
            { group: ['electron', '**/node/**', '**/main/**', '**/renderer/**', '**/preload/**'], message: 'src/engine imports only src/engine.' },
          ],
        },
      ],
      'no-console': 'error',
    },
  },
  {
    files: ['src/node/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['electron', '**/main/**', '**/renderer/**'], message: 'src/node is shared by main, trainer and CLI: no Electron.' }] },
      ],
    },
  },
  {
    files: ['src/renderer/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: [...NODE_BUILTINS, 'electron', '**/node/**', '**/main/**'], message: 'The renderer is sandboxed: engine code and preload types only.' },
          ],
        },
      ],
    },
  },
);
