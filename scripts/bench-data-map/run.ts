// Data map drawing benchmark: 60,000 synthetic points (MNIST's training set) through the Data
// lab's plot code in Chromium, at the plot area's size at 1280×800 (about 1160×320 CSS px), at
// device pixel ratios 1 and 2. Prints a table; a benchmark, not a test: it asserts nothing.
//   npx tsx scripts/bench-data-map/run.ts      (Debian Chromium at /usr/bin/chromium, or CHROMIUM_PATH)

import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { ALIASES } from '../aliases';
import { launch } from '../../test/e2e/browser';
import type { Row } from './page';

const entry = fileURLToPath(new URL('./page.ts', import.meta.url));
const bundle = await build({ entryPoints: [entry], bundle: true, write: false, format: 'iife', alias: ALIASES, logLevel: 'warning' });
const code = bundle.outputFiles[0].text;
const browser = await launch();
try {
  console.log(`Chromium ${browser.version()} · 60,000 points · per row: median and p95 of 20 runs after a warm-up\n`);
  console.log('| device pixel ratio | what | median ms | p95 ms |');
  console.log('|---:|---|---:|---:|');
  for (const dpr of [1, 2]) {
    const page = await browser.newPage({ deviceScaleFactor: dpr });
    await page.setContent('<!doctype html><body></body>');
    await page.evaluate(code);
    const rows = (await page.evaluate(([w, h, d]) => (window as unknown as { bench(w: number, h: number, d: number): Row[] }).bench(w, h, d), [
      1160,
      320,
      dpr,
    ] as const)) as Row[];
    for (const r of rows) console.log(`| ${dpr} | ${r.what} | ${r.medianMs.toFixed(2)} | ${r.p95Ms.toFixed(2)} |`);
    await page.close();
  }
} finally {
  await browser.close();
}
