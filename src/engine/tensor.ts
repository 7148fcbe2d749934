import { jsKernels } from './kernels/js/backend';
import type { Arena } from './kernels/types';

// Shapes are per sample, without the batch dimension: [C, H, W] for maps, [F] for vectors.
// Batched data is a flat Float32Array in NCHW order plus a batch size, so layers never
// allocate tensor objects in the training loop.

export type Shape = readonly number[];

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: Shape): string {
  return shape.join('×');
}

/**
 * A growable scratch buffer that hands out views of exactly `n * perSample` floats. The view
 * is cached, so asking again for the same batch size allocates nothing. It allocates from
 * `memory` (a model's arena, so the kernels run on it in place; without one, ordinary arrays)
 * and, to grow, hands the old block back first: views of an earlier size are then invalid.
 */
export class BatchBuffer {
  private store: Float32Array = new Float32Array(0);
  private view: Float32Array = new Float32Array(0);
  private viewN = -1;

  constructor(
    readonly perSample: number,
    private readonly memory: Arena = jsKernels.arena(),
  ) {}

  get(n: number): Float32Array {
    if (n === this.viewN) return this.view;
    const len = n * this.perSample;
    if (this.store.length < len) {
      if (this.store.length) this.memory.free(this.store);
      this.store = this.view = new Float32Array(0);
      this.viewN = -1;
      this.store = this.memory.alloc(len);
    }
    this.view = this.store.subarray(0, len);
    this.viewN = n;
    return this.view;
  }
}
