// The seed-study runner: a tiny configuration (2 presets, --limit 300, 1 epoch) through the real
// CLI leaves run folders the app can list and open, a report whose table matches the runs, and
// SVG charts with one line per run; the report's numbers are computed as documented.

import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/cli';
import type { EpochMetrics } from '../../src/common/records';
import { summarise, studySettings, type RunResult, type StudyResult } from '../../src/node/experiments/seed-study';
import { escapeXml, logTicks, niceTicks, renderLineChart } from '../../src/node/experiments/svg';
import { listRuns, readRunConfig, readRunDetail } from '../../src/node/runs/folder';
import { readRunModel } from '../../src/node/runs/checkpoint';
import { mnistSubset } from '../helpers/mnist-subset';

const experiments = (args: string[]): Promise<CliRun> => runCli('experiments', args);

let tmp: string;
let data: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lenet-study-'));
  data = await mnistSubset(400, 200);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('npm run experiments -- seed-study (tiny configuration)', () => {
  it('keeps every run as a run folder and writes report.md, results.json and two SVG charts', async () => {
    const out = join(tmp, 'study');
    const presets = ['lenet5-relu-ce', 'mlp-500-150'];
    const r = await experiments([
      'seed-study',
      '--presets',
      presets.join(','),
      '--limit',
      '300',
      '--epochs',
      '1',
      '--threads',
      '1',
      '--data',
      data,
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    // Progress on stderr names the run and the epoch.
    expect(r.stderr).toMatch(/\[1\/2\] lenet5-relu-ce epoch 1\/1/);
    expect(r.stderr).toMatch(/\[2\/2\] mlp-500-150 epoch 1\/1/);

    // The app lists the folder's runs (File → Open Runs… reads it the same way) and opens each.
    const runs = await listRuns(out);
    expect(runs.map((x) => x.preset).sort()).toEqual([...presets].sort());
    for (const run of runs) {
      expect(run.status).toBe('done');
      expect(run.epochsDone).toBe(1);
      const dir = join(out, run.id);
      const detail = await readRunDetail(dir);
      expect(detail.epochs).toHaveLength(1);
      expect(detail.epochs[0].validationAccuracy).toBeTypeOf('number');
      const config = await readRunConfig(dir);
      expect(config.limit).toBe(300);
      expect(config.settings.seed).toBe(1);
      expect(config.trainCount + config.validation).toBe(300);
      expect(await readRunModel(dir, 'best')).not.toBeNull();
    }

    const files = await readdir(out);
    for (const f of ['report.md', 'results.json', 'test-error.svg', 'train-loss.svg']) expect(files).toContain(f);

    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as StudyResult;
    expect(results.runs.map((x) => x.preset)).toEqual(presets);
    expect(results.command).toContain('seed-study');
    expect(results.commit).not.toBe('');

    // The table has one row per run, and the row's test error is the run's own final metric.
    const report = await readFile(join(out, 'report.md'), 'utf8');
    for (const res of results.runs) {
      const detail = await readRunDetail(join(out, res.runId));
      const testErr = `${(100 * (1 - detail.epochs[0].testAccuracy)).toFixed(2)} %`;
      const row = report.split('\n').find((l) => l.startsWith(`| \`${res.preset}\``));
      expect(row, `row for ${res.preset}`).toBeDefined();
      expect(row).toContain(testErr);
    }
    expect(report).toContain('best epoch (val)');
    expect(report).toContain('Seed 1 for every run; augmentation none.');
    expect(report).toContain('![test error per epoch](test-error.svg)');

    for (const svgFile of ['test-error.svg', 'train-loss.svg']) {
      const svg = await readFile(join(out, svgFile), 'utf8');
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      for (const p of presets) expect(svg).toContain(`>${p}</text>`);
      // One epoch per run: each run is a single marked point.
      expect(svg.match(/<circle /g)).toHaveLength(2);
    }
    // The table goes to stdout.
    expect(r.stdout).toContain('| `mlp-500-150` |');

    // merge: one report from this folder and a second study (here: the same runs marked as
    // augmented), runs in the seed's order, both commands recorded.
    const other = join(tmp, 'other');
    await mkdir(other);
    const second: StudyResult = {
      ...results,
      command: 'npm run experiments -- seed-study --augment',
      runs: results.runs.map((x) => ({ ...x, augment: { shift: 2, rotateDeg: 10, scale: 0.1 } })),
    };
    await writeFile(join(other, 'results.json'), JSON.stringify(second));
    const merged = join(tmp, 'merged');
    const mr = await experiments(['merge', '--out', merged, out, other]);
    expect(mr.code, mr.stderr).toBe(0);
    const m = JSON.parse(await readFile(join(merged, 'results.json'), 'utf8')) as StudyResult;
    expect(m.runs.map((x) => `${x.preset}${x.augment ? '+' : ''}`)).toEqual(['lenet5-relu-ce', 'lenet5-relu-ce+', 'mlp-500-150', 'mlp-500-150+']);
    const mreport = await readFile(join(merged, 'report.md'), 'utf8');
    expect(mreport).toContain('- Commands:');
    expect(mreport).toContain('`npm run experiments -- seed-study --augment`');
    expect(mreport).toContain('| `lenet5-relu-ce + augmentation` |');
    expect(mreport).toContain('Seed 1 for every run; augmentation as listed per run under Settings.');
    expect(await readFile(join(merged, 'test-error.svg'), 'utf8')).toContain('>mlp-500-150 + augmentation</text>');
    const bad = await experiments(['merge', '--out', merged, join(tmp, 'nowhere')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/results\.json: not found/);
  });

  it('refuses an unknown preset or experiment with exit status 2 and a pointer to --help', async () => {
    const a = await experiments(['seed-study', '--presets', 'lenet5-relu-ce,lenet9']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown preset "lenet9"/);
    expect(a.stderr).toMatch(/--help/);
    const b = await experiments(['seed-sutdy']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/unknown experiment "seed-sutdy"; choose seed-study, merge, seeds, sweep or export/);
    const h = await experiments(['seed-study', '--help']);
    expect(h.code).toBe(0);
    for (const flag of ['--epochs', '--presets', '--limit', '--out', '--threads', '--augment']) expect(h.stdout).toContain(flag);
  });
});

describe('summarise', () => {
  const m = (epoch: number, test: number, val: number, seconds = 10): EpochMetrics => ({
    epoch,
    trainLoss: 1 / epoch,
    trainAccuracy: 0.9,
    testLoss: 0,
    testAccuracy: test,
    validationAccuracy: val,
    seconds,
    imagesPerSecond: 1000,
    lr: 0.1,
  });
  const base: Pick<RunResult, 'preset' | 'runId' | 'settings' | 'augment' | 'trainCount' | 'validationCount'> = {
    preset: 'lenet5-relu-ce',
    runId: 'x',
    settings: studySettings('lenet5-relu-ce', { seed: 1 }),
    augment: null,
    trainCount: 10_000,
    validationCount: 1000,
  };

  it('picks the best epoch by validation, not test, and times the first epoch at 99 % test accuracy', () => {
    // Test peaks at epoch 4, validation at epoch 3: the report must say 3.
    const h = [m(1, 0.97, 0.96, 12), m(2, 0.991, 0.98, 10), m(3, 0.989, 0.99, 10), m(4, 0.995, 0.985, 8)];
    const r = summarise(base, h, { status: 'done', finalTrainError: 0.001 });
    expect(r.bestEpoch).toBe(3);
    expect(r.testErrorAtBest).toBeCloseTo(0.011, 10);
    expect(r.bestValidationError).toBeCloseTo(0.01, 10);
    expect(r.finalTestError).toBeCloseTo(0.005, 10);
    expect(r.epochsTo99).toBe(2);
    expect(r.secondsTo99).toBe(22);
    expect(r.secondsPerEpoch).toBe(10);
    expect(r.imagesPerSecond).toBeCloseTo(1000, 6);
  });

  it('leaves "to 99 %" empty when a run never gets there, and the best epoch empty without validation', () => {
    const h = [m(1, 0.9, 0.9), m(2, 0.95, 0.94)].map(({ validationAccuracy: _v, ...rest }) => rest);
    const r = summarise(base, h, { status: 'diverged', reason: 'boom', finalTrainError: null });
    expect(r.epochsTo99).toBeNull();
    expect(r.secondsTo99).toBeNull();
    expect(r.bestEpoch).toBeNull();
    expect(r.status).toBe('diverged');
    expect(r.reason).toBe('boom');
  });

  it('study settings: the preset defaults, 20 epochs for LeNet-5 and the seed’s 30 for the MLP', () => {
    expect(studySettings('lenet5-tanh-mse', { seed: 1 }).epochs).toBe(20);
    const mlp = studySettings('mlp-500-150', { seed: 7 });
    expect(mlp).toMatchObject({ epochs: 30, batchSize: 30, lr: 0.1, momentum: 0, seed: 7 });
    expect(studySettings('lenet5-relu-ce', { seed: 1, epochs: 3, limit: 500 })).toMatchObject({ epochs: 3, limit: 500 });
  });
});

describe('SVG line charts', () => {
  it('ticks are round numbers covering the range', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(1, 20, 10)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    expect(logTicks(0.5, 20)).toEqual([0.5, 1, 2, 5, 10, 20]);
  });

  it('escapes names, draws one path per series with two or more points, and a legend entry each', () => {
    const svg = renderLineChart({
      title: 'a <b> & c',
      xLabel: 'epoch',
      yLabel: 'error',
      logY: true,
      series: [
        {
          name: 'one',
          points: [
            [1, 5],
            [2, 2],
            [3, 1],
          ],
        },
        {
          name: 'two & <three>',
          points: [
            [1, 4],
            [2, Number.NaN],
            [3, 0.5],
          ],
        },
      ],
    });
    expect(svg).toContain(escapeXml('a <b> & c'));
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('>two &amp; &lt;three&gt;</text>');
    // Series one: a path; series two: broken by its NaN into two lone points.
    expect(svg.match(/<path /g)).toHaveLength(1);
    expect(svg.match(/<circle /g)).toHaveLength(2);
  });
});
