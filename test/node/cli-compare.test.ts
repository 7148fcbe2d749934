// `npm run compare -- A.lenet B.lenet`: its counts are the two models' own evaluations paired digit
// by digit, its p-value the exact binomial one, and its output and errors follow the CLI contract.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/node/datasets';
import { runCli } from '../helpers/cli';
import { exactMcNemar } from '../helpers/exact-binomial';
import { mnistSubset } from '../helpers/mnist-subset';

let dir: string;
let data: string;
let a: string;
let b: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-compare-'));
  data = await mnistSubset(600, 300);
  a = join(dir, 'a.lenet');
  b = join(dir, 'b.lenet');
  // Two short runs that differ by seed and epochs, so they disagree on some digits.
  const common = ['--data', data, '--preset', 'lenet5-relu-ce', '--batch', '20', '--json'];
  const [ra, rb] = await Promise.all([
    runCli('train', [...common, '--epochs', '1', '--seed', '1', '--out', a]),
    runCli('train', [...common, '--epochs', '2', '--seed', '2', '--out', b]),
  ]);
  expect(ra.code, ra.stderr).toBe(0);
  expect(rb.code, rb.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm run compare', () => {
  it('--json: exactly the five keys; the counts pair the two models’ own evaluations, pValue is the exact binomial', async () => {
    const [c, ea, eb] = await Promise.all([
      runCli('compare', [a, b, '--data', data, '--json']),
      runCli('evaluate', [a, '--data', data, '--json']),
      runCli('evaluate', [b, '--data', data, '--json']),
    ]);
    expect(c.code, c.stderr).toBe(0);
    const r = JSON.parse(c.stdout);
    expect(Object.keys(r)).toEqual(['accuracyA', 'accuracyB', 'onlyA', 'onlyB', 'pValue']);
    const A = JSON.parse(ea.stdout) as { accuracy: number; predictions: number[] };
    const B = JSON.parse(eb.stdout) as { accuracy: number; predictions: number[] };
    expect(r.accuracyA).toBe(A.accuracy);
    expect(r.accuracyB).toBe(B.accuracy);
    const labels = (await loadMnist(data)).test.labels;
    let onlyA = 0;
    let onlyB = 0;
    labels.forEach((t, i) => {
      if (A.predictions[i] === t && B.predictions[i] !== t) onlyA++;
      if (B.predictions[i] === t && A.predictions[i] !== t) onlyB++;
    });
    expect(onlyA + onlyB).toBeGreaterThan(0);
    expect({ onlyA: r.onlyA, onlyB: r.onlyB }).toEqual({ onlyA, onlyB });
    // Right-only counts and accuracies agree: accB − accA = (onlyB − onlyA) / n.
    expect((r.onlyB - r.onlyA) / labels.length).toBeCloseTo(r.accuracyB - r.accuracyA, 12);
    expect(Math.abs(r.pValue - exactMcNemar(onlyA, onlyB)) / exactMcNemar(onlyA, onlyB)).toBeLessThan(1e-9);
  }, 60_000);

  it('a model against itself: no digit differs, p = 1, and the words say so', async () => {
    const j = await runCli('compare', [a, a, '--data', data, '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({ onlyA: 0, onlyB: 0, pValue: 1 });
    const h = await runCli('compare', [a, a, '--data', data]);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^No significant difference: p = 1, 0 digits fixed, 0 broken$/m);
    expect(h.stdout).toMatch(/^A .*a\.lenet \(lenet5-relu-ce\): accuracy \d+\.\d\d%/m);
  }, 60_000);

  it('bad options: one line and exit 2; a missing model: one line and exit 1; no stack traces', async () => {
    const [one, flag, missing, noData] = await Promise.all([
      runCli('compare', [a]),
      runCli('compare', [a, b, '--bogus']),
      runCli('compare', [a, join(dir, 'nope.lenet'), '--data', data, '--json']),
      runCli('compare', [a, b, '--data', join(dir, 'no-such-folder')]),
    ]);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/^compare: expected two model files \(or two seed-group folders\), A and B, got 1\nTry 'compare --help'\.\n$/);
    expect(flag.code).toBe(2);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^compare: model file .*nope\.lenet does not exist\n$/);
    expect(noData.code).toBe(1);
    expect(noData.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  }, 60_000);
});
