// The host's side of the trainer: starts the process on demand, waits for `ready`, numbers
// requests and matches their replies, validates every event, and turns the process dying (crash,
// OOM, kill, a missed `ready`) into ordinary events: pending requests reject and every run it
// owned gets a `finished` with reason 'failed'. The next request starts a fresh process.
//
// It knows nothing of Electron: main wraps `utilityProcess.fork` as a TrainerChild, tests and the
// browser-test host wrap `child_process.fork`.

import { PROTOCOL_VERSION, RemoteError, type TrainerEvent, type TrainerRequest, type TrainerRequestBody, type WireError, parseTrainerEvent } from '../protocol';

export interface TrainerChild {
  readonly pid: number | undefined;
  postMessage(message: TrainerRequest): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called once when the process is gone; `reason` is human-readable ("killed by SIGKILL", "crashed", "exit code 3"). */
  onExit(listener: (reason: string) => void): void;
  kill(): void;
}

export type SpawnTrainer = () => TrainerChild;

export type ReadyInfo = Extract<TrainerEvent, { type: 'ready' }>;
export type ReplyOk = Extract<TrainerEvent, { type: 'reply'; ok: true }>;
/** Events about runs, as the host passes them on (replies and `ready` stay inside). */
export type RunEvent = Exclude<TrainerEvent, { type: 'reply' } | { type: 'ready' }>;

export interface TrainerHostOptions {
  onEvent(e: RunEvent): void;
  /** A process that has not said `ready` by then is killed (default 30 s). */
  readyTimeoutMs?: number;
  /** Messages that fail validation (a bug or a compromised trainer): reported, then ignored. */
  onProtocolError?(message: string): void;
}

interface Live {
  child: TrainerChild;
  ready: Promise<ReadyInfo>;
  pending: Map<number, { resolve(r: ReplyOk): void; reject(e: Error): void }>;
  /** Runs this process owns: from the `train` request until `finished`. */
  runs: Set<string>;
  exited: boolean;
  expectExit: boolean;
  exitPromise: Promise<void>;
}

export class TrainerExitedError extends Error {
  override readonly name = 'TrainerExitedError';
  readonly code = 'TRAINER_EXITED';
}

export class TrainerHost {
  private live: Live | null = null;
  private seq = 0;
  private lastReady: ReadyInfo | null = null;

  constructor(
    private readonly spawn: SpawnTrainer,
    private readonly opts: TrainerHostOptions,
  ) {}

  /** Ready info of the current (or last) trainer process. */
  get info(): ReadyInfo | null {
    return this.lastReady;
  }

  get pid(): number | undefined {
    return this.live?.child.pid;
  }

  /** Runs the live trainer owns. */
  activeRuns(): string[] {
    return this.live ? [...this.live.runs] : [];
  }

  /** Starts the process if needed and waits for `ready`. */
  start(): Promise<ReadyInfo> {
    return this.ensure().ready;
  }

  private ensure(): Live {
    if (this.live && !this.live.exited) return this.live;
    const child = this.spawn();
    let resolveReady!: (r: ReadyInfo) => void;
    let rejectReady!: (e: Error) => void;
    let resolveExit!: () => void;
    const live: Live = {
      child,
      ready: new Promise<ReadyInfo>((res, rej) => {
        resolveReady = res;
        rejectReady = rej;
      }),
      pending: new Map(),
      runs: new Set(),
      exited: false,
      expectExit: false,
      exitPromise: new Promise<void>((r) => (resolveExit = r)),
    };
    live.ready.catch(() => undefined); // observed by request(); avoid unhandled rejections
    this.live = live;
    const timer = setTimeout(() => {
      rejectReady(new TrainerExitedError(`the trainer process did not start within ${(this.opts.readyTimeoutMs ?? 30_000) / 1000} s`));
      child.kill();
    }, this.opts.readyTimeoutMs ?? 30_000);

    child.onMessage((raw) => {
      let e: TrainerEvent;
      try {
        e = parseTrainerEvent(raw);
      } catch (err) {
        this.opts.onProtocolError?.((err as Error).message);
        return;
      }
      switch (e.type) {
        case 'ready':
          clearTimeout(timer);
          if (e.version !== PROTOCOL_VERSION) {
            rejectReady(new TrainerExitedError(`the trainer speaks protocol ${e.version}, this app ${PROTOCOL_VERSION}`));
            child.kill();
            return;
          }
          this.lastReady = e;
          resolveReady(e);
          return;
        case 'reply': {
          const p = live.pending.get(e.id);
          if (!p) {
            this.opts.onProtocolError?.(`a reply to unknown request ${e.id}`);
            return;
          }
          live.pending.delete(e.id);
          if (e.ok) p.resolve(e);
          else p.reject(new RemoteError(e.error));
          return;
        }
        case 'finished':
          live.runs.delete(e.runId);
          this.opts.onEvent(e);
          return;
        case 'progress':
        case 'epoch':
        case 'snapshot':
        case 'status':
        case 'notice':
        case 'label-issues-progress':
          this.opts.onEvent(e);
          return;
        default: {
          const never: never = e;
          this.opts.onProtocolError?.(`unhandled event ${JSON.stringify(never)}`);
        }
      }
    });

    child.onExit((reason) => {
      clearTimeout(timer);
      live.exited = true;
      if (this.live === live) this.live = null;
      const err = new TrainerExitedError(`the trainer process stopped (${reason})`);
      rejectReady(err);
      for (const p of live.pending.values()) p.reject(err);
      live.pending.clear();
      const runs = [...live.runs];
      live.runs.clear();
      if (!live.expectExit || runs.length > 0) {
        const error: WireError = { name: 'TrainerExitedError', code: 'TRAINER_EXITED', message: `the trainer process stopped during the run (${reason})` };
        for (const runId of runs) this.opts.onEvent({ type: 'finished', runId, reason: 'failed', error });
      }
      resolveExit();
    });
    return live;
  }

  /** Sends a request and resolves with its reply; rejects with the trainer's error (RemoteError) or TrainerExitedError. */
  async request(body: TrainerRequestBody): Promise<ReplyOk> {
    const live = this.ensure();
    await live.ready;
    if (live.exited) throw new TrainerExitedError('the trainer process stopped');
    const id = ++this.seq;
    const msg = { ...body, id } as TrainerRequest;
    if (msg.type === 'train') live.runs.add(msg.runId);
    const reply = new Promise<ReplyOk>((resolve, reject) => live.pending.set(id, { resolve, reject }));
    try {
      live.child.postMessage(msg);
      return await reply;
    } catch (e) {
      if (msg.type === 'train') live.runs.delete(msg.runId);
      throw e;
    }
  }

  /**
   * Ends the trainer: asks it to shut down (it cancels and checkpoints a run in progress), then
   * kills it if it has not exited within `timeoutMs`.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    const live = this.live;
    if (!live || live.exited) return;
    live.expectExit = true;
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref?.());
    const id = ++this.seq;
    live.pending.set(id, { resolve: () => undefined, reject: () => undefined });
    try {
      live.child.postMessage({ type: 'shutdown', id });
    } catch {
      // already gone
    }
    if ((await Promise.race([live.exitPromise.then(() => 'exited' as const), timeout])) === 'timeout') {
      live.child.kill();
      await live.exitPromise;
    }
  }

  /** Kills the process at once (tests; quitting after a failed stop). */
  kill(): void {
    this.live?.child.kill();
  }
}
