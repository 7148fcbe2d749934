// Sweeps: the settings a sweep varies (parsing, the grid and random plans, how a configuration
// becomes run settings), the queue file (read back, malformed and fuzzed files refused in one
// line), and `npm run experiments -- sweep` end to end: a 2×2 grid with 2 seeds, a sweep killed
// mid-run and one stopped with Ctrl-C that --resume finishes, continuing the interrupted run from
// its checkpoint.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../../src/engine/presets';
import type { TrainSettings } from '../../src/common/settings';
import { Rng } from '../../src/engine/rng';
import { SWEEP_FILE, SweepError, applyConfig, parseAxis, planConfigs, type SweepFile } from '../../src/common/sweep';
import { newSweep, readSweep, writeSweep } from '../../src/node/runs/sweep-file';
import { runCli } from '../helpers/cli';
import { mnistSubset } from '../helpers/mnist-subset';

let dir: string;
let data: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-sweep-'));
  data = await mnistSubset(600, 200);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = (preset: string): TrainSettings => ({ ...PRESETS[preset].defaults, seed: 1, shuffle: true });

describe('sweep axes and plans', () => {
  it('parses listed values and ranges, and refuses bad ones in one line', () => {
    expect(parseAxis('lr=0.01,0.05')).toEqual({ name: 'lr', values: [0.01, 0.05] });
    expect(parseAxis('lr=0.001..0.1')).toEqual({ name: 'lr', range: [0.001, 0.1] });
    expect(parseAxis('schedule=cosine,step:5:0.5')).toEqual({ name: 'schedule', values: ['cosine', 'step:5:0.5'] });
    expect(parseAxis('preset=lenet5-relu-ce,lenet5-tanh-mse').values).toEqual(['lenet5-relu-ce', 'lenet5-tanh-mse']);
    const bad: [string, RegExp][] = [
      ['speed=1,2', /NAME one of preset, lr/],
      ['lr=', /no values/],
      ['lr', /no values/],
      ['lr=0,0.1', /lr: "0" is not a number above 0/],
      ['batch=16.5', /batch: "16.5" is not a whole number/],
      ['momentum=0.9,0.9', /listed twice/],
      ['lr=0.1..0.01', /range 0.1..0.01 is empty/],
      ['preset=nope', /unknown preset "nope"/],
      ['preset=a..b', /preset: a range needs numbers/],
      ['lr=0.01..', /lr: "" is not/],
      ['schedule=weekly', /schedule must be constant, cosine or step/],
      ['epochs=1,,2', /epochs: "" is not/],
    ];
    for (const [text, msg] of bad) {
      expect(() => parseAxis(text), text).toThrow(SweepError);
      expect(() => parseAxis(text), text).toThrow(msg);
    }
  });

  it('plans the grid with the first setting changing slowest', () => {
    const c = planConfigs([parseAxis('lr=0.01,0.05'), parseAxis('momentum=0.9,0.95,0.99')], null, 1);
    expect(c).toEqual([
      { lr: 0.01, momentum: 0.9 },
      { lr: 0.01, momentum: 0.95 },
      { lr: 0.01, momentum: 0.99 },
      { lr: 0.05, momentum: 0.9 },
      { lr: 0.05, momentum: 0.95 },
      { lr: 0.05, momentum: 0.99 },
    ]);
    expect(() => planConfigs([parseAxis('lr=0.001..0.1')], null, 1)).toThrow(/only be drawn from \(--random N\)/);
    expect(() => planConfigs([parseAxis('lr=0.1'), parseAxis('lr=0.2')], null, 1)).toThrow(/swept twice/);
    const hundred = (name: string) => parseAxis(`${name}=${Array.from({ length: 100 }, (_, i) => i + 1).join(',')}`);
    expect(() => planConfigs([hundred('epochs'), hundred('batch'), parseAxis('momentum=0.5,0.9')], null, 1)).toThrow(
      /the grid has 20000 configurations, more than 10000/,
    );
  });

  it('draws random configurations from lists and ranges, the same for the same seed', () => {
    const axes = [parseAxis('lr=0.001..0.1'), parseAxis('batch=16..64'), parseAxis('momentum=0.9,0.95')];
    const a = planConfigs(axes, 400, 7);
    expect(planConfigs(axes, 400, 7)).toEqual(a);
    expect(planConfigs(axes, 400, 8)).not.toEqual(a);
    for (const c of a) {
      expect(c.lr as number).toBeGreaterThanOrEqual(0.001);
      expect(c.lr as number).toBeLessThanOrEqual(0.1);
      expect(Number((c.lr as number).toPrecision(3))).toBe(c.lr);
      expect(Number.isInteger(c.batch)).toBe(true);
      expect(c.batch as number).toBeGreaterThanOrEqual(16);
      expect(c.batch as number).toBeLessThanOrEqual(64);
      expect([0.9, 0.95]).toContain(c.momentum);
    }
    // lr on a log scale: about half the draws below √(0.001·0.1) = 0.01, not a tenth
    const below = a.filter((c) => (c.lr as number) < 0.01).length / a.length;
    expect(below).toBeGreaterThan(0.4);
    expect(below).toBeLessThan(0.6);
    // both ends of a whole-number range are drawn
    expect(new Set(a.map((c) => c.batch)).has(64)).toBe(true);
    expect(new Set(a.map((c) => c.batch)).has(16)).toBe(true);
  });

  it('turns a configuration into a preset and settings: its preset defaults, the swept values, distortions', () => {
    const plain = applyConfig({ lr: 0.02, batch: 64, schedule: 'step:5:0.5' }, 'lenet5-relu-ce-bn', base);
    expect(plain.preset).toBe('lenet5-relu-ce-bn');
    expect(plain.settings).toMatchObject({
      lr: 0.02,
      batchSize: 64,
      schedule: { type: 'step', every: 5, gamma: 0.5 },
      epochs: PRESETS['lenet5-relu-ce-bn'].defaults.epochs,
    });
    expect(plain.settings.augment).toBeUndefined();
    const other = applyConfig({ preset: 'lenet5-tanh-mse' }, 'lenet5-relu-ce-bn', base);
    expect(other.preset).toBe('lenet5-tanh-mse');
    expect(other.settings.epochs).toBe(PRESETS['lenet5-tanh-mse'].defaults.epochs);
    expect(applyConfig({ shift: 3 }, 'lenet5-relu-ce-bn', base).settings.augment).toEqual({ shift: 3, rotateDeg: 10, scale: 0.1 });
    const none = applyConfig({ shift: 0, rotate: 0, scale: 0 }, 'lenet5-relu-ce-bn', base);
    expect(none.settings.augment).toBeUndefined();
    // the base is not changed by a configuration
    const b = base('lenet5-relu-ce-bn');
    applyConfig({ lr: 0.5 }, 'lenet5-relu-ce-bn', () => b);
    expect(b.lr).toBe(PRESETS['lenet5-relu-ce-bn'].defaults.lr);
  });
});

describe('the queue file', () => {
  const plan = (): SweepFile =>
    newSweep({
      axes: [parseAxis('lr=0.01,0.05'), parseAxis('momentum=0.9,0.95')],
      random: null,
      seeds: [1, 2],
      threads: 0,
      dataPath: null,
      basePreset: 'lenet5-relu-ce-bn',
      baseFor: base,
    });

  it('plans every configuration × seed as a pending run with its own folder name, and reads back what it wrote', async () => {
    const s = plan();
    expect(s.configs).toHaveLength(4);
    const runs = s.configs.flatMap((c) => c.runs);
    expect(runs).toHaveLength(8);
    expect(runs.every((r) => r.status === 'pending')).toBe(true);
    expect(new Set(runs.map((r) => r.runId)).size).toBe(8);
    expect(runs.map((r) => r.seed)).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
    const d = await mkdtemp(join(dir, 'queue-'));
    await writeSweep(d, s);
    expect(await readSweep(d)).toEqual(s);
  });

  it('refuses a missing, malformed or tampered sweep.json in one line', async () => {
    const d = await mkdtemp(join(dir, 'bad-'));
    await expect(readSweep(d)).rejects.toThrow(/is not a sweep folder \(no sweep\.json\)/);
    const good = JSON.stringify(plan());
    const cases: [string, RegExp][] = [
      ['{', /is not valid JSON/],
      [good.replace('"lenet-studio-sweep"', '"other"'), /kind/],
      [good.replace('"lr":0.01', '"speed":0.01'), /"speed" is not a setting a sweep varies/],
      [good.replace('"status":"pending"', '"status":"finished"'), /status/],
      [good.replace(/"runId":"[^"]+"/, '"runId":"../../etc"'), /runId/],
      [good.replace(/"runId":"[^"]+"/, '"runId":".."'), /runId/],
      [good.replace('"version":1', '"version":1,"extra":true'), /no key "extra"/],
    ];
    for (const [text, msg] of cases) {
      await writeFile(join(d, SWEEP_FILE), text);
      const e = await readSweep(d).catch((x: unknown) => x);
      expect(e, text.slice(0, 60)).toBeInstanceOf(SweepError);
      expect((e as Error).message).toMatch(msg);
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it('never accepts a fuzzed file that breaks its shape, and never fails other than with a SweepError', async () => {
    const d = await mkdtemp(join(dir, 'fuzz-'));
    const good = JSON.stringify(plan());
    const rng = new Rng(11);
    const alphabet = '{}[]":,0123456789.-aeflnrstu ';
    let accepted = 0;
    for (let i = 0; i < 300; i++) {
      const chars = good.split('');
      for (let m = 0; m < 1 + rng.int(4); m++) chars[rng.int(chars.length)] = alphabet[rng.int(alphabet.length)];
      await writeFile(join(d, SWEEP_FILE), chars.join(''));
      try {
        const s = await readSweep(d);
        accepted++;
        // what passes is still a well-formed queue
        expect(s.kind).toBe('lenet-studio-sweep');
        expect(s.configs.every((c) => c.runs.every((r) => /^[A-Za-z0-9._-]+$/.test(r.runId)))).toBe(true);
      } catch (e) {
        expect(e).toBeInstanceOf(SweepError);
      }
    }
    expect(accepted).toBeLessThan(300);
  });
});

/**
 * `experiments` with `args` in a child process that gets `signal` once its stderr matches `when`
 * (killed after two minutes regardless); resolves when it has ended.
 */
function experimentsUntil(
  args: string[],
  when: RegExp,
  signal: NodeJS.Signals,
): Promise<{ stderr: string; code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/node/cli/experiments.ts', ...args], {
      cwd: process.cwd(),
      env: { ...process.env, LENET_KERNELS: 'wasm' },
    });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (b: Buffer) => {
      stderr += b;
      if (!sent && when.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ stderr, code, signal: sig });
    });
  });
}

/** `experiments sweep` on 600 training images (100 held out), one epoch per run unless told. */
const tiny = (out: string, ...extra: string[]): string[] => [
  'sweep',
  '--preset',
  'lenet5-relu-ce',
  '--batch',
  '20',
  '--epochs',
  '1',
  '--validation',
  '100',
  '--threads',
  '1',
  '--data',
  data,
  '--out',
  out,
  ...extra,
];

describe('npm run experiments -- sweep', () => {
  it('runs a 2×2 grid with 2 seeds to the end: every run a finished run folder, a summary and an importance table', async () => {
    const out = join(dir, 'grid');
    const r = await runCli('experiments', tiny(out, '--grid', 'lr=0.005,0.05', 'momentum=0.5,0.9', '--seeds', '2', '--json'));
    expect(r.code, r.stderr).toBe(0);
    const { sweep, summary } = JSON.parse(r.stdout) as {
      sweep: SweepFile;
      summary: {
        done: number;
        total: number;
        configs: { done: number; meanFinalTestError: number }[];
        importance: { axis: string; correlation: number | null; permutation: number | null }[];
        best: number;
      };
    };
    expect([summary.done, summary.total]).toEqual([8, 8]);
    expect(summary.configs.map((c) => c.done)).toEqual([2, 2, 2, 2]);
    expect(summary.importance.map((m) => m.axis)).toEqual(['lr', 'momentum']);
    expect(summary.importance.every((m) => m.permutation !== null)).toBe(true);
    expect(await readSweep(out)).toEqual(sweep);
    for (const [ci, c] of sweep.configs.entries()) {
      const errs: number[] = [];
      for (const run of c.runs) {
        expect(run.status).toBe('done');
        const status = JSON.parse(await readFile(join(out, run.runId, 'status.json'), 'utf8')) as { status: string };
        expect(status.status).toBe('done');
        const config = JSON.parse(await readFile(join(out, run.runId, 'run.json'), 'utf8')) as { settings: TrainSettings };
        expect(config.settings).toMatchObject({ lr: c.values.lr, momentum: c.values.momentum, seed: run.seed });
        const metrics = JSON.parse(await readFile(join(out, run.runId, 'metrics.json'), 'utf8')) as { testAccuracy: number }[];
        expect(run.finalTestError).toBeCloseTo(1 - metrics[metrics.length - 1].testAccuracy, 12);
        errs.push(run.finalTestError!);
      }
      expect(summary.configs[ci].meanFinalTestError).toBeCloseTo((errs[0] + errs[1]) / 2, 12);
    }
    const best = summary.configs.reduce((b, c, i) => (c.meanFinalTestError < summary.configs[b].meanFinalTestError ? i : b), 0);
    expect(summary.best).toBe(best);
  }, 180_000);

  it('survives a kill mid-run: --resume keeps the finished runs and continues the interrupted one from its checkpoint', async () => {
    const out = join(dir, 'resume');
    const args = tiny(out, '--grid', 'lr=0.01,0.03', '--epochs', '3');
    // Killed (SIGKILL: no chance to tidy up) once the second run has finished its first epoch.
    const killed = await experimentsUntil(args, /\[2\/2\] epoch 1\/3 /, 'SIGKILL');
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const stopped = await readSweep(out);
    expect(stopped.configs.map((c) => c.runs[0].status)).toEqual(['done', 'running']);
    const second = stopped.configs[1].runs[0].runId;
    const before = JSON.parse(await readFile(join(out, second, 'metrics.json'), 'utf8')) as { epoch: number; testAccuracy: number }[];
    expect(before.map((m) => m.epoch)).toEqual([1]);

    const r = await runCli('experiments', ['sweep', '--resume', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { sweep } = JSON.parse(r.stdout) as { sweep: SweepFile };
    expect(sweep.configs.map((c) => c.runs[0].status)).toEqual(['done', 'done']);
    expect(sweep.configs[0].runs[0]).toEqual(stopped.configs[0].runs[0]); // not trained again
    expect(sweep.configs[1].runs[0].runId).toBe(second); // continued in its own folder
    const after = JSON.parse(await readFile(join(out, second, 'metrics.json'), 'utf8')) as { epoch: number; testAccuracy: number }[];
    expect(after.map((m) => m.epoch)).toEqual([1, 2, 3]);
    expect(after[0]).toEqual(before[0]);
    expect(r.stderr).toMatch(/\[2\/2\] config 2 \(lr=0\.03\) seed 1/);
    expect(r.stderr).not.toMatch(/\[1\/2\]/);
    // resuming a finished sweep trains nothing
    const again = await runCli('experiments', ['sweep', '--resume', out]);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/epoch/);
  }, 240_000);

  it('starts a stopped run that left no checkpoint again, under a new folder name of the same configuration and seed', async () => {
    const out = join(dir, 'restart');
    expect((await runCli('experiments', tiny(out, '--grid', 'lr=0.005,0.05', '--seeds', '2'))).code).toBe(0);
    const queue = await readSweep(out);
    const run = queue.configs[1].runs[1];
    const old = run.runId;
    run.status = 'running';
    await writeSweep(out, queue);
    await rm(join(out, old), { recursive: true }); // stopped before its first checkpoint
    const r = await runCli('experiments', ['sweep', '--resume', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { sweep } = JSON.parse(r.stdout) as { sweep: SweepFile };
    const again = sweep.configs[1].runs[1];
    expect(again.status).toBe('done');
    expect(again.runId).not.toBe(old);
    expect(again.runId).toMatch(/-sweep-c2-s2-[0-9a-f]{4}$/);
    const config = JSON.parse(await readFile(join(out, again.runId, 'run.json'), 'utf8')) as { settings: TrainSettings };
    expect(config.settings).toMatchObject({ lr: 0.05, seed: 2 });
    expect(r.stderr.match(/\] config /g)).toHaveLength(1); // the others stay as they were
  }, 120_000);

  it('stops on Ctrl-C with the current run checkpointed (exit 130), and --resume finishes it where it stopped', async () => {
    const out = join(dir, 'sigint');
    // The bundled MNIST cut to 6,000 images: epochs long enough to be interrupted.
    const args = [
      'sweep',
      '--preset',
      'lenet5-relu-ce',
      '--grid',
      'lr=0.01,0.03',
      '--epochs',
      '3',
      '--batch',
      '20',
      '--limit',
      '6000',
      '--validation',
      '100',
      '--threads',
      '1',
      '--out',
      out,
    ];
    const stopped = await experimentsUntil(args, /\[1\/2\] epoch 1\/3 /, 'SIGINT');
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain(`sweep: stopped; continue with: npm run experiments -- sweep --resume ${out}`);
    expect(stopped.stderr).not.toMatch(/\[2\/2\]/);
    const queue = await readSweep(out);
    expect(queue.configs.map((c) => c.runs[0].status)).toEqual(['running', 'pending']);
    const first = queue.configs[0].runs[0].runId;
    const status = JSON.parse(await readFile(join(out, first, 'status.json'), 'utf8')) as { status: string };
    expect(status.status).toBe('cancelled');

    const r = await runCli('experiments', ['sweep', '--resume', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { sweep } = JSON.parse(r.stdout) as { sweep: SweepFile };
    expect(sweep.configs.map((c) => c.runs[0].status)).toEqual(['done', 'done']);
    expect(sweep.configs[0].runs[0].runId).toBe(first);
    const metrics = JSON.parse(await readFile(join(out, first, 'metrics.json'), 'utf8')) as { epoch: number }[];
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2, 3]);
  }, 240_000);

  it('bad options: one line and exit 2, before anything is trained', async () => {
    const cases: [string[], RegExp][] = [
      [['sweep', '--grid', 'lr=0.1', '--out', join(dir, 'x')], /needs --preset/],
      [['sweep', '--preset', 'lenet5-relu-ce', '--out', join(dir, 'x')], /needs --grid NAME=A,B/],
      [['sweep', '--preset', 'lenet5-relu-ce', '--grid', 'lr=0.1'], /needs --out/],
      [['sweep', '--preset', 'lenet5-relu-ce', '--grid', 'lr=0.1', 'speed=2', '--out', join(dir, 'x')], /"speed=2": a swept setting is NAME=VALUES/],
      [['sweep', '--preset', 'lenet5-relu-ce', '--grid', 'lr=0.01..0.1', '--out', join(dir, 'x')], /only be drawn from \(--random N\)/],
      [['sweep', '--preset', 'lenet5-relu-ce', '--random', '0', 'lr=0.01..0.1', '--out', join(dir, 'x')], /--random must be an integer in 1\.\.1000/],
      [['sweep', '--resume', join(dir, 'x'), '--lr', '0.1'], /--resume takes only --threads, --data and --json/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli('experiments', args)));
    runs.forEach((r, i) => {
      expect(r.code, cases[i][0].join(' ')).toBe(2);
      expect(r.stderr).toMatch(cases[i][1]);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(2);
      expect(r.stdout).toBe('');
    });
    const missing = await runCli('experiments', ['sweep', '--resume', join(dir, 'nowhere')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/is not a sweep folder \(no sweep\.json\)/);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});
