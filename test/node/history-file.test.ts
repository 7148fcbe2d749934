// history.bin byte for byte: the documented layout (docs/run-folder.md), written from known
// evaluations, read back; a resume keeps the epochs before the checkpoint; damage is refused.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/engine/evaluate';
import { HISTORY_FILE, HistoryWriter, readSampleHistory, splitIndices } from '../../src/node/runs/history';
import { splitData, type ImageSet } from '../../src/engine/data';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-history-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const K = 3;
function evaluation(pred: number[], scores: number[][]): Evaluation {
  return { count: pred.length, loss: 0, accuracy: 0, confusion: [], predictions: Uint8Array.from(pred), scores: Float32Array.from(scores.flat()) };
}

describe('history.bin', () => {
  it('splitIndices names the file image of every split image', () => {
    // Each image's single pixel is its index: the split's pixels then show where each came from.
    const n = 50;
    const set: ImageSet = { count: n, rows: 1, cols: 1, pixels: Uint8Array.from({ length: n }, (_, i) => i), labels: new Uint8Array(n) };
    const s = splitData({ train: set, test: set }, 40, 7, 9);
    const ix = splitIndices({ train: set, test: set }, 40, 7, 9);
    expect(ix.pool).toBe(40);
    expect(Array.from(ix.trainIndex)).toEqual(Array.from(s.train.pixels));
    expect(Array.from(ix.validationIndex)).toEqual(Array.from(s.validation!.pixels));
  });

  it('writes the documented layout and reads it back; a resume keeps the epochs before the checkpoint', async () => {
    const dir = join(root, 'a');
    await rm(dir, { recursive: true, force: true });
    await import('node:fs/promises').then((f) => f.mkdir(dir));
    // 4 training images in the file: 1 and 3 trained on, 0 and 2 held out; 2 test images.
    const split = { pool: 4, trainIndex: Uint32Array.from([1, 3]), validationIndex: Uint32Array.from([0, 2]) };
    const labels = { train: Uint8Array.from([2, 0]), validation: Uint8Array.from([1, 1]), test: Uint8Array.from([0, 2]) };
    const w = await HistoryWriter.open(dir, K, split, 2, 0);
    const epoch = async (w: HistoryWriter, shift: number): Promise<void> =>
      w.add(
        evaluation(
          [2, 1],
          [
            [0.1, 0.2, 0.7],
            [0.5, 0.5 - shift, shift],
          ],
        ),
        evaluation(
          [1, 0],
          [
            [0.6, 0.4, 0],
            [1, 0, 0],
          ],
        ),
        evaluation(
          [0, 1],
          [
            [0.25, 0.75, 0],
            [0, 1, 0],
          ],
        ),
        labels,
      );
    await epoch(w, 0.1);
    await epoch(w, 0.2);
    const bytes = new Uint8Array(await readFile(join(dir, HISTORY_FILE)));
    const v = new DataView(bytes.buffer);
    expect(String.fromCharCode(...bytes.subarray(0, 8))).toBe('LNHIST01');
    expect([8, 12, 16, 20, 24, 28].map((o) => v.getUint32(o, true))).toEqual([1, K, 4, 2, 1, 2]);
    expect(Array.from(bytes.subarray(32, 36))).toEqual([1, 0, 1, 0]); // roles in file order
    const block = 36;
    expect(Array.from(bytes.subarray(block, block + 6))).toEqual([1, 2, 0, 1, 0, 1]); // train preds in file order, then test
    const prob = (i: number): number => v.getUint16(block + 6 + 2 * i, true);
    // file image 0 (validation, label 1): 0.4; 1 (train, label 2): 0.7; 2 (validation, label 1): 0; 3 (train, label 0): 0.5; test: 0.25, 0
    expect([0, 1, 2, 3, 4, 5].map(prob)).toEqual([0.4, 0.7, 0, 0.5, 0.25, 0].map((p) => Math.round(Math.fround(p) * 65535)));
    expect(bytes.length).toBe(32 + 4 + 2 * 3 * 6);

    // Resumed after epoch 1: epoch 2 is redone.
    const again = await HistoryWriter.open(dir, K, split, 2, 1);
    await epoch(again, 0.3);
    const h = await readSampleHistory(dir);
    expect(h!.info).toMatchObject({ firstEpoch: 1, epochs: 2, trainCount: 4, testCount: 2 });
    expect(Array.from(h!.epoch(1).trainPredicted)).toEqual([1, 2, 0, 1]);
    expect(h!.epoch(2).trainProbability[3]).toBeCloseTo(0.5, 4);
    expect(h!.epoch(1).testProbability[0]).toBeCloseTo(0.25, 4);
    expect(() => h!.epoch(3)).toThrow(/epoch 3 is not recorded/);

    await writeFile(join(dir, HISTORY_FILE), bytes.subarray(0, bytes.length - 1));
    await expect(readSampleHistory(dir)).rejects.toThrow(/history\.bin: 71 bytes, the header describes 72/);
  });
});
