/**
 * `npm run bench -- lmtp [--count N] [--big N] [--users U]`: LMTP delivery throughput.
 *
 * Workloads, each at concurrency 1 and 8 (connections delivering in parallel), each to one
 * user and spread round-robin over U users (default 100):
 *   - N messages of ~4 KB (default 10,000: `--count`),
 *   - B messages of 1 MB (default 1,000: `--big`).
 * Every delivery is acknowledged only after the store fsynced and committed it (our lmtpd
 * never answers 250 earlier), so the figures include durability.
 *
 * The client side is protocol-only: an `LmtpTarget` is a host, a port (a pre-authorised LMTP
 * listener) and user names, so Dovecot or Cyrus (bench/peers.ts) can be measured the same
 * way by passing their `lmtp` endpoint. Ours runs in a child process with a real store in a
 * temp dir (lmtpd -a on TCP). `--peers` measures Dovecot and Cyrus from Debian too
 * (bench/peers.ts: private instances on loopback, fsync on).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface LmtpTarget {
  name: string;
  host: string;
  port: number;
  users: string[];
  /** resident memory of the whole server, KiB */
  rssKiB(): number;
  stop(): Promise<void>;
}

function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : def;
}

export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const CHILD_FLAG = '--lmtp-bench-child';

/** Our lmtpd (TCP, -a) and pop3d in a child process, with `users` INBOXes (password benchpw). */
export async function startOurs(users: number): Promise<LmtpTarget & { pop3Port: number }> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [CHILD_FLAG, String(users)], {
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
  });
  const ports = await new Promise<{ lmtp: number; pop3: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { lmtp: number; pop3: number }));
    child.once('exit', (c) => reject(new Error(`bench server exited ${c}`)));
  });
  return {
    name: 'cyrus-ts',
    host: '127.0.0.1',
    port: ports.lmtp,
    pop3Port: ports.pop3,
    users: Array.from({ length: users }, (_, i) => `bench${i}`),
    rssKiB: () => rssOf(child.pid!),
    async stop() {
      child.send('stop');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

if (process.argv.includes(CHILD_FLAG)) {
  const n = Number(process.argv[process.argv.indexOf(CHILD_FLAG) + 1]);
  const { startDeliverySite } = await import('../src/protocols/lmtp/test-kit.js');
  const { SasldbStore } = await import('../src/auth/sasldb.js');
  const { join } = await import('node:path');
  const s = await startDeliverySite({ poptimeout: '60m' });
  const db = new SasldbStore(join(s.site.dir, 'sasldb2'));
  for (let i = 0; i < n; i++) {
    s.store.ensureInbox(`bench${i}`);
    if (i < 2) await db.setPassword(`bench${i}`, 'benchpw');
  }
  db.close();
  process.send!({ lmtp: s.lmtpPort, pop3: s.pop3Port });
  process.on('message', async () => {
    await s.stop();
    process.exit(0);
  });
}

/** A message of about `size` bytes with a unique Message-ID. */
export function benchMessage(i: number, size: number): Buffer {
  const head =
    `From: bench@example.org\r\nTo: user@example.org\r\nSubject: bench ${i}\r\n` +
    `Message-ID: <bench-${i}-${process.pid}-${Date.now()}@example.org>\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\n\r\n`;
  const line = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn\r\n'; // 78 bytes
  const lines = Math.max(1, Math.floor((size - head.length) / line.length));
  return Buffer.from(head + line.repeat(lines));
}

/** One LMTP connection that delivers messages one transaction at a time. */
export class LmtpConn {
  #sock: Socket;
  #buf = '';
  #waiter: (() => void) | null = null;

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.#buf += d;
      const w = this.#waiter;
      this.#waiter = null;
      w?.();
    });
  }

  static async open(host: string, port: number): Promise<LmtpConn> {
    const sock = connect(port, host);
    await new Promise<void>((res, rej) => {
      sock.once('connect', res);
      sock.once('error', rej);
    });
    sock.setNoDelay(true);
    const c = new LmtpConn(sock);
    await c.reply();
    c.#sock.write('LHLO bench.example\r\n');
    await c.reply();
    return c;
  }

  async reply(): Promise<string> {
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3} [^\n]*\n/.exec(this.#buf);
      if (m) {
        this.#buf = this.#buf.slice(m[0].length);
        return m[0];
      }
      await new Promise<void>((r) => (this.#waiter = r));
    }
  }

  /** deliver one message to `rcpt` (already dot-stuffing-free: our bench messages have no leading dots) */
  async deliver(rcpt: string, msg: Buffer): Promise<void> {
    this.#sock.write(`MAIL FROM:<bench@example.org>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\n`);
    this.#sock.write(msg);
    this.#sock.write('.\r\n');
    for (let i = 0; i < 4; i++) {
      const r = await this.reply();
      if (!/^(250|354)/.test(r)) throw new Error(`delivery to ${rcpt} failed: ${r.trim()}`);
    }
  }

  close(): void {
    this.#sock.end('QUIT\r\n');
  }
}

export interface RunResult {
  messages: number;
  seconds: number;
  perSecond: number;
  mbPerSecond: number;
}

/** Deliver `count` messages of `size` bytes with `concurrency` connections to `users` (round-robin). */
export async function deliverMany(
  t: LmtpTarget,
  count: number,
  size: number,
  concurrency: number,
  users: string[],
): Promise<RunResult> {
  const conns = await Promise.all(Array.from({ length: concurrency }, () => LmtpConn.open(t.host, t.port)));
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    conns.map(async (c) => {
      for (;;) {
        const i = next++;
        if (i >= count) break;
        await c.deliver(users[i % users.length]!, benchMessage(i, size));
      }
      c.close();
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    messages: count,
    seconds,
    perSecond: count / seconds,
    mbPerSecond: (count * size) / 1e6 / seconds,
  };
}

/**
 * The LMTP workloads against any target (ours, or a peer's `lmtp` endpoint with its users):
 * prints one row per run and returns them.
 */
export async function lmtpWorkloads(
  target: LmtpTarget,
  opts: { count: number; big: number },
): Promise<string[]> {
  const rows: string[] = [];
  const runs: [string, number, number][] = [
    ['4 KB', opts.count, 4096],
    ['1 MB', opts.big, 1024 * 1024],
  ];
  for (const [label, n, size] of runs) {
    if (n <= 0) continue;
    for (const conc of [1, 8]) {
      for (const spread of [false, true]) {
        const users = spread ? target.users : [target.users[0]!];
        const r = await deliverMany(target, n, size, conc, users);
        rows.push(
          `${target.name.padEnd(9)} ${label.padEnd(5)} ${String(n).padStart(6)} msgs  conc ${conc}  ${(spread ? `${users.length} users` : '1 user').padEnd(9)}` +
            `  ${r.seconds.toFixed(2).padStart(7)} s  ${r.perSecond.toFixed(0).padStart(6)} msg/s  ${r.mbPerSecond.toFixed(1).padStart(6)} MB/s`,
        );
        console.log(rows[rows.length - 1]);
      }
    }
  }
  return rows;
}

/** `--peers`: Dovecot's and Cyrus's LMTP (bench/peers.ts) as LmtpTargets, those that are available. */
export async function peerTargets(
  users: number,
): Promise<(LmtpTarget & { pop3: { host: string; port: number }; pass: string })[]> {
  const { ensurePeers, startCyrus, startDovecot } = await import('./peers.js');
  const avail = ensurePeers();
  const out: (LmtpTarget & { pop3: { host: string; port: number }; pass: string })[] = [];
  for (const [name, start, why] of [
    ['dovecot', startDovecot, avail.dovecot],
    ['cyrus', startCyrus, avail.cyrus],
  ] as const) {
    if (why !== null) {
      console.log(`(${name} not measured: ${why})`);
      continue;
    }
    const p = await start({ users });
    out.push({
      name: p.name,
      host: p.lmtp.host,
      port: p.lmtp.port,
      users: p.users.map((u) => u.user),
      pop3: p.pop3,
      pass: p.users[0]?.pass ?? 'benchpw',
      rssKiB: () => p.rssKiB(),
      stop: () => p.stop(),
    });
  }
  return out;
}

export default async function bench(args: string[]): Promise<void> {
  const count = opt(args, '--count', 10_000);
  const big = opt(args, '--big', 1000);
  const nUsers = opt(args, '--users', 100);
  const targets: LmtpTarget[] = [await startOurs(nUsers)];
  try {
    if (args.includes('--peers')) targets.push(...(await peerTargets(nUsers)));
    for (const target of targets) {
      await lmtpWorkloads(target, { count, big });
      console.log(`${target.name} RSS after the runs: ${Math.round(target.rssKiB() / 1024)} MiB`);
    }
  } finally {
    for (const t of targets) await t.stop();
  }
}
