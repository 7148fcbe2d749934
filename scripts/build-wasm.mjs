// Compiles the AssemblyScript kernels, from the same sources, to two modules:
//   build/wasm/kernels.wasm          --enable simd                       (any SIMD runtime)
//   build/wasm/kernels-relaxed.wasm  --enable simd --enable relaxed-simd (fused multiply-add)
// each when it is missing or older than any of its sources (src/engine/kernels/wasm/*.as.ts; the
// entry, kernels.as.ts, lists the module's exports). The hosts pick the relaxed one when the
// runtime accepts it (src/node/load-kernels.ts, src/renderer/src/lib/renderer-kernels.ts).
// `npm run build`, `npm test` and `npm run train` call it first.
//   node scripts/build-wasm.mjs [--force]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src/engine/kernels/wasm/kernels.as.ts');
const outputs = [
  { file: join(root, 'build/wasm/kernels.wasm'), features: ['--enable', 'simd'] },
  { file: join(root, 'build/wasm/kernels-relaxed.wasm'), features: ['--enable', 'simd', '--enable', 'relaxed-simd'] },
];

export function buildWasm(force = false) {
  const sources = readdirSync(dirname(source))
    .filter((f) => f.endsWith('.as.ts'))
    .map((f) => join(dirname(source), f));
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  const stale = outputs.filter(({ file }) => force || !existsSync(file) || statSync(file).mtimeMs < newest);
  if (!stale.length) return [];
  const asc = createRequire(import.meta.url).resolve('assemblyscript/bin/asc.js');
  for (const { file, features } of stale) {
    mkdirSync(dirname(file), { recursive: true });
    execFileSync(process.execPath, [asc, source, ...features, '-O3', '--runtime', 'stub', '--importMemory', '--initialMemory', '0', '--noAssert', '-o', file], {
      stdio: 'inherit',
      cwd: root,
    });
  }
  return stale.map(({ file }) => file);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // Quiet when there is nothing to do: `npm run -s train -- --json` must print only JSON.
  for (const file of buildWasm(process.argv.includes('--force'))) process.stderr.write(`built ${file}\n`);
}
