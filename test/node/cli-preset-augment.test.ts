// A preset's own distortions (lenet5-best's ±2 px, ±10°, ±10 %): `train --preset lenet5-best`
// with no other option trains with them, a flag changes one strength and keeps the others,
// --no-augment turns them off and refuses to be combined with a strength; presets without
// distortions still train on the plain images unless asked. The flag logic on its own, then real
// CLI runs whose run.json says what they trained with.

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AUGMENT } from '../../src/engine/augment';
import { PRESETS } from '../../src/engine/presets';
import { augmentFromFlags } from '../../src/node/cli/common';
import { readRunConfig } from '../../src/node/runs/folder';
import { mnistSubset } from '../helpers/mnist-subset';

const run = promisify(execFile);
const BEST = PRESETS['lenet5-best'].defaults.augment!;
let root: string;
let data: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-cli-augment-'));
  data = await mnistSubset(600, 100);
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('distortion flags over a preset’s own', () => {
  it('keep the preset’s, change one strength, or turn them off', () => {
    expect(BEST).toEqual({ shift: 2, rotateDeg: 10, scale: 0.1 });
    expect(augmentFromFlags({}, BEST)).toEqual(BEST);
    expect(augmentFromFlags({ rotate: '5' }, BEST)).toEqual({ ...BEST, rotateDeg: 5 });
    expect(augmentFromFlags({ augment: true }, BEST)).toEqual(BEST);
    expect(augmentFromFlags({ 'no-augment': true }, BEST)).toBeNull();
    expect(() => augmentFromFlags({ 'no-augment': true, shift: '1' }, BEST)).toThrow(/--no-augment cannot be combined with --augment, --shift/);
    // Without a preset's own: none unless asked, --augment's defaults under a strength.
    expect(augmentFromFlags({}, null)).toBeNull();
    expect(augmentFromFlags({ scale: '0.2' }, null)).toEqual({ ...DEFAULT_AUGMENT, scale: 0.2 });
    expect(() => augmentFromFlags({ rotate: '400' }, BEST)).toThrow(/--rotate/);
    // An elastic displacement joins the preset's, or --augment's, distortions.
    expect(augmentFromFlags({ elastic: '2.5' }, BEST)).toEqual({ ...BEST, elastic: 2.5 });
    expect(augmentFromFlags({ elastic: '1' }, null)).toEqual({ ...DEFAULT_AUGMENT, elastic: 1 });
    expect(() => augmentFromFlags({ elastic: '9' }, BEST)).toThrow(/--elastic/);
    expect(() => augmentFromFlags({ 'no-augment': true, elastic: '1' }, BEST)).toThrow(/--no-augment cannot be combined/);
  });
});

describe('train with a preset that distorts', () => {
  const train = async (name: string, extra: string[]) => {
    const dir = join(root, name);
    const r = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/node/cli/train.ts',
        '--data',
        data,
        '--limit',
        '200',
        '--validation',
        '0',
        '--epochs',
        '1',
        '--threads',
        '1',
        '--run-dir',
        dir,
        ...extra,
      ],
      {
        cwd: process.cwd(),
        env: { ...process.env, LENET_KERNELS: 'wasm' },
      },
    );
    return { ...r, config: await readRunConfig(dir) };
  };

  it('lenet5-best alone trains with its distortions and weight decay, its 30-epoch cosine recipe otherwise as --epochs says', async () => {
    const { config } = await train('best', ['--preset', 'lenet5-best']);
    expect(config.preset).toBe('lenet5-best');
    expect(config.settings.augment).toEqual(BEST);
    expect(config.settings.schedule).toEqual({ type: 'cosine' });
    expect(config.settings.decay).toBe(0.0005);
    expect(PRESETS['lenet5-best'].defaults.epochs).toBe(30);
  }, 120_000);

  it('--rotate changes one strength; --no-augment trains on the plain images; other presets distort only when asked', async () => {
    expect((await train('rotate', ['--preset', 'lenet5-best', '--rotate', '5'])).config.settings.augment).toEqual({ ...BEST, rotateDeg: 5 });
    expect((await train('plain', ['--preset', 'lenet5-best', '--no-augment'])).config.settings.augment ?? null).toBeNull();
    expect((await train('relu', ['--preset', 'lenet5-relu-ce-bn'])).config.settings.augment ?? null).toBeNull();
    await expect(train('both', ['--preset', 'lenet5-best', '--no-augment', '--shift', '1'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--no-augment cannot be combined/),
    });
  }, 240_000);

  it('--help lists lenet5-best with its distortions, and --no-augment', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/node/cli/train.ts', '--help'], { cwd: process.cwd() });
    expect(stdout).toMatch(/lenet5-best\s+epochs 30, batch 32, lr 0\.05, momentum 0\.9, decay 0\.0005, schedule cosine,\n\s+distortions ±2 px, ±10°, ±10 %/);
    expect(stdout).toMatch(/--no-augment\s+train on the images as they are/);
  });
});
