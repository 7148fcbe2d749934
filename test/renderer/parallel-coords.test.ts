// The parallel-coordinates layout of a sweep: learning rate on a log axis, names evenly spaced,
// the error axis over the finished runs, one line per finished run (not per pending, diverged or
// failed one), and axes that cover every planned value so they do not move as runs finish.

import { describe, expect, it } from 'vitest';
import type { SweepFile, SweepRun } from '../../src/common/sweep';
import type { TrainSettings } from '../../src/common/settings';
import { formatValue, parallelCoordinates } from '../../src/renderer/src/lib/parallel-coords';

const settings: TrainSettings = { epochs: 1, batchSize: 32, lr: 0.01, momentum: 0.9, decay: 0, schedule: { type: 'constant' } };
const run = (seed: number, status: SweepRun['status'], error: number | null): SweepRun => ({
  seed,
  runId: `r-${seed}-${Math.random().toString(16).slice(2, 8)}`,
  status,
  finalTestError: error,
  testErrorAtBest: error,
  epochsTo99: null,
});

function sweep(): SweepFile {
  const configs = [
    { lr: 0.001, schedule: 'constant', runs: [run(1, 'done', 0.02), run(2, 'done', 0.03)] },
    { lr: 0.1, schedule: 'cosine', runs: [run(1, 'done', 0.01), run(2, 'diverged', 0.9)] },
    { lr: 0.01, schedule: 'step:5:0.5', runs: [run(1, 'pending', null), run(2, 'running', null)] },
  ];
  return {
    kind: 'lenet-studio-sweep',
    version: 1,
    created: '2026-12-04T00:00:00.000Z',
    mode: 'grid',
    axes: [
      { name: 'lr', values: [0.001, 0.1, 0.01] },
      { name: 'schedule', values: ['constant', 'cosine', 'step:5:0.5'] },
    ],
    seeds: [1, 2],
    threads: 0,
    dataPath: null,
    configs: configs.map((c) => ({ values: { lr: c.lr, schedule: c.schedule }, preset: 'lenet5-relu-ce', settings, runs: c.runs })),
  };
}

describe('parallel coordinates of a sweep', () => {
  it('places numbers (lr on a log scale), names and the error, a line per finished run', () => {
    const pc = parallelCoordinates(sweep());
    expect(pc.axes.map((a) => [a.name, a.kind])).toEqual([
      ['lr', 'log'],
      ['schedule', 'names'],
      ['test error', 'linear'],
    ]);
    // 0.01 sits halfway between 0.001 and 0.1 on the log axis, though no run of it finished.
    expect(pc.axes[0].ticks).toEqual([
      { label: '0.001', at: 0 },
      { label: '0.01', at: 0.5 },
      { label: '0.1', at: 1 },
    ]);
    expect(pc.axes[1].ticks.map((t) => [t.label, t.at])).toEqual([
      ['constant', 0],
      ['cosine', 0.5],
      ['step:5:0.5', 1],
    ]);
    expect(pc.errorRange).toEqual([0.01, 0.03]);
    expect(pc.axes[2].ticks.map((t) => t.label)).toEqual(['1.00 %', '3.00 %']);
    expect(pc.lines.map((l) => [l.config, l.seed, l.error])).toEqual([
      [0, 1, 0.02],
      [0, 2, 0.03],
      [1, 1, 0.01],
    ]);
    const near = (xs: number[]) => xs.map((x) => expect.closeTo(x, 12));
    expect(pc.lines[0].at).toEqual(near([0, 0, 0.5]));
    expect(pc.lines[1].at).toEqual(near([0, 0, 1]));
    expect(pc.lines[2].at).toEqual(near([1, 0.5, 0]));
  });

  it('a setting with one value, and a sweep with nothing finished, sit in the middle', () => {
    const s = sweep();
    s.axes = [{ name: 'momentum', values: [0.9] }];
    for (const c of s.configs) {
      c.values = { momentum: 0.9 };
      for (const r of c.runs) r.status = 'pending';
    }
    const pc = parallelCoordinates(s);
    expect(pc.axes[0].ticks).toEqual([{ label: '0.9', at: 0.5 }]);
    expect(pc.lines).toEqual([]);
    expect(pc.errorRange).toBeNull();
    expect(pc.axes[1].ticks).toEqual([]);
  });

  it('labels values shortly', () => {
    expect([0.05, 0.00025, 1 / 3, 2e-5, 120000, 'cosine', 0].map(formatValue)).toEqual(['0.05', '2.5e-4', '0.333', '2e-5', '1.2e5', 'cosine', '0']);
  });
});
