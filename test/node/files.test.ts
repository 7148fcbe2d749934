import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileWriteError, type FsHandle, type FsLayer, nodeFs, writeFileAtomic } from '../../src/node/files';

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
