// `npm run data-lab -- data-map RUN_DIR` on a run folder whose history.bin is written from known
// predictions: the points are the hand-computed mean, population standard deviation and
// fraction right of each trained-on image, indexed by its place in the training file, the
// held-out image left out; plain errors (exit 1) for a run without history, a damaged history
// and the wrong dataset; exit 2 for a bad option.

import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/engine/evaluate';
import { PRESETS } from '../../src/engine/presets';
import { DEFAULT_SEED } from '../../src/common/settings';
import { describeDataset, loadMnist } from '../../src/node/datasets';
import { buildRunConfig } from '../../src/node/runs/config';
import { createRun } from '../../src/node/runs/folder';
import { HISTORY_FILE, HistoryWriter } from '../../src/node/runs/history';
import { runCli } from '../helpers/cli';
import { mnistSubset } from '../helpers/mnist-subset';

let root: string;
let data: string;
let run: string;
const TEST = 20;

// The first five MNIST training labels are 5, 0, 4, 1, 9. File image 2 is held out; the others are
// trained on. The label's probability and the prediction per epoch (multiples of 0.2 are exact in
// history.bin's u16), and what the map must say:
//   image 0 (5): 0.2 0.6 1.0, predicted 1 5 5 → μ 0.6, σ = √(0.32/3) = 0.326599, right 2/3 (ambiguous)
//   image 1 (0): 0.8 0.8 0.8, predicted 0 0 0 → μ 0.8, σ 0, right 1 (easy)
//   image 3 (1): 0.2 0.0 0.4, predicted 7 7 1 → μ 0.2, σ = √(0.08/3) = 0.163299, right 1/3 (hard)
//   image 4 (9): 0.0 0.0 0.0, predicted 4 4 4 → μ 0, σ 0, right 0 (hard)
const P = [
  [0.2, 0.8, 0.2, 0.0],
  [0.6, 0.8, 0.0, 0.0],
  [1.0, 0.8, 0.4, 0.0],
];
const PRED = [
  [1, 0, 7, 4],
  [5, 0, 7, 4],
  [5, 0, 1, 4],
];
const TRAIN_LABELS = [5, 0, 1, 9];

function evaluation(pred: number[], labels: number[], prob: number[]): Evaluation {
  const scores = new Float32Array(pred.length * 10);
  labels.forEach((l, i) => (scores[i * 10 + l] = prob[i]));
  return { count: pred.length, loss: 0, accuracy: 0, confusion: [], predictions: Uint8Array.from(pred), scores };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-cli-data-map-'));
  data = await mnistSubset(3000, 300);
  const mnist = await loadMnist(data);
  run = join(root, 'run');
  const preset = PRESETS['lenet5-relu-ce'];
  const settings = { ...preset.defaults, seed: DEFAULT_SEED, shuffle: true, epochs: 3, limit: 5, validation: 1 };
  await createRun(run, buildRunConfig({ id: 'run', preset: { name: preset.name, spec: preset.spec }, settings, dataset: describeDataset(mnist, data) }));
  const split = { pool: 5, trainIndex: Uint32Array.from([0, 1, 3, 4]), validationIndex: Uint32Array.from([2]) };
  const w = await HistoryWriter.open(run, 10, split, TEST, 0);
  const testLabels = Array.from(mnist.test.labels.subarray(0, TEST));
  for (let e = 0; e < 3; e++) {
    await w.add(evaluation(PRED[e], TRAIN_LABELS, P[e]), evaluation([4], [4], [0.5]), evaluation(testLabels, testLabels, new Array<number>(TEST).fill(1)), {
      train: Uint8Array.from(TRAIN_LABELS),
      validation: Uint8Array.from([4]),
      test: Uint8Array.from(testLabels),
    });
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli('data-lab', ['data-map', ...args]);

describe('npm run data-lab -- data-map', () => {
  it('--json: one point per trained-on image, at its place in the training file, with the hand-computed coordinates', async () => {
    const r = await cli([run, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { points: { index: number; confidence: number; variability: number; correctness: number }[] };
    expect(Object.keys(out)).toEqual(['points']);
    expect(out.points.map((p) => Object.keys(p))).toEqual(new Array(4).fill(['index', 'confidence', 'variability', 'correctness']));
    expect(out.points.map((p) => p.index)).toEqual([0, 1, 3, 4]);
    const want = [
      [0.6, 0.326599, 2 / 3],
      [0.8, 0, 1],
      [0.2, 0.163299, 1 / 3],
      [0, 0, 0],
    ];
    out.points.forEach((p, i) => {
      expect(p.confidence).toBeCloseTo(want[i][0], 5);
      expect(p.variability).toBeCloseTo(want[i][1], 5);
      expect(p.correctness).toBeCloseTo(want[i][2], 5);
    });
  });

  it('without --json: the regions counted, the held-out image named', async () => {
    const r = await cli([run]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/4 training images over epochs 1–3 \(1 held out for validation, not on the map\)/);
    expect(r.stdout).toMatch(/easy\s+1\s/);
    expect(r.stdout).toMatch(/ambiguous\s+1\s/);
    expect(r.stdout).toMatch(/hard\s+2\s/);
  });

  it('a run without history, a damaged history, the wrong dataset: one line, exit 1', async () => {
    // Each case on its own copy of the run, all at once.
    const copy = async (name: string): Promise<string> => {
      const dir = join(root, name);
      await cp(run, dir, { recursive: true });
      return dir;
    };
    const [noHistory, damaged, wrongData] = await Promise.all(['no-history', 'damaged', 'wrong-data'].map(copy));
    await rm(join(noHistory, HISTORY_FILE));
    const bytes = await readFile(join(damaged, HISTORY_FILE));
    await writeFile(join(damaged, HISTORY_FILE), bytes.subarray(0, bytes.length - 3));
    const config = await readFile(join(wrongData, 'run.json'), 'utf8');
    await writeFile(join(wrongData, 'run.json'), config.replace(/"fingerprint":\s*"[0-9a-f]+"/, '"fingerprint": "0123456789abcdef"'));
    const cases: [string[], RegExp][] = [
      [[noHistory, '--json'], /has no per-sample history \(history\.bin\): train it with --run-dir and --history on/],
      [[damaged, '--json'], /history\.bin: \d+ bytes, the header describes \d+/],
      [[wrongData, '--json'], /is not the one the run was trained on \(fingerprint [0-9a-f]{16}, the run's 0123456789abcdef\)/],
      [[join(root, 'nowhere')], /is not a run folder/],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    runs.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(cases[i][1]);
    });
  });

  it('bad options: one line and a pointer to --help, exit 2', async () => {
    const [bad, none, two, unknown] = await Promise.all([cli([run, '--frob']), cli([]), cli([run, run]), runCli('data-lab', ['nonsense'])]);
    for (const r of [bad, none, two]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^data-lab data-map: .*\nTry 'data-lab data-map --help'\.\n$/);
    }
    const r = unknown;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "nonsense"/);
  });
});
