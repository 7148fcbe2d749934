import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileWriteError, type FsHandle, type FsLayer, checkNewFolder, checkOutputFile, mkdirs, nodeFs, writeFileAtomic } from '../../src/node/files';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-files-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function errnoError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** The real file system, except that the temp file's handle fails as told. */
interface Failures {
  write?: NodeJS.ErrnoException;
  sync?: NodeJS.ErrnoException;
  rename?: NodeJS.ErrnoException;
}

function failingFs(fail: Failures): FsLayer & { closed: number } {
  const layer = {
    closed: 0,
    async open(path: string, flags: 'wx' | 'r'): Promise<FsHandle> {
      const real = await nodeFs.open(path, flags);
      if (flags === 'r') return real;
      return {
        write: async (data) => {
          if (fail.write) {
            // Leave a partial temp file behind, as a real ENOSPC would.
            await real.write(data.subarray(0, 3));
            throw fail.write;
          }
          await real.write(data);
        },
        sync: async () => {
          if (fail.sync) throw fail.sync;
          await real.sync();
        },
        close: async () => {
          layer.closed++;
          await real.close();
        },
      };
    },
    rename: async (from: string, to: string) => {
      if (fail.rename) throw fail.rename;
      await nodeFs.rename(from, to);
    },
    unlink: (path: string) => nodeFs.unlink(path),
  };
  return layer;
}

describe('writeFileAtomic', () => {
  it('creates a file, then replaces its content', async () => {
    const target = join(dir, 'model.lenet');
    await writeFileAtomic(target, Uint8Array.of(1, 2, 3));
    expect(Array.from(await readFile(target))).toEqual([1, 2, 3]);
    await writeFileAtomic(target, 'new content ✓');
    expect(await readFile(target, 'utf8')).toBe('new content ✓');
    expect(await readdir(dir)).toEqual(['model.lenet']);
  });

  it.each<[string, Failures, string]>([
    ['write rejects with ENOSPC', { write: errnoError('ENOSPC', 'no space left on device, write') }, 'ENOSPC'],
    ['fsync rejects with EIO', { sync: errnoError('EIO', 'i/o error, fsync') }, 'EIO'],
    ['rename rejects with EXDEV', { rename: errnoError('EXDEV', 'cross-device link not permitted, rename') }, 'EXDEV'],
  ])('%s → FileWriteError, old content kept, no temp file left', async (_label, fail, code) => {
    const target = join(dir, 'model.lenet');
    await writeFile(target, 'old');
    const fsl = failingFs(fail);
    const err = await writeFileAtomic(target, 'new data', fsl).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FileWriteError);
    const fwe = err as FileWriteError;
    expect(fwe.code).toBe(code);
    expect(fwe.path).toBe(target);
    expect(fwe.message).toMatch(new RegExp(`^could not write ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${code}: `));
    expect(fwe.cause).toBe(fail.write ?? fail.sync ?? fail.rename);
    expect(fsl.closed).toBe(1);
    expect(await readFile(target, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['model.lenet']);
  });

  it('reports a missing folder with the target path and ENOENT', async () => {
    const target = join(dir, 'no-such-folder', 'model.lenet');
    const err = await writeFileAtomic(target, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileWriteError);
    expect((err as FileWriteError).code).toBe('ENOENT');
    expect((err as FileWriteError).message).toContain(`could not write ${target}: ENOENT`);
    // The path the caller asked for, never the temp file behind it.
    expect((err as FileWriteError).message).not.toMatch(/\.tmp/);
  });

  it('beforeRename sees the old target intact and the complete temp file beside it', async () => {
    const target = join(dir, 'runs.json');
    await writeFile(target, 'old');
    let seen: { target: string; others: string[]; tmpContent: string } | undefined;
    await writeFileAtomic(target, 'new', nodeFs, {
      beforeRename: async () => {
        const names = await readdir(dir);
        const others = names.filter((n) => n !== 'runs.json');
        seen = {
          target: await readFile(target, 'utf8'),
          others,
          tmpContent: others.length === 1 ? await readFile(join(dir, others[0]), 'utf8') : '',
        };
      },
    });
    expect(seen).toBeDefined();
    expect(seen?.target).toBe('old');
    expect(seen?.others).toHaveLength(1);
    expect(seen?.others[0]).toMatch(new RegExp(`^\\.runs\\.json\\.${process.pid}\\.[0-9a-f]+\\.tmp$`));
    expect(seen?.tmpContent).toBe('new');
    expect(await readFile(target, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['runs.json']);
  });

  it('a beforeRename that fails aborts the write and cleans up', async () => {
    const target = join(dir, 'a.txt');
    await writeFile(target, 'old');
    const err = await writeFileAtomic(target, 'new', nodeFs, {
      beforeRename: () => Promise.reject(errnoError('EINTR', 'interrupted')),
    }).catch((e: unknown) => e);
    expect((err as FileWriteError).code).toBe('EINTR');
    expect(await readFile(target, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['a.txt']);
  });

  it('concurrent writers each use their own temp file and the target ends whole', async () => {
    const target = join(dir, 'c.bin');
    const payloads = Array.from({ length: 8 }, (_, i) => new Uint8Array(64 * 1024).fill(i + 1));
    await Promise.all(payloads.map((p) => writeFileAtomic(target, p)));
    const final = await readFile(target);
    expect(final.length).toBe(64 * 1024);
    expect(final.every((b) => b === final[0])).toBe(true);
    expect(await readdir(dir)).toEqual(['c.bin']);
  });
});

/** Storage that refuses new files, as a read-only mount does (root can write anywhere else). */
const readOnlyFs: FsLayer = {
  ...nodeFs,
  open: (path, flags) => (flags === 'wx' ? Promise.reject(errnoError('EROFS', `read-only file system, open '${path}'`)) : nodeFs.open(path, flags)),
  mkdir: (path) => Promise.reject(errnoError('EROFS', `read-only file system, mkdir '${path}'`)),
};

const FAIL_FAST_MS = 5000;

describe('output paths checked before any work', () => {
  it('checkOutputFile: a missing folder, a file for a folder, a folder for the file, read-only storage, /proc', async () => {
    await writeFile(join(dir, 'plain'), 'x');
    const cases: [string, FsLayer, RegExp][] = [
      [join(dir, 'missing', 'm.lenet'), nodeFs, /^cannot write .*\/missing\/m\.lenet: the folder .*\/missing does not exist$/],
      [join(dir, 'plain', 'm.lenet'), nodeFs, /^cannot write .*\/plain\/m\.lenet: .*\/plain is not a folder$/],
      [dir, nodeFs, /: it is a folder$/],
      [join(dir, 'm.lenet'), readOnlyFs, /^cannot write .*\/m\.lenet: the folder .* does not take new files \(EROFS: read-only file system\)$/],
      ['/proc/m.lenet', nodeFs, /^cannot write \/proc\/m\.lenet: the folder \/proc does not take new files/],
    ];
    for (const [path, fsl, message] of cases) {
      const err = await checkOutputFile(path, fsl).catch((e: unknown) => e);
      expect(err, path).toBeInstanceOf(FileWriteError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toMatch(/\.tmp/);
    }
    await checkOutputFile(join(dir, 'ok.lenet'));
    expect((await readdir(dir)).sort()).toEqual(['plain']);
  });

  it('checkNewFolder: new or empty and writable, else one reason; it creates nothing', async () => {
    await writeFile(join(dir, 'plain'), 'x');
    await mkdir(join(dir, 'full'));
    await writeFile(join(dir, 'full', 'report.md'), 'x');
    await mkdir(join(dir, 'empty'));
    const cases: [string, FsLayer, RegExp][] = [
      [join(dir, 'plain'), nodeFs, /the study folder .*\/plain is a file; it must be a new or empty folder/],
      [join(dir, 'plain', 'sub'), nodeFs, /cannot create .*\/plain\/sub: .*\/plain is a file, not a folder/],
      [join(dir, 'full'), nodeFs, /the study folder .*\/full is not empty \(it holds report\.md\)/],
      [join(dir, 'empty'), readOnlyFs, /cannot write into the study folder .*\/empty: the folder does not take new files \(EROFS/],
      [join(dir, 'new', 'deeper'), readOnlyFs, /cannot create the study folder .*\/new\/deeper: the folder .* does not take new files \(EROFS/],
      ['/proc/study', nodeFs, /cannot create the study folder \/proc\/study: the folder \/proc does not take new files/],
    ];
    for (const [path, fsl, message] of cases) await expect(checkNewFolder(path, 'the study folder', fsl), path).rejects.toThrow(message);
    await checkNewFolder(join(dir, 'empty'), 'the study folder');
    await checkNewFolder(join(dir, 'new', 'deeper'), 'the study folder');
    expect((await readdir(dir)).sort()).toEqual(['empty', 'full', 'plain']);
    expect(await readdir(join(dir, 'empty'))).toEqual([]);
  });

  it(
    'mkdirs fails with the path instead of hanging on /proc (node’s recursive mkdir spins there), and undoes what it made',
    async () => {
      await expect(mkdirs('/proc/run')).rejects.toThrow(/^cannot create \/proc\/run: ENOENT/);
      const made = await mkdirs(join(dir, 'a', 'b', 'c'));
      expect(made).toEqual([join(dir, 'a'), join(dir, 'a', 'b'), join(dir, 'a', 'b', 'c')]);
      const failing: FsLayer = {
        ...nodeFs,
        mkdir: (p) => (p.endsWith('z') ? Promise.reject(errnoError('EROFS', 'read-only')) : mkdir(p).then(() => undefined)),
      };
      await expect(mkdirs(join(dir, 'x', 'y', 'z'), failing)).rejects.toThrow(/cannot create .*\/x\/y\/z: EROFS/);
      expect((await readdir(dir)).sort()).toEqual(['a']);
    },
    FAIL_FAST_MS,
  );
});
