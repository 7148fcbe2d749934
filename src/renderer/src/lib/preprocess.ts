// MNIST-style preprocessing of a hand-drawn digit, as LeCun et al. describe the dataset: the
// digit is size-normalised to fit a 20×20 box keeping its aspect ratio (anti-aliased, here by
// exact area averaging), then placed in a 28×28 field so that its centre of mass sits at the
// field's centre. Pure functions: grey images in, the model's input (values in [0, 1]) out.

export interface GrayImage {
  width: number;
  height: number;
  /** Row-major intensities in [0, 1]; 1 is ink. */
  data: Float32Array;
}

export interface PreprocessOptions {
  /** Side of the box the digit is scaled into (MNIST: 20). */
  box?: number;
  /** Side of the output field (MNIST: 28). */
  size?: number;
  /** Intensity above which a pixel counts as ink for the bounding box. */
  threshold?: number;
}

/** The ink of an RGBA canvas drawing: its alpha channel. */
export function fromAlpha(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): GrayImage {
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = rgba[i * 4 + 3] / 255;
  return { width, height, data };
}

/** Bounding box of the pixels above `threshold`, or null for an empty image. */
export function inkBounds(img: GrayImage, threshold = 0.02): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = img.width;
  let y0 = img.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (img.data[y * img.width + x] > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}

/**
 * Weights of source pixels [0, n) for each of m output pixels when n pixels are resampled to m
 * by area averaging: output i covers source interval [i·n/m, (i+1)·n/m).
 */
function areaWeights(n: number, m: number): { index: number; weight: number }[][] {
  const ratio = n / m;
  const out: { index: number; weight: number }[][] = [];
  for (let i = 0; i < m; i++) {
    const a = i * ratio;
    const b = (i + 1) * ratio;
    const taps: { index: number; weight: number }[] = [];
    for (let s = Math.floor(a); s < Math.min(n, Math.ceil(b)); s++) {
      const overlap = Math.min(b, s + 1) - Math.max(a, s);
      if (overlap > 1e-9) taps.push({ index: s, weight: overlap / ratio });
    }
    out.push(taps);
  }
  return out;
}

/** Resamples a w×h region at (x0, y0) of `img` to tw×th by area averaging. */
export function resampleArea(img: GrayImage, x0: number, y0: number, w: number, h: number, tw: number, th: number): GrayImage {
  const cols = areaWeights(w, tw);
  const rows = areaWeights(h, th);
  const data = new Float32Array(tw * th);
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      let v = 0;
      for (const r of rows[ty]) {
        const base = (y0 + r.index) * img.width + x0;
        for (const c of cols[tx]) v += r.weight * c.weight * img.data[base + c.index];
      }
      data[ty * tw + tx] = v;
    }
  }
  return { width: tw, height: th, data };
}

/** Centre of mass (x, y) in continuous coordinates (pixel i spans [i, i+1)); null when blank. */
export function centerOfMass(img: GrayImage): { x: number; y: number } | null {
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const v = img.data[y * img.width + x];
      sum += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  }
  return sum > 0 ? { x: sx / sum, y: sy / sum } : null;
}

/**
 * The 28×28 model input for a drawing: fit the ink's bounding box into 20×20 keeping the
 * aspect ratio, then translate (by whole pixels, staying inside the field) so the centre of
 * mass falls in pixel (14, 14). Null when nothing is drawn.
 */
export function mnistPreprocess(img: GrayImage, opts: PreprocessOptions = {}): Float32Array | null {
  const box = opts.box ?? 20;
  const size = opts.size ?? 28;
  const b = inkBounds(img, opts.threshold ?? 0.02);
  if (!b) return null;
  const w = b.x1 - b.x0 + 1;
  const h = b.y1 - b.y0 + 1;
  const s = box / Math.max(w, h);
  const tw = Math.max(1, Math.min(box, Math.round(w * s)));
  const th = Math.max(1, Math.min(box, Math.round(h * s)));
  const digit = resampleArea(img, b.x0, b.y0, w, h, tw, th);
  const com = centerOfMass(digit);
  if (!com) return null;
  // The centre pixel's index is size/2 (14), as centre-of-mass centring is usually computed
  // (index coordinates); real MNIST digits have their centre of mass within that pixel.
  const centre = size / 2 + 0.5;
  const ox = Math.min(size - tw, Math.max(0, Math.round(centre - com.x)));
  const oy = Math.min(size - th, Math.max(0, Math.round(centre - com.y)));
  const out = new Float32Array(size * size);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) out[(oy + y) * size + ox + x] = Math.min(1, Math.max(0, digit.data[y * tw + x]));
  }
  return out;
}

/** Model input ([0,1] floats) as bytes, for thumbnails. */
export function toBytes(x: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, x[i])) * 255);
  return out;
}

/** Dataset bytes as the model's input, the engine's scaling (pixel / 255). */
export function toInput(pixels: Uint8Array, offset: number, length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = pixels[offset + i] / 255;
  return out;
}
