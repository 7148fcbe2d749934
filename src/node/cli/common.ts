// What every command-line tool shares: flag parsing with clear errors, one-line error reports
// for user mistakes (stack traces only for bugs), and number formatting.

import { readFile, stat } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_AUGMENT, type AugmentConfig } from '../../engine/augment';
import { EngineError } from '../../engine/errors';
import { MAX_MODEL_FILE_BYTES, decodeModelFile, type LoadedModel } from '../../engine/formats/modelfile';
import type { Kernels } from '../../engine/kernels/types';
import type { TrainDefaults } from '../../engine/presets';
import { parseSchedule, type Schedule } from '../../engine/schedule';
import type { ModelSpec } from '../../engine/spec';
import { LIMITS, describeRange, inRange, validateSchedule, type Range } from '../../engine/train-config';
import { DEFAULT_SEED, type TrainSettings } from '../../common/settings';
import { FileWriteError, osReason } from '../files';
import { KernelsError } from '../load-kernels';
import { RunFolderError } from '../runs/layout';

/** A mistake in how the command was called: reported with a pointer to --help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A user-level failure that is not about how the command was called (a missing file, say). */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `--epochs -1` as `--epochs=-1`: node's parser takes a value that starts with a dash for a
 * forgotten argument ("argument is ambiguous"), so a negative number never reached the range
 * check that says what is wrong with it.
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = a.startsWith('--') ? a.slice(2) : a.length === 2 && a[0] === '-' ? Object.keys(options).find((k) => options[k].short === a[1]) : undefined;
    const next = argv[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-(?:\d|\.\d|inf|Infinity|nan)/i.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

export function parseFlags<T extends Options>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals, strict: true });
  } catch (e) {
    // node's messages are good but long; keep the first sentence.
    throw new UsageError((e as Error).message.split('\n')[0].replace(/\. To specify.*$/, ''));
  }
}

export function intFlag(value: string | undefined, flag: string, lo: number, hi: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < lo || n > hi) {
    throw new UsageError(`${flag} must be an integer in ${lo}..${hi}, got "${value}"`);
  }
  return n;
}

export function numFlag(value: string | undefined, flag: string, lo: number, hi: number, loOpen = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n > hi || n < lo || (loOpen && n === lo)) {
    throw new UsageError(`${flag} must be a number ${loOpen ? '>' : '≥'} ${lo} and ≤ ${hi}, got "${value}"`);
  }
  return n;
}

// ---------------------------------------------------------------- stdout closed early

const stdoutClosedHandlers = new Set<() => void>();
let stdoutWatched = false;

/**
 * `npm run -s evaluate -- M --json | head`: when the reader closes the pipe, the next write fails
 * with EPIPE. The command then ends quietly (no stack trace, exit status unchanged, 0 by default)
 * instead of crashing on an unhandled 'error' event. A command with something to finish first
 * (train saving its checkpoint) registers `onClosed` and ends itself; stdout writes are dropped
 * from then on. runCli calls this for every command; calling it again is harmless.
 */
export function endQuietlyWhenStdoutCloses(): void {
  if (stdoutWatched) return;
  stdoutWatched = true;
  let closed = false;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (closed) return;
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
    closed = true;
    // Later writes would fail again: swallow them.
    process.stdout.write = (() => true) as typeof process.stdout.write;
    if (stdoutClosedHandlers.size === 0) process.exit(process.exitCode ?? 0);
    for (const h of stdoutClosedHandlers) h();
  });
}

/** While registered, a closed stdout calls `handler` instead of ending the process; returns the unregister function. */
export function onStdoutClosed(handler: () => void): () => void {
  stdoutClosedHandlers.add(handler);
  return () => stdoutClosedHandlers.delete(handler);
}

/** Runs a CLI main: user errors become one line on stderr and exit code 1 (usage: 2). */
export async function runCli(name: string, main: () => Promise<void>): Promise<void> {
  endQuietlyWhenStdoutCloses();
  try {
    await main();
  } catch (e) {
    if (e instanceof UsageError || (e instanceof KernelsError && e.usage)) {
      process.stderr.write(`${name}: ${e.message}\nTry '${name} --help'.\n`);
      process.exitCode = 2;
    } else if (e instanceof EngineError || e instanceof FileWriteError || e instanceof CliError || e instanceof RunFolderError || e instanceof KernelsError) {
      process.stderr.write(`${name}: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`${name}: internal error, please report it:\n${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 70;
    }
  }
}

/** The model is built on `kernels` (default: the TypeScript ones, for a model read as data; see decodeModelFile). */
export async function readModel(path: string, fallbackSpec?: ModelSpec, kernels?: Kernels): Promise<LoadedModel> {
  let bytes: Uint8Array;
  try {
    // The size first: a file larger than any model within the caps is refused before it is read.
    const st = await stat(path);
    if (!st.isFile()) throw new CliError(`model file ${path} is not a file`);
    if (st.size > MAX_MODEL_FILE_BYTES) {
      throw new CliError(
        `${path} is too large for a model file: ${thousands(st.size)} bytes, the largest model within the caps is ${thousands(MAX_MODEL_FILE_BYTES)}`,
      );
    }
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `model file ${path} does not exist` : `cannot read model file ${path}: ${(e as Error).message}`);
  }
  return decodeModelFile(bytes, path, fallbackSpec, kernels);
}

export function pct(x: number, digits = 2): string {
  return `${(100 * x).toFixed(digits)}%`;
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const pad = (v: number): string => String(v).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m % 60)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A one-line progress bar on a terminal's stderr, redrawn at most ~10 times a second. */
export class ProgressBar {
  private last = 0;
  private readonly enabled: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.enabled = Boolean(stream.isTTY);
  }

  update(text: () => string, force = false): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const width = this.stream.columns || 100;
    this.stream.write(
      `\r${text()
        .slice(0, width - 1)
        .padEnd(width - 1)}`,
    );
  }

  clear(): void {
    if (this.enabled) this.stream.write(`\r${' '.repeat((this.stream.columns || 100) - 1)}\r`);
  }
}

export function bar(fraction: number, width = 24): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

/** The augmentation flags `train` and `experiments` share. */
export const AUGMENT_OPTIONS = {
  augment: { type: 'boolean' },
  shift: { type: 'string' },
  rotate: { type: 'string' },
  scale: { type: 'string' },
  elastic: { type: 'string' },
} as const satisfies Options;

/** The run settings a command that plans runs takes from `train`'s flags (experiments seeds, sweep). */
export const RUN_SETTINGS_OPTIONS = {
  seed: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  decay: { type: 'string' },
  schedule: { type: 'string' },
  limit: { type: 'string' },
  validation: { type: 'string' },
  threads: { type: 'string' },
  data: { type: 'string' },
  ...AUGMENT_OPTIONS,
  'no-augment': { type: 'boolean' },
} as const satisfies Options;

const fmtRange = (r: Range): string => `${r.min}..${r.max}`;

export const AUGMENT_HELP = `  --augment          distort every training image at random, as LeCun et al. did: a shift, a
                     rotation and a change of size about the centre, resampled bilinearly
                     (default ±${DEFAULT_AUGMENT.shift} px, ±${DEFAULT_AUGMENT.rotateDeg}°, ±${100 * DEFAULT_AUGMENT.scale} %); drawn from the run's seed
  --shift PX         largest shift in pixels, ${fmtRange(LIMITS.shift)} (implies --augment)
  --rotate DEG       largest rotation in degrees, ${fmtRange(LIMITS.rotateDeg)} (implies --augment)
  --scale F          largest change of size as a fraction, ${fmtRange(LIMITS.scale)} (implies --augment)
  --elastic PX       largest elastic displacement in pixels, ${fmtRange(LIMITS.elastic)}: a smooth random warp
                     of each digit (Simard et al. 2003; default 0, none; implies --augment)`;

export const NO_AUGMENT_HELP = `  --no-augment       train on the images as they are, also with a preset that distorts them`;

/**
 * The distortions the flags ask for over `base`, a preset's own (null: it has none): `base` when
 * no flag is given; null with --no-augment; otherwise `base` (or --augment's defaults) with the
 * strengths given in place.
 */
export function augmentFromFlags(
  f: { augment?: boolean; 'no-augment'?: boolean; shift?: string; rotate?: string; scale?: string; elastic?: string },
  base: AugmentConfig | null = null,
): AugmentConfig | null {
  const given = f.augment || f.shift !== undefined || f.rotate !== undefined || f.scale !== undefined || f.elastic !== undefined;
  if (f['no-augment']) {
    if (given) throw new UsageError('--no-augment cannot be combined with --augment, --shift, --rotate, --scale or --elastic');
    return null;
  }
  if (!given) return base ? { ...base } : null;
  const from = base ?? DEFAULT_AUGMENT;
  const a: AugmentConfig = {
    shift: rangeFlag(f.shift, '--shift', LIMITS.shift) ?? from.shift,
    rotateDeg: rangeFlag(f.rotate, '--rotate', LIMITS.rotateDeg) ?? from.rotateDeg,
    scale: rangeFlag(f.scale, '--scale', LIMITS.scale) ?? from.scale,
  };
  const elastic = rangeFlag(f.elastic, '--elastic', LIMITS.elastic) ?? from.elastic ?? 0;
  if (elastic > 0) a.elastic = elastic;
  return a;
}

/** The hyper-parameter flags `train` and `train --csv` share. */
export interface HyperFlags {
  epochs?: string;
  batch?: string;
  lr?: string;
  momentum?: string;
  decay?: string;
  schedule?: string;
  seed?: string;
}

/** A number flag checked against one of the engine's limits, with the same words as the form and the schema. */
export function rangeFlag(value: string | undefined, flag: string, r: Range): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!inRange(n, r)) throw new UsageError(`${flag} must be ${describeRange(r)}, got "${value}"`);
  return n;
}

/** --schedule: a bad value is a bad option (exit 2), said with the flag's name. */
export function scheduleFlag(value: string | undefined): Schedule | undefined {
  if (value === undefined) return undefined;
  try {
    return validateSchedule(parseSchedule(value));
  } catch (e) {
    if (e instanceof EngineError) throw new UsageError(`--schedule: ${e.message}`);
    throw e;
  }
}

/**
 * --data: the folder must exist and be a folder; said at once, with the flag, rather than as a
 * missing file inside it. undefined (the bundled MNIST) passes.
 */
export async function dataFlag(value: string | undefined): Promise<void> {
  if (value === undefined) return;
  let isDir: boolean;
  try {
    isDir = (await stat(value)).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CliError(`--data: the folder ${value} does not exist`);
    throw new CliError(`--data: cannot read ${value}: ${osReason(e)}`);
  }
  if (!isDir) throw new CliError(`--data: ${value} is a file; give the folder that holds the MNIST IDX files`);
}

/** --epochs … --seed over a preset's defaults: the TrainSettings the flags ask for. */
export function settingsFromFlags(f: HyperFlags, d: TrainDefaults): TrainSettings {
  return {
    epochs: rangeFlag(f.epochs, '--epochs', LIMITS.epochs) ?? d.epochs,
    batchSize: rangeFlag(f.batch, '--batch', LIMITS.batchSize) ?? d.batchSize,
    lr: rangeFlag(f.lr, '--lr', LIMITS.lr) ?? d.lr,
    momentum: rangeFlag(f.momentum, '--momentum', LIMITS.momentum) ?? d.momentum,
    decay: rangeFlag(f.decay, '--decay', LIMITS.decay) ?? d.decay,
    schedule: scheduleFlag(f.schedule) ?? { ...d.schedule },
    seed: rangeFlag(f.seed, '--seed', LIMITS.seed) ?? DEFAULT_SEED,
  };
}
