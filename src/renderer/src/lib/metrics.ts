// Numbers the Evaluate and Compare views show, from an evaluation's confusion matrix and
// per-image predictions: per-class precision/recall/F1/support, row-normalised rates, the
// digits of one confusion cell sorted by confidence, misclassified digits, and which digits one
// model fixed or broke relative to another.

export interface ClassRow {
  cls: number;
  /** Of the images predicted as cls, the share that are cls (NaN when none were predicted). */
  precision: number;
  /** Of the images of cls, the share predicted as cls (NaN when there are none). */
  recall: number;
  f1: number;
  /** Images whose true class is cls. */
  support: number;
  predicted: number;
}

export interface ClassReport {
  rows: ClassRow[];
  total: number;
  accuracy: number;
  /** Unweighted means over classes (NaN entries skipped). */
  macro: { precision: number; recall: number; f1: number };
}

function mean(xs: number[]): number {
  const ok = xs.filter((x) => !Number.isNaN(x));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : Number.NaN;
}

/** confusion[true][predicted] → per-class report. */
export function classReport(confusion: number[][]): ClassReport {
  const K = confusion.length;
  let total = 0;
  let correct = 0;
  const rows: ClassRow[] = [];
  for (let c = 0; c < K; c++) {
    let support = 0;
    let predicted = 0;
    for (let j = 0; j < K; j++) {
      support += confusion[c][j];
      predicted += confusion[j][c];
    }
    const tp = confusion[c][c];
    total += support;
    correct += tp;
    const precision = predicted ? tp / predicted : Number.NaN;
    const recall = support ? tp / support : Number.NaN;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : precision === 0 || recall === 0 ? 0 : Number.NaN;
    rows.push({ cls: c, precision, recall, f1, support, predicted });
  }
  return {
    rows,
    total,
    accuracy: total ? correct / total : Number.NaN,
    macro: { precision: mean(rows.map((r) => r.precision)), recall: mean(rows.map((r) => r.recall)), f1: mean(rows.map((r) => r.f1)) },
  };
}

/** Each row divided by its sum (a row of zeros stays zeros). */
export function rowNormalised(confusion: number[][]): number[][] {
  return confusion.map((row) => {
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (s ? v / s : 0));
  });
}

/**
 * Colour tones in [0, 1] for the confusion matrix. The diagonal: the share of its row (how often
 * the class is right). Off the diagonal, with `errors` 'own', the errors on their own logarithmic
 * scale, log(1 + count) / log(1 + the largest error count), so a handful of confusions stands out
 * next to diagonals of a thousand; with 'shared', the share of the row like the diagonal.
 */
export function cellTones(confusion: number[][], errors: 'own' | 'shared'): number[][] {
  const rates = rowNormalised(confusion);
  if (errors === 'shared') return rates;
  let maxOff = 0;
  confusion.forEach((row, t) => row.forEach((v, p) => (t !== p && v > maxOff ? (maxOff = v) : 0)));
  const top = Math.log1p(maxOff);
  return confusion.map((row, t) => row.map((v, p) => (t === p ? rates[t][p] : top > 0 ? Math.log1p(v) / top : 0)));
}

export interface DigitRef {
  /** Index in the test set. */
  index: number;
  label: number;
  predicted: number;
  /** The model's score for its prediction (0..1). */
  confidence: number;
}

function ref(i: number, labels: Uint8Array, predictions: Uint8Array, scores: Float32Array, K: number): DigitRef {
  return { index: i, label: labels[i], predicted: predictions[i], confidence: scores[i * K + predictions[i]] };
}

/** Digits with true class t predicted as p, most confident first (ties by index). */
export function cellDigits(t: number, p: number, labels: Uint8Array, predictions: Uint8Array, scores: Float32Array, K: number): DigitRef[] {
  const out: DigitRef[] = [];
  const n = Math.min(labels.length, predictions.length);
  for (let i = 0; i < n; i++) if (labels[i] === t && predictions[i] === p) out.push(ref(i, labels, predictions, scores, K));
  return out.sort((a, b) => b.confidence - a.confidence || a.index - b.index);
}

/** Misclassified digits, optionally only true class `t` and/or predicted class `p`, most confident first. */
export function misclassified(
  labels: Uint8Array,
  predictions: Uint8Array,
  scores: Float32Array,
  K: number,
  t: number | null = null,
  p: number | null = null,
): DigitRef[] {
  const out: DigitRef[] = [];
  const n = Math.min(labels.length, predictions.length);
  for (let i = 0; i < n; i++) {
    if (labels[i] === predictions[i]) continue;
    if (t !== null && labels[i] !== t) continue;
    if (p !== null && predictions[i] !== p) continue;
    out.push(ref(i, labels, predictions, scores, K));
  }
  return out.sort((a, b) => b.confidence - a.confidence || a.index - b.index);
}

/** Test digits B gets right and A wrong (fixed), and A right and B wrong (broke). */
export function fixedBroken(labels: Uint8Array, a: Uint8Array, b: Uint8Array): { fixed: number[]; broke: number[] } {
  const fixed: number[] = [];
  const broke: number[] = [];
  const n = Math.min(labels.length, a.length, b.length);
  for (let i = 0; i < n; i++) {
    const okA = a[i] === labels[i];
    const okB = b[i] === labels[i];
    if (okB && !okA) fixed.push(i);
    else if (okA && !okB) broke.push(i);
  }
  return { fixed, broke };
}
