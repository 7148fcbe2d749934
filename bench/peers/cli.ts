// `npm run bench:peers`: our engine against TensorFlow.js (cpu, wasm), ConvNetJS and PyTorch on
// the same LeNet-5 training and inference, measured one right after the other in this process
// tree, with the ratios ours/peer. Prints figures; asserts nothing. The harness is
// bench/peers/peers.ts.

import { createPeers } from './all-peers';
import { PEER_IDS, PEER_PRESETS, formatReport, isPeerPreset, runPeersBench, type Budget, type PeerId, type PeerPreset } from './peers';
import { loadMnist } from '../../src/node/datasets';
import { defaultThreads } from '../../src/node/parallel/gradients';
import { UsageError, intFlag, numFlag, parseFlags, runCli } from '../../src/node/cli/common';

const NAME = 'bench:peers';

export const HELP = `Usage: npm run bench:peers -- [--json] [--presets A,B] [--batch N] [--eval-batch N] [--threads 1,2] [--seconds S | --steps N]
                              [--repeat R] [--peers tfjs-cpu,tfjs-wasm,convnetjs,pytorch]

Trains and evaluates the same LeNet-5 in our engine and, right after it in the same process tree,
in TensorFlow.js 4.22 (cpu and wasm backends), ConvNetJS and PyTorch (CPU), and prints images per
second and the ratios ours/peer. Ours runs twice: with LeCun's C3 table (the presets) and with C3
fully connected, since TensorFlow.js and ConvNetJS have no connection table; PyTorch applies the
table as masked weights. Peers that cannot use threads run at one thread only. Default:
lenet5-tanh-mse and lenet5-relu-ce-bn, batch 32, 1 thread and all cores (${defaultThreads()} here).
Figures are wall-clock: run it on a quiet machine (the load average is printed).

  --json          one JSON object on stdout: {"machine":{cpu,cores,memoryGiB,node,kernels,
                  loadAverage:{before,after}},"config":{…},"peers":[{id,label,available,version,
                  reason,threads,c3,notes}],"results":[{engine,preset,c3,batch,evalBatch,threads,
                  trainImagesPerSecond,evalImagesPerSecond,trainSteps,firstLoss,lastLoss,runs}],
                  "ratios":[{preset,batch,evalBatch,threads,peer,train:{table,full},eval:{table,full}}]}
  --presets A,B   ${Object.keys(PEER_PRESETS).join(', ')} (default: both)
  --batch N       training batch size (default 32)
  --eval-batch N  inference batch size (default: the training batch)
  --threads LIST  thread counts (default 1,${defaultThreads()})
  --seconds S     training time per figure; inference gets half (default 2)
  --steps N       instead: exactly N training and N inference batches per figure
  --repeat R      measure everything R times and report medians (default 1)
  --peers LIST    which peers to run (default: all)

TensorFlow.js's wasm backend (stock 4.22) has no Conv2DBackpropFilter kernel; this benchmark
registers one built from that backend's own Transpose and Conv2D kernels. PyTorch is Debian's
python3-torch under /usr/bin/python3 (or $LENET_PYTHON); without it, PyTorch is skipped with a note on how
to install it.
`;

function list<T extends string>(v: string | undefined, flag: string, all: readonly T[], isValid: (x: string) => x is T): T[] {
  if (v === undefined) return [...all];
  const items = v.split(',').map((x) => x.trim());
  for (const x of items) if (!isValid(x)) throw new UsageError(`${flag}: unknown "${x}" (one of ${all.join(', ')})`);
  return items as T[];
}

async function main(argv: string[]): Promise<void> {
  const { values: f } = parseFlags(argv, {
    json: { type: 'boolean' },
    presets: { type: 'string' },
    batch: { type: 'string' },
    threads: { type: 'string' },
    seconds: { type: 'string' },
    steps: { type: 'string' },
    repeat: { type: 'string' },
    peers: { type: 'string' },
    'eval-batch': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  const presets = list<PeerPreset>(f.presets, '--presets', Object.keys(PEER_PRESETS) as PeerPreset[], isPeerPreset);
  const peerIds = list<PeerId>(f.peers, '--peers', PEER_IDS, (x): x is PeerId => (PEER_IDS as readonly string[]).includes(x));
  const batch = intFlag(f.batch, '--batch', 1, 4096) ?? 32;
  const evalBatch = intFlag(f['eval-batch'], '--eval-batch', 1, 4096) ?? batch;
  const all = defaultThreads();
  const threads = f.threads === undefined ? [...new Set([1, all])] : f.threads.split(',').map((x) => intFlag(x.trim(), '--threads', 1, 256)!);
  if (f.seconds !== undefined && f.steps !== undefined) throw new UsageError('give --seconds or --steps, not both');
  const steps = intFlag(f.steps, '--steps', 1, 1_000_000);
  const budget: Budget = steps !== undefined ? { steps } : { seconds: numFlag(f.seconds, '--seconds', 0, 60, true) ?? 2 };
  const repeat = intFlag(f.repeat, '--repeat', 1, 100) ?? 1;

  const data = await loadMnist();
  const progress = (line: string): void => {
    // Progress goes to stderr so that stdout stays the table (or the JSON).
    process.stderr.write(`${line}\n`);
  };
  const report = await runPeersBench(
    {
      presets,
      batch,
      evalBatch,
      threads,
      budget,
      repeat,
      peers: createPeers(peerIds),
      onMeasurement: (m, r) =>
        progress(
          `  ${repeat > 1 ? `[${r + 1}/${repeat}] ` : ''}${m.preset} ${m.engine} (C3 ${m.c3}) ${m.threads} thread${m.threads > 1 ? 's' : ''}: ` +
            `${Math.round(m.trainImagesPerSecond)} train img/s, ${Math.round(m.evalImagesPerSecond)} eval img/s`,
        ),
    },
    data,
  );
  for (const p of report.peers) if (!p.available) progress(`${p.label} skipped: ${p.reason}`);
  process.stdout.write(f.json ? `${JSON.stringify(report)}\n` : formatReport(report));
}

await runCli(NAME, () => main(process.argv.slice(2)));
