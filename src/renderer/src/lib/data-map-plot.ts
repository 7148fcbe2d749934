// Drawing a data map of up to 60,000 points fast: the points are rasterised straight into an RGBA
// bitmap (one pass, no object per point) that the chart paints into its plot area, and a grid
// of buckets finds the point under the pointer without scanning them all.

import type { DataMapPayload } from '@common/records';
import { regionOf, type Region } from '@engine/data-lab/data-map';

/** The plot's axes: variability (x) never exceeds 0.5 for values in [0, 1], confidence (y) 1. */
export const X_MAX = 0.5;
export const Y_MAX = 1;

/** The points on the map (the images trained on), in drawing order: most often right first, so the misses sit on top. */
export interface MapPoints {
  count: number;
  /** File index of each point. */
  index: Uint32Array;
  variability: Float32Array;
  confidence: Float32Array;
  correctness: Float32Array;
}

export function mapPoints(m: Pick<DataMapPayload, 'count' | 'trained' | 'confidence' | 'variability' | 'correctness'>): MapPoints {
  // A counting sort on correctness in 1/1024 steps (a comparison sort of 60,000 took 100+ ms):
  // stable, so equal correctness keeps file order.
  const BUCKETS = 1024;
  const start = new Uint32Array(BUCKETS + 2);
  const bucket = (i: number): number => BUCKETS - Math.round(Math.min(1, Math.max(0, m.correctness[i])) * BUCKETS);
  let n = 0;
  for (let i = 0; i < m.count; i++) {
    if (!m.trained[i]) continue;
    start[bucket(i) + 1]++;
    n++;
  }
  for (let b = 0; b <= BUCKETS; b++) start[b + 1] += start[b];
  const out: MapPoints = {
    count: n,
    index: new Uint32Array(n),
    variability: new Float32Array(n),
    confidence: new Float32Array(n),
    correctness: new Float32Array(n),
  };
  for (let i = 0; i < m.count; i++) {
    if (!m.trained[i]) continue;
    const k = start[bucket(i)]++;
    out.index[k] = i;
    out.variability[k] = m.variability[i];
    out.confidence[k] = m.confidence[i];
    out.correctness[k] = m.correctness[i];
  }
  return out;
}

/** Pixel position of a point in a w × h plot area (y grows downwards). */
export function toPixel(variability: number, confidence: number, w: number, h: number): [number, number] {
  return [Math.min(w - 1, Math.max(0, (variability / X_MAX) * (w - 1))), Math.min(h - 1, Math.max(0, (1 - confidence / Y_MAX) * (h - 1)))];
}

/** "#rrggbb" → [r, g, b]. */
export function parseHex(c: string): [number, number, number] {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(c.trim());
  return m ? [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)] : [128, 128, 128];
}

/** The colour of a correctness in [0, 1]: from `never` (0) to `always` (1), mixed in RGB. */
export function rampColor(correctness: number, never: [number, number, number], always: [number, number, number]): [number, number, number] {
  const t = Math.min(1, Math.max(0, correctness));
  return [0, 1, 2].map((k) => Math.round(never[k] + t * (always[k] - never[k]))) as [number, number, number];
}

/** The points as a w × h RGBA bitmap (transparent elsewhere), each a `dot` × `dot` square. */
export function rasterize(
  p: MapPoints,
  w: number,
  h: number,
  dot: number,
  never: [number, number, number],
  always: [number, number, number],
): Uint8ClampedArray {
  const px = new Uint32Array(w * h);
  // 33 shades of the ramp, packed once as little-endian RGBA words (what ImageData holds on every platform the app ships on).
  const SHADES = 32;
  const shade = new Uint32Array(SHADES + 1);
  for (let s = 0; s <= SHADES; s++) {
    const [r, g, b] = rampColor(s / SHADES, never, always);
    shade[s] = ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
  }
  const half = Math.floor(dot / 2);
  const sx = (w - 1) / X_MAX;
  const sy = h - 1;
  for (let k = 0; k < p.count; k++) {
    // toPixel, inlined: this loop runs once per point on every redraw.
    const fx = Math.min(w - 1, Math.max(0, p.variability[k] * sx));
    const fy = Math.min(h - 1, Math.max(0, (1 - p.confidence[k] / Y_MAX) * sy));
    const x0 = Math.max(0, Math.round(fx) - half);
    const y0 = Math.max(0, Math.round(fy) - half);
    const x1 = Math.min(w, Math.round(fx) - half + dot);
    const y1 = Math.min(h, Math.round(fy) - half + dot);
    const c = shade[Math.round(p.correctness[k] * SHADES)];
    for (let y = y0; y < y1; y++) {
      const row = y * w;
      for (let x = x0; x < x1; x++) px[row + x] = c;
    }
  }
  return new Uint8ClampedArray(px.buffer);
}

/** Finds the point nearest a pixel of the plot area, within a radius, from buckets of `cell` pixels. */
export class NearestPoint {
  private readonly head: Int32Array;
  private readonly next: Int32Array;
  private readonly xs: Float32Array;
  private readonly ys: Float32Array;
  private readonly cols: number;
  private readonly rows: number;

  constructor(
    p: MapPoints,
    private readonly w: number,
    private readonly h: number,
    private readonly cell = 8,
  ) {
    this.cols = Math.max(1, Math.ceil(w / cell));
    this.rows = Math.max(1, Math.ceil(h / cell));
    this.head = new Int32Array(this.cols * this.rows).fill(-1);
    this.next = new Int32Array(p.count);
    this.xs = new Float32Array(p.count);
    this.ys = new Float32Array(p.count);
    for (let k = 0; k < p.count; k++) {
      const [x, y] = toPixel(p.variability[k], p.confidence[k], w, h);
      this.xs[k] = x;
      this.ys[k] = y;
      const b = Math.floor(y / cell) * this.cols + Math.floor(x / cell);
      this.next[k] = this.head[b];
      this.head[b] = k;
    }
  }

  /** The point (its position in MapPoints) nearest (x, y), or -1 when none is within `radius` pixels; the one drawn last wins a tie. */
  find(x: number, y: number, radius = 6): number {
    const r = Math.ceil(radius / this.cell);
    const cx = Math.floor(x / this.cell);
    const cy = Math.floor(y / this.cell);
    let best = -1;
    let bestD = radius * radius;
    for (let by = Math.max(0, cy - r); by <= Math.min(this.rows - 1, cy + r); by++) {
      for (let bx = Math.max(0, cx - r); bx <= Math.min(this.cols - 1, cx + r); bx++) {
        for (let k = this.head[by * this.cols + bx]; k >= 0; k = this.next[k]) {
          const d = (this.xs[k] - x) ** 2 + (this.ys[k] - y) ** 2;
          if (d < bestD || (d === bestD && k > best)) {
            bestD = d;
            best = k;
          }
        }
      }
    }
    return best;
  }
}

/** File indices of the images of a region, in the order its gallery shows them (see REGION_ORDER). */
export function regionImages(p: MapPoints, region: Region): number[] {
  const ks: number[] = [];
  for (let k = 0; k < p.count; k++) if (regionOf(p.confidence[k], p.variability[k]) === region) ks.push(k);
  const key = REGION_ORDER[region];
  ks.sort((a, b) => key(p, a) - key(p, b) || p.index[a] - p.index[b]);
  return ks.map((k) => p.index[k]);
}

/** Gallery order: hard, least confident first; ambiguous, most variable first; easy, most confident first. */
const REGION_ORDER: Record<Region, (p: MapPoints, k: number) => number> = {
  hard: (p, k) => p.confidence[k],
  ambiguous: (p, k) => -p.variability[k],
  easy: (p, k) => -p.confidence[k],
};
