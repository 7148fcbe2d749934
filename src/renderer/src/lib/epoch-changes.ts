// Learned and forgotten digits, from a run's per-sample history of the test images: at epoch N,
// a digit is learned when the epoch before predicted it wrong and N predicts it right, and
// forgotten when the epoch before was right and N is wrong.

import type { TestHistory } from '@common/api';

export interface EpochChange {
  /** Index in the test set. */
  index: number;
  label: number;
  /** Predicted class at the epoch before, and at the epoch. */
  before: number;
  after: number;
  /** Probability of the true class at the epoch before, and at the epoch (to 1/255). */
  pBefore: number;
  pAfter: number;
}

export interface EpochChanges {
  epoch: number;
  /** The epoch compared with. */
  previous: number;
  /** Turned right at `epoch`, the largest gain of the true class's probability first (ties by index). */
  learned: EpochChange[];
  /** Turned wrong at `epoch`, the largest loss first. */
  forgotten: EpochChange[];
}

/** The changes at `epoch`; null when the history does not hold it and the epoch before. */
export function epochChanges(h: TestHistory, epoch: number): EpochChanges | null {
  const at = epoch - h.firstEpoch;
  if (at < 1 || at >= h.epochs) return null;
  const n = h.count;
  const now = at * n;
  const was = (at - 1) * n;
  const learned: EpochChange[] = [];
  const forgotten: EpochChange[] = [];
  for (let i = 0; i < n; i++) {
    const label = h.labels[i];
    const before = h.predicted[was + i];
    const after = h.predicted[now + i];
    if ((before === label) === (after === label)) continue;
    const c = { index: i, label, before, after, pBefore: h.probability[was + i] / 255, pAfter: h.probability[now + i] / 255 };
    (after === label ? learned : forgotten).push(c);
  }
  learned.sort((a, b) => b.pAfter - b.pBefore - (a.pAfter - a.pBefore) || a.index - b.index);
  forgotten.sort((a, b) => a.pAfter - a.pBefore - (b.pAfter - b.pBefore) || a.index - b.index);
  return { epoch, previous: epoch - 1, learned, forgotten };
}
