// Compiles the AssemblyScript kernels to build/wasm/kernels.wasm when the output is missing or
// older than its source. `npm run build`, `npm test` and `npm run train` call it first.
//   node scripts/build-wasm.mjs [--force]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src/engine/kernels/wasm/kernels.as.ts');
const output = join(root, 'build/wasm/kernels.wasm');

export function buildWasm(force = false) {
  if (!force && existsSync(output) && statSync(output).mtimeMs >= statSync(source).mtimeMs) return false;
  mkdirSync(dirname(output), { recursive: true });
  const asc = createRequire(import.meta.url).resolve('assemblyscript/bin/asc.js');
  execFileSync(
    process.execPath,
    [asc, source, '--enable', 'simd', '-O3', '--runtime', 'stub', '--importMemory', '--initialMemory', '0', '--noAssert', '-o', output],
    { stdio: 'inherit', cwd: root },
  );
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // Quiet when there is nothing to do: `npm run -s train -- --json` must print only JSON.
  if (buildWasm(process.argv.includes('--force'))) process.stderr.write(`built ${output}\n`);
}
