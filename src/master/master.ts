/**
 * cyr_master's supervisor: data plus a loop.
 *
 * Owns: `Master`, which holds the typed records of cyrus.conf at run time (a ServicePool per
 * SERVICES entry, a DaemonRunner per DAEMON entry, the EventScheduler) and one `step()` that the
 * loop runs whenever something happens or a timer is due. Signal handlers only set flags and
 * wake the loop; the loop reloads, shuts down, tops up workers and daemons and runs events.
 *
 * Startup: read imapd.conf (identity `master`) → take the pidfile → create the ephemeral
 * directories, clear proc files → read cyrus.conf → run START in order → bind every SERVICES
 * socket → start `wait=y` daemons one by one (each must say `ok\r\n` on fd 3) → fork workers →
 * once every service listens: start the other daemons, write the ready file, tell systemd
 * (NOTIFY_SOCKET) and log "ready for work".
 *
 * Signals: SIGHUP re-reads both files (unchanged services keep their workers and connections;
 * changed or removed ones have their workers finish their sessions while fresh ones take new
 * connections); SIGTERM/SIGINT stop listening, ask workers to shut down (their services'
 * `shutdown`), wait up to 10 s then SIGKILL, stop events and daemons, remove the pidfile and the
 * ready file and exit 0; SIGQUIT kills every child at once and exits.
 *
 * Imports: node built-ins, src/config, src/log, and the modules of this folder.
 */
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { CyrusConf, DaemonEntry, ImapdConf, ServiceEntry } from '../config/api.js';
import { loadCyrusConf } from '../config/cyrus-conf.js';
import { loadImapdConf } from '../config/imapd-conf.js';
import { createLogger, type Logger } from '../log/logger.js';
import { DaemonRunner } from './daemons.js';
import { EventScheduler } from './events.js';
import { bindService, type Listener } from './listeners.js';
import { acquirePidfile, releasePidfile } from './pidfile.js';
import { ServicePool } from './pool.js';
import { resolveProgram, whichSync } from './program.js';
import { makeEphemeralDirs, masterSettings, type MasterSettings } from './settings.js';
import { runStart } from './start.js';

export const SHUTDOWN_GRACE_MS = 10_000;
/** how long the ready file waits for services whose workers do not listen (nor crash) */
export const READY_WAIT_MS = 10_000;

export interface MasterOptions {
  imapdConfPath: string;
  cyrusConfPath: string;
  /** -p; default master_pid_file */
  pidFile?: string;
  /** -r; default master_ready_file */
  readyFile?: string;
  backlog: number;
  /** where log lines go (default stderr) */
  write?: (line: string) => void;
  /** fd children write their stdout/stderr to (default: inherit ours) */
  output?: 'inherit' | number;
  /** called once the pidfile is ours (daemon mode tells the waiting parent) */
  onPidfile?: () => void;
}

export class MasterExit extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

const SIGNALS: NodeJS.Signals[] = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT'];

function fileHash(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return '';
  }
}

function sameService(a: ServiceEntry, b: ServiceEntry): boolean {
  const pick = (e: ServiceEntry) =>
    JSON.stringify([e.cmd, e.listen, e.proto, e.prefork, e.maxchild, e.babysit, e.maxforkrate, e.maxfds]);
  return pick(a) === pick(b);
}

function sameDaemon(a: DaemonEntry, b: DaemonEntry): boolean {
  const pick = (e: DaemonEntry) => JSON.stringify([e.cmd, e.wait, e.maxforkrate, e.maxfds]);
  return pick(a) === pick(b);
}

export class Master {
  log: Logger;
  private conf!: ImapdConf;
  private settings!: MasterSettings;
  private confHash = '';
  private pools = new Map<string, ServicePool>();
  private retiring: ServicePool[] = [];
  private daemons = new Map<string, DaemonRunner>();
  private events!: EventScheduler;
  private readonly flags = { hup: false, term: null as NodeJS.Signals | null, quit: false };
  private phase: 'starting' | 'waiting' | 'ready' | 'stopping' = 'starting';
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private reloading = false;
  private finish!: (code: number) => void;
  private readonly finished = new Promise<number>((resolve) => (this.finish = resolve));
  private readonly output: 'inherit' | number;
  private readonly handlers = new Map<NodeJS.Signals, () => void>();
  /** aborted by SIGTERM/SIGINT/SIGQUIT: interrupts START and waiting for wait=y daemons */
  private readonly stopRequest = new AbortController();
  pidFile = '';
  readyFile = '';

  constructor(private readonly opts: MasterOptions) {
    delete process.env.NOTIFY_SOCKET;
    this.output = opts.output ?? 'inherit';
    this.log = createLogger('master', { write: opts.write });
  }

  private loadImapd(): ImapdConf {
    return loadImapdConf(this.opts.imapdConfPath, { service: 'master', warn: (m) => this.log.warning(m) });
  }

  /** Run until shut down; resolves with the exit status. Throws MasterExit for startup failures. */
  async run(): Promise<number> {
    this.conf = this.loadImapd();
    this.confHash = fileHash(this.opts.imapdConfPath);
    this.settings = masterSettings(this.conf);
    this.log = createLogger('master', {
      write: this.opts.write,
      debug: this.settings.debug || undefined,
      prefix: this.settings.syslogPrefix,
    });
    this.pidFile = this.opts.pidFile ?? this.settings.pidFile;
    this.readyFile = this.opts.readyFile ?? this.settings.readyFile;
    acquirePidfile(this.pidFile);
    this.opts.onPidfile?.();
    try {
      return await this.runLocked();
    } catch (err) {
      this.cleanupFiles();
      throw err;
    }
  }

  private async runLocked(): Promise<number> {
    this.log.info(
      `process started, pid ${process.pid}, imapd.conf ${this.opts.imapdConfPath}, cyrus.conf ${this.opts.cyrusConfPath}`,
    );
    makeEphemeralDirs(this.conf);
    this.clearProcDir();
    const cyrus = loadCyrusConf(this.opts.cyrusConfPath);
    for (const w of cyrus.warnings) this.log.warning(w);
    this.installSignals();
    await runStart(cyrus.start, this.log, this.output, this.stopRequest.signal);
    if (this.stopRequest.signal.aborted) return this.shutdownNow(this.flags.term ?? 'SIGQUIT');
    this.events = new EventScheduler({ log: this.log, output: this.output });
    for (const entry of cyrus.services) await this.addService(entry, true);
    // wait=y daemons first, one by one, in file order
    for (const entry of cyrus.daemons) {
      const d = this.makeDaemon(entry);
      if (!entry.wait || d.disabled) continue;
      try {
        const stopped = new Promise<'stopped'>((resolve) => {
          if (this.stopRequest.signal.aborted) resolve('stopped');
          this.stopRequest.signal.addEventListener('abort', () => resolve('stopped'));
        });
        const starting = d.start(true);
        starting.catch(() => {}); // when shutdown wins the race, the failure is expected
        if ((await Promise.race([starting, stopped])) === 'stopped') {
          for (const p of this.pools.values()) p.killAll();
          for (const other of this.daemons.values()) await other.stop(SHUTDOWN_GRACE_MS);
          return this.shutdownNow(this.flags.term ?? 'SIGQUIT');
        }
        this.log.info(`daemon ${entry.name} is ready`);
      } catch (err) {
        this.log.crit(String(err instanceof Error ? err.message : err));
        for (const other of this.daemons.values()) other.kill();
        for (const p of this.pools.values()) p.killAll();
        throw new MasterExit(`daemon ${entry.name} did not start`, 1);
      }
    }
    this.events.load(cyrus.events);
    this.phase = 'waiting';
    this.waitingSince = Date.now();
    this.wake();
    return this.finished;
  }

  private clearProcDir(): void {
    try {
      for (const f of readdirSync(this.settings.procDir)) unlinkSync(join(this.settings.procDir, f));
    } catch {
      /* empty or missing */
    }
  }

  private makeDaemon(entry: DaemonEntry): DaemonRunner {
    const d = new DaemonRunner(entry, resolveProgram(entry.cmd[0] ?? ''), {
      log: this.log,
      configPath: this.opts.imapdConfPath,
      procDir: this.settings.procDir,
      output: this.output,
      wake: () => this.wake(),
    });
    if (d.disabled) this.log.error(`daemon ${entry.name} disabled: ${d.disabled}`);
    this.daemons.set(entry.name, d);
    return d;
  }

  private async addService(entry: ServiceEntry, atStartup: boolean, listeners?: Listener[]): Promise<void> {
    const program = resolveProgram(entry.cmd[0] ?? '');
    if (program.kind === 'missing' || program.kind === 'daemon') {
      this.log.error(
        `service ${entry.name} disabled: ${program.kind === 'missing' ? `program ${entry.cmd[0]} not found` : `${program.name} is a daemon`}`,
      );
      return;
    }
    if (!listeners) {
      try {
        listeners = await bindService(entry);
      } catch (err) {
        const msg = `unable to bind service ${entry.name} (listen=${entry.listen} proto=${entry.proto}): ${err instanceof Error ? err.message : String(err)}`;
        if (atStartup && this.settings.bindErrorsFatal) {
          this.log.crit(msg);
          throw new MasterExit(msg, 71);
        }
        this.log.error(`${msg}; service disabled`);
        return;
      }
    }
    this.log.info(`service ${entry.name}: bound ${listeners.map((l) => l.label).join(', ')}`);
    const pool = new ServicePool(entry, program, listeners, {
      log: this.log,
      procDir: this.settings.procDir,
      configPath: this.opts.imapdConfPath,
      backlog: this.opts.backlog,
      output: this.output,
      wake: () => this.wake(),
    });
    this.pools.set(entry.name, pool);
  }

  private installSignals(): void {
    for (const sig of SIGNALS) {
      const h = (): void => {
        if (sig === 'SIGHUP') this.flags.hup = true;
        else if (sig === 'SIGQUIT') this.flags.quit = true;
        else this.flags.term ??= sig;
        if (sig !== 'SIGHUP') this.stopRequest.abort();
        this.wake();
      };
      this.handlers.set(sig, h);
      process.on(sig, h);
    }
  }

  private removeSignals(): void {
    for (const [sig, h] of this.handlers) process.off(sig, h);
    this.handlers.clear();
  }

  /** Ask the loop to run soon. */
  wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.step();
    });
  }

  /** One turn of the loop. */
  private step(): void {
    // while START runs, signals are only recorded: runLocked looks at them when START is done
    if (this.phase === 'starting' || this.phase === 'stopping') return;
    if (this.flags.quit) return void this.shutdownNow('SIGQUIT');
    if (this.flags.term) return void this.shutdown(this.flags.term);
    if (this.flags.hup && !this.reloading) {
      this.flags.hup = false;
      this.reloading = true;
      this.reload()
        .catch((err: unknown) => this.log.error(`reload failed: ${String(err)}`))
        .finally(() => {
          this.reloading = false;
          this.wake();
        });
    }
    const now = Date.now();
    for (const p of this.pools.values()) p.tick(now);
    this.retiring = this.retiring.filter((p) => p.workers.size > 0);
    if (this.phase === 'ready') {
      for (const d of this.daemons.values()) d.tick(now);
    }
    this.events.tick(now);
    if (this.phase === 'waiting') {
      const unsettled = [...this.pools.values()].filter((p) => !p.settled(now));
      if (unsettled.length === 0) this.becomeReady();
      else if (now - this.waitingSince > READY_WAIT_MS) {
        this.log.warning(
          `not listening after ${READY_WAIT_MS} ms: ${unsettled.map((p) => p.name).join(', ')}; ready anyway`,
        );
        this.becomeReady();
      }
    }
    this.arm(now);
  }

  private arm(now: number): void {
    let next = now + 1000; // janitor: look around at least once a second
    for (const p of this.pools.values()) next = Math.min(next, p.nextWake(now) ?? next);
    if (this.phase === 'ready')
      for (const d of this.daemons.values()) next = Math.min(next, d.nextWake(now) ?? next);
    next = Math.min(next, this.events.nextWake() ?? next);
    if (this.phase === 'waiting') next = Math.min(next, now + 50);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.step(), Math.max(0, next - now));
  }

  private becomeReady(): void {
    this.phase = 'ready';
    const now = Date.now();
    for (const d of this.daemons.values()) if (!d.entry.wait) d.tick(now);
    try {
      const fd = openSync(this.readyFile, 'w', 0o644);
      fsyncSync(fd);
      closeSync(fd);
    } catch (err) {
      this.log.crit(`cannot write ready file ${this.readyFile}: ${String(err)}`);
      this.flags.term = 'SIGTERM';
      this.exitCode = 71;
      this.wake();
      return;
    }
    this.notifySystemd();
    this.log.info(`ready for work (${this.pools.size} services, ${this.daemons.size} daemons)`);
  }

  private exitCode = 0;
  private waitingSince = 0;
  /** systemd's socket; taken out of the environment so that children do not talk to systemd */
  private readonly notifySocket = process.env.NOTIFY_SOCKET;

  private notifySystemd(): void {
    if (!this.notifySocket) return;
    const bin = whichSync('systemd-notify');
    if (!bin) {
      this.log.debug('NOTIFY_SOCKET is set but systemd-notify is not installed: not telling systemd');
      return;
    }
    const child = spawn(bin, ['--ready', `--pid=${process.pid}`], {
      stdio: 'ignore',
      env: { ...process.env, NOTIFY_SOCKET: this.notifySocket },
    });
    child.on('error', (err) => this.log.debug(`systemd-notify: ${err.message}`));
  }

  private async reload(): Promise<void> {
    this.log.notice('got SIGHUP');
    let conf: ImapdConf;
    let cyrus: CyrusConf;
    try {
      conf = this.loadImapd();
      cyrus = loadCyrusConf(this.opts.cyrusConfPath);
    } catch (err) {
      this.log.error(`configuration not reloaded: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    for (const w of cyrus.warnings) this.log.warning(w);
    const hash = fileHash(this.opts.imapdConfPath);
    const confChanged = hash !== this.confHash;
    this.conf = conf;
    this.confHash = hash;
    makeEphemeralDirs(conf);
    const wanted = new Map(cyrus.services.map((s) => [s.name, s]));
    for (const [name, pool] of [...this.pools]) {
      const next = wanted.get(name);
      if (!next) {
        this.log.notice(`service ${name} removed: its workers finish their sessions`);
        pool.retire(false);
        this.pools.delete(name);
        this.retiring.push(pool);
      }
    }
    for (const entry of cyrus.services) {
      const old = this.pools.get(entry.name);
      if (old && sameService(old.entry, entry)) {
        old.reenable();
        if (confChanged) {
          this.log.info(`service ${entry.name}: imapd.conf changed, recycling workers`);
          old.recycle();
        }
        continue;
      }
      if (old) {
        const keep = old.entry.listen === entry.listen && old.entry.proto === entry.proto;
        this.log.notice(`service ${entry.name} changed: old workers finish their sessions`);
        old.retire(keep);
        this.pools.delete(entry.name);
        this.retiring.push(old);
        await this.addService(entry, false, keep ? old.listeners : undefined);
      } else {
        this.log.notice(`service ${entry.name} added`);
        await this.addService(entry, false);
      }
    }
    const wantedD = new Map(cyrus.daemons.map((d) => [d.name, d]));
    for (const [name, d] of [...this.daemons]) {
      const next = wantedD.get(name);
      if (!next || !sameDaemon(d.entry, next)) {
        this.log.notice(`daemon ${name} ${next ? 'changed' : 'removed'}: stopping it`);
        this.daemons.delete(name);
        await d.stop(SHUTDOWN_GRACE_MS);
      }
    }
    if (confChanged) for (const d of this.daemons.values()) d.hangup();
    for (const entry of cyrus.daemons) if (!this.daemons.has(entry.name)) this.makeDaemon(entry);
    this.events.load(cyrus.events);
    this.log.notice(
      `Services reconfigured (${this.pools.size} services, ${this.daemons.size} daemons, ${cyrus.events.length} events)`,
    );
  }

  private async shutdown(sig: NodeJS.Signals): Promise<void> {
    this.phase = 'stopping';
    if (this.timer) clearTimeout(this.timer);
    this.log.notice(`attempting clean shutdown on signal ${sig}`);
    const pools = [...this.pools.values(), ...this.retiring];
    await Promise.all([
      this.events.stop(SHUTDOWN_GRACE_MS),
      ...pools.map((p) => p.shutdown(SHUTDOWN_GRACE_MS)),
    ]);
    const daemons = [...this.daemons.values()].reverse();
    await Promise.all(daemons.filter((d) => !d.entry.wait).map((d) => d.stop(SHUTDOWN_GRACE_MS)));
    for (const d of daemons.filter((d) => d.entry.wait)) await d.stop(SHUTDOWN_GRACE_MS);
    this.cleanupFiles();
    this.log.notice('All children have exited, closing down');
    this.removeSignals();
    this.finish(this.exitCode);
  }

  private shutdownNow(sig: NodeJS.Signals): number {
    this.phase = 'stopping';
    if (this.timer) clearTimeout(this.timer);
    this.log.notice(`got ${sig}: killing every child`);
    this.events?.kill();
    for (const p of [...this.pools.values(), ...this.retiring]) p.killAll();
    for (const d of this.daemons.values()) d.kill();
    this.cleanupFiles();
    this.removeSignals();
    this.finish(0);
    return 0;
  }

  private cleanupFiles(): void {
    for (const f of [this.readyFile, '']) {
      if (!f) continue;
      try {
        unlinkSync(f);
      } catch {
        /* absent */
      }
    }
    if (this.pidFile) releasePidfile(this.pidFile);
  }

  /** every child pid master knows of (for tests and diagnostics) */
  childPids(): number[] {
    const out: number[] = [];
    for (const p of [...this.pools.values(), ...this.retiring]) out.push(...p.pids());
    for (const d of this.daemons.values()) if (d.pid) out.push(d.pid);
    out.push(...(this.events?.pids() ?? []));
    return out;
  }
}
