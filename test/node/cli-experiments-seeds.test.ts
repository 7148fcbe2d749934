// `npm run experiments -- seeds` and `-- export`: a seed group trained one seed after another,
// its summary checked against the runs' own folders, and every run exported as one table.

import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupDifference } from '../../src/common/stats';
import { parseCsv } from '../../src/engine/formats/csv';
import { listRuns, readRunDetail } from '../../src/node/runs/folder';
import { runCli } from '../helpers/cli';
import { mnistSubset } from '../helpers/mnist-subset';

let dir: string;
let data: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-seeds-'));
  data = await mnistSubset(600, 300);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `experiments seeds` arguments for a two-seed group of a one-epoch run on 360 images, into `out`. */
const tinyGroup = (out: string, ...extra: string[]): string[] => [
  'seeds',
  '--preset',
  'lenet5-relu-ce',
  '--seeds',
  '2',
  '--epochs',
  '1',
  '--batch',
  '20',
  '--limit',
  '360',
  '--data',
  data,
  '--out',
  out,
  ...extra,
];

describe('npm run experiments -- seeds', () => {
  it('trains N seeds into one seed group and reports mean, sample std and a t interval of their own errors', async () => {
    const out = join(dir, 'group');
    const r = await runCli('experiments', tinyGroup(out, '--seed', '5', '--json'));
    expect(r.code, r.stderr).toBe(0);
    const g = JSON.parse(r.stdout);
    expect(g.seeds).toEqual([5, 6]);
    expect(g.settings).toMatchObject({ epochs: 1, batchSize: 20, limit: 360 });
    expect(g.settings.seed).toBeUndefined();
    // Each run's numbers are its folder's: final test error = 1 − last epoch's test accuracy.
    const errors: number[] = [];
    for (const run of g.runs) {
      const d = await readRunDetail(join(out, run.runId));
      expect(d.settings.seed).toBe(run.seed);
      expect(run.finalTestError).toBeCloseTo(1 - d.epochs[d.epochs.length - 1].testAccuracy, 12);
      errors.push(run.finalTestError);
    }
    const [a, b] = errors;
    const mean = (a + b) / 2;
    const std = Math.abs(a - b) / Math.SQRT2; // sample std of two values
    expect(g.finalTestError.n).toBe(2);
    expect(g.finalTestError.mean).toBeCloseTo(mean, 12);
    expect(g.finalTestError.std).toBeCloseTo(std, 12);
    expect(g.finalTestError.ci95[1] - mean).toBeCloseTo((12.7062047 * std) / Math.SQRT2, 6); // t(1) = 12.706
    expect(g.reached99).toBe(0);
    expect(g.epochsTo99).toEqual({ n: 0, mean: null, std: null, ci95: null });
    // The two runs form one seed group in the runs list.
    const listed = await listRuns(out);
    expect(listed).toHaveLength(2);
    expect(listed[0].group).toBe(listed[1].group);
    expect(JSON.parse(await readFile(join(out, 'seeds.json'), 'utf8'))).toEqual(g);

    // export: every run of the folder as one CSV, a row per epoch and per loss-curve point.
    const csv = join(dir, 'all.csv');
    const e = await runCli('experiments', ['export', '--runs', out, '--out', csv]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toBe('');
    const t = parseCsv(await readFile(csv, 'utf8'), csv);
    const epochRows = t.rows.filter((row) => row.cells[t.header.indexOf('series')] === 'epoch');
    expect(epochRows).toHaveLength(2);
    const json = join(dir, 'all.json');
    expect((await runCli('experiments', ['export', '--runs', out, '--out', json, '--format', 'json'])).code).toBe(0);
    expect(
      JSON.parse(await readFile(json, 'utf8'))
        .runs.map((x: { settings: { seed: number } }) => x.settings.seed)
        .sort(),
    ).toEqual([5, 6]);
  }, 120_000);

  it('compare two group folders: the bootstrap interval of their runs’ mean final test error; mixed or thin folders refused', async () => {
    const out = join(dir, 'group'); // the first test's group (seeds 5, 6)
    const out2 = join(dir, 'group-lr');
    const t = await runCli('experiments', tinyGroup(out2, '--lr', '0.002'));
    expect(t.code, t.stderr).toBe(0);
    const errors = async (d: string): Promise<number[]> => (await listRuns(d)).map((r) => 1 - r.finalTestAccuracy!);
    const [ea, eb] = [await errors(out), await errors(out2)];
    const c = await runCli('compare', [out, out2, '--json']);
    expect(c.code, c.stderr).toBe(0);
    const r = JSON.parse(c.stdout);
    const expected = groupDifference(ea, eb);
    expect(r.diff).toBeCloseTo((eb[0] + eb[1]) / 2 - (ea[0] + ea[1]) / 2, 12);
    expect(r.ci95).toEqual(expected.ci95);
    expect(r.groupA.n).toBe(2);
    expect(r.groupA.mean).toBeCloseTo((ea[0] + ea[1]) / 2, 12);
    expect(r.groupA.std).toBeCloseTo(Math.abs(ea[0] - ea[1]) / Math.SQRT2, 12);
    const text = await runCli('compare', [out, out2]);
    expect(text.stdout.trim().split('\n').at(-1)).toBe(expected.text);

    // A folder with runs of both configurations is not a seed group; nor is one with a single run.
    const mixed = join(dir, 'mixed');
    const thin = join(dir, 'thin');
    await Promise.all([mkdir(mixed), mkdir(thin)]);
    const [a1] = (await listRuns(out)).map((x) => x.id);
    const [b1] = (await listRuns(out2)).map((x) => x.id);
    await Promise.all([
      cp(join(out, a1), join(mixed, a1), { recursive: true }),
      cp(join(out2, b1), join(mixed, b1), { recursive: true }),
      cp(join(out, a1), join(thin, a1), { recursive: true }),
    ]);
    const refusals: [string[], RegExp][] = [
      [[mixed, out2], /mixed holds runs that differ by more than the seed/],
      [[out, thin], /thin holds 1 finished run; a seed group needs at least two/],
      [[out, join(out2, 'seeds.json')], /two model files or two seed-group folders, not one of each/],
      [[out, out2, '--data', data], /--data is for two model files/],
    ];
    const gone = await runCli('compare', [out, join(dir, 'nope')]);
    expect([gone.code, gone.stderr]).toEqual([1, `compare: ${join(dir, 'nope')} does not exist\n`]);
    for (const [args, msg] of refusals) {
      const x = await runCli('compare', args);
      expect(x.code, args.join(' ')).toBe(2);
      expect(x.stderr).toMatch(msg);
      expect(x.stdout).toBe('');
    }
  }, 120_000);

  it('bad options: one line and exit 2, before anything is trained', async () => {
    const cases: [string[], RegExp][] = [
      [['seeds', '--seeds', '3', '--out', join(dir, 'x')], /needs --preset/],
      [['seeds', '--preset', 'nope', '--seeds', '3', '--out', join(dir, 'x')], /unknown preset "nope"/],
      [['seeds', '--preset', 'lenet5-relu-ce', '--seeds', '1', '--out', join(dir, 'x')], /--seeds must be an integer in 2\.\.100/],
      [['seeds', '--preset', 'lenet5-relu-ce', '--seeds', '3'], /needs --out/],
      [['seeds', '--preset', 'lenet5-relu-ce', '--seeds', '3', '--lr', '-1', '--out', join(dir, 'x')], /--lr must be/],
      [['export', '--out', join(dir, 'e.csv'), '--format', 'xml'], /--format must be csv or json/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli('experiments', args)));
    runs.forEach((r, i) => {
      expect(r.code, cases[i][0].join(' ')).toBe(2);
      expect(r.stderr).toMatch(cases[i][1]);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(2); // the message and "Try … --help"
      expect(r.stdout).toBe('');
    });
  }, 60_000);
});
