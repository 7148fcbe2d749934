// `npm run health -- RUN_DIR [--json]` on run folders the CLI trains: one entry per epoch, the
// histogram counts of every parameterised layer add up to its free parameters (counted here from
// the spec), every ReLU layer has a dead fraction in [0, 1]; a healthy run raises no dead,
// saturated or exploding flag and a learning rate 1,000× too small raises the update-ratio one.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/cli';
import { mnistSubset } from '../helpers/mnist-subset';

let root: string;
let data: string;

const cli = (script: string, args: string[]): Promise<CliRun> => runCli(script, args);

interface Stats {
  count: number;
  histogram: { edges: number[]; counts: number[] };
}
interface Report {
  epochs: {
    epoch: number;
    layers: {
      name: string;
      kind: string;
      fn?: string;
      weight?: Stats;
      bias?: Stats;
      grad?: Stats & { norm: number };
      updateToWeight?: number;
      deadFraction?: number;
    }[];
  }[];
  flags: { epoch: number; layer: string | null; kind: string; message: string }[];
}

// LeNet-5's free parameters per layer, from the architecture: conv2 reads 60 of the 96 (input,
// output) map pairs of LeCun's table, 60 × 5 × 5 = 1,500 weights.
const FREE: Record<string, number> = { conv1: 6 * 25 + 6, conv2: 1500 + 16, fc1: 400 * 120 + 120, fc2: 120 * 84 + 84, fc3: 84 * 10 + 10 };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-cli-health-'));
  data = await mnistSubset(3000, 300);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('npm run health', () => {
  it('a healthy run: one entry per epoch, histograms over the free parameters, no dead/saturated/exploding flag', async () => {
    // The preset's own settings (batch 32, lr 0.02, momentum 0.9, cosine) on 3,000 images, 2 epochs: a
    // run that trains well (checked below), so any of those flags would be a false alarm.
    const dir = join(root, 'healthy');
    const t = await cli('train', ['--preset', 'lenet5-relu-ce', '--data', data, '--epochs', '2', '--threads', '1', '--run-dir', dir, '--json']);
    expect(t.code, t.stderr).toBe(0);
    expect((JSON.parse(t.stdout.trim().split('\n')[1]) as { testAccuracy: number }).testAccuracy).toBeGreaterThan(0.8);
    const r = await cli('health', [dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    for (const e of report.epochs) {
      const withParams = e.layers.filter((l) => l.weight);
      expect(withParams.map((l) => l.name)).toEqual(Object.keys(FREE));
      for (const l of withParams) {
        const sum = (s: Stats): number => s.histogram.counts.reduce((a, c) => a + c, 0);
        expect(sum(l.weight!) + sum(l.bias!), l.name).toBe(FREE[l.name]);
        expect(l.weight!.histogram.edges).toHaveLength(65);
        expect(l.weight!.histogram.counts).toHaveLength(64);
        expect(l.grad!.norm).toBeGreaterThan(0);
        expect(l.updateToWeight).toBeGreaterThan(0);
      }
      const relus = e.layers.filter((l) => l.fn === 'relu');
      expect(relus).toHaveLength(4);
      for (const l of relus) {
        expect(l.deadFraction).toBeGreaterThanOrEqual(0);
        expect(l.deadFraction).toBeLessThanOrEqual(1);
      }
    }
    expect(report.flags.filter((f) => ['dead-relu', 'saturated', 'exploding-gradient'].includes(f.kind))).toEqual([]);

    const table = await cli('health', [dir]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^epoch 1 \(\d+ steps\)\nlayer +kind/);
    expect(table.stdout).toMatch(/^conv2 +conv2d +\S+ ± \S+/m);
    expect(table.stdout).toMatch(/^act1 +activation relu .*% dead$/m);
  });

  it('a learning rate far too small raises the update-ratio flag for every parameterised layer', async () => {
    // lr 1e-5, no momentum: each step moves the weights by ~1e-7 of their size, four orders
    // under ~1e-3 (the ratio scales with the learning rate, so this holds for any seed).
    const dir = join(root, 'tiny-lr');
    const t = await cli('train', [
      '--preset',
      'lenet5-relu-ce',
      '--data',
      data,
      '--limit',
      '1000',
      '--epochs',
      '1',
      '--lr',
      '0.00001',
      '--momentum',
      '0',
      '--run-dir',
      dir,
    ]);
    expect(t.code, t.stderr).toBe(0);
    const report = JSON.parse((await cli('health', [dir, '--json'])).stdout) as Report;
    const flagged = report.flags.filter((f) => f.kind === 'update-ratio');
    expect(flagged.map((f) => f.layer)).toEqual(Object.keys(FREE));
    expect(flagged[0].message).toMatch(/too small/);
  });

  it('says what is wrong in one line: no folder (1), not a run folder (1), no argument or a bad flag (2)', async () => {
    const missing = await cli('health', [join(root, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`health: run folder ${join(root, 'nope')} does not exist\n`);
    const empty = await cli('health', [root]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/^health: .*health\.json is missing: the run recorded no layer health/);
    expect(empty.stderr.trim().split('\n')).toHaveLength(1);
    const none = await cli('health', []);
    expect(none.code).toBe(2);
    expect(none.stderr.split('\n')[0]).toBe('health: name the run folder');
    const bogus = await cli('health', [root, '--bogus']);
    expect(bogus.code).toBe(2);
  });
});
