/**
 * `npm run bench -- qresync [--count N] [--changes N] [--expunges N] [--only ours,dovecot,cyrus]`:
 * the two large-mailbox workloads of issue #6, ours against Dovecot (and Cyrus with --only),
 * printed as a table with ratios.
 *
 * Per server: bench1's INBOX gets N messages (default 100,000) over LMTP. A client enables
 * QRESYNC and remembers UIDVALIDITY and HIGHESTMODSEQ; another client then changes the flags
 * of `--changes` random messages (default 1,000, one UID STORE each, 50 in flight) and
 * expunges `--expunges` others (default 0). Timed:
 *   - the first client's resynchronisation, `SELECT INBOX (QRESYNC (uidvalidity modseq))`,
 *     until its tagged OK with every FETCH (and VANISHED) received; the number of FETCH
 *     responses is checked against the number of changed messages;
 *   - `UID SORT (DATE) UTF-8 ALL` on the mailbox, the first time and again (median of 3),
 *     the number of uids in the answer checked.
 */
import { ImapConn } from './compare/imap-client.js';
import { Results } from './compare/results.js';
import { forEachServer, loadMailbox, numArg } from './compare/servers.js';
import { rng } from './compare/messages.js';
import type { PeerServer } from './peers.js';

async function secondsOf(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

/** distinct random picks from uids (deterministic) */
function pickUids(uids: number[], n: number, seed: number): number[] {
  const r = rng(seed);
  const a = [...uids];
  const k = Math.min(n, a.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(r() * (a.length - i));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}

async function session(srv: PeerServer, fn: (c: ImapConn) => Promise<number>): Promise<number> {
  const u = srv.users[0]!;
  const c = await ImapConn.connect(srv.imap);
  try {
    await c.login(u.user, u.pass);
    return await fn(c);
  } finally {
    await c.close();
  }
}

/** the uids of SORT/SEARCH answers: every number after the response name */
function countNumbers(lines: string[], name: string): number {
  let n = 0;
  for (const l of lines) {
    const m = new RegExp(`^\\* ${name}((?: \\d+)*)`).exec(l);
    if (m) n += m[1]!.trim() ? m[1]!.trim().split(' ').length : 0;
  }
  return n;
}

export default async function qresyncBench(args: string[]): Promise<void> {
  const count = numArg(args, '--count', 100_000);
  const changes = numArg(args, '--changes', 1000);
  const expunges = numArg(args, '--expunges', 0);
  const results = new Results(
    `IMAP QRESYNC and SORT: ${count} messages, ${changes} flag changes, ${expunges} expunges`,
  );
  const runArgs = args.includes('--only') ? args : [...args, '--only', 'ours,dovecot'];
  await forEachServer(runArgs, { users: 2 }, results, async (srv) => {
    const user = srv.users[0]!.user;
    const loaded = await results.measure(
      `load: LMTP delivery of ${count} msgs (4 conns)`,
      'msg/s',
      'higher',
      srv.name,
      () => loadMailbox(srv, user, count, 3, 'qr'),
    );
    if (loaded === null) return;

    // the client's last known state
    let uidValidity = 0;
    let modseq = 0;
    let uids: number[] = [];
    await session(srv, async (c) => {
      await c.ok('ENABLE QRESYNC');
      const sel = await c.ok('SELECT INBOX', true);
      const text = sel.lines.join('\n');
      uidValidity = Number(/UIDVALIDITY (\d+)/.exec(text)?.[1]);
      modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(text)?.[1]);
      const s = await c.ok('UID SEARCH ALL', true);
      uids = s.lines.flatMap((l) => (l.startsWith('* SEARCH') ? l.slice(9).split(' ').map(Number) : []));
      return 0;
    });
    if (!uidValidity || !modseq || uids.length !== count)
      throw new Error(`bad start state: uidvalidity ${uidValidity} modseq ${modseq} ${uids.length} uids`);

    // another client changes flags (and expunges) meanwhile
    const picked = pickUids(uids, changes + expunges, 11);
    const flagged = picked.slice(0, changes);
    const gone = picked.slice(changes);
    await results.measure(`${changes} single-message UID STORE (50 in flight)`, 's', 'lower', srv.name, () =>
      session(srv, async (c) => {
        await c.ok('SELECT INBOX');
        return secondsOf(async () => {
          for (let i = 0; i < flagged.length; i += 50) {
            await Promise.all(
              flagged
                .slice(i, i + 50)
                .map((u, k) => c.ok(`UID STORE ${u} +FLAGS.SILENT (${k % 2 ? '\\Seen' : '\\Flagged'})`)),
            );
          }
          if (gone.length) {
            await c.ok(`UID STORE ${gone.join(',')} +FLAGS.SILENT (\\Deleted)`);
            await c.ok(`UID EXPUNGE ${gone.join(',')}`);
          }
        });
      }),
    );

    await results.measure(
      `SELECT INBOX (QRESYNC (uidvalidity modseq)) after the changes (median of 3)`,
      's',
      'lower',
      srv.name,
      () =>
        session(srv, async (c) => {
          await c.ok('ENABLE QRESYNC');
          const times: number[] = [];
          for (let k = 0; k < 3; k++) {
            let fetches = 0;
            let vanished = 0;
            times.push(
              await secondsOf(async () => {
                const r = await c.ok(`SELECT INBOX (QRESYNC (${uidValidity} ${modseq}))`, true);
                fetches = r.lines.filter((l) => /^\* \d+ FETCH /.test(l)).length;
                vanished = r.lines.filter((l) => l.startsWith('* VANISHED (EARLIER)')).length;
              }),
            );
            if (fetches !== flagged.length)
              throw new Error(`QRESYNC SELECT sent ${fetches} FETCH responses, want ${flagged.length}`);
            if (gone.length && vanished === 0) throw new Error('QRESYNC SELECT sent no VANISHED (EARLIER)');
          }
          return median(times);
        }),
    );

    const left = count - gone.length;
    const sortOnce = async (c: ImapConn): Promise<number> => {
      let n = 0;
      const s = await secondsOf(async () => {
        n = countNumbers((await c.ok('UID SORT (DATE) UTF-8 ALL', true)).lines, 'SORT');
      });
      if (n !== left) throw new Error(`UID SORT (DATE) returned ${n} uids, want ${left}`);
      return s;
    };
    await session(srv, async (c) => {
      await c.ok('EXAMINE INBOX');
      await results.measure('UID SORT (DATE) UTF-8 ALL, first', 's', 'lower', srv.name, () => sortOnce(c));
      await results.measure(
        'UID SORT (DATE) UTF-8 ALL, again (median of 3)',
        's',
        'lower',
        srv.name,
        async () => median([await sortOnce(c), await sortOnce(c), await sortOnce(c)]),
      );
      return 0;
    });
  });
  console.log(results.render());
}
