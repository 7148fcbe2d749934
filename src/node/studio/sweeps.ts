// The app's sweeps: a queue of ordinary runs in the app's runs folder, kept as sweep.json under
// <data>/sweeps/<id>/ (the CLI's queue format, node/runs/sweep-file.ts). One sweep trains at a
// time, one run after another on the studio's trainer: when a run of the active sweep finishes,
// its result goes into the queue and the next run starts. Stop cancels the run training (it keeps
// its checkpoint and stays marked running); Resume continues that run from its checkpoint, or
// starts it again when it has none, then the rest. Nothing starts on its own after a restart: the
// sweep shows as stopped until the user resumes it.

import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PRESETS } from '../../engine/presets';
import type { SweepInfo, SweepRequest } from '../../common/api';
import { RUN_ID_PATTERN, RUN_NOTES_LIMITS, type DatasetInfo, type RunNotes, type RunState } from '../../common/records';
import { DEFAULT_SEED, type TrainSettings } from '../../common/settings';
import { APP_SWEEP_LIMITS, SweepError, configLabel, parseAxis, summarizeSweep, sweepRunOutcome, type SweepFile, type SweepRun } from '../../common/sweep';
import { hasCheckpoint } from '../runs/checkpoint';
import { newRunId, readRunDetail } from '../runs/folder';
import type { RunConfig } from '../runs/layout';
import { newSweep, planRun, readSweep, runName, writeSweep } from '../runs/sweep-file';
import { StudioError } from './errors';

/** What the sweeps need of the studio. */
export interface SweepHost {
  sweepsDir: string;
  runsDir: string;
  /** The current dataset (NO_DATASET when there is none). */
  dataset(): Promise<DatasetInfo>;
  /** Creates the run folder (with these notes) and starts training it; refused while another run is in progress. */
  startPlannedRun(config: RunConfig, notes: RunNotes): Promise<void>;
  /** Continues a stopped run from its checkpoint (the studio's continueRun). */
  continueRun(runId: string): Promise<void>;
  cancelRun(runId: string): Promise<void>;
  /** Whether the trainer is training this run. */
  isActive(runId: string): boolean;
  /** Why no run may start now (one is training or starting), or null. */
  busy(): string | null;
  changed(info: SweepInfo): void;
  error(message: string): void;
}

interface Active {
  id: string;
  sweep: SweepFile;
  /** The run of it that the trainer is training, or is being started. */
  current: string | null;
}

export class StudioSweeps {
  private active: Active | null = null;
  /** Why a sweep stopped on its own (a run could not start), by id, until it is resumed. */
  private readonly stopReasons = new Map<string, string>();

  constructor(private readonly host: SweepHost) {}

  private dir(id: string): string {
    if (!RUN_ID_PATTERN.test(id)) throw new StudioError('RUN_STATE', `"${id}" is not a sweep id`);
    return join(this.host.sweepsDir, id);
  }

  private info(id: string, sweep: SweepFile): SweepInfo {
    const summary = summarizeSweep(sweep);
    const state = this.active?.id === id ? 'running' : summary.done === summary.total ? 'done' : 'stopped';
    const reason = this.stopReasons.get(id);
    return reason === undefined ? { id, state, sweep, summary } : { id, state, sweep, summary, reason };
  }

  private async read(id: string): Promise<SweepFile> {
    if (this.active?.id === id) return this.active.sweep;
    try {
      return await readSweep(this.dir(id));
    } catch (e) {
      if (e instanceof SweepError) throw new StudioError('RUN_STATE', e.message.replace(this.host.sweepsDir, 'the sweeps folder'));
      throw e;
    }
  }

  /** Every sweep in the sweeps folder, newest first; an unreadable one is left out (and logged by the caller's error hook). */
  async list(): Promise<SweepInfo[]> {
    await mkdir(this.host.sweepsDir, { recursive: true });
    const ids = (await readdir(this.host.sweepsDir, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && RUN_ID_PATTERN.test(d.name))
      .map((d) => d.name)
      .sort()
      .reverse();
    const out: SweepInfo[] = [];
    for (const id of ids) {
      const sweep = await this.read(id).catch(() => null);
      if (sweep) out.push(this.info(id, sweep));
    }
    return out;
  }

  async start(r: SweepRequest): Promise<SweepInfo> {
    if (!Object.hasOwn(PRESETS, r.preset)) throw new StudioError('UNKNOWN_PRESET', `unknown preset "${r.preset}"`);
    if (this.active) throw new StudioError('RUN_BUSY', 'a sweep is already training; stop it first');
    this.refuseWhileBusy();
    let sweep: SweepFile;
    const dataset = await this.host.dataset();
    try {
      const axes = r.axes.map(parseAxis);
      if (axes.length === 0) throw new SweepError('choose at least one setting to sweep');
      const { seed: first, ...base } = r.settings;
      const seed = first ?? DEFAULT_SEED;
      sweep = newSweep({
        axes,
        random: r.random,
        seeds: Array.from({ length: r.seeds }, (_, i) => seed + i),
        threads: 0,
        dataPath: dataset.path,
        basePreset: r.preset,
        baseFor: (p) => (p === r.preset ? { ...base, seed } : otherPresetBase(p, r.settings)),
      });
    } catch (e) {
      if (e instanceof SweepError) throw new StudioError('BAD_SWEEP', e.message);
      throw e;
    }
    if (sweep.configs.length > APP_SWEEP_LIMITS.configs) {
      throw new StudioError('BAD_SWEEP', `the sweep has ${sweep.configs.length} configurations; the app trains at most ${APP_SWEEP_LIMITS.configs}`);
    }
    const id = newRunId('sweep');
    await mkdir(this.dir(id), { recursive: true });
    await writeSweep(this.dir(id), sweep);
    const a: Active = { id, sweep, current: null };
    this.active = a;
    await this.advance(a, true);
    return this.info(id, sweep);
  }

  async resume(id: string): Promise<void> {
    if (this.active?.id === id) return;
    if (this.active) throw new StudioError('RUN_BUSY', 'another sweep is training; stop it first');
    this.refuseWhileBusy();
    const sweep = await this.read(id);
    const dataset = await this.host.dataset();
    if (dataset.path !== sweep.dataPath) {
      throw new StudioError('NO_DATASET', `this sweep trains on ${sweep.dataPath ?? 'the embedded MNIST'}; open that dataset first`);
    }
    this.stopReasons.delete(id);
    const a: Active = { id, sweep, current: null };
    this.active = a;
    await this.advance(a, true);
  }

  private refuseWhileBusy(): void {
    const why = this.host.busy();
    if (why !== null) throw new StudioError('RUN_BUSY', `${why}; a sweep can start when it ends`);
  }

  /** Stopped while its run was starting: that run is cancelled as soon as it trains. */
  private async letGo(a: Active, runId: string): Promise<void> {
    if (this.active !== a && this.host.isActive(runId)) await this.host.cancelRun(runId);
  }

  /** Stops the sweep: the run training is cancelled (its checkpoint kept, to be continued on Resume). */
  async stop(id: string): Promise<void> {
    const a = this.active;
    if (a?.id !== id) return;
    this.active = null;
    const current = a.current;
    this.host.changed(this.info(id, a.sweep));
    if (current !== null && this.host.isActive(current)) await this.host.cancelRun(current);
  }

  /** The app is quitting: the sweep lets go of its run (stopped by the trainer's shutdown) and stays as it is on disk, to be resumed. */
  dispose(): void {
    this.active = null;
  }

  /** Deletes a sweep's queue file and folder; its runs stay in the runs folder. */
  async delete(id: string): Promise<void> {
    if (this.active?.id === id) throw new StudioError('RUN_BUSY', 'the sweep is training; stop it first');
    await this.read(id); // a clear error when there is no such sweep
    await rm(this.dir(id), { recursive: true, force: true });
    this.stopReasons.delete(id);
  }

  /** A run the trainer finished: the active sweep's result, and its next run. */
  async runEnded(runId: string, status: RunState, reason?: string): Promise<void> {
    const a = this.active;
    if (!a || a.current !== runId) return;
    a.current = null;
    const r = a.sweep.configs.flatMap((c) => c.runs).find((x) => x.runId === runId);
    if (!r) return;
    if (status === 'cancelled') {
      // Cancelled in the Train view: the sweep stops there, the run stays marked running.
      this.active = null;
      this.host.changed(this.info(a.id, a.sweep));
      return;
    }
    await this.record(a, r, status, reason);
    await this.advance(a, false);
  }

  private async record(a: Active, r: SweepRun, status: RunState, reason?: string): Promise<void> {
    const detail = await readRunDetail(join(this.host.runsDir, r.runId)).catch(() => null);
    r.status = status === 'done' ? 'done' : status === 'diverged' ? 'diverged' : 'error';
    Object.assign(r, sweepRunOutcome(detail?.epochs ?? []));
    const why = reason ?? detail?.reason;
    if (why !== undefined) r.reason = why;
    await writeSweep(this.dir(a.id), a.sweep);
    this.host.changed(this.info(a.id, a.sweep));
  }

  /**
   * Starts the first run of `a` that has not ended, or ends the sweep when none is left. A start
   * refused or failed stops the sweep with the reason; `rethrow` passes it to the caller (Start,
   * Resume), otherwise the window hears of it as an error.
   */
  private async advance(a: Active, rethrow: boolean): Promise<void> {
    try {
      for (;;) {
        if (this.active !== a) return;
        const c = a.sweep.configs.find((x) => x.runs.some((r) => r.status === 'pending' || r.status === 'running'));
        if (!c) {
          this.active = null;
          this.host.changed(this.info(a.id, a.sweep));
          return;
        }
        const r = c.runs.find((x) => x.status === 'pending' || x.status === 'running')!;
        const ci = a.sweep.configs.indexOf(c);
        if (r.status === 'running') {
          const dir = join(this.host.runsDir, r.runId);
          const detail = await readRunDetail(dir).catch(() => null);
          if (detail && (detail.status === 'done' || detail.status === 'diverged')) {
            await this.record(a, r, detail.status); // it ended while the window was not listening
            continue;
          }
          if (detail && (await hasCheckpoint(dir))) {
            a.current = r.runId;
            this.host.changed(this.info(a.id, a.sweep));
            await this.host.continueRun(r.runId);
            await this.letGo(a, r.runId);
            return;
          }
          r.runId = runName(ci, a.sweep.configs.length, r.seed); // nothing to continue: a new folder
        }
        r.status = 'running';
        a.current = r.runId;
        await writeSweep(this.dir(a.id), a.sweep);
        this.host.changed(this.info(a.id, a.sweep));
        const dataset = await this.host.dataset();
        await this.host.startPlannedRun(planRun(c, r, dataset), {
          name: `${configLabel(c.values)} · seed ${r.seed}`.slice(0, RUN_NOTES_LIMITS.name),
          tags: ['sweep', a.id],
        });
        await this.letGo(a, r.runId);
        return;
      }
    } catch (e) {
      const message = (e as Error).message;
      if (this.active === a) {
        this.active = null;
        a.current = null;
        this.stopReasons.set(a.id, message);
        this.host.changed(this.info(a.id, a.sweep));
      }
      if (rethrow) throw e;
      this.host.error(`The sweep stopped: ${message}`);
    }
  }
}

/** A swept preset other than the form's: its own defaults, with the form's epochs, split and distortions. */
function otherPresetBase(preset: string, form: TrainSettings): TrainSettings {
  const s: TrainSettings = { ...PRESETS[preset].defaults, seed: form.seed, shuffle: true, epochs: form.epochs };
  if (form.limit !== undefined) s.limit = form.limit;
  if (form.validation !== undefined) s.validation = form.validation;
  if (form.augment) s.augment = { ...form.augment };
  return s;
}
