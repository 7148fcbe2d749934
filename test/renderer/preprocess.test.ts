// MNIST-style preprocessing of drawn digits: fit into 20×20 keeping the aspect ratio, centre of
// mass in the centre pixel of 28×28. Checked on synthetic shapes and on real MNIST digits, which were
// made by this procedure: drawing one 10× larger and preprocessing it must give it back.

import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/node/datasets';
import { centerOfMass, inkBounds, mnistPreprocess, resampleArea, type GrayImage } from '../../src/renderer/src/lib/preprocess';

function blank(w: number, h: number): GrayImage {
  return { width: w, height: h, data: new Float32Array(w * h) };
}

function rect(img: GrayImage, x0: number, y0: number, w: number, h: number, v = 1): GrayImage {
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) img.data[y * img.width + x] = v;
  return img;
}

const asImage = (x: Float32Array, side = 28): GrayImage => ({ width: side, height: side, data: x });

describe('mnistPreprocess', () => {
  it('returns null for an empty drawing', () => {
    expect(mnistPreprocess(blank(280, 280))).toBeNull();
  });

  it('square 100×100 in a corner of 280×280: fills 20×20 and its centre of mass moves into pixel (14, 14)', () => {
    const out = mnistPreprocess(rect(blank(280, 280), 10, 150, 100, 100))!;
    const img = asImage(out);
    const b = inkBounds(img, 0.5)!;
    expect(b.x1 - b.x0 + 1).toBe(20);
    expect(b.y1 - b.y0 + 1).toBe(20);
    const c = centerOfMass(img)!;
    // Whole-pixel shifts: within half a pixel of the centre pixel's middle (14.5).
    expect(Math.abs(c.x - 14.5)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(c.y - 14.5)).toBeLessThanOrEqual(0.5);
    expect(Math.max(...out)).toBeLessThanOrEqual(1);
  });

  it('tall bar 30×120 keeps its aspect ratio: 20 high, 5 wide', () => {
    const img = asImage(mnistPreprocess(rect(blank(280, 280), 200, 20, 30, 120))!);
    const b = inkBounds(img, 0.5)!;
    expect(b.y1 - b.y0 + 1).toBe(20);
    expect(b.x1 - b.x0 + 1).toBe(5);
  });

  it('area averaging keeps the total ink (scaled by the area ratio)', () => {
    const src = rect(blank(60, 60), 0, 0, 60, 60, 0.5);
    const out = resampleArea(src, 0, 0, 60, 60, 20, 20);
    const sum = out.data.reduce((a, v) => a + v, 0);
    expect(sum).toBeCloseTo((60 * 60 * 0.5) / 9, 3);
  });

  it('an MNIST digit drawn 10× larger comes back as itself (test images 0–19)', async () => {
    const m = await loadMnist();
    for (let i = 0; i < 20; i++) {
      const d = m.test.pixels.subarray(i * 784, (i + 1) * 784);
      const big = blank(280, 280);
      for (let y = 0; y < 280; y++) for (let x = 0; x < 280; x++) big.data[y * 280 + x] = d[Math.floor(y / 10) * 28 + Math.floor(x / 10)] / 255;
      const out = mnistPreprocess(big, { threshold: 0.1 })!;
      // Pearson correlation with the original.
      const a = Array.from(d, (v) => v / 255);
      const b = Array.from(out);
      const ma = a.reduce((s, v) => s + v, 0) / a.length;
      const mb = b.reduce((s, v) => s + v, 0) / b.length;
      let sab = 0;
      let saa = 0;
      let sbb = 0;
      for (let k = 0; k < a.length; k++) {
        sab += (a[k] - ma) * (b[k] - mb);
        saa += (a[k] - ma) ** 2;
        sbb += (b[k] - mb) ** 2;
      }
      expect(sab / Math.sqrt(saa * sbb), `test image ${i}`).toBeGreaterThan(0.85);
    }
  });
});
