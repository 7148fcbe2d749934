// The paths the renderer may name: those the app handed out this session (a dialog, a drop the
// preload resolved, the OS) and the recent lists it keeps itself in recent.json. The renderer is
// untrusted; any other path is refused.
//
// Reading and writing are trusted apart. A path handed out for reading (a drop, the OS, a recent
// entry) may be read, never written: a dropped `victim.txt` that fails to open must not become
// the target of a Save. Only two kinds of path may be written without a dialog: one the user chose
// in a save dialog, and a `.lenet` file the app itself opened successfully as its own format (not
// a foreign file it imported), both this session. A failed open of a path takes its write trust
// away. Everything else the backend writes (recent.json, run folders) it places inside the app's
// data folder itself, under names the renderer cannot choose.

import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { arr, obj, str, type Schema } from '../../common/schema';
import { nodeFs, writeFileAtomic, type FsLayer } from '../files';
import { StudioError } from './errors';

export interface Recent {
  datasets: string[];
  models: string[];
}

const RECENT_MAX = 10;
const recentSchema: Schema<Recent> = obj<Recent>({ datasets: arr(str({ max: 4096 }), { max: 100 }), models: arr(str({ max: 4096 }), { max: 100 }) });

export interface TrustedPathsOptions {
  /** recent.json lives here. */
  dataDir: string;
  /** The OS's own recent documents (Electron's app.addRecentDocument). */
  addRecentDocument?(path: string): void;
  /** The recent lists changed (main rebuilds File → Open Recent). */
  recentChanged?(recent: Recent): void;
  fs?: FsLayer;
  log(message: string): void;
}

export class TrustedPaths {
  /** Absolute paths handed out by dialogs, drops and the OS this session. */
  private readonly trusted = new Set<string>();
  /** Absolute paths the studio may write without asking: chosen in a save dialog, or `.lenet` files it opened successfully, this session. */
  private readonly writable = new Set<string>();
  private recentList: Recent = { datasets: [], models: [] };
  private readonly fsl: FsLayer;

  constructor(private readonly opts: TrustedPathsOptions) {
    this.fsl = opts.fs ?? nodeFs;
  }

  trust(path: string): void {
    this.trusted.add(resolve(path));
  }

  /** A path chosen in a save dialog, or a `.lenet` file just opened successfully: a later Save may write it. */
  allowWrite(path: string): void {
    this.writable.add(resolve(path));
  }

  /** The file did not open (or not as a `.lenet`): a Save must ask again. */
  revokeWrite(path: string): void {
    this.writable.delete(resolve(path));
  }

  isWritable(path: string): boolean {
    return isAbsolute(path) && this.writable.has(resolve(path));
  }

  isTrusted(path: string, list: keyof Recent): boolean {
    if (!isAbsolute(path)) return false;
    const p = resolve(path);
    return this.trusted.has(p) || this.recentList[list].includes(p);
  }

  require(path: string, list: keyof Recent): void {
    if (!this.isTrusted(path, list)) {
      throw new StudioError('PATH_NOT_ALLOWED', `refused to open ${path}: the app did not offer this path (use a dialog, a drop or the recent list)`);
    }
  }

  private get recentFile(): string {
    return join(this.opts.dataDir, 'recent.json');
  }

  async load(): Promise<void> {
    try {
      const raw: unknown = JSON.parse(await readFile(this.recentFile, 'utf8'));
      const r = recentSchema.parse(raw, 'recent.json');
      this.recentList = { datasets: r.datasets.filter(isAbsolute).slice(0, RECENT_MAX), models: r.models.filter(isAbsolute).slice(0, RECENT_MAX) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.opts.log(`ignored unreadable ${this.recentFile}: ${(e as Error).message}`);
    }
  }

  private async save(): Promise<void> {
    this.opts.recentChanged?.(this.recent());
    await writeFileAtomic(this.recentFile, `${JSON.stringify(this.recentList, null, 2)}\n`, this.fsl).catch((e: unknown) =>
      this.opts.log(`could not save the recent lists: ${(e as Error).message}`),
    );
  }

  async addRecent(list: keyof Recent, path: string): Promise<void> {
    const p = resolve(path);
    this.recentList[list] = [p, ...this.recentList[list].filter((x) => x !== p)].slice(0, RECENT_MAX);
    if (list === 'models') this.opts.addRecentDocument?.(p);
    await this.save();
  }

  async removeRecent(list: keyof Recent, path: string): Promise<void> {
    if (!this.recentList[list].includes(path)) return;
    this.recentList[list] = this.recentList[list].filter((x) => x !== path);
    await this.save();
  }

  recent(): Recent {
    return { datasets: [...this.recentList.datasets], models: [...this.recentList.models] };
  }
}
