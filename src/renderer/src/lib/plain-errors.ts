// Errors in plain words: the banner leads with what happened, for a person, and keeps the
// technical message (path, offsets, caps) one click away. Errors cross IPC as messages only
// (their `code` is lost on the way), so each known message is recognised by its wording, named
// by the code that threw it (src/engine/errors.ts, src/node/studio/errors.ts) and given that
// code's plain sentence. A message no rule knows is shown as it is.

export interface PlainError {
  /** One sentence for the person at the screen. */
  summary: string;
  /** The message as the backend wrote it, when the summary differs from it; null otherwise. */
  detail: string | null;
  /** The error code the message was recognised as, or null. */
  code: string | null;
}

/** The last part of a path ("/a/b/model.lenet" → "model.lenet"), or the text as it is. */
export function fileNameOf(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

/** The file a message names first ("/a/b.lenet: …" → "b.lenet"), or null. */
function fileOf(message: string): string | null {
  const m = /^(?:refused to open )?((?:[A-Za-z]:)?[^\s:]*[\\/][^:]*?|[^\s:/\\]+\.[A-Za-z0-9]{1,12}): /.exec(message);
  return m ? fileNameOf(m[1]) : null;
}

/**
 * What the first 8 bytes of a file look like, from the header length a safetensors reader took
 * them for (a little-endian u64): text, a ZIP archive, an image… or null when they look like nothing.
 */
export function looksLike(headerLength: bigint): string | null {
  const bytes: number[] = [];
  for (let i = 0n; i < 8n; i++) bytes.push(Number((headerLength >> (8n * i)) & 0xffn));
  const ascii = String.fromCharCode(...bytes);
  if (ascii.startsWith('PK')) return 'it looks like a ZIP archive, such as a PyTorch .pt file';
  if (ascii.startsWith('\x89PNG')) return 'it looks like a PNG image';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'it looks like a JPEG image';
  if (ascii.startsWith('%PDF')) return 'it looks like a PDF document';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'it looks like a gzip archive';
  if (bytes.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))) return 'it looks like text';
  return null;
}

type Rule = { code: string; test: RegExp; plain: (file: string, m: RegExpExecArray) => string };

const THE_FILE = 'the file';

// First match wins: the specific before the general.
const RULES: Rule[] = [
  {
    code: 'DIVERGED',
    test: /training diverged|diverged and would diverge again/,
    plain: () => 'Training diverged: the loss stopped being a number. Try a smaller learning rate.',
  },
  {
    // The model reader's own plain sentence for a file that is not a model at all.
    code: 'MODEL_FOREIGN',
    test: /^(.+?) is not a LeNet Studio model \((it looks like [^)]*)\)$/,
    plain: (_f, m) => `“${fileNameOf(m[1])}” is not a LeNet Studio model (${m[2]}).`,
  },
  {
    code: 'MODEL_BAD_HEADER',
    test: /header length (\d+) bytes is above the .* cap/,
    plain: (f, m) => {
      const like = looksLike(BigInt(m[1]));
      return `${f} is not a LeNet Studio model${like ? ` (${like})` : ''}.`;
    },
  },
  {
    code: 'MODEL_FOREIGN',
    test: /is not a LeNet Studio model|without LeNet Studio metadata|no candidate network|not a safetensors file|safetensors header must be a JSON object|safetensors header (?:is|was) not|is not valid JSON/,
    plain: (f) => `${f} is not a LeNet Studio model.`,
  },
  {
    code: 'MODEL_TRUNCATED',
    test: /too short for a safetensors header|bytes but only \d+ bytes follow it|describes \d+ bytes of tensor data but the file holds/,
    plain: (f) => `${f} is incomplete: the model file ends early (was it copied or downloaded only in part?).`,
  },
  { code: 'MODEL_TRUNCATED', test: /does not exist/, plain: (f) => `${f} no longer exists; it was moved or deleted.` },
  { code: 'MODEL_TRUNCATED', test: /: not a (?:regular )?file$/, plain: (f) => `${f} is a folder or device, not a file.` },
  { code: 'DATASET_UNREADABLE', test: /could not read the file/, plain: (f) => `${f} could not be read (check that it is still there and you may open it).` },
  { code: 'TOO_LARGE', test: /is too large for a model file/, plain: (f) => `${f} is too large to be a LeNet Studio model.` },
  {
    code: 'MODEL_NOT_FINITE',
    test: /(?:holds|is) (?:NaN|-?Infinity)/,
    plain: () =>
      'The model holds values that are not numbers (NaN or infinity): it probably diverged while training. Use an earlier or the best epoch instead.',
  },
  {
    code: 'MODEL_MISMATCH',
    test: /tensors do not fit|has shape .*the model needs|\) is missing|does not belong to this model|LeNet Studio models hold F32 tensors only/,
    plain: (f) => `${f} holds weights for a different network than LeNet Studio's.`,
  },
  { code: 'BAD_MODEL', test: /^the model cannot be used/, plain: () => 'This model cannot be used: its weights do not fit its network.' },
  { code: 'IDX_BAD_MAGIC', test: /expected an IDX .* file/, plain: (f) => `${f} is not an MNIST data file (IDX format).` },
  {
    code: 'IDX_TRUNCATED',
    test: /too short for an IDX header|an IDX (?:image|label) header needs/,
    plain: (f) => `${f} is incomplete: the data file ends early.`,
  },
  { code: 'GZIP_CORRUPT', test: /gzip data is corrupt/, plain: (f) => `${f} is a damaged gzip file.` },
  { code: 'IDX_TOO_LARGE', test: /above the cap of|inflates to more than the cap/, plain: (f) => `${f} is larger than LeNet Studio accepts.` },
  { code: 'DATASET_NOT_FOUND', test: /^dataset folder .* is missing/, plain: () => 'The dataset folder does not hold the four MNIST files.' },
  { code: 'DATASET_NOT_FOUND', test: /: no such file$/, plain: (f) => `${f} does not exist.` },
  {
    code: 'PATH_NOT_ALLOWED',
    test: /the app did not offer this path|must have an absolute path/,
    plain: () => 'LeNet Studio opens only files you choose: use Open…, drop the file on the window or pick it from the recent list.',
  },
  { code: 'RUN_BUSY', test: /is still in progress; pause or cancel it first/, plain: () => 'Another run is still training: pause or cancel it first.' },
  { code: 'NO_DATASET', test: /^no dataset is loaded/, plain: () => 'No dataset is loaded: open one first (or use the embedded MNIST).' },
];

/** The plain sentence for an error message, with the message itself as the detail. */
export function plainError(message: string): PlainError {
  // The backend appends an error's technical detail, when it has one, on the lines after its message.
  const first = message.split('\n', 1)[0];
  for (const rule of RULES) {
    const m = rule.test.exec(first);
    if (!m) continue;
    const file = fileOf(first);
    const summary = rule.plain(file ? `“${file}”` : THE_FILE, m);
    return { summary: summary.charAt(0).toUpperCase() + summary.slice(1), detail: message, code: rule.code };
  }
  return { summary: message, detail: null, code: null };
}
