// Draws the first COUNT images of a label-issues ranking as one PNG strip (2 rows), dark digits on
// white, for docs/data-lab.md:
//   npm run -s data-lab -- label-issues --json > issues.json
//   tsx scripts/data-lab-top.ts issues.json docs/data-lab-top20.png [COUNT] [DATA_DIR]

import { readFileSync, writeFileSync } from 'node:fs';
import { loadMnist } from '../src/node/datasets';
// @ts-expect-error: a plain .mjs script without types
import { encodePng } from './make-icon.mjs';

const [file, out, countArg, dataDir] = process.argv.slice(2);
if (!file || !out) {
  process.stderr.write('usage: tsx scripts/data-lab-top.ts ISSUES.json OUT.png [COUNT] [DATA_DIR]\n');
  process.exit(2);
}
const count = Number(countArg ?? 20);
const issues = (JSON.parse(readFileSync(file, 'utf8')) as { issues: { index: number; label: number; suggested: number; score: number }[] }).issues.slice(
  0,
  count,
);
const data = await loadMnist(dataDir);
const S = 4; // pixels per MNIST pixel
const CELL = 28 * S;
const GAP = 8;
const cols = Math.ceil(issues.length / 2);
const rows = issues.length > cols ? 2 : 1;
const w = cols * CELL + (cols + 1) * GAP;
const h = rows * CELL + (rows + 1) * GAP;
const rgba = new Uint8Array(w * h * 4).fill(255);
issues.forEach((x, r) => {
  const x0 = GAP + (r % cols) * (CELL + GAP);
  const y0 = GAP + Math.floor(r / cols) * (CELL + GAP);
  for (let y = 0; y < CELL; y++) {
    for (let xx = 0; xx < CELL; xx++) {
      const v = 255 - data.train.pixels[x.index * 784 + Math.floor(y / S) * 28 + Math.floor(xx / S)];
      const o = ((y0 + y) * w + x0 + xx) * 4;
      rgba[o] = rgba[o + 1] = rgba[o + 2] = v;
    }
  }
});
writeFileSync(out, encodePng(rgba, w, h));
process.stdout.write(
  `${issues.map((x, r) => `${r + 1}. image ${x.index}: label ${x.label}, suggested ${x.suggested}, score ${x.score.toFixed(4)}`).join('\n')}\n`,
);
