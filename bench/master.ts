/**
 * `npm run bench -- master [--conns N] [--seconds S]`: cyr_master's own costs.
 *
 * Measures, with a real master (dist/src/bin/cyr_master.js) in a temp directory serving the
 * built-in `echo` service on 127.0.0.1 (prefork=2):
 *   1. time from spawning master to its ready file (median of 5 starts);
 *   2. connection accept rate through master's listeners: clients connect, read the greeting
 *      and reset, with 1, 50 and 500 concurrent clients, for S seconds each (default 3);
 *   3. resident memory (sum of VmRSS of master and its workers, from /proc) with N idle open
 *      connections (default 10,000). The client sockets live in this process, so it needs
 *      about N file descriptors: node raises its soft limit to the hard one at start; if that
 *      is too low the benchmark re-runs itself under `prlimit --nofile=65536` when allowed.
 * Targets: ready < 1 s; 10,000 idle connections < 1 GiB.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hardFdLimit } from '../src/master/program.js';
import { childrenOf, startMaster, type MasterProc } from '../src/master/testing.js';

function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : def;
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const CONF = `SERVICES {\n  echo cmd="echo" listen="127.0.0.1:0" prefork=2\n}\n`;

async function readyTime(): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'cyr-bench-'));
    const ready = join(dir, 'conf', 'master.ready');
    const t0 = process.hrtime.bigint();
    const m = await startMaster({ dir, cyrusConf: CONF, waitReady: false, env: { CYRUS_VERBOSE: '0' } });
    while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 2));
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await m.stop();
    m.cleanup();
  }
  return times.sort((a, b) => a - b);
}

/** one connect → greeting → RST cycle; resolves with the pid in the greeting */
function cycle(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.once('data', (d: Buffer) => {
      s.resetAndDestroy();
      resolve(d.toString().split(' ')[3]?.trim() ?? '?');
    });
    s.once('error', reject);
  });
}

async function acceptRate(
  port: number,
  concurrency: number,
  seconds: number,
): Promise<{ rate: number; perWorker: number[] }> {
  const end = Date.now() + seconds * 1000;
  let done = 0;
  let errors = 0;
  const byPid = new Map<string, number>();
  const lanes = Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      try {
        const pid = await cycle(port);
        byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
        done++;
      } catch {
        errors++;
      }
    }
  });
  const t0 = Date.now();
  await Promise.all(lanes);
  if (errors) console.log(`   (${errors} connection errors at concurrency ${concurrency})`);
  return { rate: done / ((Date.now() - t0) / 1000), perWorker: [...byPid.values()].sort((a, b) => b - a) };
}

async function idleMemory(
  m: MasterProc,
  port: number,
  n: number,
): Promise<{ rss: number; pids: number; opened: number; ms: number }> {
  const socks: Socket[] = [];
  const t0 = Date.now();
  const batch = 500;
  for (let i = 0; i < n; i += batch) {
    const part = await Promise.all(
      Array.from(
        { length: Math.min(batch, n - i) },
        () =>
          new Promise<Socket | null>((resolve) => {
            const s = connect(port, '127.0.0.1');
            s.once('data', () => resolve(s));
            s.once('error', () => resolve(null));
          }),
      ),
    );
    for (const s of part) if (s) socks.push(s);
  }
  const ms = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 1000)); // let the workers settle
  const pids = [m.pid, ...childrenOf(m.pid)];
  const rss = pids.reduce((sum, p) => sum + rssKiB(p), 0);
  for (const s of socks) s.destroy();
  return { rss, pids: pids.length, opened: socks.length, ms };
}

export default async function bench(args: string[]): Promise<void> {
  const conns = opt(args, '--conns', 10_000);
  const seconds = opt(args, '--seconds', 3);
  if (hardFdLimit() < conns + 1000 && !process.env.CYRUS_TS_BENCH_REEXEC) {
    const r = spawnSync(
      'prlimit',
      ['--nofile=65536:65536', process.execPath, ...process.execArgv, process.argv[1]!, 'master', ...args],
      {
        stdio: 'inherit',
        env: { ...process.env, CYRUS_TS_BENCH_REEXEC: '1' },
      },
    );
    if (r.status === 0) return;
    console.log(
      `could not raise the descriptor limit (hard ${hardFdLimit()}); measuring with fewer connections`,
    );
  }

  const times = await readyTime();
  console.log(
    `start → ready file: median ${times[2]!.toFixed(0)} ms (min ${times[0]!.toFixed(0)}, max ${times[4]!.toFixed(0)}) over 5 starts`,
  );

  const dir = mkdtempSync(join(tmpdir(), 'cyr-bench-'));
  const m = await startMaster({ dir, cyrusConf: CONF, env: { CYRUS_VERBOSE: '0' }, args: ['-l', '1024'] });
  try {
    const port = m.port('echo');
    console.log("accept rate (connect, greeting, reset) through master's listener, echo prefork=2:");
    for (const c of [1, 50, 500]) {
      const { rate, perWorker } = await acceptRate(port, c, seconds);
      const spread = perWorker
        .map((n) => `${((100 * n) / perWorker.reduce((a, b) => a + b, 0)).toFixed(0)}%`)
        .join('/');
      console.log(
        `  ${String(c).padStart(4)} concurrent clients: ${rate.toFixed(0)} connections/s (share per worker ${spread})`,
      );
    }
    const limit = Math.min(conns, hardFdLimit() - 500);
    const r = await idleMemory(m, port, limit);
    console.log(
      `idle connections: ${r.opened} open (in ${r.ms} ms); RSS of master + ${r.pids - 1} workers: ${(r.rss / 1024).toFixed(1)} MiB` +
        ` (${((r.rss * 1024) / Math.max(1, r.opened)).toFixed(0)} B per connection incl. base)`,
    );
  } finally {
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
