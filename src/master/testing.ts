/**
 * Helpers for master's tests and benchmark: run a real `cyr_master` in a temp directory.
 *
 * Owns: `startMaster` (writes imapd.conf and cyrus.conf, spawns dist/src/bin/cyr_master.js -D,
 * collects its log lines) and small socket helpers. Not used by production code.
 *
 * Imports: node built-ins.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MASTER_JS = fileURLToPath(new URL('../bin/cyr_master.js', import.meta.url));

export interface MasterProc {
  dir: string;
  child: ChildProcess;
  pid: number;
  lines: string[];
  imapdConf: string;
  cyrusConf: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** wait for a log line matching re (counting from line `from`); returns the match */
  waitFor(re: RegExp, timeoutMs?: number, from?: number): Promise<RegExpMatchArray>;
  /** the TCP port service `name` was bound to (from the log) */
  port(name: string): number;
  /** SIGTERM and wait for exit */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** remove the temp dir */
  cleanup(): void;
}

export interface StartOptions {
  /** cyrus.conf text; `$DIR` is replaced by the temp directory */
  cyrusConf: string;
  /** extra imapd.conf lines ($DIR replaced) */
  imapd?: string;
  env?: Record<string, string>;
  args?: string[];
  /** wait for "ready for work" (default true) */
  waitReady?: boolean;
  dir?: string;
}

export async function startMaster(opts: StartOptions): Promise<MasterProc> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'cyr-master-'));
  const sub = (s: string): string => s.replaceAll('$DIR', dir);
  const imapdConf = join(dir, 'imapd.conf');
  const cyrusConf = join(dir, 'cyrus.conf');
  if (!existsSync(imapdConf))
    writeFileSync(imapdConf, `configdirectory: ${dir}/conf\n${sub(opts.imapd ?? '')}\n`);
  writeFileSync(cyrusConf, sub(opts.cyrusConf));
  const child = spawn(
    process.execPath,
    [MASTER_JS, '-D', '-C', imapdConf, '-M', cyrusConf, ...(opts.args ?? [])],
    {
      env: { ...process.env, CYRUS_VERBOSE: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let buf = '';
  const onData = (d: Buffer): void => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    for (const w of [...waiters]) w();
  };
  child.stderr!.on('data', onData);
  child.stdout!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      for (const w of [...waiters]) w();
      resolve({ code, signal });
    }),
  );
  const waitFor = (re: RegExp, timeoutMs = 5000, from = 0): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = from; i < lines.length; i++) {
          const m = lines[i]!.match(re);
          if (m) {
            done();
            resolve(m);
            return true;
          }
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          done();
          reject(new Error(`master exited before ${re}; log:\n${lines.join('\n')}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timeout waiting for ${re}; log:\n${lines.join('\n')}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(w);
      };
      const w = (): void => void check();
      waiters.add(w);
      check();
    });
  const proc: MasterProc = {
    dir,
    child,
    pid: child.pid!,
    lines,
    imapdConf,
    cyrusConf,
    exited,
    waitFor,
    port(name) {
      for (const l of lines) {
        const m = new RegExp(`service ${name}: bound .*?:(\\d+)`).exec(l);
        if (m) return Number(m[1]);
      }
      throw new Error(`no port for ${name}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (opts.waitReady !== false) await waitFor(/ready for work/, 10_000);
  return proc;
}

/** A line-oriented client: connect, read lines, send text. */
export interface LineClient {
  sock: Socket;
  lines: string[];
  next(timeoutMs?: number): Promise<string>;
  send(s: string): void;
  close(): Promise<void>;
}

export function lineClient(target: { port: number; host?: string } | { path: string }): Promise<LineClient> {
  return new Promise((resolve, reject) => {
    const sock = 'path' in target ? connect(target.path) : connect(target.port, target.host ?? '127.0.0.1');
    const lines: string[] = [];
    const waiting: ((l: string | null) => void)[] = [];
    let buf = '';
    let closed = false;
    sock.on('data', (d) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const l = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        const w = waiting.shift();
        if (w) w(l);
        else lines.push(l);
      }
    });
    sock.on('close', () => {
      closed = true;
      for (const w of waiting.splice(0)) w(null);
    });
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      sock.on('error', () => {});
      resolve({
        sock,
        lines,
        next(timeoutMs = 3000) {
          const l = lines.shift();
          if (l !== undefined) return Promise.resolve(l);
          if (closed) return Promise.reject(new Error('connection closed'));
          return new Promise((res, rej) => {
            const t = setTimeout(() => {
              const k = waiting.indexOf(w);
              if (k >= 0) waiting.splice(k, 1);
              rej(new Error('timeout waiting for a line'));
            }, timeoutMs);
            const w = (line: string | null): void => {
              clearTimeout(t);
              if (line === null) rej(new Error('connection closed'));
              else res(line);
            };
            waiting.push(w);
          });
        },
        send(s) {
          sock.write(s);
        },
        close() {
          return new Promise<void>((res) => {
            if (closed) return res();
            sock.once('close', () => res());
            sock.end();
          });
        },
      });
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Is process `pid` alive (not a zombie)? */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** pids of every process whose parent is `ppid` (from /proc) */
export function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const name of (() => {
    try {
      return readdirSync('/proc');
    } catch {
      return [];
    }
  })()) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(after[1]) === ppid) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** wait until pred() is true (polling), or throw after timeoutMs */
export async function until(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await sleep(20);
  }
}
