// Reading, checking, hashing, applying and saving label overlays (src/common/overlay.ts). An
// overlay never touches the IDX files: applying it gives a new in-memory training set (relabelled
// images, excluded ones left out, file order kept) whose fingerprint joins the dataset's with the
// overlay's hash, so a run trained with it records, and is checked against, both.

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gather } from '../../engine/data';
import { DatasetError } from '../../engine/errors';
import { MAX_OVERLAY_BYTES, overlaySchema, type LabelOverlay, type OverlayInfo } from '../../common/overlay';
import { ValidationError } from '../../common/schema';
import type { MnistData } from '../datasets';
import { mkdirs, osReason, writeFileAtomic } from '../files';

export class OverlayError extends DatasetError {}

/** The copy of its overlay a run trained with one keeps in its folder (for resuming it). */
export const RUN_OVERLAY_FILE = 'overlay.json';

function refuse(source: string, why: string): never {
  throw new OverlayError('DATASET_UNREADABLE', `overlay ${source}: ${why}`);
}

/**
 * The overlay in `text`, checked: the schema, then against the dataset when given — its
 * fingerprint, every index below the training count, every label below 10 (MNIST's classes), no
 * index twice, and no image both relabelled and excluded.
 */
export function parseOverlay(text: string, source: string, data?: Pick<MnistData, 'fingerprint' | 'train'>, classes = 10): LabelOverlay {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    refuse(source, `not JSON (${(e as Error).message.split('\n')[0]})`);
  }
  let o: LabelOverlay;
  try {
    o = overlaySchema.parse(raw);
  } catch (e) {
    if (e instanceof ValidationError) refuse(source, e.message);
    throw e;
  }
  const seen = new Set<number>();
  for (const r of o.relabel) {
    if (seen.has(r.index)) refuse(source, `image ${r.index} is relabelled twice`);
    seen.add(r.index);
    if (r.label >= classes) refuse(source, `image ${r.index}: label ${r.label} is not a class (0–${classes - 1})`);
  }
  const excluded = new Set<number>();
  for (const i of o.exclude) {
    if (excluded.has(i)) refuse(source, `image ${i} is excluded twice`);
    if (seen.has(i)) refuse(source, `image ${i} is both relabelled and excluded`);
    excluded.add(i);
  }
  if (data) {
    if (o.fingerprint !== data.fingerprint) refuse(source, `made for the dataset with fingerprint ${o.fingerprint}, not this one (${data.fingerprint})`);
    const n = data.train.count;
    for (const i of [...seen, ...excluded]) if (i >= n) refuse(source, `image ${i} is past the last training image (${n - 1})`);
    if (excluded.size >= n) refuse(source, 'it excludes every training image');
  }
  return o;
}

export async function readOverlay(path: string, data?: Pick<MnistData, 'fingerprint' | 'train'>): Promise<LabelOverlay> {
  let text: string;
  try {
    const st = await stat(path);
    if (!st.isFile()) refuse(path, 'not a file');
    if (st.size > MAX_OVERLAY_BYTES)
      refuse(path, `${st.size.toLocaleString('en-US')} bytes, more than the ${MAX_OVERLAY_BYTES.toLocaleString('en-US')} an overlay may have`);
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof OverlayError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    refuse(path, code === 'ENOENT' ? 'does not exist' : `cannot be read: ${osReason(e)}`);
  }
  return parseOverlay(text, path, data);
}

/** Entries sorted by index, as they are saved and hashed: the same corrections always give the same bytes. */
export function canonicalOverlay(o: LabelOverlay): LabelOverlay {
  return {
    format: o.format,
    version: o.version,
    fingerprint: o.fingerprint,
    relabel: o.relabel.map((r) => ({ index: r.index, label: r.label })).sort((a, b) => a.index - b.index),
    exclude: o.exclude.slice().sort((a, b) => a - b),
  };
}

export function overlayHash(o: LabelOverlay): string {
  return createHash('sha256')
    .update(JSON.stringify(canonicalOverlay(o)))
    .digest('hex')
    .slice(0, 16);
}

/** A dataset fingerprint joined with an overlay's hash: what a run trained with the overlay records. */
export function overlaidFingerprint(base: string, hash: string): string {
  return createHash('sha256').update(`${base}+overlay:${hash}`).digest('hex').slice(0, 16);
}

export interface OverlaidData extends MnistData {
  overlay: OverlayInfo;
}

/**
 * The dataset with the overlay applied (checked against it first): relabelled images carry their
 * new label, excluded ones are gone, the rest keep file order; the test set is untouched.
 */
export function applyOverlay(data: MnistData, o: LabelOverlay, source = 'overlay'): OverlaidData {
  parseOverlay(JSON.stringify(o), source, data);
  const n = data.train.count;
  const drop = new Uint8Array(n);
  for (const i of o.exclude) drop[i] = 1;
  const keep = new Uint32Array(n - o.exclude.length);
  let k = 0;
  for (let i = 0; i < n; i++) if (!drop[i]) keep[k++] = i;
  // A fresh copy either way: the loaded labels stay as the file has them.
  const train = gather(data.train, keep);
  const pos = new Int32Array(n).fill(-1);
  keep.forEach((src, j) => (pos[src] = j));
  for (const r of o.relabel) train.labels[pos[r.index]] = r.label;
  const hash = overlayHash(o);
  return {
    ...data,
    train: { ...data.train, ...train },
    fingerprint: overlaidFingerprint(data.fingerprint, hash),
    overlay: { hash, baseFingerprint: data.fingerprint, relabelled: o.relabel.length, excluded: o.exclude.length },
  };
}

/** overlays/<fingerprint>.json in the app's data folder. */
export function overlayPath(dataDir: string, fingerprint: string): string {
  if (!/^[0-9a-f]{1,128}$/.test(fingerprint))
    throw new OverlayError('DATASET_UNREADABLE', `not a dataset fingerprint: ${JSON.stringify(fingerprint.slice(0, 40))}`);
  return join(dataDir, 'overlays', `${fingerprint}.json`);
}

/** Saves the overlay (checked, canonical) atomically; returns its path. */
export async function saveOverlay(dataDir: string, o: LabelOverlay, data?: Pick<MnistData, 'fingerprint' | 'train'>): Promise<string> {
  const path = overlayPath(dataDir, o.fingerprint);
  const text = `${JSON.stringify(canonicalOverlay(parseOverlay(JSON.stringify(o), path, data)), null, 1)}\n`;
  if (text.length > MAX_OVERLAY_BYTES) refuse(path, 'too large to save');
  await mkdirs(join(dataDir, 'overlays'));
  await writeFileAtomic(path, text);
  return path;
}

/** The saved overlay for a dataset, or null when there is none. */
export async function loadSavedOverlay(dataDir: string, data: Pick<MnistData, 'fingerprint' | 'train'>): Promise<LabelOverlay | null> {
  const path = overlayPath(dataDir, data.fingerprint);
  const exists = await stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
  return exists ? readOverlay(path, data) : null;
}
