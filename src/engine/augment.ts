// Training-time augmentation: small random affine distortions of each training image (shift,
// rotation, scale about the image centre), the "distortions" LeCun et al. (1998) trained with,
// and optionally an elastic one (Simard et al. 2003): a smooth random displacement of every
// pixel, here interpolated bilinearly from random displacements at a 4×4 grid of control points.
// Pure and deterministic: the transforms are drawn from a caller's Rng into a flat array
// (TRANSFORM_SIZE numbers per image), and the warp reads only that array and the uint8 image, so
// a worker thread given the same numbers builds the same input, bit for bit.

import type { Rng } from './rng';

export interface AugmentConfig {
  /** Largest shift in pixels along each axis; each shift is uniform in [−shift, shift]. */
  shift: number;
  /** Largest rotation in degrees; uniform in [−rotateDeg, rotateDeg]. */
  rotateDeg: number;
  /** Largest relative change of size; the factor is uniform in [1 − scale, 1 + scale]. */
  scale: number;
  /**
   * Largest elastic displacement in pixels: each control point of the ELASTIC_GRID × ELASTIC_GRID
   * grid over the image moves by a uniform amount in [−elastic, elastic] along each axis, and
   * every pixel by the bilinear blend of its four nearest control points. Absent or 0: none.
   */
  elastic?: number;
}

/** The settings `--augment` uses: ±2 px, ±10°, ±10 %. */
export const DEFAULT_AUGMENT: Readonly<AugmentConfig> = { shift: 2, rotateDeg: 10, scale: 0.1 };

/** The distortions in words: "±2 px, ±15°, ±10 %" (", elastic ±2 px" with one), or "none". */
export function describeAugment(a: AugmentConfig | null | undefined): string {
  return a ? `±${a.shift} px, ±${a.rotateDeg}°, ±${+(100 * a.scale).toFixed(2)} %${a.elastic ? `, elastic ±${a.elastic} px` : ''}` : 'none';
}

/** Control points per side of the elastic displacement grid. */
export const ELASTIC_GRID = 4;
const FIELD = ELASTIC_GRID * ELASTIC_GRID;

/**
 * Numbers per image in a transform array: dx, dy (pixels), angle (radians), scale factor, then
 * the elastic displacements (pixels) of the control points, x then y, row by row (zeros: none).
 */
export const TRANSFORM_SIZE = 4 + 2 * FIELD;

export function isIdentityAugment(a: AugmentConfig): boolean {
  return a.shift === 0 && a.rotateDeg === 0 && a.scale === 0 && !(a.elastic ?? 0);
}

/**
 * Draws the transforms of n images into `out` (n × TRANSFORM_SIZE). Always four draws per image
 * for the affine part, whatever its settings, then 2 × ELASTIC_GRID² more only with an elastic
 * displacement, so the stream of a run without one is the same as before elastic existed.
 */
export function drawTransforms(rng: Rng, a: AugmentConfig, n: number, out: Float64Array): void {
  const maxAngle = (a.rotateDeg * Math.PI) / 180;
  const e = a.elastic ?? 0;
  for (let s = 0; s < n; s++) {
    const o = s * TRANSFORM_SIZE;
    out[o] = rng.uniform(-a.shift, a.shift);
    out[o + 1] = rng.uniform(-a.shift, a.shift);
    out[o + 2] = rng.uniform(-maxAngle, maxAngle);
    out[o + 3] = rng.uniform(1 - a.scale, 1 + a.scale);
    if (e > 0) for (let k = 4; k < TRANSFORM_SIZE; k++) out[o + k] = rng.uniform(-e, e);
    else out.fill(0, o + 4, o + TRANSFORM_SIZE);
  }
}

/** Whether the transform at `t[o..]` has an elastic part (a transform of four numbers has none). */
function hasField(t: ArrayLike<number>, o: number): boolean {
  if (t.length < o + TRANSFORM_SIZE) return false;
  for (let k = 4; k < TRANSFORM_SIZE; k++) if (t[o + k] !== 0) return true;
  return false;
}

/**
 * Warps one rows×cols image (all `channels` planes) by the transform at `t[tOffset..+4]` and
 * writes it, scaled to [0, 1], into `dst` at `dstOffset`. The image is rotated by the angle and
 * scaled about its centre, then shifted by (dx, dy); each output pixel samples the source
 * bilinearly at the inverse-mapped point, and outside the image counts as 0 (MNIST's
 * background). The identity transform reproduces `byte / 255` exactly.
 */
export function warpImage(
  src: Uint8Array,
  srcOffset: number,
  channels: number,
  rows: number,
  cols: number,
  t: ArrayLike<number>,
  tOffset: number,
  dst: Float32Array,
  dstOffset: number,
): void {
  const dx = t[tOffset];
  const dy = t[tOffset + 1];
  const angle = t[tOffset + 2];
  const scale = t[tOffset + 3];
  const inv = 1 / 255;
  const cx = (cols - 1) / 2;
  const cy = (rows - 1) / 2;
  // Inverse map: p_src = R(−angle)·(p_dst − c − d)/scale + c.
  const cos = Math.cos(angle) / scale;
  const sin = Math.sin(angle) / scale;
  const plane = rows * cols;
  const field = hasField(t, tOffset);
  const fx0 = tOffset + 4;
  const fy0 = fx0 + FIELD;
  const gx = (ELASTIC_GRID - 1) / Math.max(1, cols - 1);
  const gy = (ELASTIC_GRID - 1) / Math.max(1, rows - 1);
  for (let c = 0; c < channels; c++) {
    const sBase = srcOffset + c * plane;
    const dBase = dstOffset + c * plane;
    for (let y = 0; y < rows; y++) {
      const Y = y - cy - dy;
      for (let x = 0; x < cols; x++) {
        const X = x - cx - dx;
        let u = cx + X * cos + Y * sin;
        let v = cy - X * sin + Y * cos;
        if (field) {
          // The pixel's place on the control grid, and the bilinear blend of its four corners.
          const px = x * gx;
          const py = y * gy;
          const i = Math.min(ELASTIC_GRID - 2, Math.floor(px));
          const j = Math.min(ELASTIC_GRID - 2, Math.floor(py));
          const ax = px - i;
          const ay = py - j;
          const k = j * ELASTIC_GRID + i;
          const w00 = (1 - ax) * (1 - ay);
          const w01 = ax * (1 - ay);
          const w10 = (1 - ax) * ay;
          const w11 = ax * ay;
          u += w00 * t[fx0 + k] + w01 * t[fx0 + k + 1] + w10 * t[fx0 + k + ELASTIC_GRID] + w11 * t[fx0 + k + ELASTIC_GRID + 1];
          v += w00 * t[fy0 + k] + w01 * t[fy0 + k + 1] + w10 * t[fy0 + k + ELASTIC_GRID] + w11 * t[fy0 + k + ELASTIC_GRID + 1];
        }
        const x0 = Math.floor(u);
        const y0 = Math.floor(v);
        const fx = u - x0;
        const fy = v - y0;
        let acc = 0;
        // Skip zero-weight neighbours so no out-of-range read happens and the identity stays exact.
        if (y0 >= 0 && y0 < rows) {
          const r = sBase + y0 * cols;
          if (x0 >= 0 && x0 < cols) acc += (1 - fx) * (1 - fy) * src[r + x0];
          if (fx > 0 && x0 + 1 >= 0 && x0 + 1 < cols) acc += fx * (1 - fy) * src[r + x0 + 1];
        }
        if (fy > 0 && y0 + 1 >= 0 && y0 + 1 < rows) {
          const r = sBase + (y0 + 1) * cols;
          if (x0 >= 0 && x0 < cols) acc += (1 - fx) * fy * src[r + x0];
          if (fx > 0 && x0 + 1 >= 0 && x0 + 1 < cols) acc += fx * fy * src[r + x0 + 1];
        }
        dst[dBase + y * cols + x] = acc * inv;
      }
    }
  }
}

/**
 * Builds a batch: image `indices[s]` of `pixels` (each channels×rows×cols bytes) warped by
 * transform s of `transforms`, into `dst` (n × channels×rows×cols floats).
 */
export function warpBatch(
  pixels: Uint8Array,
  indices: ArrayLike<number>,
  n: number,
  shape: readonly [number, number, number] | readonly number[],
  transforms: ArrayLike<number>,
  dst: Float32Array,
): void {
  const [channels, rows, cols] = shape;
  const size = channels * rows * cols;
  for (let s = 0; s < n; s++) warpImage(pixels, indices[s] * size, channels, rows, cols, transforms, s * TRANSFORM_SIZE, dst, s * size);
}
