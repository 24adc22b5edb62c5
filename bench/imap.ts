/**
 * `npm run bench -- imap [--count N] [--seconds S] [--idle N] [--peers]`: imapd's costs.
 *
 * Every workload is a function of an `ImapTarget` (host, port, user, password, and how to
 * read the server's memory), so Dovecot or Cyrus can be plugged in beside ours:
 * `--peers` runs every workload again against Dovecot and Cyrus (bench/peers.ts). Ours runs in a child process (so its RSS is its own) with a real store in a temp dir.
 *
 *   1. load: N messages appended over IMAP (pipelined LITERAL+ APPENDs), messages/s;
 *   2. SELECT, then `UID FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)` over the whole mailbox
 *      (default 100,000 messages: `--count`), time and MB/s;
 *   3. SEARCH TEXT and SEARCH FROM over it;
 *   4. a mixed workload (login, select, fetch, store, append, expunge, logout) with 10 and
 *      50 concurrent clients for S seconds each (default 5), commands/s;
 *   5. RSS per idle authenticated connection (N connections, default 500), measured first.
 * Loading is bounded by the store's fsync per APPEND (durability before the OK).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RawClient, startTestImapd } from '../src/protocols/imap/test-helpers.js';
import type { PeerServer } from './peers.js';

export interface ImapTarget {
  name: string;
  host: string;
  port: number;
  user: string;
  pass: string;
  /** resident memory of the whole server, KiB */
  rssKiB(): number;
  /** let the server collect garbage before a memory reading, when it can */
  settle?(): Promise<void>;
  stop(): Promise<void>;
}

function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : def;
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const CHILD_FLAG = '--imap-bench-child';

/** our imapd in a child process */
async function startOurs(): Promise<ImapTarget> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], {
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
    execArgv: ['--expose-gc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (c) => reject(new Error(`bench server exited ${c}`)));
  });
  return {
    name: 'cyrus-ts',
    host: '127.0.0.1',
    port,
    user: 'bench',
    pass: 'benchpw',
    rssKiB: () => rssOf(child.pid!),
    async settle() {
      child.send('gc');
      await new Promise((r) => child.once('message', r));
    },
    async stop() {
      child.send('stop');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

if (process.argv.includes(CHILD_FLAG)) {
  const srv = await startTestImapd({ bench: 'benchpw' }, { timeout: '60m' });
  process.send!({ port: srv.port });
  process.on('message', async (m) => {
    if (m === 'gc') {
      (globalThis as { gc?: () => void }).gc?.();
      process.send!('done');
      return;
    }
    await srv.stop();
    process.exit(0);
  });
}

/** Dovecot or Cyrus from bench/peers.ts as a target (its first user) */
export function fromPeer(peer: PeerServer): ImapTarget {
  const u = peer.users[0]!;
  return {
    name: peer.name,
    host: peer.imap.host,
    port: peer.imap.port,
    user: u.user,
    pass: u.pass,
    rssKiB: () => peer.rssKiB(),
    stop: () => peer.stop(),
  };
}

async function login(t: ImapTarget): Promise<RawClient> {
  const c = await RawClient.connect(t.port, t.host);
  await c.login(t.user, t.pass);
  return c;
}

/** LOGOUT and close (servers that count connections per user must see them go) */
async function logout(c: RawClient): Promise<void> {
  try {
    await c.cmd('LOGOUT');
  } catch {
    // already gone
  }
  c.close();
}

/** the personal namespace prefix ("" here, "INBOX." on a Debian Cyrus), so names work on every server */
async function personal(c: RawClient): Promise<string> {
  const r = await c.cmd('NAMESPACE');
  const m = /^\* NAMESPACE \(\("([^"]*)"/.exec(r.lines.find((l) => l.startsWith('* NAMESPACE')) ?? '');
  return m ? m[1]! : '';
}

function message(i: number): string {
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
  const body = Array.from(
    { length: 12 },
    (_, k) => `${words[(i + k) % 8]} line ${k} of message ${i} ${'lorem ipsum '.repeat(4)}`,
  ).join('\r\n');
  return (
    `From: Sender ${i % 97} <sender${i % 97}@example.org>\r\nTo: Bench <bench@example.org>\r\n` +
    `Subject: message number ${i} ${words[i % 8]}\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n` +
    `Message-ID: <bench${i}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n${body}\r\n`
  );
}

/** append `count` messages to `mailbox`, pipelined `window` at a time; messages/s */
export async function load(t: ImapTarget, name: string, count: number, window = 64): Promise<number> {
  const c = await login(t);
  const mailbox = `"${(await personal(c)) + name}"`;
  await c.cmd(`CREATE ${mailbox}`);
  const t0 = performance.now();
  let tagN = 0;
  for (let i = 0; i < count; i += window) {
    const n = Math.min(window, count - i);
    let last = '';
    for (let k = 0; k < n; k++) {
      const m = message(i + k);
      last = `p${++tagN}`;
      c.write(`${last} APPEND ${mailbox} {${Buffer.byteLength(m)}+}\r\n${m}\r\n`);
    }
    const r = await c.until(last, 60000);
    if (!r.tagged.startsWith('OK')) throw new Error(`APPEND failed: ${r.tagged}`);
  }
  const s = (performance.now() - t0) / 1000;
  await c.cmd('LOGOUT');
  c.close();
  return count / s;
}

/** SELECT + UID FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE): seconds and response MB */
export async function fetchAll(
  t: ImapTarget,
  name: string,
): Promise<{ selectMs: number; fetchMs: number; lines: number; mb: number }> {
  const c = await login(t);
  const mailbox = `"${(await personal(c)) + name}"`;
  const t0 = performance.now();
  const sel = await c.cmd(`SELECT ${mailbox}`, 120000);
  if (!sel.tagged.startsWith('OK')) throw new Error(`SELECT ${mailbox}: ${sel.tagged}`);
  const t1 = performance.now();
  // count bytes without keeping them
  let lines = 0;
  let bytes = 0;
  c.write('f1 UID FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)\r\n');
  for (;;) {
    const l = await c.line(120000);
    bytes += l.length + 2;
    if (l.startsWith('f1 ')) {
      if (!l.startsWith('f1 OK')) throw new Error(l);
      break;
    }
    lines++;
  }
  const t2 = performance.now();
  await c.cmd('LOGOUT');
  c.close();
  return { selectMs: t1 - t0, fetchMs: t2 - t1, lines, mb: bytes / 1e6 };
}

export async function searchTimes(
  t: ImapTarget,
  name: string,
): Promise<Record<string, { ms: number; hits: number }>> {
  const c = await login(t);
  const mailbox = `"${(await personal(c)) + name}"`;
  const ex = await c.cmd(`EXAMINE ${mailbox}`, 120000);
  if (!ex.tagged.startsWith('OK')) throw new Error(`EXAMINE ${mailbox}: ${ex.tagged}`);
  const out: Record<string, { ms: number; hits: number }> = {};
  for (const q of ['TEXT "message 4242 "', 'FROM "sender42@"', 'BODY "golf line 3"', 'SUBJECT "number 99"']) {
    const t0 = performance.now();
    const r = await c.cmd(`UID SEARCH ${q}`, 120000);
    const line = r.lines.find((l) => l.startsWith('* SEARCH')) ?? '* SEARCH';
    out[q] = { ms: performance.now() - t0, hits: line.split(' ').length - 2 };
  }
  await c.cmd('LOGOUT');
  c.close();
  return out;
}

/** N clients loop login/select/fetch/store/append/expunge/logout for `seconds`; commands/s */
export async function mixed(
  t: ImapTarget,
  clients: number,
  seconds: number,
): Promise<{ opsPerSec: number; sessions: number; errors: number }> {
  const setup = await login(t);
  const prefix = await personal(setup);
  for (let i = 0; i < clients; i++) await setup.cmd(`CREATE "${prefix}mix${i}"`);
  await setup.cmd('LOGOUT');
  setup.close();
  const until = performance.now() + seconds * 1000;
  let ops = 0;
  let sessions = 0;
  let errors = 0;
  const one = async (i: number): Promise<void> => {
    const box = `"${prefix}mix${i}"`;
    let n = 0;
    while (performance.now() < until) {
      const c = await RawClient.connect(t.port, t.host);
      await c.line();
      const step = async (cmd: string): Promise<void> => {
        const r = await c.cmd(cmd, 30000);
        ops++;
        if (!r.tagged.startsWith('OK')) errors++;
      };
      await step(`LOGIN ${t.user} ${t.pass}`);
      await step(`SELECT ${box}`);
      for (let k = 0; k < 5 && performance.now() < until; k++) {
        const m = message(n++);
        c.write(`a${n} APPEND ${box} {${Buffer.byteLength(m)}+}\r\n${m}\r\n`);
        const r = await c.until(`a${n}`, 30000);
        ops++;
        if (!r.tagged.startsWith('OK')) errors++;
        await step('NOOP');
        await step('FETCH 1:* (FLAGS ENVELOPE)');
        await step('STORE 1 +FLAGS (\\Seen \\Deleted)');
        await step('EXPUNGE');
      }
      await step('LOGOUT');
      c.close();
      sessions++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, i) => one(i)));
  return { opsPerSec: ops / ((performance.now() - t0) / 1000), sessions, errors };
}

/** memory per idle authenticated connection (with INBOX selected), KiB */
export async function idleRss(
  t: ImapTarget,
  n: number,
): Promise<{ baseKiB: number; withKiB: number; perConnKiB: number }> {
  // one session first, so per-process costs (store, auth, code paths) are in the base
  const warm = await login(t);
  await warm.cmd('SELECT INBOX');
  await t.settle?.();
  const base = t.rssKiB();
  const conns: RawClient[] = [];
  let withN: number;
  try {
    for (let i = 0; i < n; i++) {
      const c = await login(t);
      conns.push(c);
      await c.cmd('SELECT INBOX');
    }
    await new Promise((r) => setTimeout(r, 500));
    await t.settle?.();
    withN = t.rssKiB();
  } finally {
    for (const c of conns) await logout(c);
    await logout(warm);
  }
  return { baseKiB: base, withKiB: withN, perConnKiB: (withN - base) / n };
}

export async function runAll(t: ImapTarget, args: string[]): Promise<void> {
  const count = opt(args, '--count', 100000);
  const seconds = opt(args, '--seconds', 5);
  const idle = opt(args, '--idle', 500);
  // one failing workload (a peer's connection limit, say) must not hide the others
  const step = async (what: string, f: () => Promise<void>): Promise<void> => {
    try {
      await f();
    } catch (e) {
      console.log(`${t.name}: ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  // first, while the server's heap is still small
  await step('idle connections', async () => {
    const r = await idleRss(t, idle);
    console.log(
      `${t.name}: ${idle} idle authenticated connections: RSS ${r.baseKiB} → ${r.withKiB} KiB, ${r.perConnKiB.toFixed(1)} KiB per connection`,
    );
  });
  let loaded = false;
  await step('load', async () => {
    const rate = await load(t, 'big', count);
    loaded = true;
    console.log(`${t.name}: loaded ${count} messages over IMAP at ${rate.toFixed(0)} msg/s`);
  });
  if (loaded) {
    await step('fetch', async () => {
      const f = await fetchAll(t, 'big');
      console.log(
        `${t.name}: SELECT ${f.selectMs.toFixed(0)} ms; UID FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE) ${f.lines} responses, ` +
          `${f.mb.toFixed(1)} MB in ${f.fetchMs.toFixed(0)} ms (${(f.lines / (f.fetchMs / 1000)).toFixed(0)} msg/s)`,
      );
    });
    await step('search', async () => {
      for (const [q, r] of Object.entries(await searchTimes(t, 'big')))
        console.log(`${t.name}: UID SEARCH ${q}: ${r.hits} hits in ${r.ms.toFixed(0)} ms`);
    });
  }
  for (const clients of [10, 50]) {
    await step(`mixed workload with ${clients} clients`, async () => {
      const m = await mixed(t, clients, seconds);
      console.log(
        `${t.name}: mixed workload, ${clients} clients: ${m.opsPerSec.toFixed(0)} commands/s (${m.sessions} sessions, ${m.errors} errors)`,
      );
    });
  }
}

export default async function main(args: string[]): Promise<void> {
  const ours = await startOurs();
  try {
    await runAll(ours, args);
  } finally {
    await ours.stop();
  }
  // `--peers`: the same workloads against Dovecot and Cyrus from Debian (bench/peers.ts)
  if (args.includes('--peers')) {
    const { ensurePeers, startDovecot, startCyrus } = await import('./peers.js');
    const avail = ensurePeers();
    for (const [name, start, why] of [
      ['dovecot', startDovecot, avail.dovecot],
      ['cyrus', startCyrus, avail.cyrus],
    ] as const) {
      if (why) {
        console.log(`${name}: skipped (${why})`);
        continue;
      }
      const peer = fromPeer(await start({ users: 1 }));
      try {
        await runAll(peer, args);
      } finally {
        await peer.stop();
      }
    }
  }
}
