// The logic behind `window.studio`: datasets, runs, models, recent lists and evaluation. Main
// wraps it in IPC handlers (plus dialogs, menus and the OS), the browser-test host in a
// WebSocket; both run this same code through `call`, which checks every argument first.
// Platform specifics come in as hooks.
//
// Trust: the renderer is treated as untrusted. It can name a run by id (checked against the
// pattern and the runs folder) and a file only if the studio handed that path out (paths.ts);
// it may have a file written only if the user chose it in a save dialog or the studio opened it
// as a `.lenet`. Every method has a bound on calls at once (limits.ts). Dataset loads run one
// after another and identical ones in flight share one load, so memory stays at two datasets.

import { mkdir } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { PRESETS } from '../../engine/presets';
import type { AppInfo, PresetInfo, StudioEvent } from '../../common/api';
import { type IpcArgs, parseArgs } from '../../common/api-schema';
import type { StudioMethod } from '../../common/channels';
import { RUN_ID_PATTERN, type DatasetInfo, type DatasetSlice, type Evaluation, type ModelPayload, type RunDetail, type RunSummary } from '../../common/records';
import { DEFAULT_SEED, type TrainSettings } from '../../common/settings';
import { describeDataset, loadMnist, type MnistData } from '../datasets';
import { nodeFs, removeStaleTempFiles, writeFileAtomic, type FsLayer } from '../files';
import { readRunModel } from '../runs/checkpoint';
import { buildRunConfig } from '../runs/config';
import { createRun, listRuns, markInterruptedRuns, newRunId, readRunConfig, readRunDetail, readRunSummary, writeRunStatus } from '../runs/folder';
import { RunFolderError } from '../runs/layout';
import { TrainerHost, type RunEvent, type SpawnTrainer } from '../trainer/host';
import { StudioError } from './errors';
import { CallLimiter } from './limits';
import { encodeModel, readModelFile, toPayload, type DecodedModel } from './models';
import { TrustedPaths } from './paths';
import type { DataMapPayload } from '../../common/records';
import { NoHistoryError, readRunDataMap } from '../runs/data-map';

export interface PlatformHooks {
  /** A folder picker for File → Open Dataset…; null when cancelled. */
  chooseDatasetFolder(): Promise<string | null>;
  /** A file picker for .lenet models; null when cancelled. */
  chooseModelFile(): Promise<string | null>;
  /** A save dialog; null when cancelled. */
  chooseSaveModelPath(defaultName: string): Promise<string | null>;
  /** A save dialog for an export (File → Export → ONNX…); null when cancelled. */
  chooseExportPath(defaultName: string, format: 'onnx'): Promise<string | null>;
  /** The OS's own recent documents (Electron's app.addRecentDocument). */
  addRecentDocument?(path: string): void;
  /** The recent lists changed (main rebuilds File → Open Recent). */
  recentChanged?(recent: { datasets: string[]; models: string[] }): void;
}

export interface StudioOptions {
  /** The app's data folder: runs/ and recent.json live here. */
  dataDir: string;
  /** Folder of the embedded MNIST (gzip IDX). */
  embeddedDatasetDir: string;
  app: { name: string; version: string; platform: string };
  hooks: PlatformHooks;
  spawnTrainer: SpawnTrainer;
  emit(e: StudioEvent): void;
  fs?: FsLayer;
  log?(message: string): void;
}

interface CurrentDataset {
  info: DatasetInfo;
  data: MnistData;
  /** The folder the trainer loads. */
  dir: string;
}

export class Studio {
  readonly trainer: TrainerHost;
  readonly runsDir: string;
  private current: CurrentDataset | null = null;
  /** Which load (folder and path) made `current`. */
  private currentKey: string | null = null;
  /** Settles when every dataset load asked for so far has settled (loads run one after another). */
  private datasetQueue: Promise<void> = Promise.resolve();
  /** The last dataset load asked for, while it is queued or running: an identical request shares it. */
  private datasetPending: { key: string; info: Promise<DatasetInfo> } | null = null;
  /** Dataset loads asked for so far. */
  private datasetAsked = 0;
  /** Why the last dataset load failed (for NO_DATASET), null after a success. */
  private datasetError: string | null = null;
  /** A startRun or continueRun between its busy check and the trainer taking the run. */
  private starting: string | null = null;
  private readonly limiter = new CallLimiter();
  private readonly paths: TrustedPaths;
  private readonly fsl: FsLayer;

  constructor(private readonly opts: StudioOptions) {
    this.runsDir = join(opts.dataDir, 'runs');
    this.fsl = opts.fs ?? nodeFs;
    this.paths = new TrustedPaths({
      dataDir: opts.dataDir,
      addRecentDocument: opts.hooks.addRecentDocument,
      recentChanged: opts.hooks.recentChanged,
      fs: opts.fs,
      log: (m) => this.log(m),
    });
    this.trainer = new TrainerHost(opts.spawnTrainer, {
      onEvent: (e) => void this.onTrainerEvent(e),
      onProtocolError: (m) => this.log(`trainer protocol error: ${m}`),
    });
  }

  private log(message: string): void {
    this.opts.log?.(message);
  }

  /** Starts loading the embedded dataset, loads the recent lists, marks runs a dead process left "running" as failed, starts the trainer. */
  async init(): Promise<void> {
    // First and at once, so a request that needs the dataset (startRun right after start) waits for this load.
    void this.useEmbeddedDataset().catch((e: unknown) => this.log(`embedded dataset: ${(e as Error).message}`));
    await mkdir(this.runsDir, { recursive: true });
    await this.paths.load();
    const marked = await markInterruptedRuns(this.runsDir, new Set(this.trainer.activeRuns()), this.fsl).catch((e: unknown) => {
      this.log(`could not check old runs: ${(e as Error).message}`);
      return [];
    });
    if (marked.length) this.log(`marked interrupted runs as failed: ${marked.join(', ')}`);
    void this.trainer.start().catch((e: unknown) => this.log(`trainer did not start: ${(e as Error).message}`));
  }

  async dispose(): Promise<void> {
    await this.trainer.stop();
  }

  // ---------------------------------------------------------------- dispatch

  /**
   * Validates raw arguments for `method` and calls it within the method's bound on calls at once
   * (limits.ts; beyond it StudioError BUSY): the one entry point for IPC and the test host.
   */
  async call<M extends StudioMethod>(method: M, raw: unknown[]): Promise<unknown> {
    // The bound comes first, so a flood is refused before its (up to 16 M-value) arguments are checked.
    return this.limiter
      .run(method, () => this.dispatch(method, parseArgs(method, raw)))
      .catch((e: unknown) => {
        throw withDetail(e);
      });
  }

  private dispatch<M extends StudioMethod>(method: M, args: IpcArgs<M>): Promise<unknown> {
    const table: { [K in StudioMethod]: (...a: IpcArgs<K>) => Promise<unknown> } = {
      appInfo: () => this.appInfo(),
      presets: () => this.presets(),
      dataset: () => this.dataset(),
      openDatasetDialog: () => this.openDatasetDialog(),
      openRecentDataset: (p) => this.openRecentDataset(p),
      useEmbeddedDataset: () => this.useEmbeddedDataset(),
      datasetImages: (split, start, count) => this.datasetImages(split, start, count),
      startRun: (preset, settings) => this.startRun(preset, settings),
      pauseRun: (id) => this.pauseRun(id),
      resumeRun: (id) => this.resumeRun(id),
      cancelRun: (id) => this.cancelRun(id),
      continueRun: (id) => this.continueRun(id),
      listRuns: () => this.listRuns(),
      getRun: (id) => this.getRun(id),
      runModel: (id, which) => this.runModel(id, which),
      openModelDialog: (importAs) => this.openModelDialog(importAs),
      openModelPath: (p) => this.openModelPath(p),
      openDroppedModel: (p) => this.openDroppedModel(p),
      saveModel: (m, saveAs) => this.saveModel(m, saveAs),
      exportModel: (m, format) => this.exportModel(m, format),
      recent: () => this.recent(),
      evaluateModel: (m) => this.evaluateModel(m),
      dataMap: (id) => this.dataMap(id),
    };
    return (table[method] as (...a: IpcArgs<M>) => Promise<unknown>)(...args);
  }

  // ---------------------------------------------------------------- app

  async appInfo(): Promise<AppInfo> {
    const ready = this.trainer.info ?? (await this.trainer.start().catch(() => null));
    return { ...this.opts.app, kernels: ready?.kernels ?? 'unavailable', threads: ready?.threads ?? 0 };
  }

  async presets(): Promise<PresetInfo[]> {
    return Object.values(PRESETS).map((p) => ({
      name: p.name,
      description: p.description,
      spec: p.spec,
      defaults: { ...p.defaults, seed: DEFAULT_SEED, shuffle: true },
    }));
  }

  // ---------------------------------------------------------------- datasets

  /**
   * Loads a dataset and makes it current. Loads run one after another, so at most one is in
   * memory besides the current one, and the last one asked for ends up current; asking again for
   * the load last asked for, while it is queued or running, shares it.
   */
  private loadDataset(dir: string, path: string | null): Promise<DatasetInfo> {
    const key = JSON.stringify([dir, path]);
    if (this.datasetPending?.key === key) return this.datasetPending.info;
    // Asking for the dataset already current, with nothing else queued, is the same load again.
    if (!this.datasetPending && this.current && this.currentKey === key) return Promise.resolve(this.current.info);
    const load = async (): Promise<DatasetInfo> => {
      let data: MnistData;
      try {
        data = await loadMnist(dir);
      } catch (e) {
        this.datasetError = (e as Error).message;
        throw e;
      }
      const ds = { info: describeDataset(data, path), data, dir };
      this.current = ds;
      this.currentKey = key;
      this.datasetError = null;
      if (path !== null) await this.paths.addRecent('datasets', path);
      this.opts.emit({ type: 'dataset-changed', dataset: ds.info });
      return ds.info;
    };
    this.datasetAsked++;
    const info = this.datasetQueue.then(load);
    const pending = { key, info };
    this.datasetPending = pending;
    this.datasetQueue = info.then(
      () => undefined,
      () => undefined,
    );
    void this.datasetQueue.then(() => {
      if (this.datasetPending === pending) this.datasetPending = null;
    });
    return info;
  }

  /** The current dataset once the loads asked for so far have settled; NO_DATASET (with the reason) only when there truly is none. */
  private async requireDataset(): Promise<CurrentDataset> {
    if (this.datasetAsked === 0) void this.useEmbeddedDataset().catch(() => undefined); // init() has not run
    for (;;) {
      const queue = this.datasetQueue;
      await queue;
      if (this.current) return this.current;
      if (queue === this.datasetQueue) break; // nothing new was asked for meanwhile
    }
    const why = this.datasetError ? ` (${this.datasetError})` : '';
    throw new StudioError('NO_DATASET', `no dataset is loaded${why}; open one with File → Open Dataset…`);
  }

  /** The current dataset; rejects with the loading error (naming the file) when there is none. */
  async dataset(): Promise<DatasetInfo> {
    if (this.datasetPending) return this.datasetPending.info;
    if (this.current) return this.current.info;
    return this.useEmbeddedDataset();
  }

  async openDatasetDialog(): Promise<DatasetInfo | null> {
    const dir = await this.opts.hooks.chooseDatasetFolder();
    if (dir === null) return null;
    this.paths.trust(dir);
    return this.loadDataset(resolve(dir), resolve(dir));
  }

  async openRecentDataset(path: string): Promise<DatasetInfo> {
    this.paths.require(path, 'datasets');
    return this.loadDataset(resolve(path), resolve(path));
  }

  async useEmbeddedDataset(): Promise<DatasetInfo> {
    return this.loadDataset(this.opts.embeddedDatasetDir, null);
  }

  async datasetImages(split: 'train' | 'test', start: number, count: number): Promise<DatasetSlice> {
    const { data } = await this.requireDataset();
    const set = split === 'train' ? data.train : data.test;
    const from = Math.min(start, set.count);
    const n = Math.min(count, set.count - from);
    const per = set.rows * set.cols;
    return { split, start: from, count: n, pixels: set.pixels.slice(from * per, (from + n) * per), labels: set.labels.slice(from, from + n) };
  }

  // ---------------------------------------------------------------- runs

  private runDir(runId: string): string {
    if (!RUN_ID_PATTERN.test(runId)) throw new StudioError('RUN_STATE', `"${runId}" is not a run id`);
    return join(this.runsDir, runId);
  }

  /**
   * Refuses a run while another is in progress or starting, then holds the start for `f`: a second
   * start while the first awaits its dataset, folder or trainer is refused before it makes a folder.
   */
  private async exclusiveStart<T>(what: string, f: () => Promise<T>): Promise<T> {
    if (this.starting !== null) throw new StudioError('RUN_BUSY', `${this.starting} is starting; wait until it runs, then pause or cancel it first`);
    const busy = this.trainer.activeRuns();
    if (busy.length) throw new StudioError('RUN_BUSY', `run ${busy[0]} is still in progress; pause or cancel it first`);
    this.starting = what;
    try {
      return await f();
    } finally {
      this.starting = null;
    }
  }

  async startRun(presetName: string, settings: TrainSettings): Promise<{ runId: string }> {
    const preset = Object.hasOwn(PRESETS, presetName) ? PRESETS[presetName] : undefined;
    if (!preset) throw new StudioError('UNKNOWN_PRESET', `unknown preset "${presetName}"`);
    return this.exclusiveStart('another run', async () => {
      const ds = await this.requireDataset();
      const runId = newRunId(preset.name);
      const config = buildRunConfig({ id: runId, preset, settings, dataset: ds.info });
      const dir = this.runDir(runId);
      await createRun(dir, config, this.fsl);
      await this.launch(runId, dir, ds.dir, false);
      return { runId };
    });
  }

  private async launch(runId: string, dir: string, datasetDir: string, resume: boolean): Promise<void> {
    try {
      await this.trainer.request({ type: 'train', runId, runDir: dir, datasetDir, resume });
    } catch (e) {
      const reason = `could not start: ${(e as Error).message}`;
      await writeRunStatus(dir, { status: 'failed', reason }, this.fsl).catch(() => undefined);
      this.opts.emit({ type: 'run-status', runId, status: 'failed', reason });
      throw e;
    }
    this.opts.emit({ type: 'run-status', runId, status: 'running' });
  }

  private requireActive(runId: string): void {
    if (!this.trainer.activeRuns().includes(runId)) throw new StudioError('RUN_STATE', `run ${runId} is not in progress`);
  }

  async pauseRun(runId: string): Promise<void> {
    this.requireActive(runId);
    await this.trainer.request({ type: 'pause', runId });
  }

  async resumeRun(runId: string): Promise<void> {
    this.requireActive(runId);
    await this.trainer.request({ type: 'resume', runId });
  }

  async cancelRun(runId: string): Promise<void> {
    this.requireActive(runId);
    await this.trainer.request({ type: 'cancel', runId });
  }

  async continueRun(runId: string): Promise<void> {
    const dir = this.runDir(runId);
    if (this.trainer.activeRuns().includes(runId)) throw new StudioError('RUN_STATE', `run ${runId} is already in progress`);
    await this.exclusiveStart(`run ${runId}`, async () => {
      const [config, summary] = await Promise.all([readRunConfig(dir), readRunSummary(dir)]);
      if (summary.status === 'done') throw new StudioError('RUN_STATE', `run ${runId} has finished all ${config.settings.epochs} epochs`);
      if (summary.status === 'diverged') {
        throw new StudioError('RUN_STATE', `run ${runId} diverged and would diverge again; start a new run with a smaller learning rate`);
      }
      const datasetDir = config.dataset.path ?? this.opts.embeddedDatasetDir;
      await removeStaleTempFiles(dir); // left by a trainer killed mid-save
      await this.launch(runId, dir, datasetDir, true);
    });
  }

  async listRuns(): Promise<RunSummary[]> {
    return listRuns(this.runsDir);
  }

  async getRun(runId: string): Promise<RunDetail> {
    return readRunDetail(this.runDir(runId));
  }

  async runModel(runId: string, which: 'latest' | 'best'): Promise<ModelPayload> {
    const dir = this.runDir(runId);
    const loaded = await readRunModel(dir, which);
    if (!loaded) {
      throw new RunFolderError(
        'RUN_NOT_FOUND',
        which === 'best' ? `run ${runId} has no best model yet (it needs a finished epoch and validation images)` : `run ${runId} has no checkpoint yet`,
      );
    }
    const epochsDone = (loaded.metrics as { history?: unknown[] } | undefined)?.history?.length ?? 0;
    return toPayload(loaded, { kind: 'run', runId, epoch: epochsDone });
  }

  private async onTrainerEvent(e: RunEvent): Promise<void> {
    switch (e.type) {
      case 'progress': {
        const { type: _t, ...rest } = e;
        this.opts.emit({ type: 'progress', ...rest });
        return;
      }
      case 'epoch':
        this.opts.emit({ type: 'epoch', runId: e.runId, metrics: e.metrics, confusion: e.confusion });
        return;
      case 'snapshot':
        this.opts.emit({ type: 'snapshot', runId: e.runId, epoch: e.epoch, params: e.params, buffers: e.buffers });
        return;
      case 'status':
        this.opts.emit({ type: 'run-status', runId: e.runId, status: e.status });
        return;
      case 'notice':
        this.log(`run ${e.runId}: ${e.message}`);
        this.opts.emit({ type: 'run-notice', runId: e.runId, message: e.message });
        return;
      case 'finished': {
        const status = e.reason;
        const reason = e.error?.message;
        if (e.reason === 'failed') {
          // The trainer may be gone (crash, OOM, kill): the run folder must still say so.
          await writeRunStatus(this.runDir(e.runId), { status, reason: reason ?? 'failed' }, this.fsl).catch((err: unknown) =>
            this.log(`could not mark run ${e.runId} failed: ${(err as Error).message}`),
          );
        }
        this.opts.emit(reason === undefined ? { type: 'run-status', runId: e.runId, status } : { type: 'run-status', runId: e.runId, status, reason });
        return;
      }
      default: {
        const never: never = e;
        this.log(`unhandled trainer event ${JSON.stringify(never)}`);
      }
    }
  }

  // ---------------------------------------------------------------- models

  /** The preset a foreign safetensors file is imported into first (the one chosen in the window). */
  private importAs: string | undefined;

  /**
   * The metadata of each .lenet opened or saved this session, by path: the window sends weights
   * only, and Save must not drop what the file said about its training (or a table's columns).
   */
  private readonly fileMeta = new Map<string, DecodedModel['meta']>();

  /** Reads a model from a path the app handed out. Only a file that opens as a `.lenet` may be saved back to (paths.ts). */
  private async openTrustedModel(path: string): Promise<ModelPayload> {
    const p = resolve(path);
    let loaded: Awaited<ReturnType<typeof readModelFile>>;
    try {
      loaded = await readModelFile(p, this.importAs, () => this.paths.removeRecent('models', p));
    } catch (e) {
      this.paths.revokeWrite(p);
      throw e;
    }
    if (loaded.native && p.toLowerCase().endsWith('.lenet')) this.paths.allowWrite(p);
    else this.paths.revokeWrite(p);
    if (loaded.native) this.fileMeta.set(p, loaded.meta);
    else this.fileMeta.delete(p);
    const payload = toPayload(loaded, { kind: 'file', path: p });
    await this.paths.addRecent('models', p);
    return payload;
  }

  async openModelDialog(importAs?: string): Promise<ModelPayload | null> {
    this.importAs = importAs;
    const path = await this.opts.hooks.chooseModelFile();
    if (path === null) return null;
    this.paths.trust(path);
    return this.openTrustedModel(path);
  }

  async openModelPath(path: string): Promise<ModelPayload> {
    this.paths.require(path, 'models');
    return this.openTrustedModel(path);
  }

  /** A path the preload resolved from a dropped File (the page cannot choose it). */
  async openDroppedModel(path: string): Promise<ModelPayload> {
    if (!isAbsolute(path)) throw new StudioError('PATH_NOT_ALLOWED', `a dropped file must have an absolute path, got ${path}`);
    this.paths.trust(path);
    return this.openTrustedModel(path);
  }

  /**
   * A model opened by the OS (command line, double-click forwarded by the single-instance lock,
   * macOS open-file, File → Open Recent): sent to the window as `model-opened`, or `error`.
   */
  async openFromOS(path: string): Promise<void> {
    this.paths.trust(path);
    try {
      this.opts.emit({ type: 'model-opened', model: await this.openTrustedModel(path) });
    } catch (e) {
      this.opts.emit({ type: 'error', message: (e as Error).message });
    }
  }

  /** A dataset folder chosen outside the window (File → Recent Datasets). */
  async openDatasetFromMenu(path: string): Promise<void> {
    try {
      if (path === '') await this.useEmbeddedDataset();
      else await this.openRecentDataset(path);
    } catch (e) {
      this.opts.emit({ type: 'error', message: (e as Error).message });
    }
  }

  /**
   * Save writes back without asking only to a file the studio may write (chosen in a save dialog,
   * or opened successfully as a `.lenet`, this session); any other source path, whatever the
   * renderer names, goes through the save dialog like Save As.
   */
  async saveModel(m: ModelPayload, saveAs: boolean): Promise<{ path: string } | null> {
    let training: unknown = null;
    let metrics: unknown = null;
    let dataset: string | undefined;
    let extra: Record<string, unknown> | undefined;
    const opened = m.source.kind === 'file' ? this.fileMeta.get(resolve(m.source.path)) : undefined;
    if (opened) ({ training, metrics, dataset, extra } = opened);
    if (m.source.kind === 'run') {
      const detail = await readRunDetail(this.runDir(m.source.runId)).catch(() => null);
      if (detail) {
        training = { ...detail.settings, runId: detail.id, epochsDone: m.source.epoch };
        metrics = { history: detail.epochs.slice(0, m.source.epoch) };
        dataset = detail.dataset.fingerprint;
      }
    }
    // Checked and encoded first (a broken model is refused before any dialog), off the event loop when large.
    const bytes = await encodeModel({
      kind: 'encode',
      format: 'lenet',
      spec: m.spec,
      params: m.params,
      buffers: m.buffers,
      meta: { preset: m.preset, training, metrics, dataset, extra },
    });
    let path: string | null = null;
    if (!saveAs && m.source.kind === 'file' && this.paths.isWritable(m.source.path)) path = m.source.path;
    if (path === null) {
      const suggested = m.source.kind === 'run' ? `${m.source.runId}-epoch${m.source.epoch}.lenet` : `${m.preset ?? 'model'}.lenet`;
      path = await this.opts.hooks.chooseSaveModelPath(suggested);
      if (path === null) return null;
      if (!path.toLowerCase().endsWith('.lenet')) path = `${path}.lenet`;
      this.paths.allowWrite(path);
    }
    path = resolve(path);
    await writeFileAtomic(path, bytes, this.fsl);
    this.fileMeta.set(path, { training, metrics, dataset, extra });
    this.paths.trust(path);
    await this.paths.addRecent('models', path);
    return { path };
  }

  async exportModel(m: ModelPayload, format: 'onnx'): Promise<{ path: string } | null> {
    // A table model's graph standardises raw rows with the statistics its file recorded.
    const opened = m.source.kind === 'file' ? this.fileMeta.get(resolve(m.source.path)) : undefined;
    const bytes = await encodeModel({
      kind: 'encode',
      format,
      spec: m.spec,
      params: m.params,
      buffers: m.buffers,
      meta: { preset: m.preset },
      table: opened?.extra?.csv,
    });
    const base = m.source.kind === 'run' ? `${m.source.runId}-epoch${m.source.epoch}` : basename(m.source.path).replace(/\.[^.]*$/, '');
    let path = await this.opts.hooks.chooseExportPath(`${base}.onnx`, format);
    if (path === null) return null;
    if (!path.toLowerCase().endsWith('.onnx')) path = `${path}.onnx`;
    path = resolve(path);
    await writeFileAtomic(path, bytes, this.fsl);
    return { path };
  }

  async evaluateModel(m: ModelPayload): Promise<Evaluation> {
    // Refuse a broken model here, with a clear message, before it crosses to the trainer.
    await encodeModel({ kind: 'encode', format: 'check', spec: m.spec, params: m.params, buffers: m.buffers });
    const ds = await this.requireDataset();
    const reply = await this.trainer.request({ type: 'evaluate', spec: m.spec, params: m.params, buffers: m.buffers, datasetDir: ds.dir });
    if (!reply.evaluation) throw new Error('internal error: the trainer sent no evaluation');
    return reply.evaluation;
  }

  async recent(): Promise<{ datasets: string[]; models: string[] }> {
    return this.paths.recent();
  }

  /**
   * A run's data map. The run's dataset must be the current one: the map's digits are drawn from
   * it, and a second dataset in memory only for the labels would cost ~55 MB.
   */
  async dataMap(runId: string): Promise<DataMapPayload> {
    const dir = this.runDir(runId);
    const ds = await this.requireDataset();
    const r = await readRunDataMap(dir, async (dataset) => {
      if (dataset.fingerprint !== ds.info.fingerprint) {
        throw new StudioError('NO_DATASET', `run ${runId} was trained on ${dataset.name}, not on ${ds.info.name}: open that dataset to see the run's data map`);
      }
      return ds.data.train.labels;
    }).catch((e: unknown) => {
      if (e instanceof NoHistoryError)
        throw new RunFolderError('RUN_NOT_FOUND', `run ${runId} recorded no per-sample history, which the data map is made from`);
      throw e;
    });
    return {
      runId,
      datasetFingerprint: r.dataset.fingerprint,
      firstEpoch: r.firstEpoch,
      lastEpoch: r.lastEpoch,
      count: r.fileCount,
      trained: r.trained,
      labels: ds.data.train.labels.slice(0, r.fileCount),
      confidence: r.map.confidence,
      variability: r.map.variability,
      correctness: r.map.correctness,
    };
  }
}

/**
 * Errors cross to the window as messages only: an error's technical detail (an engine error's
 * `detail`, e.g. the parser's words behind "x is not a LeNet Studio model") goes on the lines
 * after its message, where the window's error banner shows it under Details.
 */
function withDetail(e: unknown): unknown {
  const detail = (e as { detail?: unknown } | null)?.detail;
  if (e instanceof Error && typeof detail === 'string' && detail && !e.message.includes(detail)) e.message = `${e.message}\n${detail}`;
  return e;
}
