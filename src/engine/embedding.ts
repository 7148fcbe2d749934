// The embedding of an image: what the network's output layer reads — the penultimate dense
// layer's output after its batch norm (if any) and activation, 84 values for LeNet-5, 150 for
// mlp-500-150. Inference mode (batch norm uses running statistics). The layers' own forward
// passes compute it; nothing here repeats their maths.

import { SpecError } from './errors';
import type { Model } from './model';
import { shapeSize } from './tensor';

/** Index of the first layer not run for the embedding: the output dense layer. */
function headIndex(model: Model): number {
  const dense = model.layers.flatMap((l, i) => (l.kind === 'dense' ? [i] : []));
  if (dense.length < 2) throw new SpecError('SPEC_INVALID', 'the model has no hidden dense layer, so it has no embedding');
  return dense[dense.length - 1];
}

/** Values per image of the model's embedding (84 for LeNet-5). */
export function embeddingSize(model: Model): number {
  return shapeSize(model.layers[headIndex(model)].inShape);
}

export interface EmbeddingOptions {
  /** Images per forward pass (default 500). */
  batchSize?: number;
  /** Which images of `pixels`, in order (default all `count`). */
  indices?: ArrayLike<number>;
  /** Called after each batch with the number of images done. */
  progress?: (done: number) => void;
}

/**
 * Embeddings of `count` images of `pixels` (uint8, one image after another, the model's input
 * size each): a fresh count × embeddingSize array, image after image.
 */
export function embed(model: Model, pixels: Uint8Array, count: number, opts: EmbeddingOptions = {}): Float32Array {
  const head = headIndex(model);
  const dim = shapeSize(model.layers[head].inShape);
  const size = shapeSize(model.inShape);
  const n = opts.indices ? opts.indices.length : count;
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? 500));
  const out = new Float32Array(n * dim);
  // Scratch input from the model's arena, so the kernels read it in place; handed back at the end.
  const scratch = model.memory.alloc(batchSize * size);
  const idx = new Uint32Array(batchSize);
  try {
    for (let start = 0; start < n; start += batchSize) {
      const b = Math.min(batchSize, n - start);
      for (let s = 0; s < b; s++) idx[s] = opts.indices ? opts.indices[start + s] : start + s;
      const x = scratch.subarray(0, b * size);
      model.kernels.gatherPixels(x, pixels, idx, b, size);
      let h = x;
      for (let i = 0; i < head; i++) h = model.layers[i].forward(h, b, false);
      out.set(h.subarray(0, b * dim), start * dim);
      opts.progress?.(start + b);
    }
  } finally {
    model.memory.free(scratch);
  }
  return out;
}
