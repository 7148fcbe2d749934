// Learned and forgotten digits from a hand-made per-sample history: 5 test digits, 3 epochs.

import { describe, expect, it } from 'vitest';
import type { TestHistory } from '../../src/common/api';
import { epochChanges } from '../../src/renderer/src/lib/epoch-changes';

// labels       3  1  4  1  5
// epoch 2      3  7  4  1  0     (probability of the true class × 255 below)
// epoch 3      3  1  9  1  5
// epoch 4      8  1  9  1  5
const h: TestHistory = {
  runId: 'r',
  firstEpoch: 2,
  epochs: 3,
  count: 5,
  classes: 10,
  labels: new Uint8Array([3, 1, 4, 1, 5]),
  predicted: new Uint8Array([3, 7, 4, 1, 0, 3, 1, 9, 1, 5, 8, 1, 9, 1, 5]),
  probability: new Uint8Array([200, 10, 150, 255, 51, 210, 153, 25, 255, 255, 20, 160, 30, 255, 250]),
};

describe('learned and forgotten digits', () => {
  it('at epoch 3: #1 and #4 turn right (largest gain first), #2 turns wrong', () => {
    const c = epochChanges(h, 3)!;
    expect(c.previous).toBe(2);
    expect(c.learned.map((d) => d.index)).toEqual([4, 1]); // gains 204/255 and 143/255
    expect(c.learned[0]).toEqual({ index: 4, label: 5, before: 0, after: 5, pBefore: 51 / 255, pAfter: 1 });
    expect(c.forgotten).toEqual([{ index: 2, label: 4, before: 4, after: 9, pBefore: 150 / 255, pAfter: 25 / 255 }]);
  });

  it('at epoch 4: only #0 is forgotten; a digit wrong at both epochs (#2) is neither', () => {
    const c = epochChanges(h, 4)!;
    expect(c.learned).toEqual([]);
    expect(c.forgotten.map((d) => [d.index, d.before, d.after])).toEqual([[0, 3, 8]]);
  });

  it('the first recorded epoch has no epoch before it, and epochs outside the history give null', () => {
    expect(epochChanges(h, 2)).toBeNull();
    expect(epochChanges(h, 1)).toBeNull();
    expect(epochChanges(h, 5)).toBeNull();
  });
});
