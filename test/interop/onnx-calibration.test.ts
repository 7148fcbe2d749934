// A calibrated model's ONNX export: onnxruntime's output is softmax(logits / T), the logits taken
// from the engine's layer before the softmax and the softmax computed here by hand; a tanh/MSE
// model (no softmax) only records T in its metadata.

import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnist, type MnistData } from '../../src/node/datasets';
import { exportOnnx, onnxModelProto } from '../../src/node/onnx';
import { maxAbsDiff, runOnnx, scaledPixels, trainBriefly } from './helpers';

const N = 200;
let data: MnistData;
let x: Float32Array;

beforeAll(async () => {
  data = await loadMnist();
  x = scaledPixels(data.test, N);
});

interface Decoded {
  metadata_props: { key: string; value: string }[];
  graph: { node: { name: string; op_type: string; input: string[]; output: string[] }[]; initializer: { name: string }[] };
}

function decode(bytes: Uint8Array): Decoded {
  const type = onnxModelProto();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: true }) as Decoded;
}

describe('ONNX export of a calibrated model', () => {
  it('divides the logits by the temperature before the softmax', async () => {
    const model = trainBriefly('lenet5-relu-ce-bn', data.train);
    try {
      const T = 2.5;
      const K = model.classes;
      // Logits: the output of the layer the softmax reads, one image at a time.
      const expected = new Float32Array(N * K);
      for (let s = 0; s < N; s++) {
        const outs = model.layerOutputs(x.subarray(s * 784, (s + 1) * 784), 1, false);
        const z = Array.from(outs[outs.length - 2].data, (v) => v / T);
        const m = Math.max(...z);
        const e = z.map((v) => Math.exp(v - m));
        const sum = e.reduce((a, v) => a + v, 0);
        e.forEach((v, k) => (expected[s * K + k] = v / sum));
      }
      const bytes = exportOnnx(model, { temperature: T });
      const { output } = await runOnnx(bytes, x, [N, 1, 28, 28]);
      expect(maxAbsDiff(output, expected)).toBeLessThanOrEqual(1e-4);
      // The uncalibrated export differs from it: the test sees the temperature.
      const plain = await runOnnx(exportOnnx(model), x, [N, 1, 28, 28]);
      expect(maxAbsDiff(plain.output, expected)).toBeGreaterThan(1e-2);

      const g = decode(bytes);
      const ops = g.graph.node.map((n) => n.op_type);
      expect(ops.slice(-2)).toEqual(['Div', 'Softmax']);
      expect(g.graph.initializer.map((i) => i.name)).toContain('calibration.temperature');
      expect(g.metadata_props.find((p) => p.key === 'lenet.temperature')?.value).toBe('2.5');
    } finally {
      model.dispose();
    }
  });

  it('a tanh/MSE model has no softmax: T is recorded, the graph is unchanged', () => {
    const model = trainBriefly('lenet5-tanh-mse', data.train, 100);
    try {
      const g = decode(exportOnnx(model, { temperature: 2 }));
      expect(g.graph.node.map((n) => n.op_type)).not.toContain('Div');
      expect(g.metadata_props.find((p) => p.key === 'lenet.temperature')?.value).toBe('2');
      expect(() => exportOnnx(model, { temperature: Number.NaN })).toThrow(/temperature/);
    } finally {
      model.dispose();
    }
  });
});
