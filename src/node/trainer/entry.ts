// The trainer process: Electron forks it as a utility process (main/trainer-host.ts), tests and
// the browser-test host fork it with Node. It loads the dataset itself from the folder it is
// given, runs one training session at a time (session.ts), evaluates models on request, and
// speaks only the messages of ../protocol.ts, validating every one it receives.

import { pathToFileURL } from 'node:url';
import { robustAccuracy } from '../../engine/adversarial';
import { evaluate } from '../../engine/evaluate';
import { Model } from '../../engine/model';
import { loadMnist, type MnistData } from '../datasets';
import { DEFAULT_WASM_PATH, loadKernels } from '../load-kernels';
import { PROTOCOL_VERSION, type TrainerEvent, type TrainerRequest, parseTrainerRequest, requestIdOf, toWireError } from '../protocol';
import { readRunConfig } from '../runs/folder';
import { RunFolderError } from '../runs/layout';
import { threadsFor } from '../parallel/gradients';
import { connectParentPort } from './port';
import { TOP_ISSUES, findLabelIssues } from '../data-lab/label-issues';
import { applyOverlay, readOverlay } from '../data-lab/overlay';
import { EVAL_BATCH, TrainingSession, threadedGradients } from './session';

const port = connectParentPort();
// The host passes the compiled kernels' path (`--wasm=PATH`, the plain SIMD build; the relaxed
// one is its sibling kernels-relaxed.wasm): it differs between a dev tree and a packaged app.
// The relaxed build runs where the runtime accepts it, else the plain one (src/node/load-kernels.ts);
// when neither loads, the plain TypeScript kernels.
const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const wasmPath = arg('wasm') ?? DEFAULT_WASM_PATH;
// A LENET_KERNELS the trainer cannot honour stops it at once, in one line (the host reports the exit).
const kernels = (() => {
  try {
    return loadKernels(wasmPath);
  } catch (e) {
    process.stderr.write(`trainer: ${(e as Error).message}\n`);
    process.exit(1);
  }
})();
// Data-parallel worker threads (--threads=N, default 1) and, in a bundled app, the pre-built
// shard worker (--worker=PATH); without it the TypeScript worker runs under tsx.
const threads = Math.max(1, Math.min(64, Number.parseInt(arg('threads') ?? '1', 10) || 1));
const workerPath = arg('worker');
if (kernels.reason) process.stderr.write(`trainer: using the ${kernels.name} kernels: ${kernels.reason}\n`);

function post(e: TrainerEvent): void {
  port.postMessage(e);
}

function replyOk(id: number, extra: { runId?: string } = {}): void {
  post({ type: 'reply', id, ok: true, ...extra });
}

function replyError(id: number, e: unknown): void {
  post({ type: 'reply', id, ok: false, error: toWireError(e) });
}

// Datasets by folder: the embedded MNIST is read once per process, not once per run.
const datasets = new Map<string, Promise<MnistData>>();
function dataset(dir: string): Promise<MnistData> {
  let p = datasets.get(dir);
  if (!p) {
    p = loadMnist(dir);
    datasets.set(dir, p);
    p.catch(() => datasets.delete(dir));
  }
  return p;
}

interface ActiveRun {
  runId: string;
  session: TrainingSession | null;
  /** Requests that arrived while the session was still loading. */
  pending: { pause: boolean; cancel: boolean };
  finished: Promise<void>;
}
let active: ActiveRun | null = null;

async function train(req: Extract<TrainerRequest, { type: 'train' }>): Promise<void> {
  const { id, runId, runDir, datasetDir, resume } = req;
  if (labelling) {
    replyError(id, new Error('the label-issue finder is running; wait until it ends'));
    return;
  }
  if (active) {
    replyError(id, new Error(`run ${active.runId} is still in progress; pause or cancel it first`));
    return;
  }
  let release!: () => void;
  const run: ActiveRun = { runId, session: null, pending: { pause: false, cancel: false }, finished: new Promise<void>((r) => (release = r)) };
  active = run;
  let replied = false;
  try {
    const config = await readRunConfig(runDir);
    if (config.id !== runId) throw new RunFolderError('RUN_MISMATCH', `${runDir} holds run ${config.id}, not ${runId}`);
    const base = await dataset(datasetDir);
    // A run trained with a label overlay: its corrections applied in memory (the IDX files stay as they are).
    const data = req.overlay === undefined ? base : applyOverlay(base, await readOverlay(req.overlay, base), req.overlay);
    const shards = threadsFor(config.settings.batchSize, threads);
    const session = await TrainingSession.open({
      run: config,
      data,
      dir: runDir,
      resume,
      kernels: kernels.kernels,
      gradients:
        shards > 1
          ? threadedGradients(shards, config.settings.batchSize, { wasmPath, workerUrl: workerPath ? pathToFileURL(workerPath) : undefined })
          : undefined,
      hooks: {
        progress: (p) =>
          post({
            type: 'progress',
            runId,
            epoch: p.epoch,
            step: p.step,
            steps: p.steps,
            loss: p.loss,
            imagesPerSecond: p.imagesPerSecond,
            etaSeconds: p.etaSeconds,
            lr: p.lr,
            imagesSeen: p.imagesSeen,
          }),
        epoch: (metrics, confusion) => post({ type: 'epoch', runId, metrics, confusion }),
        snapshot: (epoch, params, buffers) => post({ type: 'snapshot', runId, epoch, params, buffers }),
        status: (status) => post({ type: 'status', runId, status }),
        notice: (message) => post({ type: 'notice', runId, message }),
      },
    });
    run.session = session;
    if (run.pending.pause) session.pause();
    if (run.pending.cancel) session.cancel();
    replyOk(id, { runId });
    replied = true;
    const outcome = await session.run();
    post(
      outcome.error
        ? { type: 'finished', runId, reason: outcome.reason, error: toWireError(outcome.error) }
        : { type: 'finished', runId, reason: outcome.reason },
    );
  } catch (e) {
    if (!replied) replyError(id, e);
    else post({ type: 'finished', runId, reason: 'failed', error: toWireError(e) });
  } finally {
    run.session?.dispose();
    active = null;
    release();
  }
}

function control(req: Extract<TrainerRequest, { type: 'pause' | 'resume' | 'cancel' }>): void {
  const run = active;
  if (!run || run.runId !== req.runId) {
    replyError(req.id, new Error(`run ${req.runId} is not in progress`));
    return;
  }
  const s = run.session;
  if (req.type === 'pause') {
    if (s) s.pause();
    else run.pending.pause = true;
  } else if (req.type === 'resume') {
    if (s) s.resume();
    else run.pending.pause = false;
  } else if (s) {
    s.cancel();
  } else {
    run.pending.cancel = true;
  }
  replyOk(req.id);
}

async function evaluateRequest(req: Extract<TrainerRequest, { type: 'evaluate' }>): Promise<void> {
  let model: Model | undefined;
  try {
    model = new Model(req.spec, kernels.kernels);
    model.restore({ params: req.params, buffers: req.buffers });
    const data = await dataset(req.datasetDir);
    const [c, h, w] = model.inShape;
    if (c !== 1 || h !== data.test.rows || w !== data.test.cols) {
      throw new RunFolderError(
        'RUN_MISMATCH',
        `the model expects ${c}×${h}×${w} inputs but the test images of ${data.dir} are ${data.test.rows}×${data.test.cols}`,
      );
    }
    const r = evaluate(model, data.test, EVAL_BATCH);
    post({ type: 'reply', id: req.id, ok: true, evaluation: r });
  } catch (e) {
    replyError(req.id, e);
  } finally {
    model?.dispose();
  }
}

async function robustnessRequest(req: Extract<TrainerRequest, { type: 'robustness' }>): Promise<void> {
  let model: Model | undefined;
  try {
    model = new Model(req.spec, kernels.kernels);
    model.restore({ params: req.params, buffers: req.buffers });
    const data = await dataset(req.datasetDir);
    const [c, h, w] = model.inShape;
    if (c !== 1 || h !== data.test.rows || w !== data.test.cols) {
      throw new RunFolderError(
        'RUN_MISMATCH',
        `the model expects ${c}×${h}×${w} inputs but the test images of ${data.dir} are ${data.test.rows}×${data.test.cols}`,
      );
    }
    const r = robustAccuracy(model, data.test, req.eps, { attack: req.attack, steps: req.attack === 'pgd' ? req.steps : undefined }, req.limit);
    post({ type: 'reply', id: req.id, ok: true, robustness: r });
  } catch (e) {
    replyError(req.id, e);
  } finally {
    model?.dispose();
  }
}

/** The label-issue finder while it runs: a run is refused meanwhile, and it is refused during a run. */
let labelling = false;
/** Set by a label-issues-cancel request; the finder checks it between batches. */
let labelCancelled = false;

async function labelIssuesRequest(req: Extract<TrainerRequest, { type: 'label-issues' }>): Promise<void> {
  if (active || labelling) {
    replyError(req.id, new Error(active ? `run ${active.runId} is still in progress; the finder trains models too` : 'the finder is already running'));
    return;
  }
  labelling = true;
  labelCancelled = false;
  try {
    const data = await dataset(req.datasetDir);
    let last = 0;
    const r = await findLabelIssues(
      data.train,
      data.fingerprint,
      { preset: req.preset, folds: req.folds, epochs: req.epochs, seed: req.seed },
      {
        kernels: kernels.kernels,
        threads,
        cacheDir: req.cacheDir,
        top: TOP_ISSUES,
        yieldEveryMs: 20,
        cancelled: () => labelCancelled,
        onProgress: (p) => {
          const now = performance.now();
          if (now - last < 100 && p.fraction < 1) return;
          last = now;
          post({ type: 'label-issues-progress', fraction: Math.min(1, p.fraction) });
        },
      },
    );
    post({ type: 'reply', id: req.id, ok: true, issues: r.issues });
  } catch (e) {
    replyError(req.id, e);
  } finally {
    labelling = false;
  }
}

async function shutdown(id: number): Promise<void> {
  const run = active;
  if (run) {
    if (run.session) run.session.cancel();
    else run.pending.cancel = true;
    await run.finished;
  }
  replyOk(id);
  // Let the reply leave before the process goes.
  setTimeout(() => process.exit(0), 50);
}

function handle(raw: unknown): void {
  let req: TrainerRequest;
  try {
    req = parseTrainerRequest(raw);
  } catch (e) {
    const id = requestIdOf(raw);
    if (id !== undefined) replyError(id, e);
    else process.stderr.write(`trainer: ignored a message without an id: ${(e as Error).message}\n`);
    return;
  }
  switch (req.type) {
    case 'train':
      void train(req);
      return;
    case 'pause':
    case 'resume':
    case 'cancel':
      control(req);
      return;
    case 'evaluate':
      void evaluateRequest(req);
      return;
    case 'robustness':
      void robustnessRequest(req);
      return;
    case 'shutdown':
      void shutdown(req.id);
      return;
    case 'label-issues':
      void labelIssuesRequest(req);
      return;
    case 'label-issues-cancel':
      if (labelling) labelCancelled = true;
      replyOk(req.id);
      return;
    default: {
      const never: never = req;
      throw new Error(`internal error: unhandled request ${JSON.stringify(never)}`);
    }
  }
}

port.on('message', (e) => handle(e.data));
post({ type: 'ready', version: PROTOCOL_VERSION, pid: process.pid, kernels: kernels.name, threads });
