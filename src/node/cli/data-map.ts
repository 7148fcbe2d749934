// `npm run -s data-lab -- data-map RUN_DIR [--data DIR] [--json]`: a run's data map (dataset
// cartography) from its per-sample history: per training image, the mean and the spread of the
// probability of its label over the epochs and how often it was right, and the regions.

import { resolve } from 'node:path';
import { AMBIGUOUS_VARIABILITY, EASY_CONFIDENCE, REGIONS, regionOf, type Region } from '../../engine/data-lab/data-map';
import { loadMnist } from '../datasets';
import { NoHistoryError, readRunDataMap } from '../runs/data-map';
import { CliError, UsageError, dataFlag, parseFlags, runCli, thousands } from './common';

const NAME = 'data-lab data-map';

export const DATA_MAP_HELP = `Usage: npm run -s data-lab -- data-map RUN_DIR [--data DIR] [--json]

The data map of a run (Swayamdipta et al. 2020, "Dataset Cartography"), from the per-sample
history its folder records (history.bin): for every training image the run trained on,
  confidence    the mean over the recorded epochs of the probability the model gave its label
  variability   the standard deviation of that probability (population: divided by the epochs)
  correctness   the fraction of those epochs whose prediction was its label
and its region: ambiguous when the variability is ${AMBIGUOUS_VARIABILITY} or more, else easy when the
confidence is ${EASY_CONFIDENCE} or more, else hard. Images held out for validation are not on the map;
a run trained on --limit N covers the first N images of the training file.

Options:
  --data DIR   folder with the MNIST IDX files the run was trained on, when they have moved
               (default: the dataset run.json names; its fingerprint must match)
  --json       print one JSON object on stdout and nothing else (use npm run -s):
               {"points":[{"index","confidence","variability","correctness"}, …]} where index
               is the 0-based position in the training IDX file
  -h, --help   show this help
`;

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

async function main(argv: string[]): Promise<void> {
  const { values: f, positionals } = parseFlags(argv, { data: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, true);
  if (f.help) {
    process.stdout.write(DATA_MAP_HELP);
    return;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the run folder' : `expected one run folder, got ${positionals.length}`);
  await dataFlag(f.data);
  const dir = resolve(positionals[0]);
  let r;
  try {
    r = await readRunDataMap(dir, async (dataset) => {
      const data = await loadMnist(f.data ?? dataset.path ?? undefined);
      if (data.fingerprint !== dataset.fingerprint) {
        throw new CliError(
          `the dataset in ${data.dir} is not the one the run was trained on (fingerprint ${data.fingerprint}, the run's ${dataset.fingerprint})`,
        );
      }
      return data.train.labels;
    });
  } catch (e) {
    if (e instanceof NoHistoryError) {
      throw new CliError(`run ${positionals[0]} has no per-sample history (history.bin): train it with --run-dir and --history on (the default)`);
    }
    throw e;
  }
  const { map, trained } = r;
  if (f.json) {
    const points: string[] = [];
    for (let i = 0; i < map.count; i++) {
      if (!trained[i]) continue;
      points.push(
        JSON.stringify({ index: i, confidence: round(map.confidence[i]), variability: round(map.variability[i]), correctness: round(map.correctness[i]) }),
      );
    }
    process.stdout.write(`{"points":[${points.join(',')}]}\n`);
    return;
  }
  const counts: Record<Region, number> = { easy: 0, ambiguous: 0, hard: 0 };
  let onMap = 0;
  for (let i = 0; i < map.count; i++) {
    if (!trained[i]) continue;
    onMap++;
    counts[regionOf(map.confidence[i], map.variability[i])]++;
  }
  const epochs = r.firstEpoch === r.lastEpoch ? `epoch ${r.firstEpoch}` : `epochs ${r.firstEpoch}–${r.lastEpoch}`;
  const lines = [
    `${dir}: ${thousands(onMap)} training images over ${epochs}${map.count > onMap ? ` (${thousands(map.count - onMap)} held out for validation, not on the map)` : ''}`,
    ...REGIONS.map((g) => `  ${g.padEnd(10)} ${thousands(counts[g]).padStart(7)}  ${((100 * counts[g]) / Math.max(1, onMap)).toFixed(1).padStart(5)}%`),
  ];
  if (map.epochs < 2) lines.push('One epoch recorded: every variability is 0; train two or more epochs for a map worth reading.');
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The `data-map` subcommand of `npm run data-lab`. */
export async function runDataMap(args: string[]): Promise<void> {
  await runCli(NAME, () => main(args));
}
