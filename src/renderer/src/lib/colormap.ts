// Colour scales for values drawn as pixels: a 256-entry RGB lookup table built by linear
// interpolation between published samples of each map. Sequential maps (viridis, cividis) are
// perceptually uniform and colour-blind safe; the diverging map (ColorBrewer RdBu: blue below
// zero, red above) is colour-blind safe too, with a light centre for light themes and a dark
// centre for dark ones so that "zero" blends into the page rather than glaring.

export type Lut = Uint8Array; // 256 × RGB

export interface ColorScale {
  name: string;
  lut: Lut;
  /** A diverging scale is drawn symmetric around 0. */
  diverging: boolean;
}

function hexToRgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** 256 colours through evenly spaced stops. */
export function makeLut(stops: readonly string[]): Lut {
  if (stops.length < 2) throw new Error('a colour scale needs at least two stops');
  const rgb = stops.map(hexToRgb);
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (rgb.length - 1);
    const j = Math.min(rgb.length - 2, Math.floor(t));
    const f = t - j;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(rgb[j][c] + (rgb[j + 1][c] - rgb[j][c]) * f);
  }
  return lut;
}

// matplotlib's maps sampled at 10 evenly spaced points.
export const VIRIDIS: ColorScale = {
  name: 'viridis',
  diverging: false,
  lut: makeLut(['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725']),
};
export const CIVIDIS: ColorScale = {
  name: 'cividis',
  diverging: false,
  lut: makeLut(['#00224e', '#123570', '#3b496c', '#575d6d', '#707173', '#8a8779', '#a69d75', '#c4b56c', '#e4cf5b', '#fee838']),
};
export const DIVERGING_LIGHT: ColorScale = {
  name: 'RdBu',
  diverging: true,
  lut: makeLut(['#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b', '#67001f']),
};
export const DIVERGING_DARK: ColorScale = {
  name: 'RdBu (dark centre)',
  diverging: true,
  lut: makeLut(['#d1e5f0', '#92c5de', '#4393c3', '#2166ac', '#173a63', '#1c1c1f', '#5c1a1f', '#b2182b', '#d6604d', '#f4a582', '#fddbc7']),
};

export function divergingFor(dark: boolean): ColorScale {
  return dark ? DIVERGING_DARK : DIVERGING_LIGHT;
}

/** Position of v on [lo, hi] as a LUT index 0..255 (clamped; NaN maps to the middle). */
export function lutIndex(v: number, lo: number, hi: number): number {
  if (!(hi > lo) || Number.isNaN(v)) return 128;
  const t = (v - lo) / (hi - lo);
  return t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
}

export function cssColor(scale: ColorScale, t: number): string {
  const i = lutIndex(t, 0, 1) * 3;
  return `rgb(${scale.lut[i]}, ${scale.lut[i + 1]}, ${scale.lut[i + 2]})`;
}

/** A CSS linear-gradient through the scale, for legends. */
export function cssGradient(scale: ColorScale, direction = 'to right'): string {
  const stops: string[] = [];
  for (let k = 0; k <= 8; k++) stops.push(`${cssColor(scale, k / 8)} ${(k * 100) / 8}%`);
  return `linear-gradient(${direction}, ${stops.join(', ')})`;
}

/** The range a scale shows values on: symmetric around 0 for diverging scales. */
export function scaleRange(scale: ColorScale, min: number, max: number): [number, number] {
  if (scale.diverging) {
    const m = Math.max(Math.abs(min), Math.abs(max)) || 1;
    return [-m, m];
  }
  return max > min ? [min, max] : [min, min + 1];
}

/** Relative luminance (0..1) of a LUT entry: picks black or white text over a cell. */
export function luminance(scale: ColorScale, t: number): number {
  const i = lutIndex(t, 0, 1) * 3;
  const lin = (c: number): number => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(scale.lut[i]) + 0.7152 * lin(scale.lut[i + 1]) + 0.0722 * lin(scale.lut[i + 2]);
}

/**
 * Paints an h×w block of values into RGBA pixels at (x, y) of an image `width` pixels wide,
 * each value a `cell`×`cell` square.
 */
export function paintBlock(
  rgba: Uint8ClampedArray,
  width: number,
  x: number,
  y: number,
  values: ArrayLike<number>,
  offset: number,
  h: number,
  w: number,
  cell: number,
  lo: number,
  hi: number,
  scale: ColorScale,
): void {
  const lut = scale.lut;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const li = lutIndex(values[offset + r * w + c], lo, hi) * 3;
      for (let dy = 0; dy < cell; dy++) {
        let p = ((y + r * cell + dy) * width + x + c * cell) * 4;
        for (let dx = 0; dx < cell; dx++, p += 4) {
          rgba[p] = lut[li];
          rgba[p + 1] = lut[li + 1];
          rgba[p + 2] = lut[li + 2];
          rgba[p + 3] = 255;
        }
      }
    }
  }
}
