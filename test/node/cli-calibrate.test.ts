// Calibration from the command line: evaluate's ece and reliability recomputed here from the
// scores it prints; calibrate fits a temperature on the run's validation images that lowers their
// ECE and keeps every prediction; the temperature survives the model file and a bad one is refused.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModelFile, encodeModelFile } from '../../src/engine/formats/modelfile';
import { runCli } from '../helpers/cli';
import { mnistSubset } from '../helpers/mnist-subset';

let dir: string;
let data: string;
let model: string;
let testLabels: Uint8Array;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-calibrate-'));
  data = await mnistSubset(2000, 500);
  testLabels = (await readFile(join(data, 't10k-labels-idx1-ubyte'))).subarray(8);
  const run = join(dir, 'run');
  const r = await runCli('train', ['--data', data, '--epochs', '2', '--preset', 'lenet5-relu-ce', '--run-dir', run, '--validation', '500', '--json']);
  expect(r.code, r.stderr).toBe(0);
  model = join(run, 'best.lenet');
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface EvalJson {
  accuracy: number;
  predictions: number[];
  scores: number[][];
  ece: number;
  reliability: { count: number; confidence: number | null; accuracy: number | null }[];
}

/** ECE by the definition: 15 equal-width bins of the top score, |accuracy − confidence| weighted by bin size. */
function eceOf(e: EvalJson, labels: Uint8Array): { ece: number; counts: number[] } {
  const bins = Array.from({ length: 15 }, () => ({ n: 0, conf: 0, right: 0 }));
  e.scores.forEach((row, i) => {
    const top = Math.max(...row);
    const b = bins[Math.min(14, Math.floor(top * 15))];
    b.n++;
    b.conf += top;
    if (e.predictions[i] === labels[i]) b.right++;
  });
  const N = e.scores.length;
  return { ece: bins.reduce((a, b) => a + (b.n ? (b.n / N) * Math.abs(b.right / b.n - b.conf / b.n) : 0), 0), counts: bins.map((b) => b.n) };
}

async function evaluateJson(file: string): Promise<EvalJson> {
  const r = await runCli('evaluate', [file, '--data', data, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as EvalJson;
}

describe('calibration', () => {
  it('evaluate --json: ece equals the value recomputed from the printed scores', async () => {
    const e = await evaluateJson(model);
    const want = eceOf(e, testLabels);
    expect(e.ece).toBeGreaterThan(0);
    expect(e.ece).toBeCloseTo(want.ece, 4);
    expect(e.reliability).toHaveLength(15);
    expect(e.reliability.map((b) => b.count)).toEqual(want.counts);
    for (const b of e.reliability) {
      if (b.count === 0) expect(b).toEqual({ count: 0, confidence: null, accuracy: null });
      else expect(Object.keys(b).sort()).toEqual(['accuracy', 'confidence', 'count']);
    }
  });

  it('calibrate fits T on the run’s validation images: lower ECE there, the same predictions, T in the file', async () => {
    const out = join(dir, 'calibrated.lenet');
    const r = await runCli('calibrate', [model, '--data', data, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as {
      temperature: number;
      images: number;
      source: string;
      before: { nll: number; ece: number };
      after: { nll: number; ece: number };
    };
    expect(c.images).toBe(500);
    expect(c.source).toMatch(/validation images of the run/);
    expect(c.temperature).not.toBeCloseTo(1, 2);
    expect(c.after.nll).toBeLessThan(c.before.nll);
    expect(c.after.ece).toBeLessThan(c.before.ece);

    const loaded = decodeModelFile(await readFile(out), out);
    expect(loaded.extra.calibration).toEqual({ temperature: c.temperature });
    expect(loaded.preset).toBe('lenet5-relu-ce');

    // evaluate applies T: same predictions and accuracy, scores ∝ raw^(1/T), ece of those scores
    const raw = await evaluateJson(model);
    const cal = await evaluateJson(out);
    expect(cal.predictions).toEqual(raw.predictions);
    expect(cal.accuracy).toBe(raw.accuracy);
    for (const i of [0, 1, 2, 100, 499]) {
      const p = raw.scores[i].map((v) => Math.max(v, 1e-30) ** (1 / c.temperature));
      const sum = p.reduce((a, v) => a + v, 0);
      p.forEach((v, k) => expect(cal.scores[i][k]).toBeCloseTo(v / sum, 4));
    }
    expect(cal.ece).toBeCloseTo(eceOf(cal, testLabels).ece, 4);

    // ONNX export of the calibrated file divides by T
    const onnx = join(dir, 'calibrated.onnx');
    const x = await runCli('export', [out, '--out', onnx]);
    expect(x.code, x.stderr).toBe(0);
    expect((await readFile(onnx)).includes(Buffer.from('calibration.temperature'))).toBe(true);
  });

  it('without a run folder it fits on the last N training images', async () => {
    const copy = join(dir, 'loose.lenet');
    await writeFile(copy, await readFile(model));
    const r = await runCli('calibrate', [copy, '--data', data, '--validation', '300', '--out', join(dir, 'loose-cal.lenet'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as { images: number; source: string };
    expect(c.images).toBe(300);
    expect(c.source).toMatch(/last 300 training images/);
  });

  it('a model file whose temperature is not a sane number is refused in one line', async () => {
    const loaded = decodeModelFile(await readFile(model), model);
    // (the other bad values are refused by the reader; calibration.test.ts checks them without a process each)
    for (const bad of [{ temperature: 0 }, 'hot']) {
      const file = join(dir, 'bad.lenet');
      await writeFile(file, encodeModelFile(loaded.model, { preset: loaded.preset, extra: { calibration: bad } }));
      const r = await runCli('evaluate', [file, '--data', data, '--json']);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/x-calibration/);
    }
  });

  it('bad options exit 2 with one line and a pointer to --help', async () => {
    for (const args of [[model], [model, '--out', model], [model, '--validation', '0', '--out', join(dir, 'y.lenet')]]) {
      const r = await runCli('calibrate', args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^calibrate: .*\nTry 'calibrate --help'\.\n$/);
    }
  });
});
