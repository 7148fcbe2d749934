// The real trainer entry (src/node/trainer/entry.ts) in a child process, driven through the
// same TrainerHost main uses: ready → train → progress → epoch → pause/resume → cancel, a
// SIGKILL mid-epoch (reported; the checkpoint loads and the run resumes), bad requests, and shard
// workers that cannot start or die mid-epoch (the run goes on on one thread and says so).

import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeModelFile } from '../../src/engine/formats/modelfile';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { describeDataset, loadMnist, type MnistData } from '../../src/node/datasets';
import { PROTOCOL_VERSION, RemoteError, type TrainerEvent } from '../../src/node/protocol';
import { buildRunConfig } from '../../src/node/runs/config';
import { createRun, readRunStatus } from '../../src/node/runs/folder';
import { readCheckpoint } from '../../src/node/runs/checkpoint';
import { RUN_FILES, type RunConfig } from '../../src/node/runs/layout';
import { lockRun } from '../../src/node/runs/lock';
import { TrainerHost, type RunEvent } from '../../src/node/trainer/host';
import type { TrainSettings } from '../../src/common/settings';
import { forkTrainer, type ForkedTrainer } from '../helpers/fork-trainer';
import { mnistSubset } from '../helpers/mnist-subset';
import { jsKernels } from '../../src/engine/kernels/js/backend';

let dataDir: string;
let data: MnistData;
let root: string;
const hosts: TrainerHost[] = [];

beforeAll(async () => {
  dataDir = await mnistSubset(1500, 200);
  data = await loadMnist(dataDir);
  root = await mkdtemp(join(tmpdir(), 'lenet-trainer-'));
});
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.stop(2000);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const SETTINGS: TrainSettings = { epochs: 5, batchSize: 16, lr: 0.02, momentum: 0.9, decay: 0, schedule: { type: 'constant' }, seed: 3, validation: 100 };

async function newRun(id: string, settings: Partial<TrainSettings> = {}): Promise<{ dir: string; run: RunConfig }> {
  const dir = join(root, id);
  const run = buildRunConfig({ id, preset: PRESETS['lenet5-relu-ce'], settings: { ...SETTINGS, ...settings }, dataset: describeDataset(data, dataDir) });
  await createRun(dir, run);
  return { dir, run };
}

/** A host over the forked entry, recording every run event, with a way to wait for one. */
function harness(args: string[] = []) {
  const events: RunEvent[] = [];
  const waiters: { pred: (e: RunEvent) => boolean; resolve: (e: RunEvent) => void }[] = [];
  const children: ForkedTrainer[] = [];
  const host = new TrainerHost(
    () => {
      const c = forkTrainer(args);
      children.push(c);
      return c;
    },
    {
      onEvent: (e) => {
        events.push(e);
        for (const w of waiters.splice(0)) {
          if (w.pred(e)) w.resolve(e);
          else waiters.push(w);
        }
      },
      onProtocolError: (m) => {
        throw new Error(m);
      },
    },
  );
  hosts.push(host);
  const next = <T extends RunEvent['type']>(
    type: T,
    pred: (e: Extract<RunEvent, { type: T }>) => boolean = () => true,
  ): Promise<Extract<RunEvent, { type: T }>> =>
    new Promise((resolve) =>
      waiters.push({ pred: (e) => e.type === type && pred(e as Extract<RunEvent, { type: T }>), resolve: resolve as (e: RunEvent) => void }),
    );
  return { host, events, next, children };
}

describe('trainer process', () => {
  it('ready → train → progress → epoch + snapshot → pause/resume → cancel, with a loadable checkpoint', async () => {
    const { host, events, next } = harness();
    const ready = await host.start();
    expect(ready.version).toBe(PROTOCOL_VERSION);
    expect(ready.kernels).toBe('wasm-relaxed-simd'); // Node 20 after the V8 flag, newer Node as is

    // Progress events come at most every 100 ms and the clock restarts after each epoch, so an
    // epoch must outlast that: batches of one (~1,400 steps an epoch) do at any engine speed. More
    // epochs than the test lets it train (it cancels the run), so the pause and resume below find
    // the run still going.
    const { dir, run } = await newRun('flow', { epochs: 100, batchSize: 1, lr: 0.005 });
    const firstProgress = next('progress');
    const firstEpoch = next('epoch');
    const firstSnapshot = next('snapshot', (x) => x.epoch === 1);
    const reply = await host.request({ type: 'train', runId: run.id, runDir: dir, datasetDir: dataDir, resume: false });
    expect(reply.runId).toBe(run.id);

    const p = await firstProgress;
    expect(p.runId).toBe(run.id);
    expect(p.epoch).toBe(1);
    expect(p.steps).toBe(run.trainCount); // one image a batch
    expect(Number.isFinite(p.loss)).toBe(true);

    const e = await firstEpoch;
    expect(e.metrics.epoch).toBe(1);
    expect(e.metrics.validationAccuracy).toBeGreaterThan(0.2);
    expect(e.confusion.flat().reduce((a, b) => a + b, 0)).toBe(200); // the whole test set
    const snap = await firstSnapshot;
    expect(snap.params).toBeInstanceOf(Float32Array);
    expect(snap.params.length).toBe(new Model(run.spec, jsKernels).params.length);
    expect(events.some((x) => x.type === 'snapshot' && x.epoch === 0)).toBe(true); // the initial weights, at start

    const paused = next('status', (s) => s.status === 'paused');
    await host.request({ type: 'pause', runId: run.id });
    await paused;
    const countAtPause = events.filter((x) => x.type === 'progress').length;
    await new Promise((r) => setTimeout(r, 400));
    expect(events.filter((x) => x.type === 'progress').length).toBe(countAtPause);
    expect((await readRunStatus(dir)).status).toBe('paused');
    // The trainer process holds the folder's lock while the run lives, paused or not: a CLI
    // --resume (or any other writer) is refused, naming the trainer's pid.
    expect(JSON.parse(await readFile(join(dir, RUN_FILES.lock), 'utf8')).pid).toBe(ready.pid);
    expect(() => lockRun(dir)).toThrow(`${dir} is in use by process ${ready.pid}`);

    const running = next('status', (s) => s.status === 'running');
    const moreProgress = next('progress');
    await host.request({ type: 'resume', runId: run.id });
    await running;
    await moreProgress;

    const finished = next('finished');
    await host.request({ type: 'cancel', runId: run.id });
    const f = await finished;
    expect(f.reason).toBe('cancelled');
    expect((await readRunStatus(dir)).status).toBe('cancelled');
    const cp = await readCheckpoint(dir, run.trainCount);
    expect(cp!.resume.history.length).toBeGreaterThanOrEqual(1);
    expect(cp!.loaded.model.isFinite()).toBe(true);
    expect(host.activeRuns()).toEqual([]);
    expect(existsSync(join(dir, RUN_FILES.lock))).toBe(false);
  });

  it('SIGKILL mid-epoch is reported as a failed run; the checkpoint loads and the run resumes to the end', async () => {
    const { host, next, children } = harness();
    await host.start();
    // Batches of one: ~1,400 steps an epoch, so progress events arrive inside epoch 2 however
    // fast the engine gets (at batch 16 an epoch took less than the 100 ms between events).
    const { dir, run } = await newRun('killed', { epochs: 3, batchSize: 1, lr: 0.005 });
    const epoch1 = next('epoch');
    await host.request({ type: 'train', runId: run.id, runDir: dir, datasetDir: dataDir, resume: false });
    await epoch1;
    await next('progress', (p) => p.epoch === 2);
    const finished = next('finished');
    children[0].process.kill('SIGKILL');
    const f = await finished;
    expect(f.reason).toBe('failed');
    expect(f.error?.message).toMatch(/SIGKILL/);
    expect(host.activeRuns()).toEqual([]);
    // Its lock names a dead process: whoever reads the folder next sees the run was interrupted.
    expect(await readRunStatus(dir)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^interrupted: process \d+ stopped/) });

    // The checkpoint is an ordinary model file and holds the finished epoch.
    const bytes = await readFile(join(dir, RUN_FILES.checkpoint));
    expect(decodeModelFile(bytes, 'checkpoint.lenet').model.params.length).toBe(new Model(run.spec, jsKernels).params.length);
    const cp = await readCheckpoint(dir, run.trainCount);
    expect(cp!.resume.epoch).toBeGreaterThanOrEqual(1);

    // A new request starts a fresh trainer process, which resumes from that checkpoint.
    const done = next('finished');
    await host.request({ type: 'train', runId: run.id, runDir: dir, datasetDir: dataDir, resume: true });
    expect((await done).reason).toBe('done');
    expect(children).toHaveLength(2);
    const end = await readCheckpoint(dir, run.trainCount);
    expect(end!.resume.history.map((m) => m.epoch)).toEqual([1, 2, 3]);
    expect((await readRunStatus(dir)).status).toBe('done');
  });

  it('evaluates a model sent over the wire, and rejects requests it cannot serve', async () => {
    const { host } = harness();
    await host.start();
    const model = new Model(PRESETS['lenet5-relu-ce'].spec, jsKernels).init(1);
    const { params, buffers } = model.snapshot();
    const r = await host.request({ type: 'evaluate', spec: model.spec, params, buffers, datasetDir: dataDir });
    expect(r.evaluation!.count).toBe(200);
    expect(r.evaluation!.predictions).toBeInstanceOf(Uint8Array);
    expect(r.evaluation!.scores.length).toBe(2000);

    await expect(host.request({ type: 'pause', runId: 'no-such-run' })).rejects.toThrow(/not in progress/);
    await expect(
      host.request({ type: 'evaluate', spec: { input: [1, 28, 28], layers: [], loss: 'mse' }, params, buffers, datasetDir: dataDir }),
    ).rejects.toThrow(/layers/);
    const err = await host.request({ type: 'evaluate', spec: model.spec, params: params.subarray(1), buffers, datasetDir: dataDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).code).toBe('MODEL_MISMATCH');
    await expect(host.request({ type: 'train', runId: 'missing', runDir: join(root, 'missing'), datasetDir: dataDir, resume: false })).rejects.toThrow(
      /not a run folder/,
    );
  });

  it('trains with data-parallel worker threads when asked (--threads=2)', async () => {
    const { host, next } = harness(['--threads=2']);
    expect((await host.start()).threads).toBe(2);
    const { dir, run } = await newRun('threads', { epochs: 1 });
    const done = next('finished');
    await host.request({ type: 'train', runId: run.id, runDir: dir, datasetDir: dataDir, resume: false });
    expect((await done).reason).toBe('done');
    const cp = await readCheckpoint(dir, run.trainCount);
    expect(cp!.resume.history[0].testAccuracy).toBeGreaterThan(0.5);
  });

  const worker = (name: string): string => `--worker=${fileURLToPath(new URL(`../helpers/workers/${name}`, import.meta.url))}`;

  it('shard workers that cannot start: the run trains on one thread to the weights of a one-thread run, and says why', async () => {
    const broken = harness(['--threads=2', worker('broken-worker.mjs')]);
    const a = await newRun('broken-workers', { epochs: 1 });
    const doneA = broken.next('finished');
    await broken.host.request({ type: 'train', runId: a.run.id, runDir: a.dir, datasetDir: dataDir, resume: false });
    expect(await doneA).toMatchObject({ reason: 'done' });
    const notices = broken.events.filter((e) => e.type === 'notice');
    expect(notices).toEqual([
      { type: 'notice', runId: a.run.id, message: 'worker threads could not start (this test worker cannot start); training on one thread' },
    ]);

    const plain = harness(['--threads=1']);
    const b = await newRun('one-thread', { epochs: 1 });
    const doneB = plain.next('finished');
    await plain.host.request({ type: 'train', runId: b.run.id, runDir: b.dir, datasetDir: dataDir, resume: false });
    expect(await doneB).toMatchObject({ reason: 'done' });
    const [ca, cb] = [await readCheckpoint(a.dir, a.run.trainCount), await readCheckpoint(b.dir, b.run.trainCount)];
    const bytes = (f: Float32Array): Buffer => Buffer.from(f.buffer, f.byteOffset, f.byteLength);
    expect(bytes(ca!.loaded.model.params).equals(bytes(cb!.loaded.model.params))).toBe(true);
  });

  it('a shard worker that dies mid-epoch: no crash, the run finishes on one thread, the reason is told once', async () => {
    const { host, events, next, children } = harness(['--threads=2', worker('crashing-worker.mjs')]);
    const { dir, run } = await newRun('crashing-worker', { epochs: 2 });
    const done = next('finished');
    await host.request({ type: 'train', runId: run.id, runDir: dir, datasetDir: dataDir, resume: false });
    expect(await done).toMatchObject({ reason: 'done' });
    expect(events.filter((e) => e.type === 'notice')).toEqual([
      { type: 'notice', runId: run.id, message: 'worker thread 1 failed (injected crash at command 5); training continues on one thread' },
    ]);
    // Told during the first epoch, which went on to its end.
    const at = events.findIndex((e) => e.type === 'notice');
    expect(events.findIndex((e) => e.type === 'epoch')).toBeGreaterThan(at);
    expect(children).toHaveLength(1);
    expect(children[0].process.exitCode).toBeNull();
    expect((await readCheckpoint(dir, run.trainCount))!.resume.history).toHaveLength(2);
  });

  it('validates raw messages: a bad field gets an error reply naming it; the process carries on', async () => {
    const child = forkTrainer();
    const got: TrainerEvent[] = [];
    const wait = (pred: (m: TrainerEvent) => boolean) =>
      new Promise<TrainerEvent>((resolve) => {
        const t = setInterval(() => {
          const m = got.find(pred);
          if (m) {
            clearInterval(t);
            resolve(m);
          }
        }, 10);
      });
    child.onMessage((m) => got.push(m as TrainerEvent));
    await wait((m) => m.type === 'ready');
    child.process.send({ type: 'pause', id: 7, runId: '../../etc' });
    child.process.send({ type: 'evaluate', id: 8, spec: {}, params: [1, 2, 3], buffers: new Float32Array(0), datasetDir: dataDir });
    child.process.send({ type: 'launch-missiles', id: 9 });
    child.process.send({ type: 'train', id: 10, runId: 'x', runDir: '/tmp', datasetDir: dataDir, resume: false, extra: 1 });
    const r7 = await wait((m) => m.type === 'reply' && m.id === 7);
    const r8 = await wait((m) => m.type === 'reply' && m.id === 8);
    const r9 = await wait((m) => m.type === 'reply' && m.id === 9);
    const r10 = await wait((m) => m.type === 'reply' && m.id === 10);
    const msg = (r: TrainerEvent) => (r.type === 'reply' && !r.ok ? r.error.message : 'ok');
    expect(msg(r7)).toMatch(/runId/);
    expect(msg(r8)).toMatch(/params: expected a Float32Array/);
    expect(msg(r9)).toMatch(/type: expected one of/);
    expect(msg(r10)).toMatch(/no key "extra"/);
    child.kill();
  });

  it('label-issues-cancel stops the finder between batches: the request fails with CANCELLED, nothing is cached, and the finder runs again', async () => {
    const { host, next } = harness();
    await host.start();
    const cacheDir = join(root, 'lab-cache');
    await host.request({ type: 'label-issues-cancel' }); // no finder: a no-op
    const firstProgress = next('label-issues-progress');
    // More epochs than it will ever train: only the cancel ends it.
    const finding = host.request({ type: 'label-issues', datasetDir: dataDir, cacheDir, preset: 'lenet5-relu-ce', folds: 2, epochs: 1000, seed: 1 });
    finding.catch(() => undefined);
    await firstProgress;
    await host.request({ type: 'label-issues-cancel' });
    await expect(finding).rejects.toMatchObject({ code: 'CANCELLED', message: 'the finder was cancelled' });
    expect(existsSync(cacheDir) ? await readdir(cacheDir) : []).toEqual([]);
    const again = await host.request({ type: 'label-issues', datasetDir: dataDir, cacheDir, preset: 'lenet5-relu-ce', folds: 2, epochs: 1, seed: 1 });
    expect(again.issues!.length).toBeGreaterThan(0);
  }, 60_000);
});
