/**
 * One SERVICES entry at run time: its bound sockets, its worker processes and their counters.
 *
 * Owns: `ServicePool`. Data plus a step: master calls `tick(now)` from its loop and the pool
 * forks what is missing; worker messages and exits only update the records.
 *
 * Sizing (our process model, ARCHITECTURE decision 1): a worker serves many connections, so the
 * pool keeps `max(prefork, 1)` workers (never more than `maxchild`; `maxchild=0` keeps none).
 * A service with `prefork=0` still gets one worker, started at load: in Cyrus prefork=0 means
 * "fork on the first connection", which a Node worker serving many sessions makes unnecessary.
 * `maxchild` caps the service's concurrent connections: each worker gets a share (its quota)
 * and stops accepting at it, so connection number maxchild+1 waits in the listen queue until
 * a session ends. `maxforkrate` limits forks per second; `maxfds` runs the worker under
 * prlimit. Crashes (non-zero status other than 75, or a signal, when master did not ask the
 * worker to stop) are logged; 5 within 10 s back the service off for a pause (see
 * ./supervise.ts) while its socket stays bound, so clients queue rather than being refused.
 *
 * Imports: node built-ins, src/config types, src/log, ./ipc, ./listeners, ./program,
 * ./procfile, ./supervise.
 */
import type { ChildProcess } from 'node:child_process';
import type { ServiceEntry } from '../config/api.js';
import type { Logger } from '../log/logger.js';
import type { FromWorker, InitMessage, ToWorker, WorkerMode } from './ipc.js';
import { closeListeners, type Listener } from './listeners.js';
import { forkWorker, type Program } from './program.js';
import { removeProcEntriesOf } from './procfile.js';
import { CrashWindow, describeExit, ForkRate, isFailure, killGroup } from './supervise.js';

export interface PoolContext {
  log: Logger;
  procDir: string;
  /** imapd.conf path workers read when cmd= has no -C */
  configPath: string;
  backlog: number;
  /** fd (or 'inherit') for the workers' stdout/stderr: master's log destination */
  output: 'inherit' | number;
  /** called when something changed that the master loop should look at soon */
  wake(): void;
}

type WorkerState = 'starting' | 'ready' | 'listening' | 'draining';

interface WorkerRec {
  id: number;
  pid: number;
  child: ChildProcess;
  state: WorkerState;
  conns: number;
  quota: number;
  startedAt: number;
}

export class ServicePool {
  readonly workers = new Map<number, WorkerRec>();
  private readonly crashes = new CrashWindow();
  private readonly forks: ForkRate;
  private nextId = 0;
  /** set when the pool is being removed (SIGHUP) or master shuts down: no more forks */
  private retired = false;
  /** why the service cannot run (unsupported program...), or null */
  disabled: string | null = null;
  /** a worker accepted on every socket at least once */
  everListening = false;

  constructor(
    readonly entry: ServiceEntry,
    readonly program: Program,
    readonly listeners: Listener[],
    private readonly ctx: PoolContext,
  ) {
    this.forks = new ForkRate(entry.maxforkrate);
    if (program.kind === 'missing') this.disabled = `program ${entry.cmd[0]} not found`;
    else if (program.kind === 'daemon') this.disabled = `${program.name} is a daemon, not a service`;
  }

  get name(): string {
    return this.entry.name;
  }

  private get mode(): WorkerMode {
    return this.program.kind === 'service' ? 'service' : 'inetd';
  }

  /** Number of workers wanted now. */
  target(): number {
    if (this.disabled || this.retired || this.entry.maxchild === 0) return 0;
    const want = Math.max(this.entry.prefork, 1);
    return this.entry.maxchild > 0 ? Math.min(want, this.entry.maxchild) : want;
  }

  /** Open connections across the workers (as last reported). */
  connections(): number {
    let n = 0;
    for (const w of this.workers.values()) n += w.conns;
    return n;
  }

  /** Ready for `master.ready`: listening, or unable to (disabled, backed off, maxchild=0). */
  settled(now: number): boolean {
    return this.everListening || this.target() === 0 || this.crashes.inBackoff(now);
  }

  private live(): WorkerRec[] {
    return [...this.workers.values()].filter((w) => w.state !== 'draining').sort((a, b) => a.id - b.id);
  }

  /** Share maxchild among the live workers; tell those whose share changed. */
  private rebalance(): void {
    const live = this.live();
    const m = this.entry.maxchild;
    live.forEach((w, i) => {
      const q = m < 0 ? -1 : Math.floor(m / live.length) + (i < m % live.length ? 1 : 0);
      if (q !== w.quota) {
        w.quota = q;
        if (w.state !== 'starting') this.send(w, { t: 'quota', quota: q });
      }
    });
  }

  private send(w: WorkerRec, msg: ToWorker, handle?: unknown): void {
    if (!w.child.connected) return;
    try {
      w.child.send(msg, handle as never, (err) => {
        if (err) this.ctx.log.debug(`service ${this.name} pid ${w.pid}: send failed: ${err.message}`);
      });
    } catch (err) {
      this.ctx.log.debug(`service ${this.name} pid ${w.pid}: send failed: ${String(err)}`);
    }
  }

  private sendListeners(w: WorkerRec): void {
    this.listeners.forEach((l, idx) =>
      this.send(w, { t: 'listener', idx, count: this.listeners.length }, l.handle),
    );
  }

  /** One step of the master loop: fork what is missing, end back-offs. */
  tick(now: number): void {
    if (this.disabled || this.retired) return;
    if (this.crashes.backoffUntil > 0 && !this.crashes.inBackoff(now)) {
      this.ctx.log.notice(`service ${this.name}: back-off over, retrying`);
      this.crashes.reset();
    }
    if (this.crashes.inBackoff(now)) return;
    while (this.live().length < this.target()) {
      if (!this.forks.allow(now)) {
        this.ctx.log.debug(`service ${this.name}: maxforkrate ${this.entry.maxforkrate} reached, waiting`);
        return;
      }
      this.forks.record(now);
      this.spawn(now);
    }
  }

  /** when the next tick is needed (back-off end, fork-rate window), or null */
  nextWake(now: number): number | null {
    if (this.crashes.inBackoff(now)) return this.crashes.backoffUntil;
    if (!this.disabled && !this.retired && this.live().length < this.target()) return now + 100;
    return null;
  }

  private spawn(now: number): void {
    const id = this.nextId++;
    const env: NodeJS.ProcessEnv = { ...process.env, CYRUS_SERVICE: this.name, CYRUS_ID: String(id) };
    // Several workers accept on one socket: without this, the first one woken takes every
    // connection of a burst (libuv accepts until EAGAIN), e.g. all 8 connections an MTA opens
    // at once; with it, libuv accepts one connection per wake-up and yields, so the others get
    // their share (measured: 8 LMTP connections went 8/0 over two workers, now 4/4).
    if (this.target() > 1) env.UV_TCP_SINGLE_ACCEPT = '1';
    delete env.CYRUS_ISDAEMON;
    let child: ChildProcess;
    try {
      child = forkWorker({
        env,
        stdio: ['ignore', this.ctx.output, this.ctx.output, 'ipc'],
        maxfds: this.entry.maxfds,
      });
    } catch (err) {
      this.ctx.log.error(`service ${this.name}: cannot fork worker: ${String(err)}`);
      this.crashes.fail(now);
      return;
    }
    const pid = child.pid ?? -1;
    const w: WorkerRec = { id, pid, child, state: 'starting', conns: 0, quota: -1, startedAt: now };
    this.workers.set(pid, w);
    this.rebalance();
    const exec =
      this.program.kind === 'external'
        ? this.program.path
        : this.program.kind === 'tool'
          ? process.execPath
          : undefined;
    const cmd =
      this.program.kind === 'tool'
        ? [this.entry.cmd[0]!, this.program.script, ...this.entry.cmd.slice(1)]
        : this.entry.cmd;
    const init: InitMessage = {
      t: 'init',
      service: this.name,
      mode: this.mode,
      cmd,
      exec,
      configPath: this.ctx.configPath,
      procDir: this.ctx.procDir,
      quota: w.quota,
      backlog: this.ctx.backlog,
    };
    this.ctx.log.info(`service ${this.name}: about to run ${this.entry.cmd.join(' ')} (worker pid ${pid})`);
    child.on('message', (msg: FromWorker) => this.onMessage(w, msg));
    child.on('error', (err) => this.ctx.log.error(`service ${this.name} pid ${pid}: ${err.message}`));
    child.on('exit', (code, signal) => this.onExit(w, code, signal));
    this.send(w, init);
  }

  private onMessage(w: WorkerRec, msg: FromWorker): void {
    switch (msg.t) {
      case 'ready':
        if (w.state === 'starting') {
          w.state = 'ready';
          this.send(w, { t: 'quota', quota: w.quota });
          this.sendListeners(w);
        }
        break;
      case 'listening':
        if (w.state === 'ready') w.state = 'listening';
        if (!this.everListening) {
          this.everListening = true;
          this.ctx.log.debug(
            `service ${this.name}: listening on ${this.listeners.map((l) => l.label).join(', ')}`,
          );
          this.ctx.wake();
        }
        break;
      case 'count':
        w.conns = msg.n;
        break;
      case 'want':
        if (w.state !== 'draining') this.sendListeners(w);
        break;
      case 'retiring':
        this.ctx.log.info(`service ${this.name} pid ${w.pid}: max uses reached, replacing it`);
        w.state = 'draining';
        this.rebalance();
        this.ctx.wake();
        break;
    }
  }

  private onExit(w: WorkerRec, code: number | null, signal: NodeJS.Signals | null): void {
    this.workers.delete(w.pid);
    removeProcEntriesOf(this.ctx.procDir, w.pid);
    const age = ((Date.now() - w.startedAt) / 1000).toFixed(3);
    const what = `process type:SERVICE name:${this.name} path:${this.entry.cmd[0]} age:${age}s pid:${w.pid} ${describeExit(code, signal)}`;
    const expected = w.state === 'draining' || this.retired;
    if (!expected && isFailure(code, signal)) {
      this.ctx.log.error(
        `${what}; service ${this.name} pid ${w.pid} in ${w.state.toUpperCase()} state: terminated abnormally`,
      );
      if (this.crashes.fail(Date.now())) {
        this.ctx.log.error(
          `too many failures for service ${this.name}, backing off for ${this.crashes.backoffUntil - Date.now()} ms`,
        );
      }
    } else {
      this.ctx.log.info(what);
    }
    this.rebalance();
    this.ctx.wake();
  }

  /**
   * Stop taking connections and let the workers finish their sessions (SIGHUP: the service was
   * removed or changed). The sockets are closed unless `keepListeners` (they move to a new pool).
   */
  retire(keepListeners: boolean): void {
    this.retired = true;
    for (const w of this.workers.values()) {
      w.state = 'draining';
      this.send(w, { t: 'drain' });
    }
    if (!keepListeners) closeListeners(this.listeners);
  }

  /** SIGHUP: a backed-off service is retried at once. */
  reenable(): void {
    if (this.crashes.backoffUntil > 0) this.ctx.log.notice(`service ${this.name}: re-enabled by SIGHUP`);
    this.crashes.reset();
  }

  /** Let the current workers finish their sessions and be replaced by fresh ones (imapd.conf changed). */
  recycle(): void {
    for (const w of this.workers.values()) {
      if (w.state === 'draining') continue;
      w.state = 'draining';
      this.send(w, { t: 'drain' });
    }
    this.rebalance();
    this.ctx.wake();
  }

  /** Shut down: ask every worker to stop (IPC + SIGTERM); resolves when all exited or after `graceMs` (then SIGKILL). */
  async shutdown(graceMs: number): Promise<void> {
    this.retired = true;
    // new connections are refused from now on (workers close their copies on `shutdown`)
    closeListeners(this.listeners);
    const waits: Promise<void>[] = [];
    for (const w of this.workers.values()) {
      w.state = 'draining';
      waits.push(
        new Promise<void>((resolve) => {
          if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
          w.child.once('exit', () => resolve());
        }),
      );
      this.send(w, { t: 'shutdown' });
      killGroup(w.pid, 'SIGTERM');
    }
    const all = Promise.all(waits).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    });
    const done = await Promise.race([all, timeout]);
    clearTimeout(timer);
    if (!done) {
      for (const w of this.workers.values()) {
        this.ctx.log.warning(`service ${this.name} pid ${w.pid} did not stop in ${graceMs} ms: killing it`);
        killGroup(w.pid, 'SIGKILL');
      }
      await all;
    }
  }

  /** SIGQUIT: kill every worker now. */
  killAll(): void {
    this.retired = true;
    for (const w of this.workers.values()) killGroup(w.pid, 'SIGKILL');
    closeListeners(this.listeners);
  }

  pids(): number[] {
    return [...this.workers.keys()];
  }
}
