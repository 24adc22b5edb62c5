/**
 * One DAEMON entry at run time: exactly one process kept running.
 *
 * Owns: `DaemonRunner`. A built-in daemon (idled) runs in a worker process (./worker.ts, daemon
 * mode); a shipped tool runs as `node dist/src/bin/cyr_<name>.js`; anything else is executed.
 * Children get `CYRUS_SERVICE=<name>` and `CYRUS_ISDAEMON=1`.
 *
 * `wait=y` (Cyrus): master starts the daemon before the services' workers and waits until it
 * writes exactly `ok\r\n` on fd 3 (a built-in daemon says so over IPC once it runs); anything
 * else, or its exit first, is a start failure. Restarts happen with fd 3 closed.
 * A daemon that dies is restarted, at most `maxforkrate` (default 10) times a second, and backed
 * off after 5 failures in 10 s like a service (Cyrus 3.12). Shutdown: SIGTERM, wait (bounded),
 * then SIGKILL.
 *
 * Imports: node built-ins, src/config types, src/log, ./program, ./supervise, ./ipc.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { DaemonEntry } from '../config/api.js';
import type { Logger } from '../log/logger.js';
import type { InitMessage } from './ipc.js';
import { forkWorker, spawnProgram, type Program } from './program.js';
import { CrashWindow, describeExit, ForkRate, isFailure, killGroup } from './supervise.js';

export interface DaemonContext {
  log: Logger;
  configPath: string;
  procDir: string;
  output: 'inherit' | number;
  wake(): void;
}

export class DaemonRunner {
  child: ChildProcess | null = null;
  private startedAt = 0;
  private readonly crashes = new CrashWindow();
  private readonly forks: ForkRate;
  private stopping = false;
  disabled: string | null = null;

  constructor(
    readonly entry: DaemonEntry,
    readonly program: Program,
    private readonly ctx: DaemonContext,
  ) {
    this.forks = new ForkRate(entry.maxforkrate > 0 ? entry.maxforkrate : 10);
    if (program.kind === 'missing') this.disabled = `program ${entry.cmd[0]} not found`;
    else if (program.kind === 'service') this.disabled = `${program.name} is a service, not a daemon`;
  }

  get name(): string {
    return this.entry.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Start the process. With `waitReady`, resolves once it said `ok\r\n` on fd 3 (or `ready` over
   * IPC for a built-in) and rejects if it exits or says anything else first.
   */
  start(waitReady = false): Promise<void> {
    const now = Date.now();
    this.forks.record(now);
    this.startedAt = now;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CYRUS_SERVICE: this.name,
      CYRUS_ISDAEMON: '1',
      CYRUS_ID: '0',
    };
    const out = this.ctx.output;
    let child: ChildProcess;
    const builtin = this.program.kind === 'daemon';
    try {
      if (builtin) {
        child = forkWorker({ env, stdio: ['ignore', out, out, 'ipc'], maxfds: this.entry.maxfds });
        const init: InitMessage = {
          t: 'init',
          service: this.name,
          mode: 'daemon',
          cmd: this.entry.cmd,
          configPath: this.ctx.configPath,
          procDir: this.ctx.procDir,
          quota: -1,
          backlog: 0,
        };
        child.send(init);
      } else {
        const stdio = waitReady ? ['ignore', out, out, 'pipe'] : ['ignore', out, out];
        child = spawnProgram(this.program, this.entry.cmd.slice(1), {
          env,
          stdio: stdio as never,
          maxfds: this.entry.maxfds,
        });
      }
    } catch (err) {
      return Promise.reject(new Error(`cannot start daemon ${this.name}: ${String(err)}`));
    }
    this.child = child;
    this.ctx.log.info(
      `daemon ${this.name}: about to run ${this.entry.cmd.join(' ')} (pid ${child.pid ?? '?'})`,
    );
    child.on('error', (err) => this.ctx.log.error(`daemon ${this.name}: ${err.message}`));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    if (!waitReady) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const fail = (why: string): void => {
        cleanup();
        reject(new Error(`daemon ${this.name} (wait=y) ${why}`));
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
        fail(`${describeExit(code, signal)} before it was ready`);
      const cleanup = (): void => {
        child.off('exit', onExit);
      };
      child.once('exit', onExit);
      if (builtin) {
        child.on('message', (m: { t?: string }) => {
          if (m.t === 'ready') {
            cleanup();
            resolve();
          }
        });
        return;
      }
      const fd3 = child.stdio[3] as Readable | null;
      if (!fd3) return fail('has no status pipe');
      let got = '';
      fd3.on('data', (chunk: Buffer) => {
        got += chunk.toString('latin1');
        if (got === 'ok\r\n') {
          cleanup();
          fd3.destroy();
          resolve();
        } else if (!'ok\r\n'.startsWith(got)) {
          fd3.destroy();
          fail(`said ${JSON.stringify(got)} instead of "ok\\r\\n"`);
        }
      });
      fd3.on('end', () => {
        if (got !== 'ok\r\n') fail('closed fd 3 without saying ok');
      });
    });
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child === child) this.child = null;
    const age = ((Date.now() - this.startedAt) / 1000).toFixed(3);
    const what = `process type:DAEMON name:${this.name} path:${this.entry.cmd[0]} age:${age}s pid:${child.pid ?? '?'} ${describeExit(code, signal)}`;
    if (this.stopping) {
      this.ctx.log.info(what);
      return;
    }
    if (isFailure(code, signal)) {
      this.ctx.log.error(what);
      if (this.crashes.fail(Date.now()))
        this.ctx.log.error(
          `too many failures for daemon ${this.name}, backing off for ${this.crashes.backoffUntil - Date.now()} ms`,
        );
    } else {
      this.ctx.log.notice(what);
    }
    this.ctx.wake();
  }

  /** Master loop step: restart the daemon if it is not running (rate limited, backed off). */
  tick(now: number): void {
    if (this.disabled || this.stopping || this.child) return;
    if (this.crashes.inBackoff(now)) return;
    if (this.crashes.backoffUntil > 0) {
      this.ctx.log.notice(`daemon ${this.name}: back-off over, restarting`);
      this.crashes.reset();
    }
    if (!this.forks.allow(now)) return;
    this.start(false).catch((err: unknown) =>
      this.ctx.log.error(String(err instanceof Error ? err.message : err)),
    );
  }

  nextWake(now: number): number | null {
    if (this.disabled || this.stopping || this.child) return null;
    return this.crashes.inBackoff(now) ? this.crashes.backoffUntil : now + 100;
  }

  /** SIGTERM and wait (at most graceMs, then SIGKILL). */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!ok) {
      this.ctx.log.warning(
        `daemon ${this.name} pid ${child.pid ?? '?'} did not stop in ${graceMs} ms: killing it`,
      );
      killGroup(child.pid, 'SIGKILL');
      await exited;
    }
  }

  /** SIGHUP after an imapd.conf change (Cyrus): the daemon reloads, or exits and is restarted. */
  hangup(): void {
    const pid = this.child?.pid;
    if (!pid) return;
    try {
      process.kill(pid, 'SIGHUP');
    } catch {
      /* gone */
    }
  }

  kill(): void {
    this.stopping = true;
    killGroup(this.child?.pid, 'SIGKILL');
  }
}
