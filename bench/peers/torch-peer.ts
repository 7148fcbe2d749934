// PyTorch peer of `npm run bench:peers`: runs bench/peers/torch_peer.py in a child process
// (Debian's python3-torch, CPU) with the same preset, batch, thread count and learning rate, the C3
// table as masked weights, and OPENBLAS_NUM_THREADS=1 (Debian's OpenBLAS otherwise starts threads
// of its own against torch's and halves the speed).

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MnistData } from '../../src/node/datasets';
import type { Availability, Measurement, Peer, Workload } from './peers';

export const TORCH_SCRIPT = fileURLToPath(new URL('./torch_peer.py', import.meta.url));

export const TORCH_INSTALL_HINT =
  'install Debian’s PyTorch with `apt-get install -y python3-torch` (it imports under /usr/bin/python3), or set LENET_PYTHON to a python3 that imports torch';

/** $LENET_PYTHON when set; otherwise Debian's /usr/bin/python3 (a python3 earlier on PATH may lack torch), then python3. */
export function pythonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return env.LENET_PYTHON ? [env.LENET_PYTHON] : ['/usr/bin/python3', 'python3'];
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

interface TorchOutput {
  trainImagesPerSecond: number;
  evalImagesPerSecond: number;
  trainSteps: number;
  firstLoss: number;
  lastLoss: number;
  threads: number;
}

function parseOutput(stdout: string): TorchOutput {
  const line = stdout.trim().split('\n').pop() ?? '';
  const o = JSON.parse(line) as Partial<TorchOutput>;
  for (const k of ['trainImagesPerSecond', 'evalImagesPerSecond', 'trainSteps', 'firstLoss', 'lastLoss', 'threads'] as const) {
    if (typeof o[k] !== 'number') throw new Error(`torch_peer.py printed no number "${k}": ${line.slice(0, 200)}`);
  }
  return o as TorchOutput;
}

export class TorchPeer implements Peer {
  readonly id = 'pytorch' as const;
  readonly label = 'PyTorch (CPU)';
  readonly threads = true;
  readonly c3 = 'table' as const;
  private python: string | null = null;
  private availability: Promise<Availability> | null = null;

  constructor(private readonly candidates: string[] = pythonCandidates()) {}

  notes(): string[] {
    return [
      `C3 table as masked weights (conv2.weight × mask in every forward); torch.set_num_threads(threads); OPENBLAS_NUM_THREADS=1; ${this.python ?? 'python3'} ${TORCH_SCRIPT.replace(/^.*\/scripts\//, 'scripts/')}`,
    ];
  }

  /** Finds a python3 that imports torch (once per peer). */
  check(): Promise<Availability> {
    this.availability ??= this.find();
    return this.availability;
  }

  private async find(): Promise<Availability> {
    const tried: string[] = [];
    for (const py of this.candidates) {
      try {
        const { stdout } = await run(py, ['-c', 'import numpy, torch; print(torch.__version__)'], { ...process.env, OPENBLAS_NUM_THREADS: '1' }, 60_000);
        this.python = py;
        return { available: true, version: stdout.trim() };
      } catch {
        tried.push(py);
      }
    }
    return { available: false, reason: `PyTorch not found (tried ${tried.join(', ')}): ${TORCH_INSTALL_HINT}` };
  }

  async run(w: Workload, data: MnistData): Promise<Measurement> {
    if (!this.python) {
      const a = await this.check();
      if (!a.available) throw new Error(a.reason);
    }
    const budget = 'steps' in w.budget ? ['--steps', String(w.budget.steps)] : ['--seconds', String(w.budget.seconds)];
    const args = [
      TORCH_SCRIPT,
      '--mnist',
      data.dir,
      '--preset',
      w.preset,
      '--batch',
      String(w.batch),
      '--eval-batch',
      String(w.evalBatch),
      '--threads',
      String(w.threads),
      '--table',
      w.c3 === 'table' ? '1' : '0',
      '--warmup',
      String(w.warmup),
      '--lr',
      String(w.lr),
      '--seed',
      String(w.seed),
      ...budget,
    ];
    const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: String(w.threads) };
    let out: TorchOutput;
    try {
      const { stdout } = await run(this.python!, args, env, 600_000);
      out = parseOutput(stdout);
    } catch (e) {
      const stderr = (e as { stderr?: string }).stderr ?? '';
      throw new Error(`PyTorch run failed: ${(e as Error).message}${stderr ? `\n${stderr.trim().split('\n').slice(-5).join('\n')}` : ''}`);
    }
    if (out.threads !== w.threads) throw new Error(`PyTorch ran ${out.threads} threads, asked for ${w.threads}`);
    return {
      engine: 'pytorch',
      preset: w.preset,
      c3: w.c3,
      batch: w.batch,
      evalBatch: w.evalBatch,
      threads: w.threads,
      trainImagesPerSecond: out.trainImagesPerSecond,
      evalImagesPerSecond: out.evalImagesPerSecond,
      trainSteps: out.trainSteps,
      firstLoss: out.firstLoss,
      lastLoss: out.lastLoss,
    };
  }
}
