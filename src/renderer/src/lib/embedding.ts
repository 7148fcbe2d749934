// The Embedding view's drawing maths, apart from the canvas so it can be tested: the class and
// correctness colours per theme, fitting the map to the canvas, and which points a lasso holds.

/**
 * One colour per digit class, per theme: the Okabe–Ito hues first, then Paul Tol's, in shades
 * with at least 3:1 on the panel (test/renderer/embedding.test.ts checks). Ten hues cannot all be
 * told apart by everyone, so the legend also selects a class, and zoomed in the digits draw
 * themselves.
 */
export const CLASS_COLORS = {
  light: ['#0072b2', '#c45500', '#007a5a', '#a8508a', '#332288', '#8a6d00', '#117a8b', '#882255', '#5f6672', '#6a3d9a'],
  dark: ['#56b4e9', '#e69f00', '#2fbf8f', '#cc79a7', '#a99cf0', '#f0e442', '#44c4d4', '#ee7788', '#b0b6c0', '#d9a66b'],
} as const;

/** Right and wrong: blue against vermillion, told apart with any colour vision. */
export const CORRECT_COLORS = {
  light: { right: '#0072b2', wrong: '#c45500' },
  dark: { right: '#56b4e9', wrong: '#e69f00' },
} as const;

/** Data coordinates → CSS pixels: px = x·scale + tx, py = −y·scale + ty (y up, as in a plot). */
export interface ViewTransform {
  scale: number;
  tx: number;
  ty: number;
}

/** The transform that fits every point into width × height with `pad` pixels to spare, centred. */
export function fitTransform(x: Float32Array, y: Float32Array, width: number, height: number, pad = 16): ViewTransform {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] < x0) x0 = x[i];
    if (x[i] > x1) x1 = x[i];
    if (y[i] < y0) y0 = y[i];
    if (y[i] > y1) y1 = y[i];
  }
  if (!(x1 >= x0)) return { scale: 1, tx: width / 2, ty: height / 2 };
  const w = Math.max(1, width - 2 * pad);
  const h = Math.max(1, height - 2 * pad);
  const scale = Math.min(w / Math.max(x1 - x0, 1e-9), h / Math.max(y1 - y0, 1e-9));
  return { scale, tx: width / 2 - ((x0 + x1) / 2) * scale, ty: height / 2 + ((y0 + y1) / 2) * scale };
}

/** The transform zoomed by `factor` about the pixel (px, py), which stays where it is. */
export function zoomAbout(t: ViewTransform, factor: number, px: number, py: number): ViewTransform {
  return { scale: t.scale * factor, tx: px - (px - t.tx) * factor, ty: py - (py - t.ty) * factor };
}

/** Even–odd ray casting: whether (px, py) lies inside the closed polygon `poly` ([x0,y0,x1,y1,…]). */
export function insidePolygon(poly: readonly number[], px: number, py: number): boolean {
  let inside = false;
  const n = poly.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = poly[2 * i];
    const yi = poly[2 * i + 1];
    const xj = poly[2 * j];
    const yj = poly[2 * j + 1];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Indices of the points whose screen position lies inside the lasso `poly` (CSS pixels). */
export function lassoSelect(x: Float32Array, y: Float32Array, t: ViewTransform, poly: readonly number[]): number[] {
  if (poly.length < 6) return [];
  let bx0 = Infinity;
  let bx1 = -Infinity;
  let by0 = Infinity;
  let by1 = -Infinity;
  for (let i = 0; i < poly.length; i += 2) {
    bx0 = Math.min(bx0, poly[i]);
    bx1 = Math.max(bx1, poly[i]);
    by0 = Math.min(by0, poly[i + 1]);
    by1 = Math.max(by1, poly[i + 1]);
  }
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const px = x[i] * t.scale + t.tx;
    const py = -y[i] * t.scale + t.ty;
    if (px < bx0 || px > bx1 || py < by0 || py > by1) continue;
    if (insidePolygon(poly, px, py)) out.push(i);
  }
  return out;
}

/** The point nearest (px, py) within `radius` CSS pixels, or −1. */
export function nearestPoint(x: Float32Array, y: Float32Array, t: ViewTransform, px: number, py: number, radius: number): number {
  let best = -1;
  let bestD = radius * radius;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i] * t.scale + t.tx - px;
    const dy = -y[i] * t.scale + t.ty - py;
    const d = dx * dx + dy * dy;
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}
