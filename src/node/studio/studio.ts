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
import { decodeModelFile } from '../../engine/formats/modelfile';
import { healthFlags } from '../../engine/health';
import { PRESETS } from '../../engine/presets';
import {
  ROBUSTNESS_EPS,
  ROBUSTNESS_IMAGES,
  ROBUSTNESS_PGD_STEPS,
  type AppInfo,
  type PresetInfo,
  type Projection,
  type ProjectionMethod,
  type RobustnessCurve,
  type RunHealth,
  type StudioEvent,
  type TestHistory,
} from '../../common/api';
import { type IpcArgs, parseArgs } from '../../common/api-schema';
import type { StudioMethod } from '../../common/channels';
import {
  RUN_ID_PATTERN,
  epochMetricsSchema,
  type DatasetInfo,
  type DatasetSlice,
  type Evaluation,
  type ModelPayload,
  type RunDetail,
  type RunNotes,
  type RunSummary,
} from '../../common/records';
import { DEFAULT_SEED, type TrainSettings } from '../../common/settings';
import { describeDataset, loadMnist, type MnistData } from '../datasets';
import { confidentLearning, rankedIssues, type LabelIssue } from '../../engine/data-lab/confident';
import { emptyOverlay, type LabelOverlay, type OverlayInfo } from '../../common/overlay';
import { LABEL_ISSUES_DEFAULTS, TOP_ISSUES, cacheFile, defaultCacheDir, readCachedProbabilities } from '../data-lab/label-issues';
import { RUN_OVERLAY_FILE, applyOverlay, canonicalOverlay, loadSavedOverlay, saveOverlay } from '../data-lab/overlay';
import { nodeFs, removeStaleTempFiles, writeFileAtomic, type FsLayer } from '../files';
import { readRunModel } from '../runs/checkpoint';
import { EPOCHS_DIR, epochFileName, listEpochFiles } from '../runs/epochs';
import { readHealth } from '../runs/health';
import { readSampleHistory } from '../runs/history';
import { buildRunConfig } from '../runs/config';
import { createRun, listRuns, markInterruptedRuns, newRunId, readRunConfig, readRunDetail, readRunSummary, writeRunStatus } from '../runs/folder';
import { collectRuns, deleteRunFolder, runsCsv, runsJson, updateRunNotes } from '../runs/manage';
import { RUN_FILES, RunFolderError, readBytes, readJson, type RunConfig } from '../runs/layout';
import { arr } from '../../common/schema';
import { TrainerHost, type RunEvent, type SpawnTrainer } from '../trainer/host';
import { StudioError } from './errors';
import { CallLimiter } from './limits';
import { encodeModel, readModelFile, toPayload, type DecodedModel } from './models';
import { TrustedPaths } from './paths';
import type { DataMapPayload } from '../../common/records';
import { NoHistoryError, readRunDataMap } from '../runs/data-map';
import { DEFAULT_WASM_PATH } from '../load-kernels';
import { StudioSweeps } from './sweeps';
import { ProjectionCache, projectionKey, projectOnWorker, UMAP_SEED, type ProgressFn, type ProjectionJob } from './projection';

export interface PlatformHooks {
  /** A folder picker for File → Open Dataset…; null when cancelled. */
  chooseDatasetFolder(): Promise<string | null>;
  /** A file picker for .lenet models; null when cancelled. */
  chooseModelFile(): Promise<string | null>;
  /** A save dialog; null when cancelled. */
  chooseSaveModelPath(defaultName: string): Promise<string | null>;
  /** A save dialog for an export (File → Export → ONNX…); null when cancelled. */
  chooseExportPath(defaultName: string, format: 'onnx'): Promise<string | null>;
  /** A save dialog for File → Export → All Runs (CSV or JSON); null when cancelled. Without it, exportRuns is refused. */
  chooseRunsExportPath?(defaultName: string, format: 'csv' | 'json'): Promise<string | null>;
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
  /** The compiled kernels (kernels.wasm) the embedding maps' worker loads; the source tree's build/wasm when absent. */
  wasmPath?: string;
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
  readonly sweeps: StudioSweeps;
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
    this.sweeps = new StudioSweeps({
      sweepsDir: join(opts.dataDir, 'sweeps'),
      runsDir: this.runsDir,
      dataset: async () => (await this.requireDataset()).info,
      startPlannedRun: (config, notes) => this.startPlannedRun(config, notes),
      continueRun: (id) => this.continueRun(id),
      cancelRun: (id) => this.cancelRun(id),
      isActive: (id) => this.trainer.activeRuns().includes(id),
      busy: () => {
        const active = this.trainer.activeRuns();
        if (active.length) return `run ${active[0]} is training`;
        return this.starting === null ? null : `${this.starting} is starting`;
      },
      changed: (sweep) => opts.emit({ type: 'sweep-changed', sweep }),
      error: (message) => {
        this.log(message);
        opts.emit({ type: 'error', message });
      },
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
    this.sweeps.dispose();
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
      updateRunNotes: (id, notes) => this.updateRunNotes(id, notes),
      deleteRun: (id) => this.deleteRun(id),
      exportRuns: (format) => this.exportRuns(format),
      runEpochs: (id) => this.runEpochs(id),
      runEpochModel: (id, epoch) => this.runEpochModel(id, epoch),
      runHealth: (id) => this.runHealth(id),
      runHistory: (id) => this.runHistory(id),
      embeddingProjection: (m, method) => this.embeddingProjection(m, method),
      runRobustness: (id, attack) => this.runRobustness(id, attack),
      cachedLabelIssues: () => this.cachedLabelIssues(),
      findLabelIssues: () => this.findLabelIssues(),
      cancelLabelIssues: () => this.cancelLabelIssues(),
      labelOverlay: () => this.labelOverlay(),
      saveLabelOverlay: (o) => this.saveLabelOverlay(o),
      startRunWithOverlay: (preset, settings) => this.startRunWithOverlay(preset, settings),
      dataMap: (id) => this.dataMap(id),
      listSweeps: () => this.sweeps.list(),
      startSweep: (request) => this.sweeps.start(request),
      stopSweep: (id) => this.sweeps.stop(id),
      resumeSweep: (id) => this.sweeps.resume(id),
      deleteSweep: (id) => this.sweeps.delete(id),
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

  /** A sweep's run (sweeps.ts): a planned configuration, its folder named by the sweep, with notes saying what it varies. */
  private async startPlannedRun(config: RunConfig, notes: RunNotes): Promise<void> {
    await this.exclusiveStart('a sweep run', async () => {
      const ds = await this.requireDataset();
      const dir = this.runDir(config.id);
      await createRun(dir, config, this.fsl);
      await updateRunNotes(dir, notes, this.fsl);
      await this.launch(config.id, dir, ds.dir, false);
    });
  }

  // ---------------------------------------------------------------- the data lab

  /** Whether a findLabelIssues call is waiting for the trainer (only then is there a finder to cancel). */
  private finding = false;

  private get labCacheDir(): string {
    return defaultCacheDir(this.opts.dataDir);
  }

  async cachedLabelIssues(): Promise<LabelIssue[] | null> {
    const { data } = await this.requireDataset();
    const s = LABEL_ISSUES_DEFAULTS;
    const probs = await readCachedProbabilities(cacheFile(this.labCacheDir, data.fingerprint, s), data.train.count);
    if (!probs) return null;
    return rankedIssues(confidentLearning(probs, data.train.labels, probs.length / Math.max(1, data.train.count)), data.train.labels, TOP_ISSUES);
  }

  async findLabelIssues(): Promise<LabelIssue[]> {
    const ds = await this.requireDataset();
    if (this.trainer.activeRuns().length)
      throw new StudioError('RUN_BUSY', `run ${this.trainer.activeRuns()[0]} is still in progress; the finder trains models too`);
    this.finding = true;
    try {
      const reply = await this.trainer.request({ type: 'label-issues', datasetDir: ds.dir, cacheDir: this.labCacheDir, ...LABEL_ISSUES_DEFAULTS });
      return reply.issues ?? [];
    } finally {
      this.finding = false;
    }
  }

  /** Stops a running finder (its findLabelIssues call then fails with code CANCELLED); nothing when none runs. */
  async cancelLabelIssues(): Promise<void> {
    if (!this.finding) return;
    await this.trainer.request({ type: 'label-issues-cancel' });
  }

  async labelOverlay(): Promise<LabelOverlay> {
    const { data } = await this.requireDataset();
    return (await loadSavedOverlay(this.opts.dataDir, data)) ?? emptyOverlay(data.fingerprint);
  }

  async saveLabelOverlay(overlay: LabelOverlay): Promise<OverlayInfo> {
    const { data } = await this.requireDataset();
    await saveOverlay(this.opts.dataDir, overlay, data);
    return applyOverlay(data, overlay).overlay;
  }

  async startRunWithOverlay(presetName: string, settings: TrainSettings): Promise<{ runId: string }> {
    const preset = Object.hasOwn(PRESETS, presetName) ? PRESETS[presetName] : undefined;
    if (!preset) throw new StudioError('UNKNOWN_PRESET', `unknown preset "${presetName}"`);
    return this.exclusiveStart('another run', async () => {
      const ds = await this.requireDataset();
      const overlay = await loadSavedOverlay(this.opts.dataDir, ds.data);
      if (!overlay) throw new StudioError('NO_DATASET', 'this dataset has no saved corrections; mark some digits in the Data lab first');
      const data = applyOverlay(ds.data, overlay);
      const runId = newRunId(preset.name);
      const config = buildRunConfig({ id: runId, preset, settings, dataset: { ...describeDataset(data, ds.info.path), overlay: data.overlay } });
      const dir = this.runDir(runId);
      await createRun(dir, config, this.fsl);
      // The run keeps its own copy: later corrections do not change what it trained on, or its resume.
      const copy = join(dir, RUN_OVERLAY_FILE);
      await writeFileAtomic(copy, `${JSON.stringify(canonicalOverlay(overlay))}\n`, this.fsl);
      await this.launch(runId, dir, ds.dir, false, copy);
      return { runId };
    });
  }

  private async launch(runId: string, dir: string, datasetDir: string, resume: boolean, overlay?: string): Promise<void> {
    try {
      await this.trainer.request({ type: 'train', runId, runDir: dir, datasetDir, resume, ...(overlay !== undefined ? { overlay } : {}) });
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
      // A run trained with a label overlay continues with the copy it keeps in its folder.
      await this.launch(runId, dir, datasetDir, true, config.dataset.overlay ? join(dir, RUN_OVERLAY_FILE) : undefined);
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

  // ---------------------------------------------------------------- a run's epochs (time machine)

  /** The run folder of an existing run (RUN_NOT_FOUND, in plain words, otherwise). */
  private async existingRun(runId: string): Promise<string> {
    const dir = this.runDir(runId);
    await readRunConfig(dir).catch((e: unknown) => {
      if (e instanceof RunFolderError && e.code === 'RUN_NOT_FOUND') throw new RunFolderError('RUN_NOT_FOUND', `there is no run ${runId}`);
      throw e;
    });
    return dir;
  }

  async runEpochs(runId: string): Promise<number[]> {
    return listEpochFiles(await this.existingRun(runId));
  }

  async runEpochModel(runId: string, epoch: number): Promise<ModelPayload> {
    const dir = await this.existingRun(runId);
    const file = join(dir, EPOCHS_DIR, epochFileName(epoch));
    const bytes = await readBytes(file);
    if (!bytes) {
      const kept = await listEpochFiles(dir);
      const which = kept.length ? `it keeps epoch${kept.length > 1 ? 's' : ''} ${kept.join(', ')}` : 'it keeps no per-epoch snapshots';
      throw new RunFolderError('RUN_NOT_FOUND', `run ${runId} has no snapshot of epoch ${epoch} (${which})`);
    }
    return toPayload(decodeModelFile(bytes, file), { kind: 'run', runId, epoch });
  }

  async runHealth(runId: string): Promise<RunHealth> {
    const dir = await this.existingRun(runId);
    const [epochs, history] = await Promise.all([readHealth(dir), readJson(dir, RUN_FILES.metrics, arr(epochMetricsSchema, { max: 10_000 }))]);
    const metrics = (history ?? []).map((m) => ({ epoch: m.epoch, lr: m.lr, trainLoss: m.trainLoss }));
    return { runId, epochs, flags: healthFlags(epochs, metrics), metrics };
  }

  async runHistory(runId: string): Promise<TestHistory> {
    const dir = await this.existingRun(runId);
    const [config, h] = await Promise.all([readRunConfig(dir), readSampleHistory(dir)]);
    if (!h || h.info.epochs === 0)
      throw new RunFolderError('RUN_NOT_FOUND', `run ${runId} recorded no per-sample history yet (it is written after each epoch)`);
    const ds = await this.requireDataset();
    const test = ds.data.test;
    if (ds.info.fingerprint !== config.dataset.fingerprint || test.count !== h.info.testCount) {
      throw new StudioError(
        'RUN_STATE',
        `run ${runId} was trained on ${config.dataset.name}, not on the dataset open now (${ds.info.name}); open that dataset to see its digits`,
      );
    }
    const { firstEpoch, epochs, testCount: count, classes } = h.info;
    const predicted = new Uint8Array(epochs * count);
    const probability = new Uint8Array(epochs * count);
    for (let i = 0; i < epochs; i++) {
      const e = h.epoch(firstEpoch + i);
      predicted.set(e.testPredicted, i * count);
      for (let j = 0; j < count; j++) probability[i * count + j] = Math.round(e.testProbability[j] * 255);
    }
    return { runId, firstEpoch, epochs, count, classes, labels: test.labels.slice(0, count), predicted, probability };
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
        await this.sweeps.runEnded(e.runId, status, reason).catch((err: unknown) => this.log(`sweep: ${(err as Error).message}`));
        return;
      }
      case 'label-issues-progress':
        this.opts.emit({ type: 'label-issues-progress', fraction: e.fraction });
        return;
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
    // The temperature on screen is the model's: applied in Evaluate, or kept from its file.
    if (m.temperature !== undefined) extra = { ...extra, calibration: { temperature: m.temperature } };
    else if (extra?.calibration !== undefined) extra = Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'calibration'));
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
      meta: { preset: m.preset, ...(m.temperature !== undefined ? { extra: { calibration: { temperature: m.temperature } } } : {}) },
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

  /** Curves already computed, by run, attack, dataset and a hash of the model's values. */
  private readonly robustnessCache = new Map<string, Promise<RobustnessCurve>>();

  async runRobustness(runId: string, attack: 'fgsm' | 'pgd'): Promise<RobustnessCurve> {
    const m = await this.runModel(runId, 'latest');
    const ds = await this.requireDataset();
    const key = `${runId}\n${attack}\n${ds.dir}\n${valuesHash(m.params)}:${valuesHash(m.buffers)}`;
    let p = this.robustnessCache.get(key);
    if (!p) {
      p = this.trainer
        .request({
          type: 'robustness',
          spec: m.spec,
          params: m.params,
          buffers: m.buffers,
          datasetDir: ds.dir,
          attack,
          eps: [...ROBUSTNESS_EPS],
          steps: ROBUSTNESS_PGD_STEPS,
          limit: ROBUSTNESS_IMAGES,
        })
        .then((reply) => {
          if (!reply.robustness) throw new Error('internal error: the trainer sent no robustness curve');
          return { runId, attack, count: Math.min(ROBUSTNESS_IMAGES, ds.data.test.count), points: reply.robustness };
        });
      this.robustnessCache.set(key, p);
      p.catch(() => this.robustnessCache.delete(key)); // a failure is not remembered
    }
    return p;
  }

  async recent(): Promise<{ datasets: string[]; models: string[] }> {
    return this.paths.recent();
  }

  // ---------------------------------------------------------------- runs the user manages

  async updateRunNotes(runId: string, notes: RunNotes): Promise<RunSummary> {
    const dir = this.runDir(runId);
    await updateRunNotes(dir, notes, this.fsl);
    return readRunSummary(dir);
  }

  /** Deletes a run's folder: refused while the app trains or starts it, or another process holds its lock. */
  async deleteRun(runId: string): Promise<void> {
    this.runDir(runId);
    const busy = (id: string): boolean => this.trainer.activeRuns().includes(id) || this.starting === `run ${id}`;
    await deleteRunFolder(this.runsDir, runId, busy);
  }

  async exportRuns(format: 'csv' | 'json'): Promise<{ path: string } | null> {
    const choose = this.opts.hooks.chooseRunsExportPath;
    if (!choose) throw new StudioError('PATH_NOT_ALLOWED', 'exporting runs needs a save dialog, which this window does not have');
    const runs = await collectRuns(this.runsDir);
    const text = format === 'csv' ? runsCsv(runs) : runsJson(runs);
    let path = await choose(`runs.${format}`, format);
    if (path === null) return null;
    if (!path.toLowerCase().endsWith(`.${format}`)) path = `${path}.${format}`;
    path = resolve(path);
    await writeFileAtomic(path, text, this.fsl);
    return { path };
  }

  // ---------------------------------------------------------------- embedding maps

  private projectionCache: ProjectionCache | null = null;
  /** Maps being computed, by key: asking again for one shares it. */
  private readonly projecting = new Map<string, Promise<Projection>>();

  async embeddingProjection(m: ModelPayload, method: ProjectionMethod): Promise<Projection> {
    await encodeModel({ kind: 'encode', format: 'check', spec: m.spec, params: m.params, buffers: m.buffers });
    const { data } = await this.requireDataset();
    const set = data.test;
    const job: ProjectionJob = {
      method,
      spec: m.spec,
      params: m.params,
      buffers: m.buffers,
      pixels: set.pixels,
      labels: set.labels,
      count: set.count,
      seed: UMAP_SEED,
      wasmPath: this.opts.wasmPath ?? DEFAULT_WASM_PATH,
    };
    const key = projectionKey(job, data.fingerprint, 'test');
    this.projectionCache ??= new ProjectionCache(join(this.opts.dataDir, 'projections'), this.fsl, (msg) => this.log(msg));
    const cache = this.projectionCache;
    const hit = await cache.get(key, method);
    if (hit) return hit;
    let pending = this.projecting.get(key);
    if (!pending) {
      const progress: ProgressFn = (phase, done, total) => this.opts.emit({ type: 'projection-progress', key, method, phase, done, total });
      pending = projectOnWorker(job, progress)
        .then(async (r) => {
          const p: Projection = {
            key,
            method,
            split: 'test',
            count: set.count,
            x: r.x,
            y: r.y,
            labels: set.labels.slice(),
            predictions: r.predictions,
            cached: false,
          };
          if (r.explained) p.explained = r.explained;
          await cache.put(p);
          return p;
        })
        .finally(() => this.projecting.delete(key));
      this.projecting.set(key, pending);
    }
    return pending;
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

/** FNV-1a over the bytes of a Float32Array: which model a cached result belongs to. */
function valuesHash(a: Float32Array): string {
  const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return (h >>> 0).toString(16);
}
