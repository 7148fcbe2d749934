// Table models (train --csv) outside LeNet Studio: the ONNX export carries the feature
// standardisation, so onnxruntime on raw Iris rows predicts what `evaluate --csv` predicts; the
// help says so; and metadata that cannot describe the model is refused, not exported.

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/engine/errors';
import { parseCsv } from '../../src/engine/formats/csv';
import { decodeModelFile, encodeModelFile } from '../../src/engine/formats/modelfile';
import { applyStandardization, evaluateFeatures, tabularFromCsv, type Standardization } from '../../src/engine/tabular';
import { exportOnnx, onnxModelProto } from '../../src/node/onnx';
import { testStudio } from '../helpers/studio';
import { ROOT, maxAbsDiff, predictions, runCliScript, runOnnx } from './helpers';

const IRIS = join(ROOT, 'test/fixtures/iris.csv');
let dir: string;
let model: string;
let iris: string;
let raw: Float32Array;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-csv-export-'));
  model = join(dir, 'iris.lenet');
  const r = runCliScript('train', ['--csv', IRIS, '--label', 'species', '--epochs', '30', '--seed', '3', '--out', model]);
  expect(r.status, r.stderr).toBe(0);
  iris = await readFile(IRIS, 'utf8');
  raw = tabularFromCsv(parseCsv(iris, 'iris.csv'), 'species', 'iris.csv').x;
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Json {
  accuracy: number;
  count: number;
  classes: string[];
  confusion: number[][];
  predictions: number[];
  scores: number[][];
}

describe('a table model', () => {
  it('exports to ONNX with its standardisation: raw rows get the class evaluate --csv gives them', async () => {
    const out = join(dir, 'iris.onnx');
    const e = runCliScript('export', [model, '--out', out]);
    expect(e.stderr).toBe('');
    expect(e.status).toBe(0);
    expect(e.stdout).toMatch(/iris\.onnx: ONNX opset 13, 403 parameters, input \[N,4\] raw features standardised in the graph, [\d,]+ bytes\n$/);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const ev = runCliScript('evaluate', [model, '--csv', IRIS, '--json']);
    expect(ev.stderr).toBe('');
    expect(ev.status).toBe(0);
    const j = JSON.parse(ev.stdout) as Json;
    expect(j.count).toBe(150);
    expect(j.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(j.accuracy).toBeGreaterThan(0.9);

    const bytes = new Uint8Array(await readFile(out));
    const { output, dims } = await runOnnx(bytes, raw, [150, 4]);
    expect(dims).toEqual([150, 3]);
    expect(Array.from(predictions(output, 150, 3))).toEqual(j.predictions);
    expect(maxAbsDiff(output, Float32Array.from(j.scores.flat()))).toBeLessThanOrEqual(1e-4);

    // The engine itself, on rows standardised with the recorded statistics, agrees as well.
    const loaded = decodeModelFile(await readFile(model), model);
    const s = (loaded.extra.csv as { standardization: Standardization }).standardization;
    const x = applyStandardization(
      raw,
      4,
      Uint32Array.from({ length: 150 }, (_, i) => i),
      s,
    );
    const labels = Uint8Array.from(j.predictions);
    expect(Array.from(evaluateFeatures(loaded.model, x, 4, labels).predictions)).toEqual(j.predictions);

    // The graph: raw [N,4] in, Sub and Div before the MLP, feature and class names recorded.
    const type = onnxModelProto();
    const m = type.toObject(type.decode(bytes), { longs: Number, arrays: true }) as {
      graph: { node: { op_type: string }[]; input: { type: { tensor_type: { shape: { dim: { dim_value?: number; dim_param?: string }[] } } } }[] };
      metadata_props: { key: string; value: string }[];
    };
    expect(m.graph.input[0].type.tensor_type.shape.dim.map((d) => d.dim_param ?? d.dim_value)).toEqual(['N', 4]);
    expect(m.graph.node.slice(0, 3).map((n) => n.op_type)).toEqual(['Sub', 'Div', 'Flatten']);
    const meta = Object.fromEntries(m.metadata_props.map((p) => [p.key, p.value]));
    expect(JSON.parse(meta['lenet.features'])).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    expect(JSON.parse(meta['lenet.classes'])).toEqual(['setosa', 'versicolor', 'virginica']);
  });

  it("the app's Export writes the very file the CLI's export does: the standardisation in the graph", async () => {
    const cliOut = join(dir, 'cli.onnx');
    expect(runCliScript('export', [model, '--out', cliOut]).status).toBe(0);
    const appOut = join(dir, 'app.onnx');
    const { b: studio } = testStudio({
      dataDir: join(dir, 'app-data'),
      embeddedDatasetDir: join(dir, 'no-dataset'),
      hooks: { chooseModelFile: async () => model, chooseExportPath: async () => appOut },
    });
    try {
      const m = (await studio.openModelDialog())!;
      expect(await studio.exportModel(m, 'onnx')).toEqual({ path: appOut });
      expect((await readFile(appOut)).equals(await readFile(cliOut))).toBe(true);
    } finally {
      await studio.dispose();
    }
  });

  it('evaluate --csv picks the feature columns by name, in any order', async () => {
    const lines = iris.trim().split('\n');
    const shuffled = lines.map((l) => {
      const c = l.split(',');
      return [c[4], c[3], 'x', c[1], c[0], c[2]].join(',');
    });
    shuffled[0] = shuffled[0].replace(',x,', ',note,');
    const file = join(dir, 'reordered.csv');
    await writeFile(file, `${shuffled.join('\n')}\n`);
    const a = JSON.parse(runCliScript('evaluate', [model, '--csv', IRIS, '--json']).stdout) as Json;
    const b = runCliScript('evaluate', [model, '--csv', file, '--json']);
    expect(b.stderr).toBe('');
    expect((JSON.parse(b.stdout) as Json).predictions).toEqual(a.predictions);
    const text = runCliScript('evaluate', [model, '--csv', IRIS]);
    expect(text.stdout).toMatch(/on 150 rows of .*iris\.csv\naccuracy [\d.]+% /);
    expect(text.stdout).toMatch(/\n0 setosa +\d+ +\d+ +\d+ +[\d.]+%\n/);
  });

  it('exportOnnx refuses a table model without its standardisation rather than export raw-input nonsense', async () => {
    const loaded = decodeModelFile(await readFile(model), model);
    let error: unknown;
    try {
      exportOnnx(loaded.model);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as ModelFileError).code).toBe('MODEL_MISMATCH');
    expect((error as Error).message).toMatch(/a table model \(4 features\) is exported with the standardisation its \.lenet records/);
  });

  it('the help tells the truth for table models', () => {
    const e = runCliScript('export', ['--help']);
    expect(e.stdout).toMatch(/Table models \(train --csv\): input "input" float32 \[N,F\] = raw feature values/);
    expect(e.stdout).toContain('[N,1,28,28]');
    const v = runCliScript('evaluate', ['--help']);
    expect(v.stdout).toMatch(/--csv FILE +a CSV table for a model trained with train --csv/);
  });

  describe('refusals: one line, the file and the reason', () => {
    const cases: [string, () => Promise<string[]>, number, RegExp][] = [
      [
        'evaluate without --csv',
        async () => ['evaluate', model],
        2,
        /^evaluate: .*iris\.lenet is a table model \(features sepal_length, .*\): evaluate it on a table with --csv FILE\n/,
      ],
      [
        'a table without a feature column',
        async () => {
          const f = join(dir, 'narrow.csv');
          await writeFile(f, 'sepal_length,sepal_width,petal_length,species\n1,2,3,setosa\n');
          return ['evaluate', model, '--csv', f];
        },
        1,
        /^evaluate: .*narrow\.csv, line 1: no column "petal_width", a feature the model was trained on; the columns are /,
      ],
      [
        'a label the model does not know',
        async () => {
          const f = join(dir, 'unknown.csv');
          await writeFile(f, `${iris.split('\n').slice(0, 3).join('\n')}\n1,2,3,4,rosa\n`);
          return ['evaluate', model, '--csv', f];
        },
        1,
        /^evaluate: .*unknown\.csv, line 4, column 5: the label "rosa" is not one of the model's classes \(setosa, versicolor, virginica\)\n$/,
      ],
      [
        'a value beyond float32 in the table',
        async () => {
          const f = join(dir, 'huge.csv');
          await writeFile(f, `${iris.split('\n').slice(0, 3).join('\n')}\n1,2,1e39,4,setosa\n`);
          return ['evaluate', model, '--csv', f];
        },
        1,
        /^evaluate: .*huge\.csv, line 4, column 3: petal_length "1e39" is beyond/,
      ],
      [
        '--data with --csv',
        async () => ['evaluate', model, '--csv', IRIS, '--data', dir],
        2,
        /^evaluate: --data is for MNIST models and does not apply with --csv\n/,
      ],
      [
        'export of a model whose standardisation is broken',
        async () => {
          const loaded = decodeModelFile(await readFile(model), model);
          const csv = loaded.extra.csv as Record<string, unknown>;
          const f = join(dir, 'broken.lenet');
          await writeFile(
            f,
            encodeModelFile(loaded.model, { preset: '', extra: { csv: { ...csv, standardization: { mean: [0, 0, 0, 0], std: [1, 0, 1, 1] } } } }),
          );
          return ['export', f, '--out', join(dir, 'broken.onnx')];
        },
        1,
        /^export: .*broken\.lenet: the table metadata \(x-csv\) has no valid standardisation std for the model's 4 inputs\n$/,
      ],
    ];
    it.each(cases)('%s', async (_what, args, status, stderr) => {
      const [cli, ...rest] = await args();
      const r = runCliScript(cli, rest);
      expect(r.stderr).toMatch(stderr);
      expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2); // the line, and "Try --help" for usage errors
      expect(r.status).toBe(status);
      expect(r.stdout).toBe('');
      expect(existsSync(join(dir, 'broken.onnx'))).toBe(false);
    });
  });
});
