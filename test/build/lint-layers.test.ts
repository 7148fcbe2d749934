// The import boundaries of DESIGN.md, as eslint.config.js enforces them: ESLint is run on small
// made-up files placed (virtually, through lintText's filePath) in each layer, importing a real
// file of every other layer by relative path and by the @common/@engine aliases, Node built-ins
// and electron. Every forbidden import must be an error that says it is a layering rule; every
// allowed one must lint clean. And .vue files are linted at all: the boundaries and the Vue rules.

import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LAYERING = 'Layering (DESIGN.md)';

type Layer = 'engine' | 'common' | 'node' | 'main' | 'preload' | 'renderer';
const LAYERS: Layer[] = ['engine', 'common', 'node', 'main', 'preload', 'renderer'];

// Who may import whom (each layer may import itself), Node built-ins and electron.
const ALLOWED: Record<Layer, { layers: Layer[]; builtins: boolean; electron: boolean }> = {
  engine: { layers: ['engine'], builtins: false, electron: false },
  common: { layers: ['common', 'engine'], builtins: false, electron: false },
  node: { layers: ['engine', 'common', 'node'], builtins: true, electron: false },
  main: { layers: ['engine', 'common', 'node', 'main'], builtins: true, electron: true },
  preload: { layers: ['common', 'preload'], builtins: false, electron: true },
  renderer: { layers: ['engine', 'common', 'renderer'], builtins: false, electron: false },
};

/** Where a layer's sources live, and where the made-up file is put. */
const DIR: Record<Layer, string> = {
  engine: 'src/engine',
  common: 'src/common',
  node: 'src/node',
  main: 'src/main',
  preload: 'src/preload',
  renderer: 'src/renderer/src/lib',
};
const probe = (layer: Layer, ext = 'ts'): string => join(ROOT, DIR[layer], ext === 'vue' ? 'LintProbe.vue' : `__lint_probe__.${ext}`);

/** A real module of the layer (the resolver must find it): its first .ts file that is not a .d.ts. */
function target(layer: Layer): string {
  const file = readdirSync(join(ROOT, DIR[layer]))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort()[0];
  if (!file) throw new Error(`no .ts file in ${DIR[layer]}`);
  return join(ROOT, DIR[layer], file.replace(/\.ts$/, ''));
}

function relativeImport(from: string, to: string): string {
  const path = relative(join(from, '..'), to).split('\\').join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

interface Case {
  specifier: string;
  allowed: boolean;
  /** What a forbidden import's message must contain. */
  expect?: string;
}

function cases(layer: Layer, file: string): Case[] {
  const rule = ALLOWED[layer];
  const out: Case[] = LAYERS.map((other) => ({ specifier: relativeImport(file, target(other)), allowed: rule.layers.includes(other) }));
  // The aliases are the renderer's and the preload's way to the contract and the engine; elsewhere
  // they do not resolve at build time, so they are an error whatever they point at.
  const aliasesWork = layer === 'renderer' || layer === 'preload';
  out.push({ specifier: '@common/records', allowed: aliasesWork && rule.layers.includes('common') });
  out.push({ specifier: '@engine/tensor', allowed: aliasesWork && rule.layers.includes('engine') });
  for (const builtin of ['node:fs', 'fs', 'fs/promises', 'node:path', 'worker_threads', 'node:child_process']) out.push({ specifier: builtin, allowed: rule.builtins });
  out.push({ specifier: 'electron', allowed: rule.electron });
  // Packages are not layers: always fine.
  out.push({ specifier: 'protobufjs', allowed: true });
  for (const c of out) if (!c.allowed) c.expect = c.specifier.startsWith('@') && !aliasesWork ? 'aliases exist only' : LAYERING;
  return out;
}

/** One import per line, each bound to a used name, so that only the import rules can complain. */
function source(list: Case[], vue: boolean): string {
  // <script setup> may not export: there the template uses the names.
  return list.map((c, i) => `import * as m${i} from '${c.specifier}';`).join('\n') + `\n${vue ? '' : 'export '}const all = [${list.map((_, i) => `m${i}`).join(', ')}];\n`;
}

let eslint: ESLint;
async function lint(code: string, filePath: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages;
}

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

describe('layer boundaries (eslint.config.js)', () => {
  for (const layer of LAYERS) {
    for (const ext of layer === 'renderer' ? ['ts', 'vue'] : ['ts']) {
      it(`src/${layer} (.${ext}): forbidden imports are layering errors, allowed ones lint clean`, async () => {
        const file = probe(layer, ext);
        const list = cases(layer, file);
        const script = source(list, ext === 'vue');
        const code = ext === 'vue' ? `<script setup lang="ts">\n${script}</script>\n\n<template>\n  <p>{{ all.length }}</p>\n</template>\n` : script;
        const offset = ext === 'vue' ? 1 : 0;
        const messages = await lint(code, file);
        for (const m of messages) expect(m.fatal ?? false, m.message).toBe(false);
        list.forEach((c, i) => {
          const onLine = messages.filter((m) => m.line === i + 1 + offset);
          if (c.allowed) {
            expect(onLine.map((m) => `${m.ruleId}: ${m.message}`), `src/${layer} may import ${c.specifier}`).toEqual([]);
          } else {
            expect(onLine.length, `src/${layer} must not import ${c.specifier}`).toBeGreaterThan(0);
            for (const m of onLine) {
              expect(m.severity, `${c.specifier}: ${m.message}`).toBe(2);
              expect(m.message, c.specifier).toMatch(/^(.* )?(Layering \(DESIGN\.md\)|The @common and @engine aliases exist only)/);
            }
            expect(
              onLine.map((m) => m.message),
              c.specifier,
            ).toContainEqual(expect.stringContaining(c.expect!));
          }
        });
        // Nothing else complains: every message is on a forbidden import's line.
        const forbiddenLines = new Set(list.flatMap((c, i) => (c.allowed ? [] : [i + 1 + offset])));
        expect(messages.filter((m) => !forbiddenLines.has(m.line)).map((m) => `${m.line} ${m.ruleId}: ${m.message}`)).toEqual([]);
      });
    }
  }

  it('names the layer and what it may import in the message', async () => {
    const file = probe('renderer');
    const messages = await lint(`import * as f from '${relativeImport(file, join(ROOT, 'src/node/files'))}';\nexport { f };\n`, file);
    expect(messages.map((m) => m.message)).toEqual([expect.stringMatching(/Layering \(DESIGN\.md\): src\/renderer .*imports only src\/engine, src\/common and src\/renderer/)]);
  });

  it('catches type-only imports, re-exports and dynamic imports too', async () => {
    const file = probe('renderer');
    const preload = relativeImport(file, target('preload'));
    const node = relativeImport(file, target('node'));
    const code = `import type { X } from '${preload}';\nexport * from '${node}';\nexport const later = () => import('${node}');\nexport type { X };\n`;
    const messages = await lint(code, file);
    expect([...new Set(messages.filter((m) => m.message.includes(LAYERING)).map((m) => m.line))]).toEqual([1, 2, 3]);
  });

  it('is not fooled by a renderer folder that shares a layer name (components/common)', async () => {
    const file = join(ROOT, 'src/renderer/src/components/train/LintProbe.vue');
    const messages = await lint(
      `<script setup lang="ts">\nimport * as c from '../common/StatePanel.vue';\nconst all = [c];\n</script>\n\n<template>\n  <p>{{ all.length }}</p>\n</template>\n`,
      file,
    );
    expect(messages).toEqual([]);
  });
});

describe('.vue files are linted', () => {
  it('with the layering rule and the Vue rules', async () => {
    const file = join(ROOT, 'src/renderer/src/components/train/LintProbe.vue');
    const code = [
      '<script setup lang="ts">',
      "import { readFile } from '../../../../node/files';",
      'defineProps<{ items: number[] }>();',
      'const r = readFile;',
      '</script>',
      '',
      '<template>',
      '  <ul>',
      '    <li v-for="(item, index) in items">{{ item }}{{ r }}</li>',
      '  </ul>',
      '</template>',
      '',
    ].join('\n');
    const rules = (await lint(code, file)).map((m) => `${m.line} ${m.ruleId}`);
    expect(rules).toContain('2 import-x/no-restricted-paths');
    expect(rules).toContain('9 vue/require-v-for-key');
    expect(rules).toContain('9 vue/no-unused-vars');
  });

  it('with TypeScript in <script lang="ts">', async () => {
    const file = join(ROOT, 'src/renderer/src/components/train/LintProbe.vue');
    const code = '<script setup lang="ts">\nconst unused: number = 1;\n</script>\n\n<template>\n  <p>hi</p>\n</template>\n';
    const messages = await lint(code, file);
    expect(messages.map((m) => m.ruleId)).toEqual(['@typescript-eslint/no-unused-vars']);
  });
});
