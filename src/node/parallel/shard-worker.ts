// A data-parallel shard: a replica of the model that, on each step command, loads the shared
// weights, runs forward and backward over its slice of the batch (its batch norm layers
// exchanging statistics with the other shards', batch-sync.ts) and leaves its gradient (of its
// own slice's mean loss) and its loss in its slot. On a forward command it runs inference over
// its slice of the shared images and writes the outputs.
//
// A failure is reported through shared memory, because the coordinator blocks in Atomics.wait
// while a command runs and cannot receive events then: the reason goes to this worker's slot of
// `errors`, then CTRL.ERROR is set. An exception inside a command is caught and the worker counts
// itself done as usual; a thread that ends without being told to (an uncaught error, process.exit)
// does the same from its process 'exit' handler, so the coordinator never waits for a dead thread.

import { parentPort, workerData } from 'node:worker_threads';
import { TRANSFORM_SIZE } from '../../engine/augment';
import { Model } from '../../engine/model';
import { localGradients } from '../../engine/train';
import { loadKernels } from '../load-kernels';
import { ShardAbort, ShardSync } from './batch-sync';
import { CMD_EXIT, CMD_FORWARD, CMD_STEP, CTRL, ERROR_TEXT_BYTES, readAdversarial, shardStart, waitWhile, type SharedSetup } from './layout';

const setup = workerData as SharedSetup & { shard: number };
const ctrl = new Int32Array(setup.ctrl);
const errorText = new Uint8Array(setup.errors, (setup.shard - 1) * ERROR_TEXT_BYTES, ERROR_TEXT_BYTES);
/** Set on CMD_EXIT: the thread ends because it was told to. */
let exiting = false;
let failed = false;

/** Leaves `message` in this worker's slot, then raises CTRL.ERROR (the first failure's words are kept). */
function fail(message: string): void {
  if (failed) return;
  failed = true;
  const bytes = new TextEncoder().encode(message);
  let len = Math.min(bytes.length, ERROR_TEXT_BYTES);
  while (len > 0 && len < bytes.length && (bytes[len] & 0xc0) === 0x80) len--; // whole characters only
  errorText.set(bytes.subarray(0, len));
  Atomics.store(ctrl, CTRL.ERROR, 1);
  Atomics.notify(ctrl, CTRL.SYNC); // threads waiting at a batch norm exchange give up the step
}

process.on('exit', (code) => {
  if (exiting) return;
  fail(`it stopped with exit code ${code}`);
  Atomics.add(ctrl, CTRL.DONE, 1);
  Atomics.notify(ctrl, CTRL.DONE);
});

// The coordinator's build, not whatever LENET_KERNELS would pick: all shards round alike.
const kernels = loadKernels(setup.wasmPath, setup.kernels);
const idx = new Uint32Array(setup.idx);
const labelsAll = new Uint8Array(setup.labels);
const model = new Model(setup.spec, kernels.kernels);
const P = model.params.length;
const B = model.buffers.length;
const slot = setup.shard - 1;
// Explicit lengths: shared buffers are never smaller than 8 bytes, even for a model with none.
const sharedParams = new Float32Array(setup.params, 0, P);
const sharedBuffers = new Float32Array(setup.buffers, 0, B);
const myGrads = new Float32Array(setup.grads, slot * P * 4, P);
const sync = new ShardSync(ctrl, new Float64Array(setup.sync), setup.syncStride, setup.shard, setup.shards, setup.spinMs, setup.stallTimeoutMs);
// Steps are this model's only training passes; its forward commands run in inference mode.
model.setBatchNormSync(sync);
const results = new Float64Array(setup.results, slot * 16, 2);
const transforms = new Float64Array(setup.transforms);
const pixels = new Uint8Array(setup.pixels);
const gradients = localGradients(model, { count: labelsAll.length, rows: 0, cols: 0, pixels, labels: labelsAll });
// This shard's slice of the batch, copied out of the shared arrays into its own (no per-step views).
const labels = new Uint8Array(setup.maxBatch);
const myIdx = new Uint32Array(setup.maxBatch);
const myTransforms = new Float64Array(transforms.length);
const inferPixels = new Uint8Array(setup.inferPixels);
const inferOut = new Float32Array(setup.inferOut);
const inferIdx = new Uint32Array(setup.inferChunk);

/** Inference over this shard's slice of the shared images, outputs to the same slice of inferOut. */
function forward(): void {
  const n = Atomics.load(ctrl, CTRL.N);
  const start = shardStart(setup.shard, setup.shards, n);
  const m = shardStart(setup.shard + 1, setup.shards, n) - start;
  if (Atomics.load(ctrl, CTRL.LOAD) === 1) {
    model.params.set(sharedParams);
    model.buffers.set(sharedBuffers);
  }
  if (m === 0) return;
  for (let s = 0; s < m; s++) inferIdx[s] = start + s;
  const y = model.inferPixels(inferPixels, inferIdx, m);
  inferOut.set(y, start * model.classes);
}

/**
 * Forward and backward over this shard's slice of the batch (never empty: the coordinator sends
 * no step with fewer images than shards); gradient and loss to its slot.
 */
function step(): void {
  const n = Atomics.load(ctrl, CTRL.N);
  const start = shardStart(setup.shard, setup.shards, n);
  const m = shardStart(setup.shard + 1, setup.shards, n) - start;
  sync.begin(n);
  model.params.set(sharedParams); // running statistics play no part in a training pass
  for (let s = 0; s < m; s++) {
    myIdx[s] = idx[start + s];
    labels[s] = labelsAll[myIdx[s]];
  }
  const augment = Atomics.load(ctrl, CTRL.AUGMENT) === 1;
  if (augment) for (let k = 0, o = start * TRANSFORM_SIZE; k < m * TRANSFORM_SIZE; k++) myTransforms[k] = transforms[o + k];
  const r = gradients.compute(myIdx, labels, m, augment ? myTransforms : null, readAdversarial(setup.adversarial, start));
  myGrads.set(model.grads);
  results[0] = r.lossSum;
  results[1] = r.correct;
}

/** Fault injection (tests only, SharedSetup.fault): fails as asked at the fault's command. */
let commands = 0;
function injectedFault(where: 'loop' | 'command'): void {
  const f = setup.fault;
  if (!f || commands !== f.atCommand) return;
  if (where === 'command' && f.kind === 'throw') throw new Error(`injected fault at command ${commands}`);
  if (where === 'loop' && f.kind === 'crash') throw new Error(`injected crash at command ${commands}`);
  if (where === 'loop' && f.kind === 'hang') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

// Read the generation before announcing readiness: the first command may follow at once.
let seen = Atomics.load(ctrl, CTRL.GEN);
parentPort!.postMessage({ type: 'ready', kernels: kernels.name });
try {
  for (;;) {
    waitWhile(ctrl, CTRL.GEN, seen, setup.spinMs, Infinity);
    seen = Atomics.load(ctrl, CTRL.GEN);
    const cmd = Atomics.load(ctrl, CTRL.CMD);
    if (cmd === CMD_EXIT) {
      exiting = true;
      model.dispose();
      break;
    }
    if (cmd !== CMD_STEP && cmd !== CMD_FORWARD) continue;
    commands++;
    injectedFault('loop');
    try {
      injectedFault('command');
      if (cmd === CMD_STEP) step();
      else forward();
    } catch (e) {
      // Giving up a step another thread failed or abandoned is not this worker's failure.
      if (!(e instanceof ShardAbort) || e.stalled) fail(e instanceof Error ? e.message : String(e));
    }
    Atomics.add(ctrl, CTRL.DONE, 1);
    Atomics.notify(ctrl, CTRL.DONE);
  }
} catch (e) {
  // Out of the loop: the reason goes to shared memory and the thread ends; the 'exit' handler
  // wakes the coordinator. It ends by process.exit, not by rethrowing: the coordinator, woken by
  // CTRL.ERROR, terminates the workers, and Node 20 aborts the whole process (FATAL ERROR:
  // v8::ToLocalChecked Empty MaybeLocal) when a worker is terminated while it is dispatching an
  // uncaught exception.
  fail(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
