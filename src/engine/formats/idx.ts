// IDX, the MNIST file format: a 4-byte magic (0x00 0x00 <type> <ndims>), ndims big-endian u32
// sizes, then the data. Only unsigned-byte images (3 dims) and labels (1 dim) are used here.
// Every size is checked against caps and against the bytes actually present before anything
// is allocated or viewed, so a hostile header cannot make us reserve gigabytes.

import { DatasetError, assert } from '../errors';

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count·rows·cols bytes, row-major, 0..255 as stored. May be a view into the parsed bytes. */
  pixels: Uint8Array;
}

export interface LabelledImages extends IdxImages {
  /** One class index per image. */
  labels: Uint8Array;
}

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;
/** Far above any real image; keeps count·rows·cols well inside exact double arithmetic. */
export const IDX_MAX_SIDE = 1024;
/** MNIST has 70k images, EMNIST ~800k; ten million leaves room without inviting absurd files. */
export const IDX_MAX_COUNT = 10_000_000;

const IMAGES_HEADER_BYTES = 16;
const LABELS_HEADER_BYTES = 8;

const IDX_TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function readU32BE(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/** Explains an unexpected magic in terms a user can act on (wrong file, still gzipped, ...). */
function describeMagic(bytes: Uint8Array): string {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return 'the file starts with 1f 8b: it is gzip-compressed and was not decompressed';
  }
  const magic = readU32BE(bytes, 0);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    return `found magic ${hex32(magic)}, which is not an IDX file`;
  }
  const type = bytes[2];
  const dims = bytes[3];
  const typeName = IDX_TYPE_NAMES[type];
  if (typeName === undefined) {
    return `found magic ${hex32(magic)}, which has an unknown IDX data type 0x${type.toString(16).padStart(2, '0')}`;
  }
  if (magic === IDX_LABELS_MAGIC) {
    return `found magic ${hex32(magic)}, which is an IDX label file (1 dimension), not images`;
  }
  if (magic === IDX_IMAGES_MAGIC) {
    return `found magic ${hex32(magic)}, which is an IDX image file (3 dimensions), not labels`;
  }
  return `found magic ${hex32(magic)}, an IDX file of ${typeName} values with ${plural(dims, 'dimension')}`;
}

function checkMagic(bytes: Uint8Array, fileName: string, expected: number, what: string): void {
  const gz = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (!gz && bytes.length < 4) {
    throw new DatasetError('IDX_TRUNCATED', `${fileName}: the file holds ${plural(bytes.length, 'byte')}, too short for an IDX header`);
  }
  if (gz || readU32BE(bytes, 0) !== expected) {
    throw new DatasetError('IDX_BAD_MAGIC', `${fileName}: expected an IDX ${what} file (magic ${hex32(expected)}), but ${describeMagic(bytes)}`);
  }
}

export function parseIdxImages(bytes: Uint8Array, fileName: string): IdxImages {
  checkMagic(bytes, fileName, IDX_IMAGES_MAGIC, 'image');
  if (bytes.length < IMAGES_HEADER_BYTES) {
    throw new DatasetError('IDX_TRUNCATED', `${fileName}: the file holds ${plural(bytes.length, 'byte')} but an IDX image header needs ${IMAGES_HEADER_BYTES}`);
  }
  const count = readU32BE(bytes, 4);
  const rows = readU32BE(bytes, 8);
  const cols = readU32BE(bytes, 12);
  if (rows < 1 || rows > IDX_MAX_SIDE || cols < 1 || cols > IDX_MAX_SIDE) {
    throw new DatasetError('IDX_BAD_DIMS', `${fileName}: header says images are ${rows}×${cols}; each side must be 1..${IDX_MAX_SIDE}`);
  }
  if (count === 0) {
    throw new DatasetError('IDX_BAD_DIMS', `${fileName}: header says the file holds 0 images`);
  }
  if (count > IDX_MAX_COUNT) {
    throw new DatasetError('IDX_TOO_LARGE', `${fileName}: header says ${count} images, above the cap of ${IDX_MAX_COUNT}`);
  }
  // ≤ 1e7·1024·1024 ≈ 1e13 < 2^53: exact.
  const expected = count * rows * cols;
  const present = bytes.length - IMAGES_HEADER_BYTES;
  if (present !== expected) {
    throw new DatasetError(
      present < expected ? 'IDX_TRUNCATED' : 'IDX_TRAILING_BYTES',
      `${fileName}: header says ${count}×${rows}×${cols} images (${expected} bytes) ` + `but the file holds ${present} bytes of data`,
    );
  }
  return {
    count,
    rows,
    cols,
    pixels: bytes.subarray(IMAGES_HEADER_BYTES, IMAGES_HEADER_BYTES + expected),
  };
}

/** Returns the labels as a view into `bytes` after checking each is below `numClasses`. */
export function parseIdxLabels(bytes: Uint8Array, fileName: string, numClasses = 10): Uint8Array {
  assert(Number.isInteger(numClasses) && numClasses >= 1 && numClasses <= 256, `numClasses must be an integer in 1..256, got ${numClasses}`);
  checkMagic(bytes, fileName, IDX_LABELS_MAGIC, 'label');
  if (bytes.length < LABELS_HEADER_BYTES) {
    throw new DatasetError('IDX_TRUNCATED', `${fileName}: the file holds ${plural(bytes.length, 'byte')} but an IDX label header needs ${LABELS_HEADER_BYTES}`);
  }
  const count = readU32BE(bytes, 4);
  if (count === 0) {
    throw new DatasetError('IDX_BAD_DIMS', `${fileName}: header says the file holds 0 labels`);
  }
  if (count > IDX_MAX_COUNT) {
    throw new DatasetError('IDX_TOO_LARGE', `${fileName}: header says ${count} labels, above the cap of ${IDX_MAX_COUNT}`);
  }
  const present = bytes.length - LABELS_HEADER_BYTES;
  if (present !== count) {
    throw new DatasetError(
      present < count ? 'IDX_TRUNCATED' : 'IDX_TRAILING_BYTES',
      `${fileName}: header says ${count} labels (${count} bytes) but the file holds ${present} bytes of data`,
    );
  }
  const labels = bytes.subarray(LABELS_HEADER_BYTES, LABELS_HEADER_BYTES + count);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= numClasses) {
      let bad = 0;
      for (let j = i; j < count; j++) if (labels[j] >= numClasses) bad++;
      throw new DatasetError(
        'IDX_LABEL_RANGE',
        `${fileName}: label ${i} is ${labels[i]} but classes are 0..${numClasses - 1}` + (bad > 1 ? ` (${bad} labels are out of range)` : ''),
      );
    }
  }
  return labels;
}

export function pairImagesLabels(images: IdxImages, labels: Uint8Array, imagesName: string, labelsName: string): LabelledImages {
  if (images.count !== labels.length) {
    throw new DatasetError(
      'IDX_COUNT_MISMATCH',
      `${imagesName} holds ${plural(images.count, 'image')} but ${labelsName} holds ${plural(labels.length, 'label')}`,
    );
  }
  return { count: images.count, rows: images.rows, cols: images.cols, pixels: images.pixels, labels };
}

export function encodeIdxImages(img: { count: number; rows: number; cols: number; pixels: Uint8Array }): Uint8Array {
  const { count, rows, cols, pixels } = img;
  for (const [name, v] of [
    ['count', count],
    ['rows', rows],
    ['cols', cols],
  ] as const) {
    assert(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, `${name} must be a u32, got ${v}`);
  }
  assert(pixels.length === count * rows * cols, `pixels holds ${pixels.length} bytes, expected ${count}×${rows}×${cols}`);
  const out = new Uint8Array(IMAGES_HEADER_BYTES + pixels.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, IDX_IMAGES_MAGIC, false);
  view.setUint32(4, count, false);
  view.setUint32(8, rows, false);
  view.setUint32(12, cols, false);
  out.set(pixels, IMAGES_HEADER_BYTES);
  return out;
}

export function encodeIdxLabels(labels: Uint8Array): Uint8Array {
  const out = new Uint8Array(LABELS_HEADER_BYTES + labels.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, IDX_LABELS_MAGIC, false);
  view.setUint32(4, labels.length, false);
  out.set(labels, LABELS_HEADER_BYTES);
  return out;
}
