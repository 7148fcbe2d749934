// scripts/security.mjs decides pass/fail from electronegativity's CSV (the tool itself always
// exits 0): HIGH and MEDIUM fail, except the informational PRELOAD_JS_CHECK.

import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { blockingFindings, csvComplete, parseCsv, sarifKeys } from '../../scripts/security.mjs';

type Finding = { issue: string; severity: string; file: string };
const HEADER = 'issue, severity, confidence, filename, location, sample, description, url\n';

describe('security report', () => {
  it('parses quoted fields with commas and quotes', () => {
    expect(parseCsv('a,"b, c","d ""e"""\n1,2,3\n')).toEqual([
      ['a', 'b, c', 'd "e"'],
      ['1', '2', '3'],
    ]);
  });

  it('fails on HIGH and MEDIUM, passes LOW and PRELOAD_JS_CHECK', () => {
    const csv =
      HEADER +
      'CSP_GLOBAL_CHECK,"LOW","FIRM","out/renderer/index.html","5:0","default-src \'none\'; script-src \'self\'","weak",https://x\n' +
      'PRELOAD_JS_CHECK,"MEDIUM","FIRM","src/main/window.ts","20:4","preload: x","review",https://x\n' +
      'SANDBOX_JS_CHECK,"MEDIUM","FIRM","src/main/window.ts","21:4","sandbox: false","no sandbox, really",https://x\n' +
      'NODE_INTEGRATION_JS_CHECK,"HIGH","FIRM","src/main/window.ts","22:4","nodeIntegration: true","node",https://x\n';
    const bad = blockingFindings(csv) as Finding[];
    expect(bad.map((f) => f.issue)).toEqual(['SANDBOX_JS_CHECK', 'NODE_INTEGRATION_JS_CHECK']);
    expect(bad[0].file).toBe('src/main/window.ts');
  });

  it('a clean report has nothing blocking', () => {
    expect(blockingFindings(HEADER + 'CSP_GLOBAL_CHECK,"LOW","FIRM","a","1:0","s","d",u\n')).toEqual([]);
  });

  // electronegativity writes header and rows with two racing writes (seen in CI): the header can
  // land on the first row, or truncate the rows away. The SARIF report says what must be there.
  it('a CSV whose header overwrote the first row, or that lost its rows, is not complete', () => {
    const sarif = JSON.stringify({
      runs: [
        {
          results: [
            { ruleId: 'CSP_GLOBAL_CHECK', locations: [{ physicalLocation: { artifactLocation: { uri: 'a.html' }, region: { startLine: 5 } } }] },
            { ruleId: 'CSP_GLOBAL_CHECK', locations: [{ physicalLocation: { artifactLocation: { uri: 'b.html' }, region: { startLine: 6 } } }] },
          ],
        },
      ],
    });
    const keys = sarifKeys(sarif) as string[];
    expect(keys).toEqual(['CSP_GLOBAL_CHECK a.html 5', 'CSP_GLOBAL_CHECK b.html 6']);
    const rowA = 'CSP_GLOBAL_CHECK,"LOW","FIRM","a.html","5:0","default-src \'none\'","weak",https://x\n';
    const rowB = 'CSP_GLOBAL_CHECK,"LOW","FIRM","b.html","6:0","default-src \'none\'","weak",https://x\n';
    expect(csvComplete(HEADER + rowA + rowB, keys)).toBe(true);
    // what CI produced: the header written over the start of the first row
    const clobbered = HEADER + rowA.slice(HEADER.length - 20) + rowB;
    expect(csvComplete(clobbered, keys)).toBe(false);
    expect(csvComplete(HEADER, keys)).toBe(false);
    expect(csvComplete(HEADER + rowB, keys)).toBe(false);
    expect(csvComplete('', keys)).toBe(false);
  });
});
