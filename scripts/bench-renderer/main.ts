// The renderer benchmark's page: the inspector's code as the app runs it (lib/renderer-kernels.ts,
// lib/inspector.ts, lib/preprocess.ts and the explanations' engine/explain.ts over src/engine),
// timed in Chromium. Publishes the
// results as window.benchResult for scripts/bench-renderer/run.ts.

import { Attacker } from '../../src/engine/adversarial';
import { Explainer } from '../../src/engine/explain';
import { jsKernels } from '../../src/engine/kernels/js/backend';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { Rng } from '../../src/engine/rng';
import { Inspector } from '../../src/renderer/src/lib/inspector';
import { loadRendererKernels } from '../../src/renderer/src/lib/renderer-kernels';
import { mnistPreprocess, type GrayImage } from '../../src/renderer/src/lib/preprocess';

export interface Row {
  what: string;
  kernels: string;
  runs: number;
  medianMs: number;
  p95Ms: number;
  meanMs: number;
}

declare global {
  interface Window {
    benchResult?: { rows: Row[]; kernels: string; userAgent: string } | { error: string };
  }
}

const WARMUP = 30;
const SAMPLES = 200;
/** Calls per sample: performance.now() is coarsened to 0.1 ms here, so each sample times a few. */
const PER_SAMPLE = 5;

function time(what: string, kernels: string, f: () => void, samples = SAMPLES, perSample = PER_SAMPLE, warmup = WARMUP): Row {
  for (let i = 0; i < warmup; i++) f();
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    for (let j = 0; j < perSample; j++) f();
    ms.push((performance.now() - t0) / perSample);
  }
  ms.sort((a, b) => a - b);
  return {
    what,
    kernels,
    runs: samples * perSample,
    medianMs: ms[samples >> 1],
    p95Ms: ms[Math.floor(samples * 0.95)],
    meanMs: ms.reduce((a, b) => a + b, 0) / samples,
  };
}

/** A digit-like input: a thick ring, so activations are not all zero. */
function digit(): Float32Array {
  const x = new Float32Array(784);
  for (let y = 0; y < 28; y++) for (let c = 0; c < 28; c++) x[y * 28 + c] = Math.max(0, 1 - Math.abs(Math.hypot((c - 14) / 5, (y - 14) / 8) - 1) * 3);
  return x;
}

/** A 224×224 drawing (the pad's size): a slanted bar. */
function drawing(): GrayImage {
  const img: GrayImage = { width: 224, height: 224, data: new Float32Array(224 * 224) };
  for (let y = 20; y < 200; y++) for (let x = 0; x < 224; x++) if (Math.abs(x - (100 + (y - 20) * 0.15)) < 9) img.data[y * 224 + x] = 1;
  return img;
}

async function main(): Promise<void> {
  const status = await loadRendererKernels();
  const rows: Row[] = [];
  const x = digit();
  for (const name of ['lenet5-relu-ce-bn', 'lenet5-tanh-mse']) {
    for (const kernels of [status.kernels, jsKernels]) {
      // Random weights: the time does not depend on their values.
      const m = new Model(PRESETS[name].spec, jsKernels).init(new Rng(1));
      const ins = new Inspector({ spec: m.spec, ...m.snapshot() }, kernels);
      rows.push(time(`inspect ${name} (forward, all activations, saliency)`, kernels.name, () => ins.inspect(x)));
      ins.dispose();
      // Integrated gradients, 64 steps (one batch of 64 forward + backward passes), as Inspect runs it.
      const em = new Model(PRESETS[name].spec, kernels);
      em.restore(m.snapshot());
      const ex = new Explainer(em);
      rows.push(time(`integrated gradients ${name}, 64 steps`, kernels.name, () => ex.explain('ig', x, 3, { steps: 64 }), 60, 1, 5));
      // One PGD step for one digit (a forward and a backward pass of the loss, sign, project,
      // clip), and the FGSM the Inspect slider runs on every move.
      const a = new Attacker(em);
      const label = Uint8Array.of(3);
      rows.push(time(`PGD, one step, one digit ${name}`, kernels.name, () => a.attack(x, label, 1, { attack: 'pgd', eps: 0.1, steps: 1 })));
      rows.push(time(`FGSM, one digit ${name}`, kernels.name, () => a.attack(x, label, 1, { attack: 'fgsm', eps: 0.1 })));
      em.dispose();
      m.dispose();
    }
  }
  const pad = drawing();
  rows.push(time('preprocess a 224×224 drawing to 28×28', 'n/a', () => mnistPreprocess(pad)));
  window.benchResult = { rows, kernels: status.name, userAgent: navigator.userAgent };
}

main().catch((e: unknown) => (window.benchResult = { error: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
