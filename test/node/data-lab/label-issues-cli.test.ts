// The label-issue finder end to end, test-sized: 6,000 real MNIST digits with 60 labels flipped on
// purpose; 2 folds of 1 epoch must rank most of the flipped images near the top. Then the cache
// answers the same question at once, and bad options fail in one line.

import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../src/engine/rng';
import { writeFileAtomic } from '../../../src/node/files';
import { assignFolds } from '../../../src/node/data-lab/label-issues';
import { runCli } from '../../helpers/cli';
import { mnistSubset } from '../../helpers/mnist-subset';

const N = 6000;
const FLIPS = 60;
let root: string;
let data: string;
let cache: string;
const flipped = new Set<number>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-label-issues-'));
  data = join(root, 'data');
  cache = join(root, 'cache');
  const src = await mnistSubset(N, 100);
  await writeFileAtomic(join(root, '.keep'), '');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(data);
  for (const f of await readdir(src)) if (!f.startsWith('train-labels')) await copyFile(join(src, f), join(data, f));
  const labels = new Uint8Array(await readFile(join(src, 'train-labels-idx1-ubyte')));
  const rng = new Rng(77);
  while (flipped.size < FLIPS) {
    const i = rng.int(N);
    if (flipped.has(i)) continue;
    flipped.add(i);
    labels[8 + i] = (labels[8 + i] + 1 + rng.int(9)) % 10;
  }
  await writeFileAtomic(join(data, 'train-labels-idx1-ubyte'), labels);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('data-lab label-issues', () => {
  it('ranks deliberately flipped labels near the top, in the documented JSON shape, and caches the probabilities', async () => {
    const args = ['label-issues', '--data', data, '--folds', '2', '--epochs', '1', '--threads', '2', '--cache', cache, '--json'];
    const run = await runCli('data-lab', args, { timeout: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { issues: { index: number; label: number; suggested: number; score: number }[] };
    expect(Object.keys(out)).toEqual(['issues']);
    expect(out.issues).toHaveLength(1000);
    for (const x of out.issues) {
      expect(Object.keys(x)).toEqual(['index', 'label', 'suggested', 'score']);
      expect(Number.isInteger(x.index) && x.index >= 0 && x.index < N).toBe(true);
      expect(x.score).toBeGreaterThanOrEqual(0);
      expect(x.score).toBeLessThanOrEqual(1);
    }
    // most suspicious first
    for (let r = 1; r < out.issues.length; r++) expect(out.issues[r].score).toBeLessThanOrEqual(out.issues[r - 1].score);
    expect(new Set(out.issues.map((x) => x.index)).size).toBe(1000);
    // at test size (3,000 training images per fold, one epoch) the top 60 should hold at least half
    // the 60 flips, the top 120 at least 80 %; chance would put 1 % there
    const inTop = (k: number): number => out.issues.slice(0, k).filter((x) => flipped.has(x.index)).length;
    expect(inTop(FLIPS)).toBeGreaterThanOrEqual(FLIPS * 0.5);
    expect(inTop(2 * FLIPS)).toBeGreaterThanOrEqual(FLIPS * 0.8);
    const files = await readdir(cache);
    expect(files.filter((f) => f.endsWith('.bin'))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith('.tmp'))).toHaveLength(0);

    // the same settings again: from the cache, the same ranking
    const t0 = performance.now();
    const again = await runCli('data-lab', [...args.slice(0, -1), '--top', '5', '--json'], { timeout: 60_000 });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).issues).toEqual(out.issues.slice(0, 5));
    expect(performance.now() - t0).toBeLessThan(20_000);
  }, 180_000);

  it('refuses bad options in one line with exit status 2, and a missing folder with 1', async () => {
    for (const [args, msg] of [
      [['label-issues', '--folds', '1'], /--folds must be a whole number from 2 to 20, got "1"/],
      [['label-issues', '--preset', 'nope'], /unknown preset "nope"/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ] as const) {
      const r = await runCli('data-lab', args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    }
    const r = await runCli('data-lab', ['label-issues', '--data', join(root, 'missing'), '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^data-lab: --data: the folder .* does not exist\n$/);
  }, 120_000);
});

describe('assignFolds', () => {
  it('deals every image to one fold, sizes differing by at most one, seeded', () => {
    const f = assignFolds(10, 3, 5);
    const sizes = [0, 0, 0];
    for (const x of f) sizes[x]++;
    expect(sizes.sort()).toEqual([3, 3, 4]);
    expect(Array.from(assignFolds(10, 3, 5))).toEqual(Array.from(f));
    expect(Array.from(assignFolds(10, 3, 6))).not.toEqual(Array.from(f));
  });
});
