// `npm start` runs this before electron-vite: exit 0 when Electron's binary is present (after
// downloading it with Electron's own installer if needed), else exit 1 after one line on stderr.
//   tsx src/node/launch/ensure-electron.ts

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureElectron } from './electron-binary';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const electronDir = dirname(createRequire(join(root, 'package.json')).resolve('electron/package.json'));

const exe = await ensureElectron({
  electronDir,
  hook: join(root, 'scripts', 'electron-fetch-reason.mjs'),
  warn: (line) => process.stderr.write(`${line}\n`),
  note: (line) => process.stdout.write(`${line}\n`),
});
process.exitCode = exe ? 0 : 1;
