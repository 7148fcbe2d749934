// `npm run -s health -- RUN_DIR [--json]`: the layer health a run folder recorded per epoch
// (health.json) and the flags it raises, as tables or as one JSON object.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FLAG_LIMITS, healthFlags, type EpochHealth, type LayerHealth } from '../../engine/health';
import { epochMetricsSchema } from '../../common/records';
import { arr } from '../../common/schema';
import { HEALTH_FILE, readHealth } from '../runs/health';
import { RUN_FILES, readJson } from '../runs/layout';
import { CliError, UsageError, parseFlags, runCli } from './common';

const NAME = 'health';

export const HELP = `Usage: npm run -s health -- RUN_DIR [--json]

Shows the layer health a run folder recorded while training (its ${HEALTH_FILE}; every run folder
of the app and of npm run train -- --run-dir records it): per epoch and layer, the weights' and
biases' mean and spread over the free parameters (weights a connection table masks are not
parameters), the weight-gradient norm, the update-to-weight ratio per step, and on a fixed probe
batch of training images the share of ReLU units that never fire and of tanh/sigmoid outputs
that are saturated. Then the flags: what looks wrong, by epoch and layer, in plain words.

Flags:
  dead-relu            more than ${FLAG_LIMITS.dead * 100}% of a ReLU layer's units never fire on the probe batch
  saturated            more than ${FLAG_LIMITS.saturated * 100}% of a tanh or sigmoid layer's outputs are saturated
  vanishing-gradient   a layer's gradient norm is under ${FLAG_LIMITS.vanishing} of the largest layer's
  exploding-gradient   a gradient norm over ${FLAG_LIMITS.exploding}, or ${FLAG_LIMITS.exploding}× the layer's first epoch's
  update-ratio         updates ${FLAG_LIMITS.updateFactor}× away from ~1e-3 of the weights per step, either way
  loss-plateau         the training loss fell by less than ${FLAG_LIMITS.plateau * 100}% over two epochs
  lr-jump              the learning rate changed ${FLAG_LIMITS.lrJump}× or more from one epoch to the next
  resume               the run was resumed from its checkpoint in this epoch

Options:
  --json       print one JSON object on stdout and nothing else (use npm run -s):
               {"epochs":[{"epoch","steps","layers":[{"name","kind","weight","bias","grad",
               "updateToWeight","activation",…}]}],"flags":[{"epoch","layer","kind","message"}]}
               where weight, bias, grad and activation are {"count","mean","std","min","max",
               "histogram":{"edges":[65 numbers],"counts":[64 numbers]}} (grad also "norm")
  -h, --help   show this help
`;

function num(x: number | undefined, digits = 3): string {
  if (x === undefined) return '';
  if (x === 0) return '0';
  return Math.abs(x) >= 1e-2 && Math.abs(x) < 1e4 ? x.toPrecision(digits) : x.toExponential(digits - 1);
}

function row(l: LayerHealth): string[] {
  const fraction = l.deadFraction ?? l.saturatedFraction;
  return [
    l.name,
    l.fn ? `${l.kind} ${l.fn}` : l.kind,
    l.weight ? `${num(l.weight.mean)} ± ${num(l.weight.std)}` : '',
    l.bias ? `${num(l.bias.mean)} ± ${num(l.bias.std)}` : '',
    num(l.grad?.norm),
    num(l.updateToWeight),
    fraction === undefined ? '' : `${(100 * fraction).toFixed(1)}% ${l.deadFraction !== undefined ? 'dead' : 'saturated'}`,
  ];
}

function table(e: EpochHealth): string {
  const head = ['layer', 'kind', 'weight mean ± std', 'bias mean ± std', 'grad norm', 'update/weight', 'probe batch'];
  const rows = [head, ...e.layers.map(row)];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
  return [`epoch ${e.epoch} (${e.steps} steps${e.resumed ? ', resumed' : ''})`, ...lines].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const { values: f, positionals } = parseFlags(argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, true);
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the run folder' : `expected one run folder, got ${positionals.length}`);
  const dir = positionals[0];
  const kind = await stat(dir).then(
    (s) => (s.isDirectory() ? 'dir' : 'file'),
    () => null,
  );
  if (kind === null) throw new CliError(`run folder ${dir} does not exist`);
  if (kind !== 'dir') throw new CliError(`${dir} is not a run folder (not a folder)`);
  const epochs = await readHealth(dir);
  const metrics = (await readJson(dir, RUN_FILES.metrics, arr(epochMetricsSchema, { max: 10_000 }))) ?? [];
  if (!epochs.length) {
    const file = join(dir, HEALTH_FILE);
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    throw new CliError(exists ? `${file} holds no finished epoch yet` : `${file} is missing: the run recorded no layer health (is ${dir} a run folder?)`);
  }
  const flags = healthFlags(epochs, metrics);
  if (f.json) {
    process.stdout.write(`${JSON.stringify({ epochs, flags })}\n`);
    return;
  }
  const out = epochs.map(table);
  out.push(
    flags.length ? `flags\n${flags.map((x) => `  epoch ${x.epoch}${x.layer ? ` ${x.layer}` : ''}: ${x.kind}: ${x.message}`).join('\n')}` : 'flags: none',
  );
  process.stdout.write(`${out.join('\n\n')}\n`);
}

await runCli(NAME, () => main(process.argv.slice(2)));
