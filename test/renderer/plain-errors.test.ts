// Errors in plain words: messages as the backend writes them (taken from the code that throws
// them) get a sentence a person understands, with the message itself kept as the detail; what
// no rule knows is shown unchanged. Also the settings form's sentences, in its labels' words.

import { describe, expect, it } from 'vitest';
import { decodeModelFile } from '../../src/engine/formats/modelfile';
import { decodeSafetensors } from '../../src/engine/formats/safetensors';
import { fieldMessage, settingsMessages, SETTINGS_FIELD_LABELS } from '../../src/common/settings';
import { fileNameOf, looksLike, plainError } from '../../src/renderer/src/lib/plain-errors';

/** The message the safetensors reader throws for these bytes. */
function decodeError(bytes: Uint8Array, name: string): string {
  try {
    decodeSafetensors(bytes, name);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('decoded');
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('plainError', () => {
  it('a text file read as a model: "not a LeNet Studio model (it looks like text)", the header length in the detail', () => {
    const message = decodeError(text('These are my notes, not a model.\n'), '/home/ada/notes.lenet');
    const p = plainError(message);
    expect(p.summary).toBe('“notes.lenet” is not a LeNet Studio model (it looks like text).');
    expect(p.detail).toBe(message);
    expect(p.detail).toMatch(/header length \d+ bytes/);
    expect(p.code).toBe('MODEL_BAD_HEADER');
  });

  it("the model reader's own sentence, as it crosses from the backend (message, then its detail on the next line)", () => {
    let crossed = '';
    try {
      decodeModelFile(text('These are my notes and not a model.\n'.repeat(20)), '/home/ada/notes.lenet');
    } catch (e) {
      const err = e as Error & { detail?: string };
      crossed = `${err.message}\n${err.detail}`;
    }
    const p = plainError(crossed);
    expect(p.summary).toBe('“notes.lenet” is not a LeNet Studio model (it looks like text).');
    expect(p.detail).toBe(crossed);
    expect(p.detail).toMatch(/notes\.lenet: header length \d+ bytes is above the 16 MiB cap/);
    expect(p.code).toBe('MODEL_FOREIGN');
  });

  it('tells a ZIP (a PyTorch .pt) and a PNG apart from text', () => {
    const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 1, 2, 3]);
    expect(plainError(decodeError(zip, 'C:\\models\\net.pt')).summary).toBe(
      '“net.pt” is not a LeNet Studio model (it looks like a ZIP archive, such as a PyTorch .pt file).',
    );
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect(plainError(decodeError(png, '/tmp/digit.png')).summary).toBe('“digit.png” is not a LeNet Studio model (it looks like a PNG image).');
  });

  it('a file cut short', () => {
    const bytes = new Uint8Array(20);
    new DataView(bytes.buffer).setBigUint64(0, 100n, true);
    const p = plainError(decodeError(bytes, '/m/half.lenet'));
    expect(p.summary).toMatch(/^“half\.lenet” is incomplete/);
    expect(p.code).toBe('MODEL_TRUNCATED');
  });

  it('studio refusals and divergence in plain words, the message as detail', () => {
    expect(plainError('run 20260101-000000-abcd is still in progress; pause or cancel it first').summary).toBe(
      'Another run is still training: pause or cancel it first.',
    );
    expect(plainError('training diverged at epoch 1, batch 12: loss is NaN (try a smaller learning rate)').code).toBe('DIVERGED');
    const refused = plainError('refused to open /etc/passwd: the app did not offer this path (use a dialog, a drop or the recent list)');
    expect(refused.code).toBe('PATH_NOT_ALLOWED');
    expect(refused.summary).not.toContain('/etc');
  });

  it('shows a message no rule knows as it is, with no details', () => {
    expect(plainError('notes.txt: only .lenet model files can be dropped here')).toEqual({
      summary: 'notes.txt: only .lenet model files can be dropped here',
      detail: null,
      code: null,
    });
  });

  it('file names from POSIX and Windows paths', () => {
    expect(fileNameOf('/a/b/c.lenet')).toBe('c.lenet');
    expect(fileNameOf('C:\\x\\y.lenet')).toBe('y.lenet');
    expect(fileNameOf('plain')).toBe('plain');
  });

  it('looksLike reads the 8 bytes back from the length a reader took them for', () => {
    const asLength = (s: string): bigint => new DataView(text(s).buffer).getBigUint64(0, true);
    expect(looksLike(asLength('{"a": 1}'))).toBe('it looks like text');
    expect(looksLike(0xffffffffffffffffn)).toBeNull();
  });
});

describe('settings messages in the form’s words', () => {
  it('names the field by its label and says what it must be', () => {
    expect(fieldMessage('batchSize', 'a whole number from 1 to 4,096')).toBe('Batch size must be a whole number from 1 to 4,096.');
    const m = settingsMessages({ epochs: 1, batchSize: 0, lr: -1, momentum: 0, decay: 0, schedule: { type: 'constant' } }, null);
    expect(m).toEqual({ batchSize: 'Batch size must be a whole number from 1 to 4,096.', lr: 'Learning rate must be a number above 0, at most 1,000,000.' });
    for (const label of Object.values(SETTINGS_FIELD_LABELS)) expect(label).toMatch(/^[A-Z]/);
  });
});
