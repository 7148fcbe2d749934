// Data maps (Swayamdipta et al. 2020, "Dataset Cartography"): how each training image was learned,
// from the model's predictions on it after every epoch. Per image, over the E recorded epochs:
//
//   confidence   μ = (1/E) Σ_e p_e, the mean probability the model gave the image's own label
//   variability  σ = √((1/E) Σ_e (p_e − μ)²), the population standard deviation (divided by E,
//                not E − 1), as in the paper's equation 2
//   correctness  the fraction of epochs whose predicted class was the label
//
// Regions: the paper names them by where they sit on the map and draws no hard lines; the rule
// here is one fixed reading of its picture, first match wins:
//   ambiguous  σ ≥ AMBIGUOUS_VARIABILITY (the model kept changing its mind)
//   easy       μ ≥ EASY_CONFIDENCE       (learned early and kept: high confidence, low variability)
//   hard       otherwise                 (low confidence, low variability: never learned)
// Pure maths: the caller reads the per-sample history and the labels.

/** Variability at or above which an image is "ambiguous": 0.2 of the largest possible 0.5. */
export const AMBIGUOUS_VARIABILITY = 0.2;
/** Confidence at or above which a not-ambiguous image is "easy", else "hard". */
export const EASY_CONFIDENCE = 0.5;

export type Region = 'easy' | 'ambiguous' | 'hard';
export const REGIONS: readonly Region[] = ['easy', 'ambiguous', 'hard'];

/** One epoch's predictions on the images, in the same order as the labels. */
export interface EpochPredictions {
  /** Probability of each image's label, in [0, 1]. */
  probability: ArrayLike<number>;
  /** Predicted class of each image. */
  predicted: ArrayLike<number>;
}

/** Per image, in the order of the input: the three coordinates of the data map. */
export interface DataMap {
  count: number;
  /** Epochs the statistics cover. */
  epochs: number;
  confidence: Float32Array;
  variability: Float32Array;
  correctness: Float32Array;
}

/**
 * The data map of `labels.length` images from their predictions after each epoch. `epochs` must
 * not be empty and every array must hold one value per image; the sums run in float64.
 */
export function dataMap(epochs: readonly EpochPredictions[], labels: ArrayLike<number>): DataMap {
  const n = labels.length;
  const E = epochs.length;
  if (E === 0) throw new RangeError('a data map needs at least one epoch');
  for (const e of epochs) {
    if (e.probability.length !== n || e.predicted.length !== n) {
      throw new RangeError(`every epoch must hold ${n} predictions, one per label`);
    }
  }
  const sum = new Float64Array(n);
  const right = new Float64Array(n);
  for (const e of epochs) {
    const p = e.probability;
    const y = e.predicted;
    for (let i = 0; i < n; i++) {
      sum[i] += p[i];
      if (y[i] === labels[i]) right[i]++;
    }
  }
  const confidence = new Float32Array(n);
  const correctness = new Float32Array(n);
  const mean = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    mean[i] = sum[i] / E;
    confidence[i] = mean[i];
    correctness[i] = right[i] / E;
  }
  // Two passes (mean first, then squared deviations): no cancellation for near-constant values.
  const sq = new Float64Array(n);
  for (const e of epochs) {
    const p = e.probability;
    for (let i = 0; i < n; i++) {
      const d = p[i] - mean[i];
      sq[i] += d * d;
    }
  }
  const variability = new Float32Array(n);
  for (let i = 0; i < n; i++) variability[i] = Math.sqrt(sq[i] / E);
  return { count: n, epochs: E, confidence, variability, correctness };
}

/** The region of one point of the map (see the rule above). */
export function regionOf(confidence: number, variability: number): Region {
  if (variability >= AMBIGUOUS_VARIABILITY) return 'ambiguous';
  return confidence >= EASY_CONFIDENCE ? 'easy' : 'hard';
}

/** How many points fall in each region. */
export function regionCounts(map: Pick<DataMap, 'count' | 'confidence' | 'variability'>): Record<Region, number> {
  const out: Record<Region, number> = { easy: 0, ambiguous: 0, hard: 0 };
  for (let i = 0; i < map.count; i++) out[regionOf(map.confidence[i], map.variability[i])]++;
  return out;
}
