/**
 * `imap-idle [--counts 1000,10000] [--users 10] [--select] [--tls] [--settle ms]`: resident
 * memory per idle IMAP connection of our server (issue #5: under 64 KiB at 10,000 connections).
 * `--tls` measures an added `imapd -s` service (self-signed certificate made with openssl).
 * Env: CYRUS_MEMSTATS=1 has each worker print its V8 heap figures to master.log
 * (BENCH_KEEP=1 keeps it); IDLE_SMAPS=1 prints the busiest worker's RSS by mapping kind;
 * IDLE_SNAPSHOT=ms with NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2 writes heap snapshots.
 *
 * Owns: the measurement only. Starts our server through ./ours.ts, reads the RSS and PSS of
 * every process under cyr_master with no connection, then opens connections (LOGIN, and SELECT
 * INBOX with `--select`) up to each count in turn and reads them again once they idle. Prints
 * per process and in total, with the per-connection figure (total at N − total at 0) / N and
 * the slope between successive counts. Source addresses 127.0.0.2.. keep ephemeral ports
 * apart; run under `prlimit --nofile=65536:65536` for 10,000 connections.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { freePort } from './peers.js';
import { startOurs } from './ours.js';

function ppidOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

interface ProcMem {
  pid: number;
  cmd: string;
  rss: number;
  pss: number;
}

/** RSS and PSS (KiB) of root and every descendant. */
function treeMem(root: number): ProcMem[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pp = ppidOf(Number(d));
    children.set(pp, [...(children.get(pp) ?? []), Number(d)]);
  }
  const out: ProcMem[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    try {
      const roll = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').slice(1, 3).join(' ');
      const rss = Number(/^Rss:\s+(\d+)/m.exec(roll)?.[1] ?? 0);
      const pss = Number(/^Pss:\s+(\d+)/m.exec(roll)?.[1] ?? 0);
      out.push({ pid, cmd, rss, pss });
    } catch {
      /* gone */
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** One idle client: connect, wait for the greeting, LOGIN (and SELECT), keep the socket. */
function openOne(
  port: number,
  local: string,
  user: string,
  pass: string,
  select: boolean,
  tls = false,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const raw = connect({ port, host: '127.0.0.1', localAddress: local });
    const s = tls ? tlsConnect({ socket: raw, rejectUnauthorized: false }) : raw;
    let buf = '';
    let step = 0;
    const t = setTimeout(() => (s.destroy(), reject(new Error('timeout'))), 60_000);
    s.setEncoding('latin1');
    s.on('error', (e) => (clearTimeout(t), reject(e)));
    s.on('data', (d: string) => {
      buf += d;
      if (step === 0 && buf.includes('\r\n')) {
        step = 1;
        buf = '';
        s.write(`a LOGIN ${user} ${pass}\r\n`);
      } else if (step === 1 && /^a (OK|NO|BAD)/m.test(buf)) {
        if (!/^a OK/m.test(buf)) return reject(new Error(`login: ${buf.trim()}`));
        buf = '';
        if (!select) return done();
        step = 2;
        s.write('b SELECT INBOX\r\n');
      } else if (step === 2 && /^b (OK|NO|BAD)/m.test(buf)) {
        if (!/^b OK/m.test(buf)) return reject(new Error(`select: ${buf.trim()}`));
        done();
      }
    });
    const done = (): void => {
      clearTimeout(t);
      s.removeAllListeners('data');
      s.on('data', () => {});
      resolve(s);
    };
  });
}

function num(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
}

export default async function main(args: string[]): Promise<void> {
  const counts = num(args, '--counts', '1000,10000').split(',').map(Number);
  const users = Number(num(args, '--users', '10'));
  const select = args.includes('--select');
  const settle = Number(num(args, '--settle', '3000'));
  const tls = args.includes('--tls');
  const srv = await startOurs({ users });
  const sockets: Socket[] = [];
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  try {
    const root = rootPid();
    // --tls: add an imaps service (imapd -s, two workers) with a fresh self-signed certificate
    let port = srv.imap.port;
    if (tls) port = await addImaps(root);
    // one connection first so that one-time code loading is part of the baseline
    const warm = await openOne(port, '127.0.0.1', srv.users[0]!.user, srv.users[0]!.pass, select, tls);
    await sleep(settle);
    const base = treeMem(root);
    const total = (m: ProcMem[]): [number, number] => [
      m.reduce((a, p) => a + p.rss, 0),
      m.reduce((a, p) => a + p.pss, 0),
    ];
    const show = (label: string, m: ProcMem[]): void => {
      console.log(label);
      for (const p of m) console.log(`  ${p.pid} ${p.cmd.padEnd(40)} rss ${p.rss} KiB pss ${p.pss} KiB`);
    };
    show(
      `0 connections (after one warm-up connection; ${users} users, ${select ? 'SELECT' : 'LOGIN'} only${tls ? ', implicit TLS' : ''})`,
      base,
    );
    const [r0, p0] = total(base);
    let prev: [number, number, number] = [0, r0, p0];
    for (const n of counts) {
      let next = sockets.length;
      const opener = async (): Promise<void> => {
        while (next < n) {
          const k = next++;
          const u = srv.users[k % users]!;
          const local = `127.0.${2 + Math.floor(k / 20000)}.${1 + (k % 200)}`;
          sockets.push(await openOne(port, local, u.user, u.pass, select, tls));
        }
      };
      const t0 = Date.now();
      await Promise.all(Array.from({ length: 40 }, opener));
      const secs = (Date.now() - t0) / 1000;
      await sleep(settle);
      const m = treeMem(root);
      show(`${n} connections (opened in ${secs.toFixed(1)} s)`, m);
      const [r, p] = total(m);
      console.log(
        `  per connection: RSS ${((r - r0) / n).toFixed(1)} KiB, PSS ${((p - p0) / n).toFixed(1)} KiB` +
          (prev[0] > 0
            ? `; slope from ${prev[0]}: RSS ${((r - prev[1]) / (n - prev[0])).toFixed(1)} KiB, PSS ${((p - prev[2]) / (n - prev[0])).toFixed(1)} KiB`
            : ''),
      );
      prev = [n, r, p];
      if (process.env.IDLE_SMAPS) {
        const big = m.filter((x) => x.cmd.includes('worker')).sort((a, b) => b.rss - a.rss)[0]!;
        console.log(smapsSummary(big.pid));
      }
      // CYRUS_MEMSTATS=1: each worker prints its heap figures to master.log (BENCH_KEEP=1 keeps it)
      if (process.env.CYRUS_MEMSTATS) {
        for (const x of m) if (x.cmd.includes('worker')) process.kill(x.pid, 'SIGUSR2');
        await sleep(500);
      }
      // IDLE_SNAPSHOT=1 (with NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2): a heap snapshot of the busiest worker
      if (process.env.IDLE_SNAPSHOT) {
        const big = m.filter((x) => x.cmd.includes('worker')).sort((a, b) => b.rss - a.rss)[0];
        if (big) process.kill(big.pid, 'SIGUSR2');
        await sleep(Number(process.env.IDLE_SNAPSHOT) || 15_000);
      }
    }
    warm.destroy();
  } finally {
    for (const s of sockets) s.destroy();
    await srv.stop();
  }
}

/** Our only child process: cyr_master. */
function rootPid(): number {
  for (const d of readdirSync('/proc'))
    if (/^\d+$/.test(d) && ppidOf(Number(d)) === process.pid) return Number(d);
  throw new Error('cyr_master not found');
}

/** RSS of one process by kind of mapping: the malloc heap, anonymous (V8 heap, mmapped buffers), files. */
function smapsSummary(pid: number): string {
  const sums = new Map<string, number>();
  let kind = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'latin1').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) kind = head[1] ? (head[1].startsWith('/') ? 'file' : head[1]) : 'anon';
    const rss = /^Rss:\s+(\d+)/.exec(line);
    if (rss) sums.set(kind, (sums.get(kind) ?? 0) + Number(rss[1]));
  }
  return `  smaps of ${pid}: ` + [...sums].map(([k, v]) => `${k} ${v} KiB`).join(', ');
}

/** Add `imaps` (imapd -s) to the running master's config with a self-signed certificate; its port. */
async function addImaps(master: number): Promise<number> {
  const argv = readFileSync(`/proc/${master}/cmdline`, 'latin1').split('\0');
  const conf = argv[argv.indexOf('-C') + 1]!;
  const cyrusConf = argv[argv.indexOf('-M') + 1]!;
  const dir = dirname(conf);
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  const r = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  if (r.status !== 0) throw new Error('openssl req failed');
  appendFileSync(conf, `tls_server_cert: ${cert}\ntls_server_key: ${key}\n`);
  const port = await freePort();
  const text = readFileSync(cyrusConf, 'utf8').replace(
    /\n}\s*$/,
    `\n  imaps cmd="imapd -s -C ${conf}" listen="127.0.0.1:${port}" prefork=2\n}\n`,
  );
  writeFileSync(cyrusConf, text);
  process.kill(master, 'SIGHUP');
  for (let i = 0; i < 100; i++) {
    await new Promise((res) => setTimeout(res, 200));
    const ok = await new Promise<boolean>((res) => {
      const s = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false });
      s.once('data', () => (s.destroy(), res(true)));
      s.once('error', () => res(false));
    });
    if (ok) return port;
  }
  throw new Error('imaps did not come up');
}
