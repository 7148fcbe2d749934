// The model on screen carries its calibration temperature through the studio: opened from a
// file's x-calibration, written by Save when the window applied one (and dropped when it removed
// it), exported to ONNX with the Div before the softmax; a temperature no fit gives is refused at
// the IPC boundary.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeModelFile, encodeModelFile } from '../../src/engine/formats/modelfile';
import { jsKernels } from '../../src/engine/kernels/js/backend';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { onnxModelProto } from '../../src/node/onnx';
import type { Studio } from '../../src/node/studio/studio';
import { mnistSubset } from '../helpers/mnist-subset';
import { testStudio } from '../helpers/studio';

let root: string;
let datasetDir: string;
const studios: Studio[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lenet-studio-calibration-'));
  datasetDir = await mnistSubset(600, 100);
});
afterEach(async () => {
  for (const b of studios.splice(0)) await b.dispose();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a calibrated model in the studio', () => {
  it('opens with its temperature, saves and exports with the one on screen', async () => {
    const file = join(root, 'cal.lenet');
    const model = new Model(PRESETS['lenet5-relu-ce'].spec, jsKernels).init(2);
    await writeFile(file, encodeModelFile(model, { preset: 'lenet5-relu-ce', extra: { calibration: { temperature: 1.5 } } }));
    const answers = [join(root, 'saved.lenet'), join(root, 'plain.lenet')];
    const { b } = testStudio({
      dataDir: join(root, 'data'),
      embeddedDatasetDir: datasetDir,
      hooks: {
        chooseModelFile: async () => file,
        chooseSaveModelPath: async () => answers.shift() ?? null,
        chooseExportPath: async () => join(root, 'cal.onnx'),
      },
    });
    studios.push(b);
    await b.init();
    const m = (await b.openModelDialog())!;
    expect(m.temperature).toBe(1.5);

    // Applied in the window: Save As writes the new one.
    const saved = await b.saveModel({ ...m, temperature: 2.25 }, true);
    expect(decodeModelFile(await readFile(saved!.path), 'saved').extra.calibration).toEqual({ temperature: 2.25 });
    // Removed in the window: the file's old one is not carried over.
    const { temperature: _, ...plain } = m;
    const p = await b.saveModel(plain, true);
    expect(decodeModelFile(await readFile(p!.path), 'plain').extra.calibration).toBeUndefined();

    const x = await b.exportModel(m, 'onnx');
    const type = onnxModelProto();
    const g = type.toObject(type.decode(await readFile(x!.path)), { arrays: true }) as { graph: { node: { op_type: string }[] } };
    expect(g.graph.node.map((n) => n.op_type).slice(-2)).toEqual(['Div', 'Softmax']);

    // The IPC boundary refuses a temperature no fit gives.
    await expect(b.call('evaluateModel', [{ ...m, temperature: 0 }])).rejects.toThrow(/temperature/);
  });
});
