// Model.inferPixels runs a large batch in slices of INFER_SLICE images: its outputs must be bit
// for bit those of one forward pass over the whole batch, whatever the batch's size.

import { describe, expect, it } from 'vitest';
import { INFER_SLICE } from '../../../src/engine/model';
import { PRESETS } from '../../../src/engine/presets';
import { Rng } from '../../../src/engine/rng';
import { testModels } from '../../helpers/kernels';

const newModel = testModels();

describe('Model.inferPixels', () => {
  for (const preset of ['lenet5-relu-ce-bn', 'lenet5-tanh-mse', 'mlp-500-150'] as const) {
    for (const n of [1, INFER_SLICE, INFER_SLICE + 1, 5 * INFER_SLICE + 7]) {
      it(`${preset}, ${n} images: the outputs of one whole-batch inference pass, bit for bit`, () => {
        const m = newModel(PRESETS[preset].spec).init(3);
        const rng = new Rng(7);
        const pixels = Uint8Array.from({ length: 200 * 784 }, () => rng.int(256));
        // Images out of order, one repeated: the slices must follow the indices, not positions.
        const idx = Uint32Array.from({ length: n }, (_, i) => (i * 37 + 11) % 200);
        if (n > 2) idx[n - 1] = idx[0];
        const sliced = m.inferPixels(pixels, idx, n).slice();
        const whole = m.forwardPixels(pixels, idx, n, false).slice();
        expect(sliced.length).toBe(n * m.classes);
        expect(Buffer.from(sliced.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
      });
    }
  }
});
