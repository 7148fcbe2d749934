// The harness of `npm run bench:peers` on a tiny configuration: every peer's LeNet-5 trains a few
// batches with finite losses, the report has the documented shape, and the Conv2DBackpropFilter
// kernel the benchmark registers for tfjs's wasm backend computes what the cpu backend's does.
// Nothing here is timed: rates are only checked to be positive numbers. A peer that is not
// installed (PyTorch, typically) is skipped explicitly, with the reason in the test's name.

import type { Tensor, Tensor4D } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPeers } from '../../bench/peers/all-peers';
import { PEER_IDS, formatReport, runPeersBench, type Availability, type PeerId, type PeersReport } from '../../bench/peers/peers';
import { ensureWasm, loadTf } from '../../bench/peers/tfjs-peer';
import { loadMnist } from '../../src/node/datasets';

const peers = createPeers();
const availability = new Map<PeerId, Availability>(await Promise.all(peers.map(async (p) => [p.id, await p.check()] as const)));
const PRESETS = ['lenet5-tanh-mse', 'lenet5-relu-ce-bn'] as const;

describe('bench:peers harness (2 presets, batch 4, inference batch 6, 3 batches, 1 thread)', () => {
  let report: PeersReport;
  beforeAll(async () => {
    const data = await loadMnist();
    report = await runPeersBench({ presets: [...PRESETS], batch: 4, evalBatch: 6, threads: [1], budget: { steps: 3 }, repeat: 1, warmup: 0, peers }, data);
  }, 120_000);

  it('reports the machine, the configuration, every peer and, for every engine that ran, rates and ratios', () => {
    const json = JSON.parse(JSON.stringify(report)) as PeersReport;
    expect(Object.keys(json).sort()).toEqual(['config', 'machine', 'peers', 'ratios', 'results']);
    expect(json.machine).toMatchObject({ cpu: expect.any(String), cores: expect.any(Number), node: process.version, kernels: 'wasm-relaxed-simd' });
    expect(json.machine.loadAverage.before).toHaveLength(3);
    expect(json.machine.loadAverage.after).toHaveLength(3);
    expect(json.config).toMatchObject({ presets: [...PRESETS], batch: 4, evalBatch: 6, threads: [1], budget: { steps: 3 }, repeat: 1 });
    expect(json.peers.map((p) => p.id)).toEqual([...PEER_IDS]);
    for (const p of json.peers) {
      expect(p).toMatchObject({ label: expect.any(String), available: expect.any(Boolean), threads: expect.any(Boolean), notes: expect.any(Array) });
      expect(p.available ? p.version : p.reason).toEqual(expect.any(String));
    }
    const engines = ['ours', ...PEER_IDS.filter((id) => availability.get(id)!.available)];
    for (const preset of PRESETS) {
      for (const engine of engines) {
        const rows = json.results.filter((r) => r.preset === preset && r.engine === engine);
        expect(rows.map((r) => r.c3).sort(), `${engine} ${preset}`).toEqual(engine === 'ours' ? ['full', 'table'] : [engine === 'pytorch' ? 'table' : 'full']);
        for (const r of rows) {
          expect(r).toMatchObject({ batch: 4, evalBatch: 6, threads: 1, trainSteps: 3 });
          for (const v of [r.trainImagesPerSecond, r.evalImagesPerSecond]) expect(v).toBeGreaterThan(0);
          expect(r.runs.trainImagesPerSecond).toHaveLength(1);
        }
      }
      for (const engine of engines.slice(1)) {
        const ratio = json.ratios.find((r) => r.preset === preset && r.peer === engine);
        expect(ratio, `${engine} ${preset}`).toBeDefined();
        for (const v of [ratio!.train.table, ratio!.train.full, ratio!.eval.table, ratio!.eval.full]) expect(v).toBeGreaterThan(0);
      }
    }
    const text = formatReport(report);
    for (const preset of PRESETS) expect(text).toContain(`${preset}, batch 4, inference batch 6`);
    expect(text).toContain('load average');
    if (availability.get('tfjs-wasm')!.available) expect(text).toMatch(/Conv2DBackpropFilter registered by this benchmark/);
  });

  it('our LeNet-5 trains with finite losses, with and without the C3 table', () => {
    for (const r of report.results.filter((x) => x.engine === 'ours')) {
      expect(Number.isFinite(r.firstLoss) && Number.isFinite(r.lastLoss), `${r.preset} ${r.c3}`).toBe(true);
    }
  });

  for (const id of PEER_IDS) {
    const a = availability.get(id)!;
    it.skipIf(!a.available)(`${id}: LeNet-5 trains with finite losses${a.available ? '' : ` (skipped: ${a.reason})`}`, () => {
      const rows = report.results.filter((r) => r.engine === id);
      expect(rows).toHaveLength(PRESETS.length);
      for (const r of rows) {
        expect(Number.isFinite(r.firstLoss) && Number.isFinite(r.lastLoss), `${r.preset}: ${r.firstLoss} → ${r.lastLoss}`).toBe(true);
        // An untrained net: MSE near ½·(1 + 9·0) with tanh outputs, cross-entropy near ln 10.
        expect(r.firstLoss).toBeGreaterThan(0);
        expect(r.firstLoss).toBeLessThan(r.preset === 'lenet5-tanh-mse' ? 10 : 20);
      }
    });
  }
});

describe('Conv2DBackpropFilter registered for tfjs-backend-wasm', () => {
  it.skipIf(!availability.get('tfjs-wasm')?.available)('matches the cpu backend (same and valid padding)', async () => {
    const tf = await loadTf();
    await ensureWasm(tf);
    const values = (n: number, k: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k + 0.3));
    const cases = [
      { x: [2, 7, 7, 3], f: [3, 3, 3, 4], pad: 'same' as const },
      { x: [3, 9, 8, 2], f: [5, 5, 2, 5], pad: 'valid' as const },
    ];
    for (const c of cases) {
      const grads: Float32Array[] = [];
      for (const backend of ['cpu', 'wasm']) {
        await tf.setBackend(backend);
        grads.push(
          tf.tidy(() => {
            const x = tf.tensor4d(
              values(
                c.x.reduce((a, b) => a * b),
                0.7,
              ),
              c.x as [number, number, number, number],
            );
            const f = tf.tensor4d(
              values(
                c.f.reduce((a, b) => a * b),
                1.3,
              ),
              c.f as [number, number, number, number],
            );
            const y = tf.conv2d(x, f, 1, c.pad);
            const dy = tf.tensor(values(y.size, 0.9), y.shape);
            const g = tf.grad((w: Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as Tensor4D, 1, c.pad), dy)))(f);
            return g.dataSync() as Float32Array;
          }),
        );
      }
      expect(grads[1]).toHaveLength(c.f.reduce((a, b) => a * b));
      let worst = 0;
      for (let i = 0; i < grads[0].length; i++) worst = Math.max(worst, Math.abs(grads[0][i] - grads[1][i]) / (1 + Math.abs(grads[0][i])));
      expect(worst, `${c.pad}`).toBeLessThan(1e-4);
    }
  });
});
