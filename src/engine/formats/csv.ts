// CSV text → a header and rows of cells (RFC 4180 plus what real files do): a header line,
// fields optionally in double quotes ("" is a quote inside them; quoted fields may hold commas
// and line breaks), LF, CRLF or CR line ends, a UTF-8 byte-order mark, blank lines (skipped)
// and a missing final line break. Anything else is a CsvError naming the file, line and column.

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

/** Characters the parser accepts; larger files are not what a CSV MLP is for. */
export const MAX_CSV_CHARS = 200_000_000;
export const MAX_CSV_COLUMNS = 10_000;

export function parseCsv(text: string, file: string): CsvTable {
  if (text.length > MAX_CSV_CHARS) throw new CsvError(file, 0, 0, `${text.length} characters is more than the ${MAX_CSV_CHARS} a CSV file may have`);
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  let line = 1;
  let lineStart = i;
  const records: CsvRow[] = [];

  while (i < n) {
    const rowLine = line;
    const cells: string[] = [];
    let blank = true;
    // One record: fields separated by commas until an unquoted line end or the end of the text.
    for (;;) {
      let cell = '';
      if (text[i] === '"') {
        const qLine = line;
        const qCol = i - lineStart + 1;
        i++;
        for (;;) {
          if (i >= n) throw new CsvError(file, qLine, qCol, 'a quoted field is never closed (missing ")');
          const ch = text[i];
          if (ch === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\r' || ch === '\n') {
            // A line break inside quotes belongs to the field; count lines for later messages.
            if (ch === '\r' && text[i + 1] === '\n') {
              cell += '\r\n';
              i += 2;
            } else {
              cell += ch;
              i++;
            }
            line++;
            lineStart = i;
            continue;
          }
          cell += ch;
          i++;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
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
        while (i < n && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
          if (text[i] === '"') {
            throw new CsvError(file, line, i - lineStart + 1, 'a quote inside an unquoted field (quote the whole field and double the quote: "a""b")');
          }
          if (text.charCodeAt(i) === 0) throw new CsvError(file, line, i - lineStart + 1, 'a NUL character: this is not a text file');
          i++;
        }
        cell = text.slice(start, i);
        if (cell.trim() !== '') blank = false;
      }
      cells.push(cell);
      if (cells.length > MAX_CSV_COLUMNS) throw new CsvError(file, rowLine, 0, `more than ${MAX_CSV_COLUMNS} columns`);
      if (i < n && text[i] === ',') {
        i++;
        blank = false;
        continue;
      }
      break;
    }
    // The line end (or the end of the text).
    if (i < n) {
      i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      lineStart = i;
    }
    if (!(blank && cells.length === 1)) records.push({ line: rowLine, cells });
  }

  if (records.length === 0) throw new CsvError(file, 0, 0, 'the file is empty: a header line is needed');
  const header = records[0].cells.map((h) => h.trim());
  header.forEach((h, k) => {
    if (h === '') throw new CsvError(file, records[0].line, k + 1, 'the header has an empty column name');
    const first = header.indexOf(h);
    if (first !== k) throw new CsvError(file, records[0].line, k + 1, `the column name "${h}" appears twice (columns ${first + 1} and ${k + 1})`);
  });
  const rows = records.slice(1);
  for (const r of rows) {
    if (r.cells.length !== header.length) {
      throw new CsvError(file, r.line, 0, `${r.cells.length} field${r.cells.length === 1 ? '' : 's'}, but the header has ${header.length} columns`);
    }
  }
  return { header, rows };
}
