/**
 * `compare imap [--count N] [--idle N] [--seconds S] [--mixed-size N]`: the IMAP workloads of
 * issue #5 run against ours, Dovecot and Cyrus with identical data.
 *
 * Per server: bench1's INBOX gets N messages (default 100,000) and bench2's INBOX
 * `--mixed-size` (default 200), delivered over LMTP; then
 *   - resident memory per idle authenticated connection (`--idle`, default 1,000),
 *   - SELECT + `UID FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)` on bench1's INBOX,
 *   - `SEARCH TEXT <word>` and `SEARCH FROM <name>` there (hit counts compared across servers),
 *   - an imaptest-style mixed workload on bench2's INBOX with 10 and 50 clients for S seconds
 *     (default 10) each: every client loops LOGIN, SELECT, FETCH (FLAGS ENVELOPE) of up to
 *     10 messages, STORE +FLAGS \Seen on up to 3, STORE +FLAGS \Deleted on 1, APPEND, EXPUNGE,
 *     LOGOUT; the figure is completed commands per second.
 * Connections come from different 127.x source addresses so Dovecot's per-user-and-IP
 * connection limit (mail_max_userip_connections, 10) does not refuse them.
 */
import type { PeerServer } from '../peers.js';
import { ImapConn } from './imap-client.js';
import { makeMessage, rng, SEARCH_FROM, SEARCH_WORD } from './messages.js';
import { Results } from './results.js';
import { serverRoot, treePssKiB } from './memory.js';
import { forEachServer, loadMailbox, numArg } from './servers.js';

const USERS = 10;

function sourceAddress(k: number): string {
  return `127.0.${Math.floor(k / 250) % 250}.${(k % 250) + 1}`;
}

async function secondsOf(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/**
 * Open n authenticated idle connections, spread over users and source addresses; returns
 * the growth per connection in KiB as summed RSS and as summed PSS.
 */
async function idleMemory(srv: PeerServer, n: number): Promise<{ rss: number; pss: number | null }> {
  const root = serverRoot(srv.imap.port);
  const before = srv.rssKiB();
  const pssBefore = root ? treePssKiB(root) : 0;
  const conns: ImapConn[] = [];
  let next = 0;
  try {
    const opener = async (): Promise<void> => {
      while (next < n) {
        const k = next++;
        const c = await ImapConn.connect(srv.imap, sourceAddress(Math.floor(k / USERS)));
        conns.push(c);
        const u = srv.users[k % USERS]!;
        await c.login(u.user, u.pass);
      }
    };
    await Promise.all(Array.from({ length: 20 }, opener));
    await new Promise((r) => setTimeout(r, 1500));
    const after = srv.rssKiB();
    const pssAfter = root ? treePssKiB(root) : 0;
    return { rss: (after - before) / n, pss: root ? (pssAfter - pssBefore) / n : null };
  } finally {
    for (const c of conns) c.destroy();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** One mixed-workload client for `until` (ms timestamp); returns [ok commands, failed commands]. */
async function mixedClient(
  srv: PeerServer,
  k: number,
  until: number,
  msgs: Buffer[],
  errors: string[],
): Promise<[number, number]> {
  const r = rng(7919 * (k + 1));
  const u = srv.users[1]!;
  let ok = 0;
  let bad = 0;
  const count = (rep: { status: string; line: string }, what: string): boolean => {
    if (rep.status === 'OK') ok++;
    else {
      bad++;
      if (errors.length < 5) errors.push(`${what} -> ${rep.line.slice(0, 160)}`);
    }
    return rep.status === 'OK';
  };
  while (performance.now() < until) {
    const c = await ImapConn.connect(srv.imap, sourceAddress(k));
    let exists = 0;
    const track = (lines: string[]): void => {
      for (const l of lines) {
        const m = /^\* (\d+) (EXISTS|EXPUNGE)/i.exec(l);
        if (m) exists = m[2]!.toUpperCase() === 'EXISTS' ? Number(m[1]) : exists - 1;
      }
    };
    try {
      if (!count(await c.cmd(`LOGIN ${u.user} ${u.pass}`), 'LOGIN')) break;
      const sel = await c.cmd('SELECT INBOX', true);
      track(sel.lines);
      if (!count(sel, 'SELECT INBOX')) break;
      const seq = (span: number): string => {
        const a = 1 + Math.floor(r() * Math.max(1, exists - span + 1));
        return span > 1 ? `${a}:${Math.min(exists, a + span - 1)}` : `${a}`;
      };
      if (exists > 0) {
        const f = `FETCH ${seq(10)} (FLAGS ENVELOPE)`;
        const rep = await c.cmd(f, true);
        track(rep.lines);
        count(rep, f);
      }
      if (exists > 0) {
        const s = `STORE ${seq(3)} +FLAGS (\\Seen)`;
        const rep = await c.cmd(s, true);
        track(rep.lines);
        count(rep, s);
      }
      if (exists > 0) {
        const s = `STORE ${seq(1)} +FLAGS (\\Deleted)`;
        const rep = await c.cmd(s, true);
        track(rep.lines);
        count(rep, s);
      }
      count(await c.append('INBOX', msgs[Math.floor(r() * msgs.length)]!), 'APPEND');
      const ex = await c.cmd('EXPUNGE', true);
      track(ex.lines);
      count(ex, 'EXPUNGE');
      count(await c.cmd('LOGOUT'), 'LOGOUT');
    } finally {
      c.destroy();
    }
  }
  return [ok, bad];
}

async function mixed(srv: PeerServer, clients: number, seconds: number, results: Results): Promise<number> {
  const msgs = Array.from({ length: 32 }, (_, i) => makeMessage(i, { seed: 99, tag: 'mixed' }));
  const errors: string[] = [];
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  const out = await Promise.all(
    Array.from({ length: clients }, (_, k) => mixedClient(srv, k, until, msgs, errors)),
  );
  const secs = (performance.now() - t0) / 1000;
  const ok = out.reduce((a, [o]) => a + o, 0);
  const bad = out.reduce((a, [, b]) => a + b, 0);
  if (bad) {
    results.note(
      `${srv.name} mixed ${clients} clients: ${bad} commands failed (of ${ok + bad}), e.g. ${errors.join(' | ')}`,
    );
    if (bad > ok / 10) throw new Error(`${bad} of ${ok + bad} commands failed: ${errors[0]}`);
  }
  return ok / secs;
}

export async function imapCompare(args: string[]): Promise<Results> {
  const count = numArg(args, '--count', 100_000);
  const idle = numArg(args, '--idle', 1000);
  const seconds = numArg(args, '--seconds', 10);
  const mixedSize = numArg(args, '--mixed-size', 200);
  const results = new Results(
    `IMAP: ${count} messages in the large mailbox, ${idle} idle connections, mixed workload ${seconds} s on ${mixedSize} messages`,
  );
  const hits = new Map<string, string>();
  await forEachServer(args, { users: USERS }, results, async (srv) => {
    const big = srv.users[0]!;
    const loaded = await results.measure(
      `load: LMTP delivery of ${count} msgs (4 conns)`,
      'msg/s',
      'higher',
      srv.name,
      () => loadMailbox(srv, big.user, count, 1, 'big'),
    );
    const mixedLoaded = await results.measure(
      `load: ${mixedSize} msgs for the mixed workload`,
      'msg/s',
      'higher',
      srv.name,
      () => loadMailbox(srv, srv.users[1]!.user, mixedSize, 2, 'mix'),
    );
    let pss: number | null = null;
    await results.measure(
      `idle connection memory, RSS (${idle} conns)`,
      'KiB/conn',
      'lower',
      srv.name,
      async () => {
        const m = await idleMemory(srv, idle);
        pss = m.pss;
        return m.rss;
      },
    );
    if (pss !== null)
      results.set(`idle connection memory, PSS (${idle} conns)`, 'KiB/conn', 'lower', srv.name, pss);
    const withMailbox = async (fn: (c: ImapConn) => Promise<number>): Promise<number> => {
      if (loaded === null) throw new Error('the large mailbox could not be loaded');
      const c = await ImapConn.connect(srv.imap);
      try {
        await c.login(big.user, big.pass);
        return await fn(c);
      } finally {
        await c.close();
      }
    };
    await results.measure(
      `SELECT + UID FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)`,
      's',
      'lower',
      srv.name,
      () =>
        withMailbox(async (c) => {
          let fetched = 0;
          const s = await secondsOf(async () => {
            await c.ok('SELECT INBOX');
            fetched = (await c.ok('UID FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)')).untagged;
          });
          if (fetched !== count)
            throw new Error(`UID FETCH 1:* returned ${fetched} FETCH responses, want ${count}`);
          return s;
        }),
    );
    for (const [label, query] of [
      ['SEARCH TEXT', `SEARCH TEXT ${SEARCH_WORD}`],
      ['SEARCH FROM', `SEARCH FROM ${SEARCH_FROM}`],
    ] as const) {
      await results.measure(label, 's', 'lower', srv.name, () =>
        withMailbox(async (c) => {
          await c.ok('EXAMINE INBOX');
          let found = 0;
          const s = await secondsOf(async () => {
            const rep = await c.ok(query, true);
            const line = rep.lines.find((l) => /^\* SEARCH/i.test(l)) ?? '';
            found = line.trim().split(/\s+/).length - 2;
          });
          hits.set(`${label}:${srv.name}`, String(found));
          return s;
        }),
      );
    }
    for (const n of [10, 50])
      await results.measure(`mixed workload, ${n} clients`, 'cmd/s', 'higher', srv.name, () => {
        if (mixedLoaded === null) throw new Error('the mixed-workload mailbox could not be loaded');
        return mixed(srv, n, seconds, results);
      });
  });
  for (const label of ['SEARCH TEXT', 'SEARCH FROM']) {
    const per = [...hits].filter(([k]) => k.startsWith(label)).map(([k, v]) => `${k.split(':')[1]} ${v}`);
    if (per.length) results.note(`${label} hits: ${per.join(', ')}`);
  }
  return results;
}
