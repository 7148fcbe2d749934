// The CSV reader's caps (file, field, record, columns) and the values it refuses: each cap is
// enforced at its number, before the text it covers is copied, with a message naming file, line
// and column; the caps are injectable, so the tests stay small.

import { describe, expect, it } from 'vitest';
import { CSV_LIMITS, forEachCsvRecord, parseCsv, type CsvError, type CsvLimits } from '../../../src/engine/formats/csv';
import { csvError } from '../../helpers/csv-error';
import { mlpSpec } from '../../../src/engine/presets';
import { validateSpec } from '../../../src/engine/spec';
import { MAX_FEATURES, tabularFromCsv, tabularFromCsvText } from '../../../src/engine/tabular';

const limits = (l: Partial<CsvLimits>): CsvLimits => ({ ...CSV_LIMITS, ...l });

/** Records handed over before a refusal, as `forEachCsvRecord` delivers them. */
function delivered(text: string, l: CsvLimits): { lines: number[]; error: CsvError } {
  const lines: number[] = [];
  const error = csvError(() => forEachCsvRecord(text, 'x.csv', (_cells, line) => lines.push(line), l));
  return { lines, error };
}

describe('CSV caps', () => {
  it('states its numbers', () => {
    expect(CSV_LIMITS).toEqual({ fileBytes: 100_000_000, fieldChars: 65_536, recordChars: 1_048_576, columns: 1025 });
    expect(MAX_FEATURES).toBe(1024);
    expect(CSV_LIMITS.columns).toBe(MAX_FEATURES + 1);
  });

  it('a quoted field over the default cap is refused at its line and column (one of 70,000 characters)', () => {
    const text = `a,label\n1,x\n2,"${'y'.repeat(70_000)}"\n`;
    const e = csvError(() => parseCsv(text, 'big.csv'));
    expect([e.line, e.column]).toEqual([3, 3]);
    expect(e.message).toBe('big.csv, line 3, column 3: a quoted field is longer than the 65,536 characters a CSV field may have');
  });

  it('a quoted field at the cap is read whole, its doubled quotes and line breaks intact', () => {
    const body = `${'ab""c\n'.repeat(10_000)}${'z'.repeat(65_536 - 60_000)}`;
    expect(body.length).toBe(65_536);
    const t = parseCsv(`name,label\n"${body}",x\nafter,y\n`, 'ok.csv');
    expect(t.rows[0].cells[0]).toBe(body.replaceAll('""', '"'));
    // Lines after a quoted field with 10,000 breaks are still counted right.
    expect(t.rows[1].line).toBe(10_003);
  });

  it('each cap is checked at its number: the record holding the excess is never delivered', () => {
    const l = limits({ fieldChars: 5, recordChars: 12, columns: 3 });
    // Fields of exactly 5 characters, records of exactly 12 and 3 columns pass.
    expect(delivered('abcde,"fghij"\n1,2,3\n', { ...l, fieldChars: 4 }).error.message).toMatch(/line 1, column 1: a field is longer than the 4 /);
    const ok: string[][] = [];
    forEachCsvRecord('abcde,"fghi"\n1,2,3\n', 'x.csv', (c) => ok.push(c), l);
    expect(ok).toEqual([
      ['abcde', 'fghi'],
      ['1', '2', '3'],
    ]);

    const field = delivered('a,b\n1,2\n1,"123456"\n', l);
    expect(field.lines).toEqual([1, 2]);
    expect(field.error.message).toBe('x.csv, line 3, column 3: a quoted field is longer than the 5 characters a CSV field may have');
    // An unclosed quoted field is refused at the cap, not after a scan for its end.
    expect(delivered('a,b\n"123456', l).error.message).toMatch(/line 2, column 1: a quoted field is longer than the 5/);
    expect(delivered('a,b\n"1234', l).error.message).toMatch(/line 2, column 1: a quoted field is never closed/);

    const unquoted = delivered('a,b\n1,123456\n', l);
    expect(unquoted.lines).toEqual([1]);
    expect(unquoted.error.message).toBe('x.csv, line 2, column 3: a field is longer than the 5 characters a CSV field may have');

    const record = delivered('a,b\n12345,12345,1\n', l);
    expect(record.lines).toEqual([1]);
    expect(record.error.message).toBe('x.csv, line 2: a record is longer than the 12 characters a CSV record may have');

    const columns = delivered('a,b,c,d\n', l);
    expect(columns.lines).toEqual([]);
    expect(columns.error.message).toMatch(/^x\.csv, line 1: more than 3 columns, the most a CSV table may have/);

    expect(csvError(() => parseCsv('a,b\n1,2\n', 'x.csv', limits({ fileBytes: 7 }))).message).toBe(
      'x.csv: 8 characters is more than the 7 a CSV file may have',
    );
  });

  it('more than 1,025 columns is refused at the header, naming the file and the reason (not a model spec)', () => {
    const header = [...Array.from({ length: 1025 }, (_, k) => `f${k}`), 'label'].join(',');
    const e = csvError(() => tabularFromCsvText(`${header}\n${'1,'.repeat(1025)}x\n${'2,'.repeat(1025)}y\n`, 'label', 'wide.csv'));
    expect(e.message).toMatch(/^wide\.csv, line 1: more than 1,025 columns/);
    // Through an injected wider cap, the feature count itself is the reason.
    const f = csvError(() => tabularFromCsvText(`${header}\n${'1,'.repeat(1025)}x\n${'2,'.repeat(1025)}y\n`, 'label', 'wide.csv', limits({ columns: 2000 })));
    expect(f.message).toBe('wide.csv, line 1: 1,025 feature columns; a model takes at most 1,024 (one input per feature)');
  });

  it('1,024 feature columns and a label are accepted, and a model spec takes that width', () => {
    const header = [...Array.from({ length: 1024 }, (_, k) => `f${k}`), 'label'].join(',');
    const d = tabularFromCsvText(`${header}\n${'1,'.repeat(1024)}x\n${'2,'.repeat(1024)}y\n`, 'label', 'wide.csv');
    expect(d.features).toHaveLength(1024);
    expect(() => validateSpec(mlpSpec([4], [1, 1, d.features.length], 2))).not.toThrow();
  });
});

describe('values the model cannot hold', () => {
  it('a value finite as a double but not as float32 (1e39) is refused with its line and column', () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i % 2 ? 5 + i / 100 : -5 - i / 100},${i === 7 ? '1e39' : i / 40},${i % 2}`);
    const text = `a,b,label\n${rows.join('\n')}\n`;
    const e = csvError(() => tabularFromCsvText(text, 'label', 's.csv'));
    expect([e.line, e.column]).toEqual([9, 2]);
    expect(e.message).toBe('s.csv, line 9, column 2: b "1e39" is beyond ±3.4028235e38, the range of a 32-bit float the model computes in');
    expect(csvError(() => tabularFromCsv(parseCsv(text, 's.csv'), 'label', 's.csv')).message).toBe(e.message);
    // -1e39 too; the float32 maximum itself is fine.
    expect(csvError(() => tabularFromCsvText('a,l\n-1e39,x\n1,y\n', 'l', 'n.csv')).message).toMatch(/line 2, column 1: a "-1e39" is beyond/);
    expect(tabularFromCsvText('a,l\n3.4028234e38,x\n1,y\n', 'l', 'm.csv').x[0]).toBe(Math.fround(3.4028234e38));
  });
});

describe('streamed and whole-table reading agree', () => {
  it('tabularFromCsvText gives what parseCsv + tabularFromCsv give', () => {
    const text = '\ufeffx,kind,y\r\n1,"cat",2\n\n3,dog,4\n5," cat",-6e-1';
    const a = tabularFromCsvText(text, 'kind', 'p.csv');
    const b = tabularFromCsv(parseCsv(text, 'p.csv'), 'kind', 'p.csv');
    expect(a).toEqual(b);
    expect(a.columns).toEqual(['x', 'kind', 'y']);
    expect(a.classNames).toEqual(['cat', 'dog']);
  });

  it('rows beyond one internal chunk are kept in order', () => {
    const n = 70_000;
    const lines = Array.from({ length: n }, (_, i) => `${i},${i % 3}`);
    const d = tabularFromCsvText(`v,c\n${lines.join('\n')}\n`, 'c', 'long.csv');
    expect(d.count).toBe(n);
    expect(d.x[0]).toBe(0);
    expect(d.x[65_536]).toBe(65_536);
    expect(d.x[n - 1]).toBe(n - 1);
    expect(d.labels[n - 1]).toBe((n - 1) % 3);
  });
});
