// Renderer benchmark: how long the Inspect view takes for one digit — a forward pass keeping
// every layer's output plus the saliency backward pass — and integrated gradients with 64 steps,
// in Chromium, with the wasm SIMD kernels and with the TypeScript ones (the ratio), and the
// draw-pad preprocessing.
//   npm run bench:renderer            (Debian Chromium at /usr/bin/chromium, or CHROMIUM_PATH)
// Builds scripts/bench-renderer/ with Vite into a temporary folder, serves it on 127.0.0.1 and
// prints a table. A benchmark, not a test: it asserts nothing.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { launch } from '../../test/e2e/browser';
import type { Row } from './main';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = await mkdtemp(join(tmpdir(), 'lenet-bench-renderer-'));
await build({ root: here, logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });

const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };
const server = createServer((req, res) => {
  const path = req.url === '/' ? '/index.html' : (req.url ?? '/');
  readFile(join(out, path.replaceAll('..', ''))).then(
    (body) => res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body),
    () => res.writeHead(404).end(),
  );
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const browser = await launch();
try {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await page.waitForFunction(() => window.benchResult !== undefined, null, { timeout: 300_000 });
  const result = await page.evaluate(() => window.benchResult!);
  if ('error' in result) throw new Error(result.error);
  if (errors.length) throw new Error(errors.join('\n'));
  const version = browser.version();
  console.log(
    `Chromium ${version} · renderer kernels: ${result.kernels} · calls after warm-up per row (inspect timed 5 at a time, integrated gradients one at a time)\n`,
  );
  console.log('| what | kernels | runs | median ms | p95 ms | mean ms |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const r of result.rows as Row[])
    console.log(`| ${r.what} | ${r.kernels} | ${r.runs} | ${r.medianMs.toFixed(2)} | ${r.p95Ms.toFixed(2)} | ${r.meanMs.toFixed(2)} |`);
  const byName = new Map<string, Row[]>();
  for (const r of result.rows as Row[]) byName.set(r.what, [...(byName.get(r.what) ?? []), r]);
  console.log('');
  for (const [what, rs] of byName) {
    const fast = rs.find((r) => r.kernels !== 'js');
    const js = rs.find((r) => r.kernels === 'js');
    if (fast && js) console.log(`${what}: ${fast.kernels} ${(js.medianMs / fast.medianMs).toFixed(1)}× faster than TypeScript (median)`);
  }
} finally {
  await browser.close();
  server.close();
  await rm(out, { recursive: true, force: true });
}
