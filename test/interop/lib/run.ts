/**
 * Running external programs from tests: collect stdout/stderr, feed stdin, enforce a timeout.
 *
 * Owns: `run` (spawn, wait, never throw on a non-zero exit), `python` (a python3 -c script with
 * arguments, its stdout parsed as JSON) and `has` (is a program installed).
 *
 * Imports: node built-ins.
 */
import { spawn, spawnSync } from 'node:child_process';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  /** wall-clock milliseconds */
  ms: number;
}

export interface RunOptions {
  input?: string | Buffer;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** default 30 s; the child is SIGKILLed then and the result says signal SIGKILL */
  timeoutMs?: number;
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const p = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdin.on('error', () => {});
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err, ms: Date.now() - started });
    });
    p.stdin.end(opts.input ?? '');
  });
}

/** Run a python3 script (`python3 -c script args...`, `input` on stdin) that prints one JSON value. */
export async function python<T = unknown>(
  script: string,
  args: (string | number)[],
  timeoutMs = 30_000,
  input?: string | Buffer,
): Promise<T> {
  const r = await run('python3', ['-c', script, ...args.map(String)], { timeoutMs, input });
  if (r.code !== 0) throw new Error(`python3 exited ${r.code ?? r.signal}:\n${r.err}\n${r.out}`);
  try {
    return JSON.parse(r.out) as T;
  } catch {
    throw new Error(`python3 printed no JSON:\n${r.out}\n${r.err}`);
  }
}

/** Is `cmd` on PATH? */
export function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
