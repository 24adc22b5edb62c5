/**
 * The worker process master forks for a SERVICES entry (or a built-in DAEMON).
 *
 * Owns: the worker side of the protocol in ./ipc.ts. A worker
 *   - loads its program: a built-in service (`service` mode), a built-in daemon (`daemon` mode),
 *     or, in `inetd` mode, an external command it runs once per connection with the socket as the
 *     command's stdin and stdout;
 *   - reads imapd.conf with the entry name as service identity (`-C` in cmd= wins, else the file
 *     master was started with), calls the service's `init` once, then `serve` for every
 *     connection it accepts on the listening handles master sends it, many at a time;
 *   - writes a proc file per connection (./procfile.ts) around `serve`;
 *   - with `-U uses` in cmd=, stops accepting after that many connections and exits when they
 *     are over (master forks its replacement at once). Cyrus's default of 250 is not applied:
 *     our workers serve many sessions each, so recycling happens only when asked for. Cyrus's
 *     `-T` idle timeout does not apply either (master keeps `prefork` workers anyway);
 *   - keeps at most `quota` connections: at the quota it closes its copies of the listeners (the
 *     sockets stay open in master, so new connections queue in the kernel) and asks for them
 *     again when a session ends;
 *   - on `drain` (or SIGHUP) stops accepting and exits when its sessions are over; on `shutdown`
 *     (or SIGTERM/SIGINT, or when master goes away) also aborts the context signal and calls the
 *     service's `shutdown`, then exits 0 once sessions are closed.
 * An init failure or an uncaught error exits non-zero: master logs it and replaces the worker.
 *
 * Imports: node built-ins, src/config (imapd.conf), src/log, src/services/registry, ./procfile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { loadImapdConf } from '../config/imapd-conf.js';
import type { ImapdConf } from '../config/api.js';
import { createLogger, type Logger } from '../log/logger.js';
import { loadDaemon, loadService } from '../services/registry.js';
import type { BuiltinService, ServiceContext } from './service-api.js';
import type { FromWorker, InitMessage, ToWorker } from './ipc.js';
import { attachProcEntry, openProcEntry, type ProcEntry } from './procfile.js';

function send(msg: FromWorker): void {
  if (process.connected) process.send?.(msg);
}

/** `-U uses` from a cmd= argv: connections a worker accepts before it is replaced; 0 = no limit */
function maxUses(argv: string[]): number {
  const i = argv.indexOf('-U');
  const n = i >= 0 ? Number(argv[i + 1]) : 0;
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** `-C file` from a cmd= argv, if any */
function configFromArgv(argv: string[]): string | undefined {
  const i = argv.indexOf('-C');
  return i >= 0 ? argv[i + 1] : undefined;
}

function safeSwitch(conf: ImapdConf, name: string): boolean {
  try {
    return conf.getSwitch(name);
  } catch {
    return false;
  }
}

function safeString(conf: ImapdConf, name: string): string | null {
  try {
    return conf.getString(name);
  } catch {
    return null;
  }
}

/** An inetd-style "service": run the external command per connection on the socket. */
function inetdService(exec: string, args: string[], children: Set<ChildProcess>): BuiltinService {
  return {
    serve(socket, ctx) {
      return new Promise<void>((resolve) => {
        let child: ChildProcess;
        try {
          child = spawn(exec, args, { stdio: [socket, socket, 'inherit'], env: process.env });
        } catch (err) {
          ctx.log.error(`cannot run ${exec}: ${String(err)}`);
          socket.destroy();
          resolve();
          return;
        }
        children.add(child);
        // the child has its own copy of the descriptor; ours is no longer needed
        socket.destroy();
        child.on('error', (err) => ctx.log.error(`cannot run ${exec}: ${err.message}`));
        child.on('close', (code, sig) => {
          children.delete(child);
          if (code !== 0)
            ctx.log.notice(`${exec} pid ${child.pid ?? '?'} exited, status ${code ?? `signal ${sig}`}`);
          resolve();
        });
      });
    },
    shutdown() {
      for (const c of children) c.kill('SIGTERM');
    },
  };
}

class Worker {
  private ctx!: ServiceContext;
  private service!: BuiltinService;
  private readonly abort = new AbortController();
  private servers: Server[] = [];
  private pending: (Server | undefined)[] = [];
  /** sessions being served */
  private active = 0;
  private readonly sockets = new Set<Socket>();
  private readonly inetdChildren = new Set<ChildProcess>();
  private quota = -1;
  private uses = 0;
  private maxUses = 0;
  private paused = false;
  private wanted = false;
  private stopping: 'drain' | 'shutdown' | null = null;
  private log: Logger = createLogger('worker');
  private init!: InitMessage;

  async start(init: InitMessage): Promise<void> {
    this.init = init;
    this.quota = init.quota;
    const argv = init.cmd.slice(1);
    this.maxUses = maxUses(argv);
    const configPath = configFromArgv(argv) ?? init.configPath;
    const config = loadImapdConf(configPath, { service: init.service, warn: () => {} });
    this.log = createLogger(init.service, {
      debug: safeSwitch(config, 'debug') || undefined,
      prefix: safeString(config, 'syslog_prefix') ?? undefined,
    });
    this.ctx = { service: init.service, argv, config, log: this.log, signal: this.abort.signal };
    if (init.mode === 'daemon') {
      const daemon = await loadDaemon(init.cmd[0]!);
      send({ t: 'ready' });
      await daemon.run(this.ctx);
      this.exit(0);
      return;
    }
    this.service =
      init.mode === 'inetd'
        ? inetdService(init.exec!, argv, this.inetdChildren)
        : await loadService(init.cmd[0]!);
    await this.service.init?.(this.ctx);
    send({ t: 'ready' });
  }

  /** A listening handle from master: accept on it (all of them before saying `listening`). */
  addListener(idx: number, count: number, handle: unknown): void {
    if (this.stopping) {
      (handle as { close?: () => void }).close?.();
      return;
    }
    const server = createServer({ pauseOnConnect: this.init.mode === 'inetd' }, (sock) => this.accept(sock));
    server.on('error', (err) => this.log.error(`listener error: ${err.message}`));
    this.pending[idx] = server;
    server.listen(handle as never, this.init.backlog, () => {
      if (this.pending.filter(Boolean).length === count && this.pending.every((s) => s?.listening)) {
        this.servers = this.pending as Server[];
        this.pending = [];
        this.paused = false;
        this.wanted = false;
        send({ t: 'listening' });
        this.checkQuota();
      }
    });
  }

  private accept(sock: Socket): void {
    if (this.stopping === 'shutdown') {
      sock.destroy();
      return;
    }
    this.sockets.add(sock);
    const host = sock.remoteAddress ? `[${sock.remoteAddress}]` : 'unix';
    const proc = openProcEntry(this.init.procDir, { service: this.init.service, host });
    attachProcEntry(sock, proc);
    this.log.debug(`accepted connection from ${host}`);
    this.active += 1;
    void this.serveOne(sock, proc);
    this.report();
    this.uses += 1;
    if (this.maxUses > 0 && this.uses >= this.maxUses) {
      send({ t: 'retiring' });
      void this.stop('drain');
      return;
    }
    this.checkQuota();
  }

  /** One connection's session; nothing per connection beyond the service's own state. */
  private async serveOne(sock: Socket, proc: ProcEntry): Promise<void> {
    await null; // let accept() finish its bookkeeping first
    try {
      await this.service.serve(sock, this.ctx);
    } catch (err) {
      this.log.error(`session failed: ${err instanceof Error ? err.message : String(err)}`);
      sock.destroy();
    } finally {
      proc.remove();
      this.sockets.delete(sock);
      this.active -= 1;
      this.report();
      this.checkQuota();
      if (this.stopping && this.active === 0) this.exit(0);
    }
  }

  private report(): void {
    send({ t: 'count', n: this.active });
  }

  setQuota(q: number): void {
    this.quota = q;
    this.checkQuota();
  }

  /** Close our listener copies at the quota; ask for them back once below it. */
  private checkQuota(): void {
    if (this.stopping) return;
    const full = this.quota >= 0 && this.active >= this.quota;
    if (full && !this.paused && this.servers.length > 0) {
      this.paused = true;
      this.closeListeners();
      this.log.debug(`at connection quota ${this.quota}: not accepting`);
    } else if (!full && this.paused && !this.wanted) {
      this.wanted = true;
      send({ t: 'want' });
    }
  }

  private closeListeners(): void {
    for (const s of this.servers) s.close();
    for (const s of this.pending) s?.close();
    this.servers = [];
    this.pending = [];
  }

  /** drain: finish sessions; shutdown: also tell the service to stop them. */
  async stop(how: 'drain' | 'shutdown'): Promise<void> {
    // a daemon has no sessions to finish: SIGHUP ends it and master starts it again
    if (this.init?.mode === 'daemon') how = 'shutdown';
    if (this.exiting || this.stopping === 'shutdown' || this.stopping === how) return;
    this.stopping = how;
    this.closeListeners();
    if (how === 'shutdown') {
      this.abort.abort();
      if (this.service) {
        try {
          await this.service.shutdown?.(this.ctx);
        } catch (err) {
          this.log.error(`shutdown failed: ${String(err)}`);
        }
      }
      for (const c of this.inetdChildren) c.kill('SIGTERM');
      // the service had its chance to say goodbye: whatever it left open is closed now
      if (this.init.mode !== 'inetd') for (const s of this.sockets) s.destroy();
    }
    if (this.active === 0) this.exit(0);
  }

  private exiting = false;

  exit(code: number): void {
    this.exiting = true;
    process.exitCode = code;
    if (process.connected) process.disconnect();
    // give stdio a moment to flush, but never hang
    setTimeout(() => process.exit(code), 50).unref();
    setImmediate(() => process.exit(code));
  }
}

const worker = new Worker();
let started = false;

process.on('message', (msg: ToWorker, handle: unknown) => {
  switch (msg.t) {
    case 'init':
      if (started) return;
      started = true;
      worker.start(msg).catch((err: unknown) => {
        const text = err instanceof Error ? err.message : String(err);
        process.stderr.write(`${msg.service}: worker cannot start: ${text}\n`);
        process.exit(70); // EX_SOFTWARE: counted as a crash by master
      });
      break;
    case 'listener':
      worker.addListener(msg.idx, msg.count, handle);
      break;
    case 'quota':
      worker.setQuota(msg.quota);
      break;
    case 'drain':
      void worker.stop('drain');
      break;
    case 'shutdown':
      void worker.stop('shutdown');
      break;
  }
});
process.on('disconnect', () => void worker.stop('shutdown'));
process.on('SIGTERM', () => void worker.stop('shutdown'));
process.on('SIGINT', () => void worker.stop('shutdown'));
process.on('SIGHUP', () => void worker.stop('drain'));
/**
 * Cap V8's young generation. Under a burst (many logins, a big FETCH) V8 doubles the
 * semi-spaces up to 16 MiB each and never gives them back, which an idle server then carries
 * (about 30 MiB per worker: 3 KiB per connection at 10,000). The limit cannot be set once the
 * heap exists, but the growth factor can: after each GC, growth is allowed (V8's factor 2)
 * while the semi-space is below the cap and stopped (factor 1) at it. The cap is
 * CYRUS_MAX_SEMI_SPACE_MB (default 8, 0 = V8's own limit); 8 MiB costs under 10% on an
 * allocation-bound loop, 4 MiB about 30%.
 */
function capYoungGeneration(): void {
  const mb = Number(process.env.CYRUS_MAX_SEMI_SPACE_MB ?? '8');
  if (!Number.isFinite(mb) || mb <= 0) return;
  // new_space's physical size is both semi-spaces, and a growth doubles them: grow only while
  // the doubled size stays within the cap
  const cap = 2 * mb * 1024 * 1024;
  let growing = true;
  const check = (): void => {
    const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    const want = !ns || 2 * ns.physical_space_size <= cap;
    if (want !== growing) {
      growing = want;
      v8.setFlagsFromString(`--semi-space-growth-factor=${want ? 2 : 1}`);
    }
  };
  new PerformanceObserver(check).observe({ entryTypes: ['gc'] });
}
capYoungGeneration();

// CYRUS_MEMSTATS=1 (benchmarks): SIGUSR2 prints this worker's memory use to stderr
if (process.env.CYRUS_MEMSTATS) {
  process.on('SIGUSR2', () => {
    const mu = process.memoryUsage();
    const kib = (n: number): string => `${Math.round(n / 1024)}`;
    const spaces = v8
      .getHeapSpaceStatistics()
      .map((s) => `${s.space_name} ${kib(s.space_used_size)}/${kib(s.physical_space_size)}`)
      .join(', ');
    process.stderr.write(
      `memstats pid ${process.pid}: rss ${kib(mu.rss)} heapTotal ${kib(mu.heapTotal)} heapUsed ${kib(mu.heapUsed)} ` +
        `external ${kib(mu.external)} arrayBuffers ${kib(mu.arrayBuffers)} KiB; spaces used/physical KiB: ${spaces}\n`,
    );
  });
}
process.on('uncaughtException', (err) => {
  process.stderr.write(
    `${process.env.CYRUS_SERVICE ?? 'worker'}[${process.pid}]: uncaught error: ${err.stack ?? err.message}\n`,
  );
  process.exit(70);
});
