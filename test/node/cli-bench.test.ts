// `npm run bench -- --augment`: each plain row gets a row trained with the default distortions
// beside it, with the plain row's inference figure, and the text ends with the median share of
// plain speed. A tiny configuration: the figures are not checked, only what the rows say.

import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli';

const TINY = ['--presets', 'lenet5-relu-ce', '--batches', '8,16', '--threads', '1', '--seconds', '0.05'];

describe('npm run bench -- --augment', () => {
  it('--json: a plain and an augmented row for every preset × batch × threads, inference shared', async () => {
    const r = await runCli('bench', [...TINY, '--augment', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { results } = JSON.parse(r.stdout) as { results: { batch: number; augment: boolean; trainImagesPerSecond: number; evalImagesPerSecond: number }[] };
    expect(results.map((x) => [x.batch, x.augment])).toEqual([
      [8, false],
      [8, true],
      [16, false],
      [16, true],
    ]);
    for (const x of results) expect(x.trainImagesPerSecond).toBeGreaterThan(0);
    expect(results[1].evalImagesPerSecond).toBe(results[0].evalImagesPerSecond);
    expect(results[3].evalImagesPerSecond).toBe(results[2].evalImagesPerSecond);
  }, 60_000);

  it('text: the augmented rows are marked, and the last line gives the median share of plain speed', async () => {
    const r = await runCli('bench', [...TINY, '--augment']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('lenet5-relu-ce +augment'))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/^with distortions, training keeps \d+ % of its plain speed \(median over 2 rows\)$/);
    const plain = await runCli('bench', [...TINY, '--json']);
    expect(JSON.parse(plain.stdout).results.map((x: { augment: boolean }) => x.augment)).toEqual([false, false]);
  }, 60_000);
});
