// Shared-memory layout between the coordinating thread and its shard workers. Control words
// are Int32 for Atomics; every worker owns one slot of gradients, buffers and results.

import type { AdversarialStep } from '../../engine/adversarial';
import type { KernelName } from '../../engine/kernels/types';

export const CTRL = {
  /** Bumped by the coordinator for each command; workers wait on it. */
  GEN: 0,
  /** Workers that finished the current command. */
  DONE: 1,
  /** 1 = step, 2 = exit, 3 = forward. */
  CMD: 2,
  /** Images in the batch. */
  N: 3,
  /**
   * Set to 1 by a worker that failed: one that caught an exception in a command, or one whose
   * thread is ending when it was not told to (its process 'exit' handler; it also bumps DONE, so a
   * coordinator waiting for the step wakes). Never cleared: the coordinator drops to one thread.
   */
  ERROR: 4,
  /** 1 when `transforms` holds this step's per-image distortions (augmentation), else 0. */
  AUGMENT: 5,
  /** 1 when a forward command must first load the shared weights and buffers, else 0. */
  LOAD: 6,
  /** Arrivals at the step's batch norm exchanges so far (batch-sync.ts); zeroed before each step. */
  SYNC: 7,
  /** Set to 1 by the coordinator when it abandons a step (its own shard failed); zeroed before each step. */
  ABORT: 8,
  SIZE: 12,
} as const;

export const CMD_STEP = 1;
export const CMD_EXIT = 2;
/** Inference over the N images in `inferPixels`; each worker writes its shard's outputs to `inferOut`. */
export const CMD_FORWARD = 3;

export interface SharedSetup {
  spec: unknown;
  /** Total shards including the coordinator's own (shard 0). */
  shards: number;
  maxBatch: number;
  ctrl: SharedArrayBuffer;
  idx: SharedArrayBuffer;
  pixels: SharedArrayBuffer;
  labels: SharedArrayBuffer;
  params: SharedArrayBuffer;
  buffers: SharedArrayBuffer;
  /** (shards−1) × params.length floats. */
  grads: SharedArrayBuffer;
  /** 2 × shards × syncStride float64: the batch norm exchanges (batch-sync.ts). */
  sync: SharedArrayBuffer;
  syncStride: number;
  /** How long a thread waits for the others at a batch norm exchange before it counts them as stuck. */
  stallTimeoutMs: number;
  /** (shards−1) × 2 float64: loss sum, correct count. */
  results: SharedArrayBuffer;
  /** maxBatch × TRANSFORM_SIZE float64: the batch's distortions, drawn by the coordinator. */
  transforms: SharedArrayBuffer;
  /** 4 float64: the batch's adversarial step (kind 0 none, 1 fgsm, 2 pgd; ε; steps; seed), set by the coordinator. */
  adversarial?: SharedArrayBuffer;
  /** Most images one forward command carries. */
  inferChunk: number;
  /** inferChunk × input size bytes: the images of a forward command, shard after shard. */
  inferPixels: SharedArrayBuffer;
  /** inferChunk × classes float32: the outputs of a forward command, in the same order. */
  inferOut: SharedArrayBuffer;
  wasmPath?: string;
  /** The coordinator's kernels (its model's kernels.name): every worker loads the same build. */
  kernels?: KernelName;
  /** How long a thread spins before it sleeps in Atomics.wait (0 when threads outnumber cores). */
  spinMs: number;
  /** (shards−1) × ERROR_TEXT_BYTES: why worker t failed, UTF-8, zero-padded; written before CTRL.ERROR is set. */
  errors: SharedArrayBuffer;
  /** Fault injection for tests only: the worker fails this way at its `atCommand`-th command. */
  fault?: ShardFault;
}

/** Bytes of one worker's failure message in `errors`. */
export const ERROR_TEXT_BYTES = 512;

/**
 * A failure a test makes a shard worker simulate (never set by the app): at its `atCommand`-th step
 * or forward command (1-based) it throws inside the command ('throw': caught, reported through CTRL.ERROR, the
 * thread lives on), throws out of its loop ('crash': the thread ends, as after a broken build or
 * an out-of-memory error), or stops answering ('hang': it waits forever).
 */
export interface ShardFault {
  atCommand: number;
  kind: 'throw' | 'crash' | 'hang';
}

/**
 * Waits while ctrl[i] === value: spins for up to spinMs first, then sleeps in Atomics.wait. Between
 * two steps a thread waits a fraction of a millisecond, less than a sleep and wake-up costs.
 * Returns false when timeoutMs (counted after the spin) passed without a change.
 */
export function waitWhile(ctrl: Int32Array, i: number, value: number, spinMs: number, timeoutMs: number): boolean {
  if (spinMs > 0) {
    const end = performance.now() + spinMs;
    do {
      for (let k = 0; k < 64; k++) if (Atomics.load(ctrl, i) !== value) return true;
    } while (performance.now() < end);
  }
  return Atomics.wait(ctrl, i, value, timeoutMs) !== 'timed-out';
}

/** First image of shard t of T in a batch of n: shard t computes [shardStart(t), shardStart(t + 1)). */
export function shardStart(t: number, T: number, n: number): number {
  return Math.floor((t * n) / T);
}

/** The coordinator's side of SharedSetup.adversarial: the batch's step, or kind 0 for none. */
export function writeAdversarial(buf: SharedArrayBuffer | undefined, a: AdversarialStep | null | undefined): void {
  if (!buf) return;
  const v = new Float64Array(buf, 0, 4);
  v[0] = a ? (a.attack === 'fgsm' ? 1 : 2) : 0;
  v[1] = a?.eps ?? 0;
  v[2] = a?.steps ?? 0;
  v[3] = a?.seed ?? 0;
}

/** A worker's side: the step for its shard, whose first image is `start` in the batch. */
export function readAdversarial(buf: SharedArrayBuffer | undefined, start: number): AdversarialStep | null {
  if (!buf) return null;
  const v = new Float64Array(buf, 0, 4);
  if (v[0] === 0) return null;
  return { attack: v[0] === 1 ? 'fgsm' : 'pgd', eps: v[1], steps: v[2], seed: (v[3] + start) >>> 0 };
}
