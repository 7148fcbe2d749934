// CSV text → a header and rows of cells (RFC 4180 plus what real files do): a header line,
// fields optionally in double quotes ("" is a quote inside them; quoted fields may hold commas
// and line breaks), LF, CRLF or CR line ends, a UTF-8 byte-order mark, blank lines (skipped)
// and a missing final line break. Anything else is a CsvError naming the file, line and column.
//
// Every size is capped (`CSV_LIMITS`: file, field, record, columns) and each cap is checked
// before the text it covers is copied: a quoted field is found with indexOf and sliced once, so
// a hostile file costs a scan of its text, never a string built one character at a time.
// `forEachCsvRecord` hands over one record at a time, so a caller that keeps numbers instead of
// strings (tabular.ts) never holds the table as strings.

import { EngineError } from '../errors';

export class CsvError extends EngineError {
  override readonly name = 'CsvError';
  constructor(
    readonly file: string,
    /** 1-based line of the file (0 when the problem is the file as a whole). */
    readonly line: number,
    /** 1-based column: a character position for syntax errors, a field number for value errors. */
    readonly column: number,
    detail: string,
  ) {
    super('CSV_INVALID', `${file}${line ? `, line ${line}` : ''}${column ? `, column ${column}` : ''}: ${detail}`);
  }
}

export interface CsvRow {
  /** 1-based line where the row starts. */
  line: number;
  cells: string[];
}

export interface CsvTable {
  header: string[];
  rows: CsvRow[];
}

export interface CsvLimits {
  /** Bytes of the file (readers check it before reading) and characters of the text. */
  fileBytes: number;
  /** Characters of one field, quotes excluded. */
  fieldChars: number;
  /** Characters of one record: a line, or several when a quoted field holds line breaks. */
  recordChars: number;
  /** Fields of one record. */
  columns: number;
}

/**
 * The caps on what a CSV file may be. A table for the MLP has numbers and short class names:
 * 1,024 feature columns (the widest input a model spec takes) and the label; 100 MB keeps the
 * peak memory of reading and training on any accepted file under 1 GB.
 */
export const CSV_LIMITS: Readonly<CsvLimits> = Object.freeze({
  fileBytes: 100_000_000,
  fieldChars: 65_536,
  recordChars: 1_048_576,
  columns: 1025,
});

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * Calls `onRecord` with the cells and starting line of every record that is not blank, in file
 * order (the first is the header). Throws a CsvError at the first malformed or oversized record,
 * before copying it.
 */
export function forEachCsvRecord(text: string, file: string, onRecord: (cells: string[], line: number) => void, limits: CsvLimits = CSV_LIMITS): void {
  if (text.length > limits.fileBytes) {
    throw new CsvError(file, 0, 0, `${count(text.length)} characters is more than the ${count(limits.fileBytes)} a CSV file may have`);
  }
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  let line = 1;
  let lineStart = i;
  const tooLong = (what: string, cap: number, atLine: number, atCol: number): CsvError =>
    new CsvError(file, atLine, atCol, `${what} is longer than the ${count(cap)} characters a CSV ${what.split(' ').at(-1)} may have`);

  while (i < n) {
    const rowLine = line;
    const recordStart = i;
    const cells: string[] = [];
    let blank = true;
    // One record: fields separated by commas until an unquoted line end or the end of the text.
    for (;;) {
      let cell: string;
      if (text.charCodeAt(i) === QUOTE) {
        const qLine = line;
        const qCol = i - lineStart + 1;
        const start = i + 1;
        // Find the closing quote (a lone " not followed by another): only scanning, no copies,
        // until the field is known to fit its cap.
        let j = start;
        let doubled = false;
        for (;;) {
          const q = text.indexOf('"', j);
          const end = q < 0 ? n : q;
          if (end - start > limits.fieldChars) throw tooLong('a quoted field', limits.fieldChars, qLine, qCol);
          if (end - recordStart > limits.recordChars) throw tooLong('a record', limits.recordChars, rowLine, 0);
          if (q < 0) throw new CsvError(file, qLine, qCol, 'a quoted field is never closed (missing ")');
          if (text.charCodeAt(q + 1) === QUOTE) {
            doubled = true;
            j = q + 2;
            continue;
          }
          j = q;
          break;
        }
        cell = text.slice(start, j);
        if (doubled) cell = cell.replaceAll('""', '"');
        // A line break inside quotes belongs to the field; count lines for later messages.
        for (let k = start; k < j; k++) {
          const c = text.charCodeAt(k);
          if (c === CR || c === LF) {
            if (c === CR && text.charCodeAt(k + 1) === LF) k++;
            line++;
            lineStart = k + 1;
          }
        }
        i = j + 1;
        if (i < n && text.charCodeAt(i) !== COMMA && text.charCodeAt(i) !== CR && text.charCodeAt(i) !== LF) {
          throw new CsvError(
            file,
            line,
            i - lineStart + 1,
            `unexpected ${JSON.stringify(text[i])} after a closing quote (a field is either all quoted or not quoted)`,
          );
        }
        blank = false;
      } else {
        const start = i;
        for (; i < n; i++) {
          const c = text.charCodeAt(i);
          if (c === COMMA || c === CR || c === LF) break;
          if (c === QUOTE) {
            throw new CsvError(file, line, i - lineStart + 1, 'a quote inside an unquoted field (quote the whole field and double the quote: "a""b")');
          }
          if (c === 0) throw new CsvError(file, line, i - lineStart + 1, 'a NUL character: this is not a text file');
          if (i - start >= limits.fieldChars) throw tooLong('a field', limits.fieldChars, line, start - lineStart + 1);
        }
        if (i - recordStart > limits.recordChars) throw tooLong('a record', limits.recordChars, rowLine, 0);
        cell = text.slice(start, i);
        if (cell.trim() !== '') blank = false;
      }
      if (cells.length === limits.columns) {
        throw new CsvError(
          file,
          rowLine,
          0,
          `more than ${count(limits.columns)} columns, the most a CSV table may have (a model takes one input per feature column)`,
        );
      }
      cells.push(cell);
      if (i < n && text.charCodeAt(i) === COMMA) {
        i++;
        blank = false;
        continue;
      }
      break;
    }
    // The line end (or the end of the text).
    if (i < n) {
      i += text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
      lineStart = i;
    }
    if (!(blank && cells.length === 1)) onRecord(cells, rowLine);
  }
}

/** The header's column names, trimmed; an empty or repeated name is a CsvError. */
export function csvHeader(cells: readonly string[], line: number, file: string): string[] {
  const header = cells.map((h) => h.trim());
  const seen = new Map<string, number>();
  header.forEach((h, k) => {
    if (h === '') throw new CsvError(file, line, k + 1, 'the header has an empty column name');
    const first = seen.get(h);
    if (first !== undefined) throw new CsvError(file, line, k + 1, `the column name "${h}" appears twice (columns ${first + 1} and ${k + 1})`);
    seen.set(h, k);
  });
  return header;
}

/** The CsvError for a record whose field count differs from the header's. */
export function raggedRowError(file: string, line: number, fields: number, columns: number): CsvError {
  return new CsvError(file, line, 0, `${fields} field${fields === 1 ? '' : 's'}, but the header has ${columns} columns`);
}

/** The whole table as strings: for small tables (tabular.ts streams large ones). */
export function parseCsv(text: string, file: string, limits: CsvLimits = CSV_LIMITS): CsvTable {
  const records: CsvRow[] = [];
  forEachCsvRecord(text, file, (cells, line) => records.push({ line, cells }), limits);
  if (records.length === 0) throw new CsvError(file, 0, 0, 'the file is empty: a header line is needed');
  const header = csvHeader(records[0].cells, records[0].line, file);
  const rows = records.slice(1);
  for (const r of rows) if (r.cells.length !== header.length) throw raggedRowError(file, r.line, r.cells.length, header.length);
  return { header, rows };
}
