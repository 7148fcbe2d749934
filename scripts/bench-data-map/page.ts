// Runs in Chromium (bundled by run.ts): the data map's per-point work for 60,000 points, as
// DataMapPlot.vue does it — order the points, rasterise them into the plot area's bitmap, paint
// it with putImageData and drawImage — and the pointer's nearest-point index and look-ups.

import { NearestPoint, mapPoints, rasterize } from '../../src/renderer/src/lib/data-map-plot';

export interface Row {
  what: string;
  runs: number;
  medianMs: number;
  p95Ms: number;
}

function stats(what: string, ms: number[]): Row {
  const s = [...ms].sort((a, b) => a - b);
  return { what, runs: s.length, medianMs: s[Math.floor(s.length / 2)], p95Ms: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] };
}

function time(f: () => void, runs: number): number[] {
  f(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f();
    out.push(performance.now() - t);
  }
  return out;
}

/** A plausible map: most points easy (high confidence, low spread), some ambiguous and hard; seeded. */
function syntheticMap(n: number) {
  let s = 12345;
  const rnd = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const confidence = new Float32Array(n);
  const variability = new Float32Array(n);
  const correctness = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rnd();
    confidence[i] = u < 0.85 ? 0.9 + 0.1 * rnd() : rnd();
    variability[i] = u < 0.85 ? 0.05 * rnd() : 0.45 * rnd();
    correctness[i] = Math.round(rnd() * 10) / 10;
  }
  return { count: n, trained: new Uint8Array(n).fill(1), confidence, variability, correctness };
}

export function bench(width: number, height: number, dpr: number): Row[] {
  const m = syntheticMap(60_000);
  const w = Math.round(width * dpr);
  const h = Math.round(height * dpr);
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  document.body.append(canvas);
  const ctx = canvas.getContext('2d')!;
  const off = document.createElement('canvas');
  off.width = w;
  off.height = h;
  const offCtx = off.getContext('2d')!;
  const p = mapPoints(m);
  const rows: Row[] = [];
  const dot = Math.max(2, Math.round(2 * dpr));
  const never: [number, number, number] = [196, 85, 0];
  const always: [number, number, number] = [0, 114, 178];
  // A yardstick for a busy machine: a plain loop over 600,000 floats (about 1 ms on an idle core).
  const probe = Float32Array.from({ length: 600_000 }, (_, i) => i % 7);
  rows.push(
    stats(
      'yardstick: sum 600,000 floats',
      time(() => {
        let sum = 0;
        for (let i = 0; i < probe.length; i++) sum += probe[i];
        if (sum < 0) throw new Error('unreachable');
      }, 20),
    ),
  );
  rows.push(
    stats(
      'once per map: order the points (mapPoints)',
      time(() => mapPoints(m), 20),
    ),
  );
  rows.push(
    stats(
      `on a resize or theme change: rasterise into ${w}×${h} (dot ${dot} px)`,
      time(() => rasterize(p, w, h, dot, never, always), 20),
    ),
  );
  const rgba = rasterize(p, w, h, dot, never, always);
  rows.push(
    stats(
      'on a resize or theme change: putImageData into the cached bitmap',
      time(() => {
        offCtx.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, w, h), 0, 0);
        offCtx.getImageData(0, 0, 1, 1); // wait for the write to land
      }, 20),
    ),
  );
  rows.push(
    stats(
      'every chart draw: drawImage of the cached bitmap',
      time(() => {
        ctx.drawImage(off, 0, 0);
        ctx.getImageData(0, 0, 1, 1);
      }, 20),
    ),
  );
  rows.push(
    stats(
      `nearest-point index over ${width}×${height} CSS px`,
      time(() => new NearestPoint(p, width, height), 20),
    ),
  );
  const near = new NearestPoint(p, width, height);
  rows.push(
    stats(
      '1,000 pointer look-ups',
      time(() => {
        for (let i = 0; i < 1000; i++) near.find((i * 37) % width, (i * 53) % height, 6);
      }, 20),
    ),
  );
  return rows;
}

(window as unknown as { bench: typeof bench }).bench = bench;
