// The Embedding view's maths (renderer/src/lib/embedding.ts): the class and correctness colours
// against the theme's panel and page in both themes (3:1, like chart lines), fitting the map to
// the canvas, zooming about a point, and which points a lasso holds — by hand-made cases.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLASS_COLORS, CORRECT_COLORS, fitTransform, insidePolygon, lassoSelect, nearestPoint, zoomAbout } from '../../src/renderer/src/lib/embedding';

const CSS = readFileSync(new URL('../../src/renderer/src/style.css', import.meta.url), 'utf8');
const darkStart = CSS.indexOf('@media (prefers-color-scheme: dark)');
const token = (block: string, name: string): string => new RegExp(`${name}:\\s*(#[0-9a-f]{6})`, 'i').exec(block)?.[1] ?? '';
const SURFACES = {
  light: [token(CSS.slice(0, darkStart), '--panel'), token(CSS.slice(0, darkStart), '--bg')],
  dark: [token(CSS.slice(darkStart), '--panel'), token(CSS.slice(darkStart), '--bg')],
};

function luminance(hex: string): number {
  const v = Number.parseInt(hex.slice(1), 16);
  const lin = (c: number): number => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin((v >> 16) & 255) + 0.7152 * lin((v >> 8) & 255) + 0.0722 * lin(v & 255);
}
function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

describe.each(['light', 'dark'] as const)('%s theme map colours', (theme) => {
  it('ten distinct class colours and both correctness colours are at least 3:1 on the panel and the page', () => {
    const colours = [...CLASS_COLORS[theme], CORRECT_COLORS[theme].right, CORRECT_COLORS[theme].wrong];
    expect(new Set(CLASS_COLORS[theme]).size).toBe(10);
    expect(SURFACES[theme].every((s) => /^#[0-9a-f]{6}$/i.test(s))).toBe(true);
    for (const c of colours) for (const s of SURFACES[theme]) expect(contrast(c, s), `${c} on ${s}`).toBeGreaterThanOrEqual(3);
  });
});

describe('fitTransform and zoomAbout', () => {
  it('fits the points (−1,−1)…(3,1) into 200×100 with 10 px padding, centred, y up', () => {
    const t = fitTransform(Float32Array.from([-1, 3, 1]), Float32Array.from([-1, 1, 0]), 200, 100, 10);
    // x spans 4 over 180 px (45/unit), y spans 2 over 80 px (40/unit): the smaller wins.
    expect(t.scale).toBe(40);
    expect([-1 * t.scale + t.tx, 3 * t.scale + t.tx]).toEqual([20, 180]);
    expect([-1 * t.scale + t.ty, -(-1) * t.scale + t.ty]).toEqual([10, 90]);
  });

  it('zooming about a pixel keeps that pixel on the same data point', () => {
    const t = { scale: 2, tx: 5, ty: 7 };
    const z = zoomAbout(t, 3, 11, 13);
    const dataX = (11 - t.tx) / t.scale;
    const dataY = -(13 - t.ty) / t.scale;
    expect(dataX * z.scale + z.tx).toBeCloseTo(11, 12);
    expect(-dataY * z.scale + z.ty).toBeCloseTo(13, 12);
    expect(z.scale).toBe(6);
  });
});

describe('lasso and click', () => {
  const id = { scale: 1, tx: 0, ty: 0 };
  it('an L-shaped lasso holds the points in its arms, not the one in its notch', () => {
    // L: (0,0)-(10,0)-(10,4)-(4,4)-(4,10)-(0,10); screen y = −data y, so data y is negated here.
    const poly = [0, 0, 10, 0, 10, 4, 4, 4, 4, 10, 0, 10];
    const x = Float32Array.from([2, 8, 2, 8, 11]);
    const y = Float32Array.from([-2, -2, -8, -8, -2]);
    expect(lassoSelect(x, y, id, poly)).toEqual([0, 1, 2]);
    expect(insidePolygon(poly, 8, 8)).toBe(false);
    expect(lassoSelect(x, y, id, [0, 0, 1, 1])).toEqual([]);
  });

  it('a click finds the nearest point within its radius, else none', () => {
    const x = Float32Array.from([0, 10, 12]);
    const y = Float32Array.from([0, 0, 0]);
    expect(nearestPoint(x, y, id, 10.8, 0, 5)).toBe(1);
    expect(nearestPoint(x, y, id, 11.6, 0, 5)).toBe(2);
    expect(nearestPoint(x, y, id, 5, 0, 4)).toBe(-1);
  });
});
