import { CsvError } from '../../src/engine/formats/csv';

/** The CsvError that `fn` throws (fails the test when it throws nothing or something else). */
export function csvError(fn: () => unknown): CsvError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CsvError) return e;
    throw e;
  }
  throw new Error('expected a CsvError');
}
