// `npm run typecheck`: the Node side (tsc) and the renderer (vue-tsc) checked at the same time, each
// with its own incremental build info under node_modules/.cache, so a second run only rechecks
// what changed. Exits non-zero when either finds an error; their output passes through.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cache = join(root, 'node_modules/.cache/typecheck');
const checks = [
  { bin: require.resolve('typescript/bin/tsc'), project: 'tsconfig.node.json', info: 'node.tsbuildinfo' },
  { bin: require.resolve('vue-tsc/bin/vue-tsc.js'), project: 'tsconfig.web.json', info: 'web.tsbuildinfo' },
];

const codes = await Promise.all(
  checks.map(
    ({ bin, project, info }) =>
      new Promise((resolve) => {
        const args = [bin, '--noEmit', '-p', project, '--composite', 'false', '--incremental', '--tsBuildInfoFile', join(cache, info)];
        spawn(process.execPath, args, { cwd: root, stdio: 'inherit' }).on('close', (code) => resolve(code ?? 1));
      }),
  ),
);
process.exit(codes.some((c) => c !== 0) ? 1 : 0);
