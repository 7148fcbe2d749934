// `npm run export -- MODEL.lenet --format onnx --out MODEL.onnx`: a saved model as a standard
// ONNX file for onnxruntime, Netron and other tools.

import { temperatureOf } from '../../engine/calibration';
import { resolve } from 'node:path';
import { ONNX_OPSET } from '../../engine/formats/onnx';
import { PRESETS, presetNames } from '../../engine/presets';
import { csvModelInfo } from '../../engine/tabular';
import type { ModelSpec } from '../../engine/spec';
import { writeFileAtomic } from '../files';
import { exportOnnx } from '../onnx';
import { UsageError, parseFlags, readModel, runCli, thousands } from './common';

const NAME = 'export';
const FORMATS = ['onnx'] as const;

export const HELP = `Usage: npm run export -- MODEL.lenet [--format onnx] [--out MODEL.onnx] [--preset NAME]

Writes a saved model in another format. onnx: a standard ONNX model (opset 13) of the network in
inference mode (batch norm with its running statistics, the C3 table as zero weights); N is a
dynamic batch dimension.
  MNIST models: input "input" float32 [N,1,28,28] with pixels scaled to [0,1], output "output"
  float32 [N,10] = the network's last layer (softmax probabilities, or tanh outputs for the MSE
  presets).
  Table models (train --csv): input "input" float32 [N,F] = raw feature values in the column
  order the model was trained on; the graph standardises them with the training rows' mean and
  std (Sub, Div) before the MLP. Output "output" float32 [N,classes] softmax probabilities. The
  metadata lenet.features and lenet.classes list the feature columns and the class names.

Options:
  --format F     output format: ${FORMATS.join(', ')} (default onnx)
  --out FILE     where to write (default: MODEL with its extension replaced by .onnx); written
                 atomically, an existing file is replaced
  --preset NAME  read MODEL as a plain safetensors file (e.g. a PyTorch state_dict) with this
                 preset's tensor names and shapes: ${presetNames().join(', ')}
  -h, --help     show this help

Exit status: 0 on success, 1 on a bad or unreadable model file or a failed write, 2 on bad options.
`;

async function main(argv: string[]): Promise<void> {
  const { values: f, positionals } = parseFlags(
    argv,
    { format: { type: 'string' }, out: { type: 'string' }, preset: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0 ? 'name the model file to export' : `expected one model file, got ${positionals.length}: ${positionals.join(' ')}`,
    );
  }
  const file = positionals[0];
  const format = f.format ?? 'onnx';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`unknown --format "${format}"; supported: ${FORMATS.join(', ')}`);
  const out = f.out ?? `${file.replace(/\.(lenet|safetensors)$/i, '')}.onnx`;
  if (!/\.onnx$/i.test(out)) throw new UsageError(`--out must name a .onnx file, got "${out}"`);
  if (resolve(out) === resolve(file)) throw new UsageError(`--out ${out} would overwrite the model file`);
  let fallback: ModelSpec | undefined;
  if (f.preset !== undefined) {
    const preset = PRESETS[f.preset];
    if (!preset) throw new UsageError(`unknown preset "${f.preset}"; choose one of ${presetNames().join(', ')}`);
    fallback = preset.spec;
  }

  const loaded = await readModel(file, fallback);
  if (loaded.native && f.preset !== undefined && loaded.preset !== f.preset) {
    throw new UsageError(`${file} is a LeNet Studio model${loaded.preset ? ` of preset ${loaded.preset}` : ''}; --preset is only for plain safetensors files`);
  }
  const presetName = loaded.preset ?? f.preset;
  const info = csvModelInfo(loaded.extra.csv, loaded.model, file);
  const table = info && { features: info.features, classNames: info.classNames, ...info.standardization };
  const temperature = temperatureOf(loaded.extra.calibration, file);
  const bytes = exportOnnx(loaded.model, { ...(presetName ? { preset: presetName } : {}), ...(table ? { table } : {}), temperature });
  await writeFileAtomic(out, bytes);
  process.stdout.write(
    `${out}: ONNX opset ${ONNX_OPSET}, ${thousands(loaded.model.parameterCount)} parameters${presetName ? ` (${presetName})` : ''}` +
      `${info ? `, input [N,${info.features.length}] raw ${info.features.length === 1 ? 'feature' : 'features'} standardised in the graph` : ''}, ${thousands(bytes.length)} bytes\n`,
  );
}

await runCli(NAME, () => main(process.argv.slice(2)));
