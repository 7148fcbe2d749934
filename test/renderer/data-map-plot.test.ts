// The data map's drawing helpers on hand-placed points: which images are on the map and in what
// order, where a point lands in the bitmap and in which colour, the nearest point to the pointer,
// and each region's gallery order.

import { describe, expect, it } from 'vitest';
import { NearestPoint, mapPoints, rampColor, rasterize, regionImages, toPixel } from '../../src/renderer/src/lib/data-map-plot';

// Five file images; image 2 held out. Coordinates (variability, confidence, correctness):
//   0: (0.00, 1.00, 1.0) easy   1: (0.25, 0.50, 0.5) ambiguous   3: (0.00, 0.00, 0.0) hard
//   4: (0.10, 0.30, 0.0) hard
const payload = {
  count: 5,
  trained: Uint8Array.from([1, 1, 0, 1, 1]),
  variability: Float32Array.from([0, 0.25, 0.4, 0, 0.1]),
  confidence: Float32Array.from([1, 0.5, 0.5, 0, 0.3]),
  correctness: Float32Array.from([1, 0.5, 1, 0, 0]),
};

describe('data map plot', () => {
  it('keeps the trained-on images, most often right first (the misses are drawn last, on top)', () => {
    const p = mapPoints(payload);
    expect(p.count).toBe(4);
    expect(Array.from(p.index)).toEqual([0, 1, 3, 4]);
    expect(Array.from(p.correctness)).toEqual([1, 0.5, 0, 0]);
  });

  it('places points by variability (x, 0..0.5) and confidence (y, 1 at the top) and colours them by correctness', () => {
    expect(toPixel(0, 1, 11, 21)).toEqual([0, 0]);
    expect(toPixel(0.25, 0.5, 11, 21)).toEqual([5, 10]);
    expect(toPixel(0.5, 0, 11, 21)).toEqual([10, 20]);
    expect(rampColor(0, [200, 0, 0], [0, 0, 100])).toEqual([200, 0, 0]);
    expect(rampColor(0.5, [200, 0, 0], [0, 0, 100])).toEqual([100, 0, 50]);
    const rgba = rasterize(mapPoints(payload), 11, 21, 1, [200, 0, 0], [0, 0, 100]);
    const at = (x: number, y: number): number[] => Array.from(rgba.subarray((y * 11 + x) * 4, (y * 11 + x) * 4 + 4));
    expect(at(0, 0)).toEqual([0, 0, 100, 255]); // image 0: always right
    expect(at(5, 10)).toEqual([100, 0, 50, 255]); // image 1: right half the time
    expect(at(0, 20)).toEqual([200, 0, 0, 255]); // image 3: never right
    expect(at(2, 14)).toEqual([200, 0, 0, 255]); // image 4: x 0.1/0.5·10 = 2, y (1 − 0.3)·20 = 14
    let painted = 0;
    for (let i = 3; i < rgba.length; i += 4) if (rgba[i]) painted++;
    expect(painted).toBe(4);
    // A 3-pixel dot covers the 3 × 3 square around the point, clipped at the edges.
    const big = rasterize(mapPoints(payload), 11, 21, 3, [200, 0, 0], [0, 0, 100]);
    let n = 0;
    for (let i = 3; i < big.length; i += 4) if (big[i]) n++;
    expect(n).toBe(4 + 9 + 4 + 9); // corners (0,0) and (0,20): 2 × 2; (5,10) and (2,14): 3 × 3
  });

  it('finds the point nearest the pointer within the radius, none beyond it', () => {
    const p = mapPoints(payload);
    const near = new NearestPoint(p, 11, 21, 4);
    expect(p.index[near.find(5.5, 9.5)]).toBe(1);
    expect(p.index[near.find(1, 19, 3)]).toBe(3);
    expect(p.index[near.find(2, 13, 3)]).toBe(4);
    expect(near.find(9, 3, 3)).toBe(-1);
  });

  it('lists each region in its gallery order', () => {
    const p = mapPoints(payload);
    expect(regionImages(p, 'easy')).toEqual([0]);
    expect(regionImages(p, 'ambiguous')).toEqual([1]);
    expect(regionImages(p, 'hard')).toEqual([3, 4]); // least confident first
  });
});
