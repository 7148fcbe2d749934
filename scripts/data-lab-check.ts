// `npm run data-lab:check`: the label-issue finder at full size. Flips 0.5 % of MNIST's training
// labels at random (its own seed, to another class drawn uniformly), runs the finder with its
// defaults (no cache) and checks that the top N of the ranking (N = the number of flips) holds at
// least 70 % of them. Prints the time and the precision; exit status 1 below 70 %.
//
//   npm run data-lab:check [-- --fraction 0.005 --seed 2026 --folds K --epochs E --threads T --data DIR]

import { parseArgs } from 'node:util';
import { Rng } from '../src/engine/rng';
import { loadMnist } from '../src/node/datasets';
import { loadKernels } from '../src/node/load-kernels';
import { LABEL_ISSUES_DEFAULTS, findLabelIssues } from '../src/node/data-lab/label-issues';

const { values: f } = parseArgs({
  options: {
    fraction: { type: 'string' },
    seed: { type: 'string' },
    folds: { type: 'string' },
    epochs: { type: 'string' },
    threads: { type: 'string' },
    data: { type: 'string' },
  },
});
const fraction = Number(f.fraction ?? 0.005);
const flipSeed = Number(f.seed ?? 2026);
const settings = {
  ...LABEL_ISSUES_DEFAULTS,
  folds: Number(f.folds ?? LABEL_ISSUES_DEFAULTS.folds),
  epochs: Number(f.epochs ?? LABEL_ISSUES_DEFAULTS.epochs),
};

const data = await loadMnist(f.data);
const n = data.train.count;
const labels = data.train.labels.slice();
const rng = new Rng(flipSeed);
const perm = new Uint32Array(n);
for (let i = 0; i < n; i++) perm[i] = i;
rng.shuffle(perm);
const flips = Math.round(fraction * n);
const flipped = new Set<number>();
for (let r = 0; r < flips; r++) {
  const i = perm[r];
  // another class, uniformly: add 1..9 modulo 10
  labels[i] = (labels[i] + 1 + rng.int(9)) % 10;
  flipped.add(i);
}
const train = { ...data.train, labels };

process.stderr.write(
  `data-lab:check: ${flips} of ${n} labels flipped (seed ${flipSeed}); finder: ${settings.folds} folds of ${settings.preset}, ${settings.epochs} epochs, seed ${settings.seed}\n`,
);
const t0 = performance.now();
const result = await findLabelIssues(train, 'check', settings, {
  kernels: loadKernels().kernels,
  threads: f.threads !== undefined ? Number(f.threads) : undefined,
  cacheDir: null,
  top: flips,
  onProgress: (p) => {
    if (process.stderr.isTTY) process.stderr.write(`\rfold ${p.fold + 1}/${p.folds} ${(100 * p.fraction).toFixed(0)} %   `);
  },
});
const seconds = (performance.now() - t0) / 1000;
const found = result.issues.filter((x) => flipped.has(x.index)).length;
const precision = flips ? found / flips : 1;
const fixedBySuggestion = result.issues.filter((x) => flipped.has(x.index) && x.suggested === data.train.labels[x.index]).length;
if (process.stderr.isTTY) process.stderr.write('\n');
process.stdout.write(
  `${JSON.stringify({ images: n, flips, found, precision: Number(precision.toFixed(4)), suggestedRight: fixedBySuggestion, seconds: Number(seconds.toFixed(1)), ...settings })}\n`,
);
process.stdout.write(`top ${flips}: ${found} of the ${flips} flipped labels, precision ${(100 * precision).toFixed(1)} %; ${seconds.toFixed(0)} s\n`);
if (precision < 0.7) process.exitCode = 1;
