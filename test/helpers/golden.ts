import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface GoldenTensor {
  shape: number[];
  data: Float32Array;
}

export interface Golden {
  config: { activation: 'tanh' | 'relu'; pool: 'avg' | 'max'; loss: 'mse' | 'ce'; batchnorm: boolean };
  labels: number[];
  input: GoldenTensor;
  params: Map<string, GoldenTensor>;
  layers: { name: string; output: GoldenTensor; grad_output: GoldenTensor }[];
  loss: number;
  grads: Map<string, GoldenTensor>;
  grad_input: GoldenTensor;
  params_after_step: Map<string, GoldenTensor>;
  conventions: { table: number[][] };
}

interface RawTensor {
  shape: number[];
  f32le_base64: string;
}

function tensor(t: RawTensor): GoldenTensor {
  const buf = Buffer.from(t.f32le_base64, 'base64');
  const data = new Float32Array(buf.length / 4);
  for (let i = 0; i < data.length; i++) data[i] = buf.readFloatLE(i * 4);
  return { shape: t.shape, data };
}

function tensors(o: Record<string, RawTensor>): Map<string, GoldenTensor> {
  return new Map(Object.entries(o).map(([k, v]) => [k, tensor(v)]));
}

export function loadGolden(file: string): Golden {
  const path = fileURLToPath(new URL(`../fixtures/torch-golden/${file}.json`, import.meta.url));
  const raw = JSON.parse(readFileSync(path, 'utf8'));
  return {
    config: raw.config,
    labels: raw.labels,
    input: tensor(raw.input),
    params: tensors(raw.params),
    layers: raw.layers.map((l: { name: string; output: RawTensor; grad_output: RawTensor }) => ({
      name: l.name,
      output: tensor(l.output),
      grad_output: tensor(l.grad_output),
    })),
    loss: raw.loss,
    grads: tensors(raw.grads),
    grad_input: tensor(raw.grad_input),
    params_after_step: tensors(raw.params_after_step),
    conventions: raw.conventions,
  };
}
