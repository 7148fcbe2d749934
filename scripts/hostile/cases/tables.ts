// Hostile CSV tables for `train --csv`: a quoted field of 180 MB (over the file cap) and one of
// 90 MB (inside it, over the field cap), a value beyond float32, too many columns, an over-long
// record, and the widest table the caps accept (its peak memory is the number to watch: the
// most values per byte, as a two-byte string).
// Big files are written in 1 MiB pieces, never built as one string.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../case';

const MiB = 1 << 20;

/** Writes the pieces in order, waiting whenever the stream's buffer is full. */
async function writeStreamed(path: string, pieces: Iterable<string>): Promise<void> {
  const out = createWriteStream(path);
  try {
    for (const p of pieces) if (!out.write(p)) await once(out, 'drain');
  } finally {
    out.end();
    await once(out, 'close');
  }
}

/** A table whose second row's label is one quoted field of `bytes` characters. */
function* quotedFieldTable(bytes: number): Generator<string> {
  yield 'a,label\n1,x\n2,"';
  const block = 'q'.repeat(MiB);
  for (let left = bytes; left > 0; left -= MiB) yield left >= MiB ? block : block.slice(0, left);
  yield '"\n';
}

const train = (file: string, ...more: string[]): { cli: 'train'; args: string[] } => ({ cli: 'train', args: ['--csv', file, '--label', 'label', ...more] });

export const cases: HostileCase[] = [
  {
    name: 'table: one 180 MB quoted field (over the 100 MB file cap: refused from its size, unread)',
    async prepare(dir) {
      const file = join(dir, 'field-180mb.csv');
      await writeStreamed(file, quotedFieldTable(180 * 1000 * 1000));
      return train(file, '--out', join(dir, 'field-180mb.lenet'));
    },
  },
  {
    name: 'table: one 90 MB quoted field (inside the file cap, over the 65,536-character field cap)',
    async prepare(dir) {
      const file = join(dir, 'field-90mb.csv');
      await writeStreamed(file, quotedFieldTable(90 * 1000 * 1000));
      return train(file, '--out', join(dir, 'field-90mb.lenet'));
    },
  },
  {
    name: 'table: 1e39 in a separable table (finite as a double, infinite as float32)',
    async prepare(dir) {
      const file = join(dir, 'float32.csv');
      const rows = Array.from({ length: 200 }, (_, i) => `${i % 2 ? 5 + i / 100 : -5 - i / 100},${i === 7 ? '1e39' : (i / 200).toFixed(3)},${i % 2}`);
      await writeStreamed(file, ['a,b,label\n', rows.join('\n'), '\n']);
      return train(file, '--epochs', '5', '--out', join(dir, 'float32.lenet'));
    },
  },
  {
    name: 'table: 5,000 columns (more than the 1,024 features a model takes)',
    async prepare(dir) {
      const file = join(dir, 'wide.csv');
      const n = 5000;
      await writeStreamed(file, [Array.from({ length: n }, (_, k) => `f${k}`).join(','), ',label\n', '1,'.repeat(n), '0\n', '2,'.repeat(n), '1\n']);
      return train(file, '--epochs', '1');
    },
  },
  {
    name: 'table: one 50 MB line, 1,000 fields of 50,000 digits (each under the field cap, over the 1 Mi-character record cap)',
    async prepare(dir) {
      const file = join(dir, 'long-line.csv');
      function* pieces(): Generator<string> {
        yield `${Array.from({ length: 999 }, (_, k) => `f${k}`).join(',')},label\n`;
        const field = '7'.repeat(50_000);
        for (let k = 0; k < 1000; k++) yield k ? `,${field}` : field;
        yield '\n';
      }
      await writeStreamed(file, pieces());
      return train(file, '--epochs', '1');
    },
  },
  {
    name: 'table: the largest accepted kind, 99 MB of 1,000 one-digit features a row and a "€" (a two-byte string), one epoch',
    async prepare(dir) {
      const file = join(dir, 'largest.csv');
      function* pieces(): Generator<string> {
        const header = `${Array.from({ length: 1000 }, (_, k) => `f${k}${k ? '' : '€'}`).join(',')},label\n`;
        yield header;
        const block = `${'1,'.repeat(1000)}0\n${'2,'.repeat(1000)}1\n`.repeat(50);
        for (let size = header.length; size + block.length < 99_000_000; size += block.length) yield block;
      }
      await writeStreamed(file, pieces());
      return train(file, '--epochs', '1', '--batch', '256', '--hidden', '4', '--out', join(dir, 'largest.lenet'));
    },
  },
];
