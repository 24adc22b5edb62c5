/**
 * What a cyrus.conf `cmd=` runs, and how master starts it.
 *
 * Owns: `resolveProgram` (the mapping from argv[0] to a kind of program) and `spawnProgram`
 * (starting a START/EVENTS/DAEMON command or a worker with the right environment and limits).
 *
 * Mapping, on the basename of argv[0] without a `cyr_` prefix:
 *   - a built-in service of src/services/registry.ts (imapd, pop3d, lmtpd, echo, ...) ⇒ `service`,
 *     served by a worker process (src/master/worker.ts) that handles many connections;
 *   - a built-in daemon (idled) ⇒ `daemon`, run by a worker process;
 *   - a tool we ship (dist/src/bin/cyr_<name>.js exists: ctl_cyrusdb, tls_prune, expire, ...)
 *     ⇒ `tool`, run as `node <that file> args...`;
 *   - anything else ⇒ `external`: an absolute path, or looked up in PATH. An external command in
 *     SERVICES is run inetd-style, one process per connection with the socket as stdin/stdout.
 *
 * `maxfds`: Node cannot call setrlimit, so a child that needs a limit runs through
 * `/usr/bin/prlimit --nofile=N:N` (capped at our hard limit) when that binary exists.
 *
 * Imports: node built-ins, src/services/registry.ts.
 */
import { spawn, fork, type ChildProcess, type StdioOptions } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBuiltinDaemon, isBuiltinService, programName } from '../services/registry.js';

export type Program =
  | { kind: 'service'; name: string }
  | { kind: 'daemon'; name: string }
  | { kind: 'tool'; name: string; script: string }
  | { kind: 'external'; name: string; path: string }
  | { kind: 'missing'; name: string };

/** dist/src/bin, where the compiled tools live */
export const BIN_DIR = fileURLToPath(new URL('../bin/', import.meta.url));
/** the compiled worker entry */
export const WORKER_JS = fileURLToPath(new URL('./worker.js', import.meta.url));

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Look `cmd` up in PATH (as execvp would); null if not found. */
export function whichSync(cmd: string, pathEnv = process.env.PATH ?? ''): string | null {
  if (cmd.includes('/')) return isExecutableFile(cmd) ? cmd : null;
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    if (isExecutableFile(p)) return p;
  }
  return null;
}

export function resolveProgram(argv0: string, binDir = BIN_DIR): Program {
  const name = programName(argv0);
  if (isBuiltinService(argv0)) return { kind: 'service', name };
  if (isBuiltinDaemon(argv0)) return { kind: 'daemon', name };
  const script = join(binDir, `cyr_${name}.js`);
  if (existsSync(script)) return { kind: 'tool', name, script };
  if (isAbsolute(argv0))
    return isExecutableFile(argv0) ? { kind: 'external', name, path: argv0 } : { kind: 'missing', name };
  const found = whichSync(argv0);
  return found ? { kind: 'external', name, path: found } : { kind: 'missing', name };
}

/** The hard RLIMIT_NOFILE of this process, from /proc (Infinity when unknown/unlimited). */
export function hardFdLimit(): number {
  try {
    const text = readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+\S+\s+(\S+)/m.exec(text);
    if (m && m[1] !== 'unlimited') return Number(m[1]);
  } catch {
    /* not Linux */
  }
  return Infinity;
}

const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => isExecutableFile(p)) ?? null;

/** argv prefix that applies `maxfds`, or null when it cannot be applied (0 = leave unchanged). */
export function fdLimitPrefix(maxfds: number): string[] | null {
  if (maxfds <= 0 || !PRLIMIT) return null;
  const n = Math.min(maxfds, hardFdLimit());
  return [PRLIMIT, `--nofile=${n}:${n}`];
}

export function prlimitAvailable(): boolean {
  return PRLIMIT !== null;
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  stdio: StdioOptions;
  maxfds?: number;
}

/**
 * Start a tool or an external program. Children get their own process group (detached) so master
 * can signal a child together with whatever it started.
 */
export function spawnProgram(prog: Program, args: string[], opts: SpawnOptions): ChildProcess {
  let file: string;
  let argv: string[];
  if (prog.kind === 'tool') {
    file = process.execPath;
    argv = [prog.script, ...args];
  } else if (prog.kind === 'external') {
    file = prog.path;
    argv = args;
  } else {
    throw new Error(`cannot spawn ${prog.kind} program ${prog.name} directly`);
  }
  const prefix = fdLimitPrefix(opts.maxfds ?? 0);
  if (prefix) {
    argv = [...prefix.slice(1), file, ...argv];
    file = prefix[0]!;
  }
  return spawn(file, argv, { env: opts.env, stdio: opts.stdio, detached: true });
}

/**
 * Fork a worker process (src/master/worker.ts) with an IPC channel.
 * `CYRUS_TS_WORKER_NODE_ARGS` (space-separated) adds node options to every worker, for
 * profiling a service under load (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
export function forkWorker(opts: SpawnOptions): ChildProcess {
  const prefix = fdLimitPrefix(opts.maxfds ?? 0);
  const nodeArgs = (process.env.CYRUS_TS_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return fork(WORKER_JS, [], {
    // glibc keeps every thread's malloc arena at its high-water mark: one scrypt password check
    // (16 MiB, on libuv's threads) would pin 64 MiB per worker. Big blocks through mmap are
    // returned at once. The allocator reads this before any JS runs, so it must be set here.
    env: { MALLOC_MMAP_THRESHOLD_: '131072', ...opts.env },
    stdio: opts.stdio,
    detached: true,
    serialization: 'json',
    ...(prefix
      ? { execPath: prefix[0], execArgv: [...prefix.slice(1), process.execPath, ...nodeArgs] }
      : { execArgv: nodeArgs }),
  });
}
