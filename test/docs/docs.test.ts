// The docs describe the present: no machine paths, no issue references, few commit hashes or
// dataset fingerprints (history lives in git), and a benchmarks page short enough to read.
// Scans README.md and every .md and .json file under docs/ (SVG charts are not scanned: their
// colours look like hex ids).

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const MAX_HEX_IDS = 12;
const MAX_BENCHMARK_LINES = 200;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

const files = [join(ROOT, 'README.md'), ...walk(join(ROOT, 'docs')).filter((f) => /\.(md|json)$/.test(f))];
const docs = files.map((f) => ({ name: relative(ROOT, f).replaceAll('\\', '/'), text: readFileSync(f, 'utf8') }));

/** "file:line: match" for every match of `re` (global) in the docs. */
function findAll(re: RegExp, pick = (m: RegExpMatchArray) => m[0]): { where: string; value: string }[] {
  const found: { where: string; value: string }[] = [];
  for (const d of docs) {
    d.text.split('\n').forEach((line, i) => {
      for (const m of line.matchAll(re)) found.push({ where: `${d.name}:${i + 1}`, value: pick(m) });
    });
  }
  return found;
}

// Paths of a particular machine: home folders, the build machine's checkout, temp files, drives.
export const MACHINE_PATH = /(?<![\w.~/-])\/(?:work|root|home|tmp)\/|\b[A-Z]:\\/g;
// Commit hashes and dataset fingerprints: 7–40 lowercase hex digits with at least one digit and one
// letter, word-bounded (so plain numbers and words like "decade" or "facade" do not count).
export const HEX_ID = /\b(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b/g;
// "issue 3", "issues 3 and 4", "#12" (not "&#12;" entities, not colours like #1f77b4, not "C#1").
export const ISSUE_REF = /\bissues?\s+#?\d+|(?<![\w&#])#\d+\b/gi;

describe('docs', () => {
  it('finds the docs', () => {
    expect(docs.map((d) => d.name)).toContain('README.md');
    expect(docs.some((d) => d.name.startsWith('docs/'))).toBe(true);
  });

  it('name no machine paths', () => {
    expect(findAll(MACHINE_PATH).map((f) => `${f.where}: ${f.value}`)).toEqual([]);
  });

  it(`hold at most ${MAX_HEX_IDS} distinct hex ids (commits and fingerprints together)`, () => {
    const found = findAll(HEX_ID);
    const ids = [...new Set(found.map((f) => f.value))];
    const where = ids.map(
      (id) =>
        `${id} (${found
          .filter((f) => f.value === id)
          .map((f) => f.where)
          .join(', ')})`,
    );
    expect(ids.length, `distinct hex ids:\n${where.join('\n')}`).toBeLessThanOrEqual(MAX_HEX_IDS);
  });

  it('reference no issues by number', () => {
    expect(findAll(ISSUE_REF).map((f) => `${f.where}: ${f.value}`)).toEqual([]);
  });

  it(`keep docs/benchmarks.md under ${MAX_BENCHMARK_LINES} lines`, () => {
    const bench = docs.find((d) => d.name === 'docs/benchmarks.md');
    expect(bench, 'docs/benchmarks.md exists').toBeDefined();
    expect(bench!.text.trimEnd().split('\n').length).toBeLessThan(MAX_BENCHMARK_LINES);
  });
});

describe('the docs checks themselves', () => {
  const matches = (re: RegExp, s: string): string[] => [...s.matchAll(re)].map((m) => m[0]);
  it('tell hex ids from numbers, words and colours', () => {
    expect(matches(HEX_ID, 'commit c88ae7a, fingerprint b2d8f5bf39174ee5')).toEqual(['c88ae7a', 'b2d8f5bf39174ee5']);
    expect(matches(HEX_ID, '1234567 images, a decade, a facade, deadbeef, 0.0001234, 12,345,678')).toEqual([]);
    expect(matches(HEX_ID, `${'c88ae7a1'.repeat(5)}c is too long for a commit`)).toEqual([]);
  });
  it('find issue references but not headings, entities or colours', () => {
    expect(matches(ISSUE_REF, "issue 3's targets; see #12; Issues #4")).toEqual(['issue 3', '#12', 'Issues #4']);
    expect(matches(ISSUE_REF, '# Heading\n&#12; colour #1f77b4, an issue with 3 threads, C#1')).toEqual([]);
  });
  it('find machine paths', () => {
    expect(matches(MACHINE_PATH, 'in /work/main, /root/x, /home/u, /tmp/y, C:\\Users')).toHaveLength(5);
    expect(matches(MACHINE_PATH, '~/datasets/mnist, runs/<id>/, src/node/tmp/x')).toEqual([]);
  });
});
