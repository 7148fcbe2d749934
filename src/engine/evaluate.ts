// Evaluation in inference mode (batch norm uses running statistics).

import type { ImageSet } from './data';
import { argmax, classScores, lossSum } from './loss';
import type { Model } from './model';

export interface Evaluation {
  count: number;
  loss: number;
  accuracy: number;
  /** confusion[true][predicted] */
  confusion: number[][];
  /** Predicted class of every image, in order. */
  predictions: Uint8Array;
  /** count × classes scores that sum to 1 per image (see `classScores`). */
  scores: Float32Array;
}

/**
 * Runs a model in inference mode over a batch: the outputs (n × classes, valid until the next
 * call) for images idx[0..n) of `pixels` (uint8, one image after another). Local by default; the
 * Node side plugs in one that splits the batch over worker threads.
 */
export interface BatchInference {
  forward(pixels: Uint8Array, idx: Uint32Array, n: number): Float32Array;
}

export function localInference(model: Model): BatchInference {
  return { forward: (pixels, idx, n) => model.inferPixels(pixels, idx, n) };
}

export function evaluate(model: Model, data: ImageSet, batchSize = 500, inference: BatchInference = localInference(model)): Evaluation {
  const K = model.classes;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  const predictions = new Uint8Array(data.count);
  const scores = new Float32Array(data.count * K);
  const idx = new Uint32Array(batchSize);
  let lossTotal = 0;
  let correct = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    for (let s = 0; s < n; s++) idx[s] = start + s;
    const labels = data.labels.subarray(start, start + n);
    const y = inference.forward(data.pixels, idx, n);
    lossTotal += lossSum(model.spec.loss, y, labels, n, K);
    for (let s = 0; s < n; s++) {
      const p = argmax(y, s * K, K);
      predictions[start + s] = p;
      confusion[labels[s]][p]++;
      if (p === labels[s]) correct++;
      classScores(model.spec.loss, y, s * K, K, scores.subarray((start + s) * K, (start + s + 1) * K));
    }
  }
  return { count: data.count, loss: data.count ? lossTotal / data.count : 0, accuracy: data.count ? correct / data.count : 0, confusion, predictions, scores };
}
