// Synchronised batch norm across the threads of a data-parallel step. Every shard computes its
// per-channel figures over its own images, leaves them in its slot of shared memory, waits until
// all shards have, and combines all slots in shard order: every thread gets bit for bit the same
// whole-batch statistics, and a thread count changes only the order of float sums.
//
// The exchanges of one step are counted: exchange k uses the half k mod 2 of the slots and ends
// when CTRL.SYNC reaches shards·(k + 1). Two halves suffice: a thread writes half k mod 2 again at
// exchange k + 2, after every thread has arrived at k + 1 and so has finished reading exchange k.
// The coordinator zeroes CTRL.SYNC before each step.

import type { BatchNormSync } from '../../engine/layers/batchnorm';
import { CTRL, shardStart, waitWhile } from './layout';

/**
 * A shard gave up its step because another thread failed or the coordinator abandoned the step
 * (`stalled` false), or because the others did not arrive within the stall timeout (true).
 */
export class ShardAbort extends Error {
  constructor(
    message: string,
    readonly stalled: boolean,
  ) {
    super(message);
  }
}

/** f64 values one shard's slot holds for C channels: two figures a channel and one number. */
export function syncSlotSize(maxChannels: number): number {
  return 2 * maxChannels + 1;
}

/** How long a thread sleeps at most between two looks at the error and abort words. */
const LOOK_MS = 50;

export class ShardSync implements BatchNormSync {
  private calls = 0;
  private n = 0;

  constructor(
    private readonly ctrl: Int32Array,
    /** 2 × shards slots of `stride` f64. */
    private readonly slots: Float64Array,
    private readonly stride: number,
    readonly shard: number,
    readonly shards: number,
    private readonly spinMs: number,
    private readonly stallTimeoutMs: number,
  ) {}

  /** A step over a batch of n images (n ≥ shards: no shard is empty) begins. */
  begin(n: number): void {
    this.calls = 0;
    this.n = n;
  }

  stats(stats: Float64Array, C: number, count: number): number {
    const base = this.exchange(stats, C, count);
    const { slots, stride, shards } = this;
    let total = 0;
    for (let u = 0; u < shards; u++) total += slots[base + u * stride + 2 * C];
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let u = 0; u < shards; u++) sum += slots[base + u * stride + c];
      const mean = sum / total;
      // Chan et al.: the squares about the whole mean are each shard's about its own, plus its
      // count times the square of the distance between the two means.
      let sq = 0;
      for (let u = 0; u < shards; u++) {
        const s = base + u * stride;
        const d = slots[s + c] / slots[s + 2 * C] - mean;
        sq += slots[s + C + c] + slots[s + 2 * C] * d * d;
      }
      stats[c] = sum;
      stats[C + c] = sq;
    }
    return total;
  }

  gradSums(sums: Float64Array, C: number): void {
    // Shard u's sums are of the gradient of its own mean loss; the batch's loss weighs it n_u / n.
    const weight = (shardStart(this.shard + 1, this.shards, this.n) - shardStart(this.shard, this.shards, this.n)) / this.n;
    const base = this.exchange(sums, C, weight);
    const { slots, stride, shards } = this;
    for (let i = 0; i < 2 * C; i++) {
      let s = 0;
      for (let u = 0; u < shards; u++) s += slots[base + u * stride + 2 * C] * slots[base + u * stride + i];
      sums[i] = s / weight;
    }
  }

  /** Leaves values[0, 2C) and `extra` in this shard's slot, waits for every shard; the half's first slot. */
  private exchange(values: Float64Array, C: number, extra: number): number {
    const k = this.calls++;
    const base = (k & 1) * this.shards * this.stride;
    const mine = base + this.shard * this.stride;
    for (let i = 0; i < 2 * C; i++) this.slots[mine + i] = values[i];
    this.slots[mine + 2 * C] = extra;
    const { ctrl } = this;
    Atomics.add(ctrl, CTRL.SYNC, 1);
    Atomics.notify(ctrl, CTRL.SYNC);
    const target = this.shards * (k + 1);
    const deadline = performance.now() + this.stallTimeoutMs;
    for (;;) {
      const arrived = Atomics.load(ctrl, CTRL.SYNC);
      if (arrived >= target) return base;
      if (Atomics.load(ctrl, CTRL.ERROR) || Atomics.load(ctrl, CTRL.ABORT)) throw new ShardAbort('another thread gave up the step', false);
      const left = deadline - performance.now();
      if (left <= 0) throw new ShardAbort(`the other threads stopped answering (nothing for ${this.stallTimeoutMs / 1000} s)`, true);
      waitWhile(ctrl, CTRL.SYNC, arrived, this.spinMs, Math.min(left, LOOK_MS));
    }
  }
}

/** The most channels any batch norm layer of the model normalises (0: none). */
export function batchNormChannels(layers: readonly { kind: string; inShape: readonly number[] }[]): number {
  return layers.reduce((m, l) => (l.kind === 'batchnorm' ? Math.max(m, l.inShape[0]) : m), 0);
}
