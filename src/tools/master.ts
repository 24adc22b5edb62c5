/**
 * `cyr_master`: command line of the supervisor (the Cyrus `master` program).
 *
 * Owns: option parsing, help, daemon mode, the log file, and the exit statuses. The supervision
 * itself is src/master/master.ts.
 *
 * Imports: node built-ins, src/config, src/master.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config/api.js';
import { defaultCyrusConfPath } from '../config/cyrus-conf.js';
import { defaultImapdConfPath } from '../config/imapd-conf.js';
import { Master, MasterExit } from '../master/master.js';
import { PidfileError } from '../master/pidfile.js';
import { StartError } from '../master/start.js';

const HELP = `usage: cyr_master [-C imapd.conf] [-M cyrus.conf] [-p pidfile] [-r readyfile]
                  [-l backlog] [-L logfile] [-d | -D] [-j n] [-V] [-h]

Supervises the Cyrus services: runs START, binds SERVICES, runs EVENTS, keeps DAEMONs up.

  -C file     imapd.conf for master and, unless their cmd= has its own -C, its built-in
              services (default /etc/imapd.conf; $CYRUS_PREFIX/etc/imapd.conf first)
  -M file     cyrus.conf (default /etc/cyrus.conf; $CYRUS_PREFIX/etc/cyrus.conf first)
  -p file     pidfile (default master_pid_file: {configdirectory}/master.pid); a second
              master on the same pidfile refuses to start
  -r file     ready file, created once every service listens and removed at exit
              (default master_ready_file: {configdirectory}/master.ready)
  -l n        listen backlog (default 32)
  -L file     append log lines and children's output to file
  -D          stay in the foreground, log to stderr (the default when neither -d nor -D)
  -d          daemon mode: detach, log only with -L
  -j n        accepted for compatibility (janitor rate); no effect
  -V          print the version and exit
  -h          this help

cmd= programs: names of our built-in services (imapd, pop3d, lmtpd, timsieved, nntpd,
smmapd, echo, ...) run in worker processes that each serve many connections; built-in
daemons (idled) run in a worker; tools we ship (ctl_cyrusdb, tls_prune, cyr_expire, ...)
run with node; anything else runs as an external command (absolute path or PATH). An
external command in SERVICES is run inetd-style: one process per connection, with the
connection as its stdin and stdout.

Signals: HUP reloads both files (unchanged services keep their connections), TERM/INT shut
down cleanly (10 s grace, then SIGKILL), QUIT kills every child at once.

Environment: CYRUS_PREFIX, CYRUS_VERBOSE, NOTIFY_SOCKET (READY=1 through systemd-notify).
Testing aids: CYRUS_TS_EVENT_MINUTE_MS (length of an EVENTS minute), CYRUS_TS_BACKOFF_MS
(crash back-off pause, default 10000).
`;

interface Options {
  imapdConf?: string;
  cyrusConf?: string;
  pidFile?: string;
  readyFile?: string;
  backlog: number;
  logFile?: string;
  daemon: boolean;
  foreground: boolean;
}

class Usage extends Error {}

function parse(argv: string[]): Options | 'help' | 'version' {
  const o: Options = { backlog: 32, daemon: false, foreground: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Usage(`option ${a} needs an argument`);
      return v;
    };
    switch (a) {
      case '-h':
      case '--help':
        return 'help';
      case '-V':
        return 'version';
      case '-C':
        o.imapdConf = value();
        break;
      case '-M':
        o.cyrusConf = value();
        break;
      case '-p':
        o.pidFile = value();
        break;
      case '-r':
        o.readyFile = value();
        break;
      case '-L':
        o.logFile = value();
        break;
      case '-l': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new Usage('-l needs a positive number');
        o.backlog = n;
        break;
      }
      case '-j':
        // Cyrus: janitor sweeps per second; takes a number
        if (argv[i + 1] !== undefined && /^\d+$/.test(argv[i + 1]!)) i++;
        break;
      case '-d':
        o.daemon = true;
        break;
      case '-D':
        o.foreground = true;
        break;
      case '-v':
        break;
      default:
        throw new Usage(`unknown option ${a}`);
    }
  }
  if (o.daemon && o.foreground) throw new Usage('-d and -D cannot be used together');
  return o;
}

function version(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8'),
    ) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** CYRUS_PREFIX/<path> when it exists, else path; always absolute (daemon mode, children). */
function withPrefix(path: string): string {
  const prefix = process.env.CYRUS_PREFIX;
  if (prefix && isAbsolute(path) && existsSync(join(prefix, path))) return join(prefix, path);
  return resolve(path);
}

const DAEMON_ENV = 'CYRUS_TS_MASTER_DAEMONIZED';

/** -d: run ourselves again detached; exit when the child holds the pidfile (or failed). */
function daemonize(argv: string[], logFile: string | undefined): Promise<number> {
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  const script = process.argv[1]!;
  const child = spawn(process.execPath, [script, ...argv], {
    detached: true,
    stdio: ['ignore', out, out, 'ipc'],
    env: { ...process.env, [DAEMON_ENV]: '1' },
  });
  return new Promise<number>((done) => {
    child.on('message', (m: { t?: string; message?: string }) => {
      // a startup failure before the pidfile is held: the daemon's stderr may be /dev/null
      if (m.t === 'failed') process.stderr.write(`cyr_master: ${m.message ?? 'failed'}\n`);
      if (m.t === 'locked') {
        child.disconnect();
        child.unref();
        done(0);
      }
    });
    // 'close' comes after the IPC channel is drained, so a 'failed' message is printed first
    child.on('close', (code) => done(code ?? 1));
    child.on('error', (err) => {
      process.stderr.write(`cyr_master: cannot start daemon: ${err.message}\n`);
      done(71);
    });
  });
}

export async function main(argv: string[]): Promise<number> {
  let opts: ReturnType<typeof parse>;
  try {
    opts = parse(argv);
  } catch (err) {
    if (err instanceof Usage) {
      process.stderr.write(`cyr_master: ${err.message}\n${HELP}`);
      return 64;
    }
    throw err;
  }
  if (opts === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (opts === 'version') {
    process.stdout.write(`cyr_master (cyrus-ts) ${version()}\n`);
    return 0;
  }
  const imapdConfPath = opts.imapdConf ? withPrefix(opts.imapdConf) : defaultImapdConfPath();
  const cyrusConfPath = opts.cyrusConf ? withPrefix(opts.cyrusConf) : defaultCyrusConfPath();
  const logFile = opts.logFile ? resolve(opts.logFile) : undefined;
  const daemonChild = process.env[DAEMON_ENV] === '1';
  if (opts.daemon && !daemonChild) return daemonize(argv, logFile);
  delete process.env[DAEMON_ENV];

  let write: ((line: string) => void) | undefined;
  let output: 'inherit' | number = 'inherit';
  if (logFile && !daemonChild) {
    const fd = openSync(logFile, 'a');
    write = (line) => void writeSync(fd, line + '\n');
    output = fd;
  }
  const master = new Master({
    imapdConfPath,
    cyrusConfPath,
    pidFile: opts.pidFile ? resolve(opts.pidFile) : undefined,
    readyFile: opts.readyFile ? resolve(opts.readyFile) : undefined,
    backlog: opts.backlog,
    write,
    output,
    onPidfile: () => {
      if (daemonChild && process.connected) {
        process.send?.({ t: 'locked' });
        process.disconnect();
      }
    },
  });
  try {
    return await master.run();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const code =
      err instanceof ConfigError
        ? 78
        : err instanceof PidfileError
          ? 75
          : err instanceof StartError
            ? 71
            : err instanceof MasterExit
              ? err.code
              : null;
    if (code === null) throw err;
    if (!(err instanceof MasterExit)) master.log.crit(msg);
    process.stderr.write(`cyr_master: ${msg}\n`);
    if (daemonChild && process.connected) {
      await new Promise<void>((resolve) =>
        process.send?.({ t: 'failed', message: msg }, undefined, {}, () => resolve()),
      );
    }
    return code;
  }
}
