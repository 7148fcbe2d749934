// `npm run unit-viz`: the --json shape with the engine's numbers, --unit, --png, the text summary,
// and one-line errors with exit 2 for bad options. Runs the real CLI entry point in a child
// process on a small MNIST folder.

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Explainer } from '../../src/engine/explain';
import { encodeModelFile } from '../../src/engine/formats/modelfile';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { maximise, topImages } from '../../src/engine/unit-viz';
import { loadMnist } from '../../src/node/datasets';
import { runCli, type CliRun } from '../helpers/cli';
import { testKernels } from '../helpers/kernels';
import { mnistSubset } from '../helpers/mnist-subset';

const cli = (args: string[]): Promise<CliRun> => runCli('unit-viz', args);

let dir: string;
let data: string;
let file: string;
let model: Model;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-unit-viz-'));
  data = await mnistSubset(100, 60);
  model = new Model(PRESETS['lenet5-relu-ce'].spec, testKernels()).init(5);
  file = join(dir, 'm.lenet');
  await writeFile(file, encodeModelFile(model, { preset: 'lenet5-relu-ce' }));
});

afterAll(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('npm run unit-viz', () => {
  it('--json prints {layer, units: [{unit, value, image, top: [{index, value}]}], ms}, the engine’s numbers', async () => {
    const r = await cli([file, '--data', data, '--layer', 'fc3', '--steps', '16', '--top', '3', '--seed', '4', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout) as {
      layer: string;
      units: { unit: number; value: number; image: number[]; top: { index: number; value: number }[] }[];
      ms: number;
    };
    expect(Object.keys(o)).toEqual(['layer', 'units', 'ms']);
    expect(o.layer).toBe('fc3');
    expect(o.units.map((u) => u.unit)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Object.keys(o.units[0])).toEqual(['unit', 'value', 'image', 'top']);
    expect(Object.keys(o.units[0].top[0])).toEqual(['index', 'value']);
    expect(o.ms).toBeGreaterThan(0);
    const ex = new Explainer(model);
    const want = maximise(ex, 'fc3', undefined, { steps: 16, seed: 4 });
    const d = await loadMnist(data);
    const top = topImages(ex, d.test.pixels, d.test.count, 3)[4];
    for (const u of o.units) {
      expect(u.image).toHaveLength(784);
      expect(u.image).toEqual(Array.from(want.images.subarray(u.unit * 784, (u.unit + 1) * 784)));
      expect(u.value).toBe(want.values[u.unit]);
      expect(u.top).toEqual(Array.from(top.index.subarray(u.unit * 3, u.unit * 3 + 3), (index, j) => ({ index, value: top.value[u.unit * 3 + j] })));
    }
  });

  it('--unit and --png: one unit, its image as a grayscale PNG; a text summary without --json', async () => {
    const out = join(dir, 'png');
    await rm(out, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(out));
    const r = await cli([file, '--data', data, '--layer', 'conv2', '--unit', '7', '--steps', '8', '--png', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^.*m\.lenet \(lenet5-relu-ce\): conv2, 1 filter, \d+ ms of gradient ascent\nfilter 7: value -?[\d.]+ at its image; top test images #\d+ \(-?[\d.]+\)(, #\d+ \(-?[\d.]+\)){5}\nwrote 1 PNG to /,
    );
    expect(await readdir(out)).toEqual(['conv2-7.png']);
    const png = await readFile(join(out, 'conv2-7.png'));
    expect(png.readUInt32BE(16)).toBe(224);
    expect(png.readUInt32BE(20)).toBe(224);
    expect(png[25]).toBe(0); // grayscale
    const idat = png.indexOf('IDAT');
    const raw = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
    expect(raw.length).toBe(224 * 225);
    const want = maximise(new Explainer(model), 'conv2', [7], { steps: 8 });
    expect(raw[1 + 8 * 14 * 0 + 8 * 13]).toBe(Math.round(255 * want.images[13]));
  });

  it.each([
    [['--layer', 'fc3'], 'name the model file'],
    [['M', '--unit', '1'], '--layer is required: a conv or dense layer, e.g. conv1 or fc3'],
    [['M', '--layer', 'pool1'], '--layer must be a conv or dense layer of M: conv1, conv2, fc1, fc2, fc3, got "pool1"'],
    [['M', '--layer', 'conv1', '--unit', '6'], '--unit must be an integer in 0..5 for conv1, got "6"'],
    [['M', '--layer', 'fc3', '--steps', '0'], '--steps'],
  ])('%j: one line on stderr, exit 2', async (args, message) => {
    const r = await cli(args.map((a) => (a === 'M' ? file : a)).concat(['--data', data]));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toContain(message.replace(/\bM\b/, file));
    expect(r.stderr).toMatch(/^unit-viz: .*\nTry 'unit-viz --help'\.\n$/);
  });

  it('a missing model file: one line, exit 1', async () => {
    const r = await cli([join(dir, 'nope.lenet'), '--layer', 'fc3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`unit-viz: model file ${join(dir, 'nope.lenet')} does not exist\n`);
  });
});
