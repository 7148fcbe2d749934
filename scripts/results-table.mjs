// Turns `npm run -s train -- --json` output (one JSON object per epoch) into a Markdown table.
//   node scripts/results-table.mjs run.jsonl
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
const pct = (x) => (100 * x).toFixed(2);
console.log('| epoch | lr | train loss | train acc % | test loss | test acc % | train s | images/s |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
let total = 0;
for (const r of rows) {
  total += r.seconds;
  console.log(
    `| ${r.epoch} | ${r.lr.toPrecision(3)} | ${r.trainLoss.toFixed(4)} | ${pct(r.trainAccuracy)} | ${r.testLoss.toFixed(4)} | ${pct(r.testAccuracy)} | ${r.seconds.toFixed(1)} | ${Math.round(r.imagesPerSecond).toLocaleString('en-US')} |`,
  );
}
const first99 = rows.find((r) => r.testAccuracy >= 0.99);
console.log(
  `\nFinal test accuracy **${pct(rows.at(-1).testAccuracy)} %**; training time ${total.toFixed(0)} s in all${first99 ? `; 99 % first reached at epoch ${first99.epoch}` : ''}.`,
);
