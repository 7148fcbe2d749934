// Seeded fuzzing of the CSV reader (text mutations of the Iris table, then parsing and building
// the training table, whole and streamed; and under small injected caps) and of gzip-compressed IDX files (byte mutations of the compressed stream,
// then inflation with a cap and parsing): a result or a typed error, never another exception.

import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../../src/engine/errors';
import { forEachCsvRecord, parseCsv, type CsvLimits } from '../../../src/engine/formats/csv';
import { encodeIdxImages, parseIdxImages } from '../../../src/engine/formats/idx';
import { tabularFromCsv, tabularFromCsvText } from '../../../src/engine/tabular';
import { readDataFile } from '../../../src/node/files';
import { type Prng, mulberry32 } from '../../helpers/prng';

const CASES = 10_000;
const iris = readFileSync(new URL('../../fixtures/iris.csv', import.meta.url), 'utf8');
const header = iris.split('\n')[0];
const labelColumn = header.split(',').at(-1)!.trim();

const PIECES = ['"', '""', ',', '\n', '\r\n', '\r', ' ', '', 'NaN', 'Infinity', '-', '1e999', '0x10', 'setosa', '\u0000', '\ufeff', ',,,,', '"a,b"', '\n\n\n'];

/** The value `fn` returns, or the EngineError it throws; anything else fails the case. */
function outcome<T>(i: number, text: string, fn: () => T): T | EngineError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw new Error(`case ${i}: ${(e as Error).stack}\n${JSON.stringify(text.slice(0, 300))}`);
  }
}

function mutateText(rng: Prng, t: string): string {
  let s = t;
  for (let k = 1 + rng.int(4); k > 0; k--) {
    const at = rng.int(s.length + 1);
    const r = rng.next();
    if (r < 0.4) {
      s = s.slice(0, at) + rng.pick(PIECES) + s.slice(at);
    } // insert
    else if (r < 0.7) {
      s = s.slice(0, at) + s.slice(at + 1 + rng.int(8));
    } // delete
    else if (r < 0.85) {
      s = s.slice(0, at);
    } // truncate
    else s = s.slice(0, at) + rng.pick(PIECES) + s.slice(at + 1); // replace one char
  }
  return s;
}

describe('seeded fuzzing', () => {
  it(`CSV: ${CASES} seeded text mutations of iris.csv give a table or a CsvError, the same streamed or whole`, () => {
    let ok = 0;
    for (let i = 0; i < CASES; i++) {
      const rng = mulberry32(0xc5f + i);
      // Small slices keep each case cheap: the header plus 5–30 rows.
      const lines = iris.split('\n');
      const slice = [lines[0], ...lines.slice(1 + rng.int(100), 1 + rng.int(100) + 5 + rng.int(25))].join('\n');
      const text = mutateText(rng, slice);
      const whole = outcome(i, text, () => tabularFromCsv(parseCsv(text, `case-${i}.csv`), labelColumn, `case-${i}.csv`));
      const streamed = outcome(i, text, () => tabularFromCsvText(text, labelColumn, `case-${i}.csv`));
      // Reading record by record accepts exactly what reading the whole table accepts, with the
      // same result (a file with two faults may name another one first).
      if (whole instanceof EngineError) expect(streamed, `case ${i}`).toBeInstanceOf(EngineError);
      else {
        expect(streamed, `case ${i}`).toEqual(whole);
        ok++;
      }
    }
    expect(ok).toBeGreaterThan(100);
    expect(ok).toBeLessThan(CASES);
  });

  it(`CSV caps: ${CASES} seeded mutations read under small caps give a table or a CsvError, never more than the caps`, () => {
    const codes = new Set<string>();
    let ok = 0;
    for (let i = 0; i < CASES; i++) {
      const rng = mulberry32(0xca95 + i);
      const lines = iris.split('\n');
      const slice = [lines[0], ...lines.slice(1 + rng.int(140), 1 + rng.int(140) + 2 + rng.int(6))].join('\n');
      // Long fields, many columns and quoted runs, so the caps are where the text breaks.
      let text = mutateText(rng, slice);
      const at = rng.int(text.length + 1);
      const grow = rng.pick(['"' + 'x'.repeat(rng.int(80)) + '"', 'y'.repeat(rng.int(80)), ',1'.repeat(rng.int(12)), '"a""b\nc"', '']);
      text = text.slice(0, at) + grow + text.slice(at);
      const limits: CsvLimits = { fileBytes: 200 + rng.int(2000), fieldChars: 1 + rng.int(40), recordChars: 10 + rng.int(80), columns: 1 + rng.int(8) };
      const r = outcome(i, text, () => {
        let fields = 0;
        forEachCsvRecord(
          text,
          `cap-${i}.csv`,
          (cells) => {
            expect(cells.length).toBeLessThanOrEqual(limits.columns);
            for (const c of cells) expect(c.length).toBeLessThanOrEqual(limits.fieldChars);
            fields += cells.length;
          },
          limits,
        );
        return fields;
      });
      if (r instanceof EngineError)
        codes.add(
          r.message
            .replace(/^[^:]*: /, '')
            .replace(/\d[\d,]*/g, 'N')
            .slice(0, 30),
        );
      else ok++;
    }
    expect(ok).toBeGreaterThan(100);
    // Every cap is reached somewhere in the run.
    for (const what of ['a field is longer', 'a quoted field is longer', 'a record is longer', 'more than N columns', 'N characters is more than']) {
      expect(
        [...codes].some((c) => c.startsWith(what.slice(0, 30))),
        what,
      ).toBe(true);
    }
  });

  let dir: string;
  beforeAll(async () => {
    // Memory-backed where available: the loop writes one small file per case.
    dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'lenet-gz-fuzz-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`gzip IDX: ${CASES} seeded mutations of a compressed file give images or a DatasetError`, async () => {
    const rng0 = mulberry32(1);
    const idx = encodeIdxImages({ count: 4, rows: 6, cols: 6, pixels: Uint8Array.from({ length: 144 }, () => rng0.byte()) });
    const gz = gzipSync(idx);
    const file = join(dir, 'x.gz');
    const codes = new Set<string>();
    let ok = 0;
    for (let i = 0; i < CASES; i++) {
      const rng = mulberry32(0x62 + i);
      let b: Uint8Array = gz.slice();
      const r = rng.next();
      if (r < 0.5) for (let k = 1 + rng.int(4); k > 0; k--) b[rng.int(b.length)] ^= 1 << rng.int(8);
      else if (r < 0.75) b = b.slice(0, 2 + rng.int(b.length - 2));
      else b[2 + rng.int(b.length - 2)] = rng.byte();
      await writeFile(file, b);
      try {
        parseIdxImages(await readDataFile(file, { maxBytes: 4096 }), file);
        ok++;
      } catch (e) {
        if (!(e instanceof EngineError)) throw new Error(`case ${i}: ${(e as Error).stack}`);
        codes.add(e.code);
      }
    }
    expect(codes).toContain('GZIP_CORRUPT');
    expect(ok).toBeLessThan(CASES);
  });
});
