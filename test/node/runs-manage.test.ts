// Runs the user manages: names, notes and tags, hide and archive go through run.json and survive
// a restart (a new Studio on the same folder); delete removes the folder, refuses a run in
// progress and never follows a symbolic link out of the runs folder; export writes every run's
// per-epoch table and loss curve as one CSV or JSON file.

import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/engine/formats/csv';
import { PRESETS } from '../../src/engine/presets';
import type { DatasetInfo, EpochMetrics } from '../../src/common/records';
import { ValidationError } from '../../src/common/schema';
import { buildRunConfig } from '../../src/node/runs/config';
import { createRun, listRuns, writeRunProgress } from '../../src/node/runs/folder';
import { RunFolderError } from '../../src/node/runs/layout';
import { lockRun } from '../../src/node/runs/lock';
import { CSV_COLUMNS, updateRunNotes } from '../../src/node/runs/manage';
import { mnistSubset } from '../helpers/mnist-subset';
import { testStudio } from '../helpers/studio';

const DATASET: DatasetInfo = { path: null, name: 'MNIST (embedded)', trainCount: 60000, testCount: 10000, rows: 28, cols: 28, fingerprint: 'abc' };
const SETTINGS = { epochs: 2, batchSize: 32, lr: 0.01, momentum: 0.9, decay: 0, schedule: { type: 'constant' as const } };

let root: string;
let embedded: string;
let dataDir: string;
let runsDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-manage-'));
  embedded = await mnistSubset(120, 40);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
beforeEach(async () => {
  dataDir = join(root, `data-${n++}`);
  runsDir = join(dataDir, 'runs');
  await mkdir(runsDir, { recursive: true });
});

const metric = (epoch: number, acc: number): EpochMetrics => ({
  epoch,
  trainLoss: 1 / epoch,
  trainAccuracy: acc - 0.01,
  testLoss: 0.5 / epoch,
  testAccuracy: acc,
  seconds: 2.5,
  imagesPerSecond: 1000,
  lr: 0.01,
  validationLoss: 0.6 / epoch,
  validationAccuracy: acc - 0.005,
});

/** A finished run folder with two epochs and a three-point loss curve, as the trainer leaves it. */
async function makeRun(id: string, seed = 1): Promise<string> {
  const dir = join(runsDir, id);
  await createRun(dir, buildRunConfig({ id, preset: PRESETS['lenet5-relu-ce'], settings: { ...SETTINGS, seed }, dataset: DATASET }));
  await writeRunProgress(dir, {
    history: [metric(1, 0.9), metric(2, 0.95)],
    curve: {
      points: [
        [32, 2.3],
        [64, 1.5],
        [96, 0.9],
      ],
      every: 32,
      nextAt: 128,
    },
    confusion: null,
  });
  return dir;
}

const runJson = async (id: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(runsDir, id, 'run.json'), 'utf8'));

describe('names, notes, tags, hide and archive', () => {
  it('round-trip through run.json and survive a restart; clearing removes the keys', async () => {
    await makeRun('r1');
    await makeRun('r2', 2);
    const before = await runJson('r1');
    const first = testStudio({ dataDir, embeddedDatasetDir: embedded });
    const s = (await first.b.call('updateRunNotes', [
      'r1',
      { name: '  Baseline, seed 1 ', notes: 'first try\nlr 0.01', tags: ['baseline', 'relu', 'Baseline'] },
    ])) as Record<string, unknown>;
    expect(s).toMatchObject({ id: 'r1', name: 'Baseline, seed 1', notes: 'first try\nlr 0.01', tags: ['baseline', 'relu'] });
    await first.b.call('updateRunNotes', ['r2', { hidden: true, archived: true, tags: ['old'] }]);
    // Only the notes changed in run.json; what was asked is as it was.
    const after = await runJson('r1');
    expect(after).toEqual({ ...before, name: 'Baseline, seed 1', notes: 'first try\nlr 0.01', tags: ['baseline', 'relu'] });
    await first.b.dispose();

    const second = testStudio({ dataDir, embeddedDatasetDir: embedded });
    await second.b.init();
    try {
      const listed = (await second.b.call('listRuns', [])) as Record<string, unknown>[];
      const byId = Object.fromEntries(listed.map((r) => [r.id, r]));
      expect(byId.r1).toMatchObject({ name: 'Baseline, seed 1', notes: 'first try\nlr 0.01', tags: ['baseline', 'relu'] });
      expect(byId.r1.hidden).toBeUndefined();
      expect(byId.r2).toMatchObject({ hidden: true, archived: true, tags: ['old'] });
      // Clearing: an empty name and tag list and false remove the keys again.
      await second.b.call('updateRunNotes', ['r1', { name: '', tags: [], notes: '' }]);
      await second.b.call('updateRunNotes', ['r2', { hidden: false, archived: false }]);
      expect(await runJson('r1')).toEqual(before);
      const r2 = await runJson('r2');
      expect('hidden' in r2 || 'archived' in r2).toBe(false);
      expect(r2.tags).toEqual(['old']);
    } finally {
      await second.b.dispose();
    }
  }, 30_000);

  it('a run folder made before notes existed still reads, and an edit keeps its older keys', async () => {
    const dir = await makeRun('old');
    const raw = await runJson('old');
    // Older run.json: an engine `config` beside the settings, no notes.
    await writeFile(join(dir, 'run.json'), JSON.stringify({ ...raw, config: { augment: null } }));
    const [listed] = await listRuns(runsDir);
    expect(listed.id).toBe('old');
    expect(listed.name).toBeUndefined();
    await updateRunNotes(dir, { name: 'kept' });
    expect(await runJson('old')).toEqual({ ...raw, config: { augment: null }, name: 'kept' });
  });

  it('bad notes are refused at the boundary and by the writer, and run.json is left as it was', async () => {
    await makeRun('r');
    const before = await readFile(join(runsDir, 'r', 'run.json'), 'utf8');
    const { b } = testStudio({ dataDir, embeddedDatasetDir: embedded });
    for (const bad of [
      { name: 'x'.repeat(101) },
      { name: 'bell\u0007' },
      { notes: 'y'.repeat(10_001) },
      { tags: ['a,b'] },
      { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) },
      { tags: ['t'.repeat(41)] },
      { hidden: 'yes' },
      { colour: 'red' },
    ]) {
      await expect(b.call('updateRunNotes', ['r', bad]), JSON.stringify(bad)).rejects.toThrow(ValidationError);
    }
    await expect(b.call('updateRunNotes', ['../r', { name: 'x' }])).rejects.toThrow(ValidationError);
    // The writer trims and drops empty tags itself; one it still refuses is RUN_INVALID.
    await updateRunNotes(join(runsDir, 'r'), { tags: [' relu  net ', '', 'RELU net'] });
    expect((await runJson('r')).tags).toEqual(['relu net']);
    await updateRunNotes(join(runsDir, 'r'), { tags: [] });
    await expect(updateRunNotes(join(runsDir, 'r'), { tags: ['-x'] })).rejects.toThrow(RunFolderError);
    expect(await readFile(join(runsDir, 'r', 'run.json'), 'utf8')).toBe(before);
    await b.dispose();
  });

  it('edits at the same time all land', async () => {
    const dir = await makeRun('r');
    await Promise.all([
      updateRunNotes(dir, { name: 'n' }),
      updateRunNotes(dir, { notes: 'x' }),
      updateRunNotes(dir, { tags: ['a'] }),
      updateRunNotes(dir, { hidden: true }),
    ]);
    expect(await runJson('r')).toMatchObject({ name: 'n', notes: 'x', tags: ['a'], hidden: true });
  });
});

describe('delete', () => {
  it('removes the folder; a new Studio does not list the run', async () => {
    await makeRun('gone');
    await makeRun('kept');
    const { b } = testStudio({ dataDir, embeddedDatasetDir: embedded });
    await b.call('deleteRun', ['gone']);
    expect(await readdir(runsDir)).toEqual(['kept']);
    await b.dispose();
    const again = testStudio({ dataDir, embeddedDatasetDir: embedded });
    expect(((await again.b.call('listRuns', [])) as { id: string }[]).map((r) => r.id)).toEqual(['kept']);
    await expect(again.b.call('deleteRun', ['gone'])).rejects.toThrow(/does not exist/);
    await again.b.dispose();
  });

  it('refuses a run a live process is training (its lock), and one the app is training', async () => {
    const dir = await makeRun('busy');
    const { b } = testStudio({ dataDir, embeddedDatasetDir: embedded });
    const lock = lockRun(dir);
    try {
      await expect(b.call('deleteRun', ['busy'])).rejects.toThrow(/being trained by process \d+/);
    } finally {
      lock.release();
    }
    const active = b.trainer.activeRuns;
    b.trainer.activeRuns = () => ['busy'];
    await expect(b.call('deleteRun', ['busy'])).rejects.toThrow(/in progress; cancel it/);
    b.trainer.activeRuns = active;
    expect((await stat(dir)).isDirectory()).toBe(true);
    await b.call('deleteRun', ['busy']);
    await expect(stat(dir)).rejects.toThrow();
    await b.dispose();
  });

  it('never follows a symbolic link out of the runs folder', async () => {
    // A run folder that is a link to a folder elsewhere: only the link goes.
    const outside = join(root, `outside-${n}`);
    await mkdir(outside);
    await writeFile(join(outside, 'precious.txt'), 'keep me');
    await writeFile(join(outside, 'run.json'), '{}');
    await symlink(outside, join(runsDir, 'linked'));
    // A link inside a real run folder to a file elsewhere: the link goes, the file stays.
    const dir = await makeRun('inner');
    await symlink(join(outside, 'precious.txt'), join(dir, 'link.txt'));
    await symlink(outside, join(dir, 'link-dir'));
    const { b } = testStudio({ dataDir, embeddedDatasetDir: embedded });
    await b.call('deleteRun', ['linked']);
    await b.call('deleteRun', ['inner']);
    await b.dispose();
    expect(await readdir(runsDir)).toEqual([]);
    expect(await readFile(join(outside, 'precious.txt'), 'utf8')).toBe('keep me');
    expect((await lstat(join(outside, 'run.json'))).isFile()).toBe(true);
  });

  it('refuses a folder that is not a run', async () => {
    await mkdir(join(runsDir, 'notarun'));
    await writeFile(join(runsDir, 'notarun', 'x.txt'), 'x');
    const { b } = testStudio({ dataDir, embeddedDatasetDir: embedded });
    await expect(b.call('deleteRun', ['notarun'])).rejects.toThrow(/not a run folder/);
    expect(await readdir(join(runsDir, 'notarun'))).toEqual(['x.txt']);
    await b.dispose();
  });
});

describe('export', () => {
  it('CSV: one row per epoch and per loss-curve point of every run, read back by a CSV parser', async () => {
    await makeRun('20260101-000000-a-0001');
    await makeRun('20260101-000001-b-0002', 2);
    await updateRunNotes(join(runsDir, '20260101-000000-a-0001'), { name: '=cmd, "quoted"', tags: ['x', 'y'] });
    const out = join(root, `export-${n}.csv`);
    const { b } = testStudio({ dataDir, embeddedDatasetDir: embedded, hooks: { chooseRunsExportPath: async () => out.replace(/\.csv$/, '') } });
    expect(await b.call('exportRuns', ['csv'])).toEqual({ path: out });
    await b.dispose();
    const t = parseCsv(await readFile(out, 'utf8'), out);
    expect(t.header).toEqual([...CSV_COLUMNS]);
    expect(t.rows).toHaveLength(2 * (2 + 3));
    const col = (name: string): number => t.header.indexOf(name);
    const rows = t.rows.map((r) => r.cells);
    const a = rows.filter((r) => r[col('run')] === '20260101-000000-a-0001');
    expect(a[0][col('name')]).toBe(`'=cmd, "quoted"`);
    expect(a[0][col('tags')]).toBe('x y');
    const epochs = a.filter((r) => r[col('series')] === 'epoch');
    expect(epochs.map((r) => [Number(r[col('epoch')]), Number(r[col('test_accuracy')]), Number(r[col('validation_loss')])])).toEqual([
      [1, 0.9, 0.6],
      [2, 0.95, 0.3],
    ]);
    const loss = a.filter((r) => r[col('series')] === 'batch-loss');
    expect(loss.map((r) => [Number(r[col('images_seen')]), Number(r[col('batch_loss')])])).toEqual([
      [32, 2.3],
      [64, 1.5],
      [96, 0.9],
    ]);
    expect(loss[0][col('epoch')]).toBe('');
    expect(rows.filter((r) => r[col('run')] === '20260101-000001-b-0002')[0][col('seed')]).toBe('2');
  });

  it('JSON: every run with its settings, epochs and loss curve; a cancelled dialog writes nothing', async () => {
    await makeRun('r1');
    const out = join(root, `export-${n}.json`);
    const answers: (string | null)[] = [null, out];
    const { b } = testStudio({ dataDir, embeddedDatasetDir: embedded, hooks: { chooseRunsExportPath: async () => answers.shift() ?? null } });
    expect(await b.call('exportRuns', ['json'])).toBeNull();
    await expect(stat(out)).rejects.toThrow();
    await b.call('exportRuns', ['json']);
    await b.dispose();
    const j = JSON.parse(await readFile(out, 'utf8'));
    expect(j.format).toBe('lenet-studio-runs/1');
    expect(j.runs).toHaveLength(1);
    expect(j.runs[0]).toMatchObject({
      id: 'r1',
      preset: 'lenet5-relu-ce',
      epochs: [metric(1, 0.9), metric(2, 0.95)],
      lossCurve: [
        [32, 2.3],
        [64, 1.5],
        [96, 0.9],
      ],
    });
  });
});
