// health.json: the layer health of every finished epoch (src/engine/health.ts), one record per
// epoch in epoch order, rewritten atomically after each epoch. Read with the run files' 64 MB
// cap: about 1,200 epochs of LeNet-5.

import { join } from 'node:path';
import { HEALTH_BINS, type EpochHealth, type GradStats, type Histogram, type LayerHealth, type LayerKind, type Stats } from '../../engine/health';
import { arr, bool, int, literal, num, obj, optional, str, type Schema } from '../../common/schema';
import { nodeFs, writeFileAtomic, type FsLayer } from '../files';
import { readJson } from './layout';

export const HEALTH_FILE = 'health.json';

const histogramSchema = obj<Histogram>({
  edges: arr(num(), { min: HEALTH_BINS + 1, max: HEALTH_BINS + 1 }),
  counts: arr(int(0, 1e12), { min: HEALTH_BINS, max: HEALTH_BINS }),
});
const statsFields = { count: int(0, 1e12), mean: num(), std: num({ min: 0 }), min: num(), max: num(), histogram: histogramSchema };
const statsSchema = obj<Stats>(statsFields);
const gradSchema = obj<GradStats>({ ...statsFields, norm: num({ min: 0 }) });
const layerSchema = obj<LayerHealth>({
  name: str({ max: 100 }),
  kind: literal<LayerKind>('conv2d', 'dense', 'batchnorm', 'activation', 'pool2d', 'flatten'),
  fn: optional(str({ max: 20 })),
  weight: optional(statsSchema),
  bias: optional(statsSchema),
  grad: optional(gradSchema),
  updateToWeight: optional(num({ min: 0 })),
  activation: statsSchema,
  deadFraction: optional(num({ min: 0, max: 1 })),
  saturatedFraction: optional(num({ min: 0, max: 1 })),
  runningMean: optional(arr(num(), { max: 100_000 })),
  runningVar: optional(arr(num(), { max: 100_000 })),
});
export const epochHealthSchema: Schema<EpochHealth> = obj<EpochHealth>({
  epoch: int(1, 10_000),
  resumed: optional(bool()),
  steps: int(0, 1e9),
  layers: arr(layerSchema, { max: 1000 }),
});

/** The run's health records; [] when it has none. Malformed → RunFolderError naming the file. */
export async function readHealth(dir: string): Promise<EpochHealth[]> {
  return (await readJson(dir, HEALTH_FILE, arr(epochHealthSchema, { max: 10_000 }))) ?? [];
}

/** Numbers that are not integers keep 7 significant digits (about a float32's): the file is ~45% smaller. */
const round = (_key: string, v: unknown): unknown => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(7)) : v);

export async function writeHealth(dir: string, records: EpochHealth[], fsl: FsLayer = nodeFs): Promise<void> {
  await writeFileAtomic(join(dir, HEALTH_FILE), `${JSON.stringify(records, round)}\n`, fsl);
}
