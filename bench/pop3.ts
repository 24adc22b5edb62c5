/**
 * `npm run bench -- pop3 [--count N] [--size BYTES]`: POP3 retrieval throughput.
 *
 * N messages (default 10,000 of ~4 KB) are delivered to one user over LMTP, then one POP3
 * session logs in (USER/PASS), runs UIDL and RETRs every message, pipelined 32 deep; we report
 * login time (it snapshots the maildrop), UIDL time and RETR messages/s and MB/s.
 *
 * Like bench/lmtp.ts the client is protocol-only: a `Pop3Target` is host, port, user and
 * password, so Dovecot or Cyrus (bench/peers.ts `pop3` endpoint) can be measured the same
 * way. Ours runs in a child process (lmtpd + pop3d, real store in a temp dir); `--peers`
 * adds Dovecot and Cyrus from Debian.
 */
import { connect, type Socket } from 'node:net';
import { deliverMany, peerTargets, startOurs, type LmtpTarget } from './lmtp.js';

export interface Pop3Target {
  name: string;
  host: string;
  port: number;
  user: string;
  pass: string;
}

function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : def;
}

/** A POP3 client reading status lines and multi-line responses from a Buffer stream. */
class PopConn {
  #sock: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #waiter: (() => void) | null = null;

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.on('data', (d: Buffer) => {
      this.#buf = this.#buf.length ? Buffer.concat([this.#buf, d]) : d;
      const w = this.#waiter;
      this.#waiter = null;
      w?.();
    });
  }

  static async open(t: Pop3Target): Promise<PopConn> {
    const sock = connect(t.port, t.host);
    sock.setNoDelay(true);
    await new Promise<void>((res, rej) => {
      sock.once('connect', res);
      sock.once('error', rej);
    });
    return new PopConn(sock);
  }

  send(s: string): void {
    this.#sock.write(s);
  }

  async #until(find: () => number): Promise<Buffer> {
    for (;;) {
      const n = find();
      if (n >= 0) {
        const out = this.#buf.subarray(0, n);
        this.#buf = this.#buf.subarray(n);
        return out;
      }
      await new Promise<void>((r) => (this.#waiter = r));
    }
  }

  line(): Promise<Buffer> {
    return this.#until(() => {
      const i = this.#buf.indexOf(10);
      return i < 0 ? -1 : i + 1;
    });
  }

  multi(): Promise<Buffer> {
    return this.#until(() => {
      if (this.#buf.length >= 4 && this.#buf.subarray(0, 4).toString() === '-ERR') {
        const i = this.#buf.indexOf(10);
        return i < 0 ? -1 : i + 1;
      }
      const i = this.#buf.indexOf('\r\n.\r\n');
      return i < 0 ? -1 : i + 5;
    });
  }

  close(): void {
    this.#sock.end('QUIT\r\n');
  }
}

export async function retrieveAll(
  t: Pop3Target,
): Promise<{ login: number; uidl: number; retr: number; bytes: number; count: number }> {
  const c = await PopConn.open(t);
  await c.line();
  let t0 = performance.now();
  c.send(`USER ${t.user}\r\nPASS ${t.pass}\r\nSTAT\r\n`);
  await c.line();
  const pass = (await c.line()).toString();
  if (!pass.startsWith('+OK')) throw new Error(`login failed: ${pass}`);
  const stat = /^\+OK (\d+)/.exec((await c.line()).toString());
  const count = Number(stat?.[1] ?? 0);
  const login = performance.now() - t0;
  t0 = performance.now();
  c.send('UIDL\r\n');
  await c.multi();
  const uidl = performance.now() - t0;
  t0 = performance.now();
  const DEPTH = 32;
  let sent = 0;
  let bytes = 0;
  for (; sent < Math.min(DEPTH, count); sent++) c.send(`RETR ${sent + 1}\r\n`);
  for (let got = 0; got < count; got++) {
    const r = await c.multi();
    if (r[0] !== 0x2b) throw new Error(`RETR failed: ${r.toString()}`);
    bytes += r.length;
    if (sent < count) c.send(`RETR ${++sent}\r\n`);
  }
  const retr = performance.now() - t0;
  c.close();
  return { login, uidl, retr, bytes, count };
}

/** Load `count` messages into `lmtp`'s first user, then retrieve them all from `pop3`. */
export async function pop3Workload(
  lmtp: LmtpTarget,
  pop3: Pop3Target,
  count: number,
  size: number,
): Promise<string> {
  // one delivery first: Cyrus autocreates the INBOX at the first delivery and races otherwise
  await deliverMany(lmtp, 1, size, 1, [pop3.user]);
  const load = await deliverMany(lmtp, count - 1, size, 8, [pop3.user]);
  console.log(
    `loaded ${count} messages of ~${size} bytes over LMTP in ${load.seconds.toFixed(1)} s (${load.perSecond.toFixed(0)} msg/s)`,
  );
  const r = await retrieveAll(pop3);
  const row =
    `${pop3.name.padEnd(9)} ${r.count} msgs  login+STAT ${r.login.toFixed(0)} ms  UIDL ${r.uidl.toFixed(0)} ms  ` +
    `RETR all ${(r.retr / 1000).toFixed(2)} s  ${(r.count / (r.retr / 1000)).toFixed(0)} msg/s  ${(r.bytes / 1e6 / (r.retr / 1000)).toFixed(1)} MB/s`;
  console.log(row);
  return row;
}

export default async function bench(args: string[]): Promise<void> {
  const count = opt(args, '--count', 10_000);
  const size = opt(args, '--size', 4096);
  const ours = await startOurs(2);
  const peers = args.includes('--peers') ? await peerTargets(2) : [];
  try {
    const oursPop: Pop3Target = {
      name: ours.name,
      host: ours.host,
      port: ours.pop3Port,
      user: ours.users[0]!,
      pass: 'benchpw',
    };
    await pop3Workload(ours, oursPop, count, size);
    console.log(`${ours.name} RSS: ${Math.round(ours.rssKiB() / 1024)} MiB`);
    for (const p of peers) {
      await pop3Workload(
        p,
        { name: p.name, host: p.pop3.host, port: p.pop3.port, user: p.users[0]!, pass: p.pass },
        count,
        size,
      );
      console.log(`${p.name} RSS: ${Math.round(p.rssKiB() / 1024)} MiB`);
    }
  } finally {
    await ours.stop();
    for (const p of peers) await p.stop();
  }
}
