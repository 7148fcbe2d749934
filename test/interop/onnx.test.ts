// Every preset, briefly trained, exported to ONNX and run by onnxruntime: the same class for every
// one of 1000 test images and outputs within 1e-4 of the engine's inference-mode outputs.

import { beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/engine/errors';
import { ONNX_OPSET } from '../../src/engine/formats/onnx';
import { PRESETS, presetNames } from '../../src/engine/presets';
import { resolveLayers } from '../../src/engine/spec';
import { loadMnist, type MnistData } from '../../src/node/datasets';
import { exportOnnx, onnxModelProto } from '../../src/node/onnx';
import { engineOutputs, maxAbsDiff, predictions, runOnnx, scaledPixels, trainBriefly } from './helpers';
import { testModels } from '../helpers/kernels';

const newModel = testModels();

const N_TEST = 1000;
const TOLERANCE = 1e-4;

let data: MnistData;
let x: Float32Array;

beforeAll(async () => {
  data = await loadMnist();
  x = scaledPixels(data.test, N_TEST);
});

// Each test builds models; with the wasm kernels their tensors live in a fixed memory that
// only a collection hands back.

// The decoded ModelProto, read back with the same schema (field names as in onnx.proto).
interface Decoded {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  metadata_props: { key: string; value: string }[];
  graph: {
    node: { name: string; op_type: string; input: string[]; output: string[]; attribute: { name: string; i?: number; ints?: number[]; f?: number }[] }[];
    initializer: { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }[];
    input: { name: string; type: { tensor_type: { elem_type: number; shape: { dim: { dim_value?: number; dim_param?: string }[] } } } }[];
    output: { name: string; type: { tensor_type: { elem_type: number; shape: { dim: { dim_value?: number; dim_param?: string }[] } } } }[];
  };
}

function decode(bytes: Uint8Array): Decoded {
  const type = onnxModelProto();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: true }) as Decoded;
}

function dims(v: Decoded['graph']['input'][number]): (number | string)[] {
  return v.type.tensor_type.shape.dim.map((d) => d.dim_param ?? d.dim_value ?? '?');
}

describe.each(presetNames())('%s → ONNX → onnxruntime', (name) => {
  it('predicts the same class for each of 1000 test images, outputs within 1e-4', async () => {
    const model = trainBriefly(name, data.train);
    const expected = engineOutputs(model, x, N_TEST);
    const ours = predictions(expected, N_TEST, model.classes);
    // A briefly trained model already separates digits; a constant one would make "same class"
    // meaningless.
    expect(new Set(ours).size).toBeGreaterThanOrEqual(5);

    const bytes = exportOnnx(model, { preset: name });
    const { output, dims: outDims } = await runOnnx(bytes, x, [N_TEST, ...model.inShape]);
    expect(outDims).toEqual([N_TEST, model.classes]);
    const theirs = predictions(output, N_TEST, model.classes);
    const differing = ours.reduce((c, p, i) => c + (p === theirs[i] ? 0 : 1), 0);
    expect(differing, `${differing} of ${N_TEST} predictions differ`).toBe(0);
    expect(maxAbsDiff(output, expected)).toBeLessThanOrEqual(TOLERANCE);

    // The batch dimension is dynamic: a single image and an odd batch run through the same file.
    for (const n of [1, 7]) {
      const small = await runOnnx(bytes, x.subarray(0, n * 784), [n, ...model.inShape]);
      expect(small.dims).toEqual([n, model.classes]);
      expect(maxAbsDiff(small.output, expected.subarray(0, n * model.classes))).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});

describe('the exported graph', () => {
  it('is opset 13 with input [N,1,28,28], output [N,10] and the PyTorch tensor names', () => {
    const model = newModel(PRESETS['lenet5-relu-ce-bn'].spec).init(3);
    const m = decode(exportOnnx(model, { preset: 'lenet5-relu-ce-bn' }));
    expect(m.opset_import).toEqual([{ domain: '', version: ONNX_OPSET }]);
    expect(ONNX_OPSET).toBeGreaterThanOrEqual(13);
    expect(m.graph.input.map((v) => [v.name, v.type.tensor_type.elem_type, dims(v)])).toEqual([['input', 1, ['N', 1, 28, 28]]]);
    expect(m.graph.output.map((v) => [v.name, v.type.tensor_type.elem_type, dims(v)])).toEqual([['output', 1, ['N', 10]]]);
    expect(m.graph.initializer.map((t) => t.name)).toEqual(model.namedTensors().map((t) => t.name));
    for (const t of m.graph.initializer) expect(t.dims).toEqual([...model.entry(t.name)!.shape]);
    expect(m.graph.node.map((n) => n.op_type)).toEqual([
      ...['Conv', 'BatchNormalization', 'Relu', 'MaxPool'],
      ...['Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'Flatten'],
      ...['Gemm', 'BatchNormalization', 'Relu', 'Gemm', 'BatchNormalization', 'Relu', 'Gemm', 'BatchNormalization', 'Softmax'],
    ]);
    const attr = (op: string, key: string): unknown[] =>
      m.graph.node
        .filter((n) => n.op_type === op)
        .map((n) => {
          const a = n.attribute.find((v) => v.name === key);
          return a?.ints?.length ? a.ints : a?.i;
        });
    expect(attr('Gemm', 'transB')).toEqual([1, 1, 1]);
    expect(attr('Conv', 'pads')).toEqual([
      [2, 2, 2, 2],
      [0, 0, 0, 0],
    ]);
    expect(attr('Softmax', 'axis')).toEqual([1]);
    expect(m.graph.node.at(-1)!.output).toEqual(['output']);
    const meta = Object.fromEntries(m.metadata_props.map((p) => [p.key, p.value]));
    expect(meta['lenet.preset']).toBe('lenet5-relu-ce-bn');
    expect(JSON.parse(meta['lenet.spec'])).toEqual(model.spec);
  });

  it('writes the C3 table as zero weights, and the trained weights bit for bit elsewhere', () => {
    const spec = PRESETS['lenet5-tanh-mse'].spec;
    const model = newModel(spec).init(5);
    const table = resolveLayers(spec).find((l) => l.name === 'conv2' && l.type === 'conv2d');
    if (table?.type !== 'conv2d' || !table.table) throw new Error('lenet5-tanh-mse has no C3 table');
    // Dirty a masked weight: the export must still follow the table, not the buffer.
    const w = model.tensor('conv2.weight');
    w[(0 * 6 + 3) * 25] = 0.5; // output map 0 does not read input map 3
    const m = decode(exportOnnx(model));
    const t = m.graph.initializer.find((i) => i.name === 'conv2.weight')!;
    const raw = new DataView(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength);
    let zeros = 0;
    for (let o = 0; o < 16; o++) {
      for (let c = 0; c < 6; c++) {
        for (let k = 0; k < 25; k++) {
          const i = (o * 6 + c) * 25 + k;
          const v = raw.getFloat32(4 * i, true);
          if (table.table[c][o]) expect(v).toBe(w[i]);
          else {
            expect(v).toBe(0);
            zeros++;
          }
        }
      }
    }
    expect(zeros).toBe((16 * 6 - 60) * 25); // LeCun's table has 60 connections
  });

  it('refuses a model with non-finite weights, naming the tensor', () => {
    const model = newModel(PRESETS['lenet5-relu-ce'].spec).init(1);
    model.tensor('fc2.bias')[3] = Number.NaN;
    let err: unknown;
    try {
      exportOnnx(model);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).code).toBe('MODEL_NOT_FINITE');
    expect((err as ModelFileError).message).toBe('cannot export tensor fc2.bias: value 3 is NaN (the model diverged?)');
  });
});
