// Regenerates the results docs from fresh training runs at the current commit.
//
//   npm run results                 trains lenet5-relu-ce-bn and lenet5-tanh-mse at their defaults
//                                   (`npm run -s train -- --preset P --json`) → docs/results.md
//   npm run results -- --report-only   rewrite docs/results.md from the last runs (runs/results-headline/)
//   npm run results:seed-study      runs `npm run -s experiments -- seed-study` (all seven presets)
//                                   → docs/results/seed-study.md, seed-study.json and two SVG charts
//   npm run results:seed-study -- --presets A,B,…   the same for some presets (the doc says which)
//   npm run results:seed-study -- --report-only      rewrite those docs from the last study's
//                                                    runs/results-seed-study/results.json
//   tsx scripts/results.mjs table run.jsonl          a per-epoch Markdown table from
//                                                    `npm run -s train -- --json` output
//
// Run under tsx (the npm scripts do): it imports the engine's presets and the seed study's tables.
// The docs it writes say at the top that they are generated and by which command; they name the
// machine in words (CPU model, cores, Node version) and the commit, never a path or a host.

import { execFileSync, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRESETS } from '../src/engine/presets.ts';
import { defaultThreads, threadsFor } from '../src/node/parallel/gradients.ts';
import { loadKernels } from '../src/node/load-kernels.ts';
import { epochTable, resultsTable, testErrorChart, trainLossChart } from '../src/node/experiments/seed-study.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HEADLINE = ['lenet5-relu-ce-bn', 'lenet5-tanh-mse'];

const pct = (x) => (100 * x).toFixed(2);
const thousands = (x) => Math.round(x).toLocaleString('en-US');

/** Short commit, "-dirty" when tracked files other than the generated docs differ from it. */
function commit() {
  const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const head = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!docs', ':!README.md');
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function machine() {
  const c = cpus();
  return `${c[0]?.model.trim() ?? 'unknown CPU'}, ${c.length} core${c.length === 1 ? '' : 's'}, Node ${process.version}`;
}

/** Runs an npm script, passing stderr through, and returns its stdout. */
function npm(args) {
  return new Promise((res, rej) => {
    const child = spawn('npm', ['run', '-s', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => (out += d));
    child.on('error', rej);
    child.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`npm run ${args.join(' ')} exited with ${code}`))));
  });
}

function minutes(ms) {
  return `${(ms / 60_000).toFixed(1)} minutes`;
}

// ------------------------------------------------------------------ per-epoch table

export function epochRows(rows) {
  const lines = [
    '| epoch | lr | train loss | train acc % | test loss | test acc % | train s | images/s |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.epoch} | ${r.lr.toPrecision(3)} | ${r.trainLoss.toFixed(4)} | ${pct(r.trainAccuracy)} | ${r.testLoss.toFixed(4)} | ${pct(r.testAccuracy)} | ${r.seconds.toFixed(1)} | ${thousands(r.imagesPerSecond)} |`,
    );
  }
  return lines.join('\n');
}

export function summary(rows) {
  const total = rows.reduce((a, r) => a + r.seconds, 0);
  const first99 = rows.find((r) => r.testAccuracy >= 0.99);
  let upTo99 = 0;
  if (first99) for (const r of rows.slice(0, rows.indexOf(first99) + 1)) upTo99 += r.seconds;
  const images = rows.reduce((a, r) => a + r.imagesPerSecond * r.seconds, 0);
  return {
    final: rows.at(-1).testAccuracy,
    total,
    first99: first99?.epoch ?? null,
    upTo99: first99 ? upTo99 : null,
    imagesPerSecond: total > 0 ? images / total : 0,
  };
}

const parseJsonl = (text) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

// ------------------------------------------------------------------ docs/results.md

async function headline(argv) {
  // The runs' output is kept in runs/results-headline/ (gitignored); --report-only rewrites
  // docs/results.md from it without training.
  const keep = join(ROOT, 'runs/results-headline/runs.json');
  let saved;
  if (argv[0] === '--report-only') {
    saved = JSON.parse(readFileSync(keep, 'utf8'));
  } else {
    const started = Date.now();
    const runs = [];
    for (const preset of HEADLINE) {
      const p = PRESETS[preset];
      const threads = threadsFor(p.spec, p.defaults.batchSize, defaultThreads());
      const args = ['train', '--', '--preset', preset, '--json', ...argv];
      process.stderr.write(`results: npm run -s ${args.join(' ')}\n`);
      const rows = parseJsonl(await npm(args));
      runs.push({ preset, defaults: p.defaults, threads, rows });
    }
    saved = { argv, runs, wall: Date.now() - started, commit: commit(), machine: machine(), kernels: loadKernels().name };
    mkdirSync(dirname(keep), { recursive: true });
    writeFileSync(keep, `${JSON.stringify(saved)}\n`);
  }
  argv = saved.argv;
  const runs = saved.runs.map((r) => ({ ...r, ...summary(r.rows) }));
  const { wall, kernels } = saved;
  const at = saved.commit;
  const command = `npm run results${argv.length ? ` -- ${argv.join(' ')}` : ''}`;

  const table = runs.map(
    (r) =>
      `| \`${r.preset}\` | ${r.rows.length} | ${r.threads} | **${pct(r.final)} %** | ${r.first99 === null ? '—' : `epoch ${r.first99} (${r.upTo99.toFixed(1)} s)`} | ${r.total.toFixed(1)} s | ${thousands(r.imagesPerSecond)} |`,
  );
  const sections = runs.map(
    (r) => `## ${r.preset}, ${r.rows.length} epochs

\`\`\`sh
npm run -s train -- --preset ${r.preset} --json${argv.length ? ` ${argv.join(' ')}` : ''}
\`\`\`

Batch ${r.defaults.batchSize}, lr ${r.defaults.lr} (${r.defaults.schedule.type}), momentum ${r.defaults.momentum}, decay ${r.defaults.decay}, seed 1, ${r.threads} thread${r.threads === 1 ? '' : 's'}.

${epochRows(r.rows)}

Final test accuracy **${pct(r.final)} %**; ${r.total.toFixed(1)} s of training in all${r.first99 === null ? '; 99 % not reached' : `; 99 % first reached at epoch ${r.first99}`}.
`,
  );

  const doc = `<!-- Generated by \`${command}\` (scripts/results.mjs); do not edit by hand. -->

# Results: LeNet-5 on MNIST

Generated by \`${command}\`, which trains the two headline presets with their default settings
(\`docs/presets.md\`)${argv.length ? ` and the options \`${argv.join(' ')}\`` : ''} and writes this file. Commit \`${at}\`; ${saved.machine}, kernels
\`${kernels}\`; the two trainings took ${minutes(wall)} of wall time.

Accuracies are **final-epoch** test accuracies on the 10,000 MNIST test images: no epoch is chosen
on the test set. Every run trains on all 60,000 training images with seed 1 and the default thread
count (all cores, but a network with batch norm keeps at least 16 images per thread, 32 with MSE;
\`docs/engine.md\`). A given thread count reproduces bit for bit; another count sums gradients in
another order, so its weights differ by rounding and it can end slightly apart. Seconds are wall-clock training time with the
evaluation after each epoch excluded, and images/s is training throughput. Both are whatever the
machine that ran the command gave, shared with other jobs or not: compare epochs rather than seconds,
and see \`docs/benchmarks.md\` for speed measured on a quiet machine.

| preset | epochs | threads | final test accuracy | 99 % first reached | training time | images/s |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${table.join('\n')}

For comparison: the seed project's tanh + MSE baseline reported 98.99 %, and LeCun et al. (1998)
report 0.95 % test error (99.05 % accuracy) for LeNet-5 without distortions. Both presets here
train with momentum 0.9 and a cosine learning-rate schedule.

${sections.join('\n')}
The seed study — all six LeNet-5 variants and the MLP side by side, with the best epoch chosen on
held-out validation images — is in [\`docs/results/seed-study.md\`](results/seed-study.md)
(\`npm run results:seed-study\`).
`;
  writeFileSync(join(ROOT, 'docs/results.md'), doc);
  process.stderr.write(`results: wrote docs/results.md (${minutes(wall)})\n`);
}

// ------------------------------------------------------------------ docs/results/seed-study.*

/** The commit seed-study.ts recorded (full hash, maybe with a note on uncommitted changes), short. */
function shortCommit(recorded) {
  const m = /^([0-9a-f]{7,40})/.exec(recorded ?? '');
  return m ? `${m[1].slice(0, 7)}${/uncommitted/.test(recorded) ? '-dirty' : ''}` : 'unknown';
}

async function seedStudy(argv) {
  const out = 'runs/results-seed-study';
  // --report-only: rewrite the docs from the last study in runs/results-seed-study without training.
  const reportOnly = argv[0] === '--report-only';
  if (!reportOnly) {
    rmSync(join(ROOT, out), { recursive: true, force: true });
    const args = ['experiments', '--', 'seed-study', '--out', out, ...argv];
    process.stderr.write(`results: npm run -s ${args.join(' ')}\n`);
    await npm(args);
  }
  const study = JSON.parse(readFileSync(join(ROOT, out, 'results.json'), 'utf8'));
  if (reportOnly) argv = study.command.split(' ').slice(study.command.split(' ').indexOf(out) + 1);
  const at = shortCommit(study.commit);
  const command = `npm run results:seed-study${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const runs = study.runs;
  const m = study.machine;
  const o = study.options;

  // The committed copy keeps what the report needs: no dates, run ids, load averages or paths.
  const clean = {
    title: study.title,
    generatedBy: command,
    commit: at,
    wallSeconds: Math.round(study.wallSeconds),
    machine: { cpu: m.cpu, cores: m.cores, node: m.node, kernels: m.kernels },
    options: o,
    dataset: study.dataset,
    runs: runs.map(({ runId: _runId, ...r }) => r),
  };
  const dir = join(ROOT, 'docs/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'seed-study.json'), `${JSON.stringify(clean, null, 1)}\n`);
  // An XML comment may not hold "--", so the exact command is in seed-study.md.
  const svgHeader = '<!-- Generated by npm run results:seed-study (scripts/results.mjs; the command is in seed-study.md). Do not edit by hand. -->\n';
  writeFileSync(join(dir, 'seed-study-test-error.svg'), svgHeader + testErrorChart(runs, study.title));
  writeFileSync(join(dir, 'seed-study-train-loss.svg'), svgHeader + trainLossChart(runs, study.title));

  const settings = runs
    .map((r) => {
      const s = r.settings;
      return `- \`${r.preset}\`: ${s.epochs} epochs, batch ${s.batchSize}, lr ${s.lr} (${s.schedule.type}), momentum ${s.momentum}, decay ${s.decay}${r.status === 'done' ? '' : ` — ${r.status}${r.reason ? `: ${r.reason}` : ''}`}`;
    })
    .join('\n');
  const all = runs.length === 7 && !argv.includes('--presets');
  const doc = `<!-- Generated by \`${command}\` (scripts/results.mjs); do not edit by hand. -->

# Seed study: the six LeNet-5 variants and the MLP

The seed project compared six LeNet-5 variants — tanh + MSE and ReLU + cross-entropy, each plain,
with L2 weight decay and with batch norm — and a 784-500-150-10 MLP. This file is that comparison
with this engine, regenerated by \`${command}\`, which runs
\`npm run experiments -- seed-study\`${argv.length ? ` with \`${argv.join(' ')}\`` : ''} and writes its results here.
${all ? 'All seven presets ran' : `Presets run: ${runs.map((r) => `\`${r.preset}\``).join(', ')}`}, one after the other, each with its default
settings (\`docs/presets.md\`), seed ${o.seed}, in ${minutes(study.wallSeconds * 1000)} of wall time.

- Commit \`${at}\`; ${m.cpu}, ${m.cores} cores, Node ${m.node}, kernels \`${m.kernels}\`, at most ${o.threads} thread${o.threads === 1 ? '' : 's'} per run (a network with batch norm keeps at least 16 images per thread, 32 with MSE).
- Data: ${study.dataset.name} (fingerprint \`${study.dataset.fingerprint}\`): ${runs[0]?.trainCount.toLocaleString('en-US')} training images, ${runs[0]?.validationCount.toLocaleString('en-US')} held out for validation, ${study.dataset.testCount.toLocaleString('en-US')} test images.
- Raw numbers, every epoch of every run: [\`seed-study.json\`](seed-study.json).

## Results

${resultsTable(runs)}

- **train error**: the final model on the training images it learned from, in inference mode.
- **test error**: the final model on the 10,000 test images. This is the headline figure.
- **best epoch (val)**: the epoch with the lowest error on the validation images held out of the
  training set (never chosen on test); **test error at best** is that epoch's model on test.
- **epochs / seconds to 99 %**: the first epoch whose model reaches 99 % test accuracy, and the
  training time until then (evaluation excluded).
- **s / epoch**, **images / s**: wall-clock training time per epoch and throughput, averaged over
  the run; they depend on what else the machine was running (\`docs/benchmarks.md\` measures speed).

How to read it:

- One model's error on 10,000 test images has a binomial standard error of about 0.1 percentage
  point near 1 %: differences of less than about 0.2 points between single runs are noise.
- A "variant" is a package, as in the seed: activation, pooling (average with tanh, max with
  ReLU), output and loss, initialisation and learning rate change together. The table says which
  package learns faster, not which ingredient does it.
- Each preset runs for its own default number of epochs and its cosine schedule spans them, so
  the epoch at which a run reaches something depends partly on its schedule's length.
- Batch norm normalises each thread's share of the batch on its own, so the runner keeps at least
  16 images per thread (32 with MSE): \`lenet5-tanh-mse-bn\` trains on one thread,
  \`lenet5-relu-ce-bn\` on two (on a machine with two cores or more).
- The seed trained with plain SGD at batch 20 and lr 0.5; the presets use momentum 0.9 and a cosine
  schedule, and with momentum μ the long-run step is lr/(1 − μ): 0.05/(1 − 0.9) = 0.5, the seed's
  step, for the tanh presets. The MLP uses the seed's settings exactly.

What the seed reported, for comparison (final train / test error): tanh + MSE 0.62 % / 1.01 %;
tanh + MSE + L2 1.22 % / 1.33 %; tanh + MSE + batch norm 0 % / 0 %, which cannot be right (some
MNIST test digits are ambiguous or mislabelled, and no published model gets below about 0.2 %).
LeCun et al. (1998) report 0.95 % test error for LeNet-5 without distortions and 0.8 % with them
(the charts' guide lines); \`--augment\` trains with such distortions (\`docs/cli.md\`).

![test error per epoch](${'seed-study-test-error.svg'})

![training loss per epoch](${'seed-study-train-loss.svg'})

MSE and cross-entropy are different losses: compare the curves' shapes, not their heights, across
the two families.

## Test error per epoch

${epochTable(runs)}

## Settings

${settings}
`;
  writeFileSync(join(dir, 'seed-study.md'), doc);
  process.stderr.write(`results: wrote docs/results/seed-study.md, seed-study.json and the charts (${minutes(study.wallSeconds * 1000)})\n`);
  if (runs.some((r) => r.status !== 'done')) process.exitCode = 1;
}

// ------------------------------------------------------------------ main

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === undefined || cmd === 'headline') await headline(rest);
else if (cmd === 'seed-study') await seedStudy(rest);
else if (cmd === 'table' && rest[0]) {
  const rows = parseJsonl(readFileSync(rest[0], 'utf8'));
  const s = summary(rows);
  process.stdout.write(
    `${epochRows(rows)}\n\nFinal test accuracy **${pct(s.final)} %**; ${s.total.toFixed(1)} s of training in all${s.first99 === null ? '' : `; 99 % first reached at epoch ${s.first99}`}.\n`,
  );
} else {
  process.stderr.write('usage: tsx scripts/results.mjs [headline | seed-study [seed-study options] | table FILE.jsonl]\n');
  process.exitCode = 2;
}
