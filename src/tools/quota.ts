/**
 * cyr_quota: report quota roots, limits and usage; -f fixes usage (Cyrus quota).
 *
 *   cyr_quota [-C imapd.conf] [-f] [-n] [-q] [-u] [-d domain] [prefix...]
 *   Output as Cyrus 3.x:
 *        Quota   % Used     Used Resource Root
 *         1000       42      420 STORAGE  user.fred
 *   (storage in KiB; a root without limits is listed with an empty Quota column.)
 *   -f recounts each mailbox's message count and bytes from its index rows (quota usage is the
 *   sum of those counters) and reports what changed; -n with -f reports without changing.
 *
 * Owns: this program's behaviour.
 */
import { defaultIO, getopt, runTool, toolStore, type ToolIO } from '../store/cli.js';
import { userInbox } from '../store/names.js';

const USAGE = `usage: cyr_quota [-C imapd.conf] [-f] [-n] [-q] [-u] [-d domain] [prefix...]
  -f   fix: recount usage from the mailbox indexes
  -n   with -f: report only
  -q   quiet: with -f print only what changed
  -u   the prefixes are userids
  -d   only roots of this domain
  -h   this help
`;

function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

export async function main(argv: string[], io: ToolIO = defaultIO): Promise<number> {
  return runTool('cyr_quota', USAGE, argv, io, async (conf, rest) => {
    const o = getopt(rest, 'fnqud:J');
    const store = toolStore(conf);
    try {
      const virt = conf.getEnum('virtdomains') !== 'off';
      const domain = o.values.get('d');
      let prefixes = o.args.map((a) =>
        o.flags.has('u') ? userInbox(a, virt, conf.getString('defaultdomain') ?? '') : a,
      );
      if (domain) prefixes = prefixes.length ? prefixes.map((p) => `${domain}!${p}`) : [`${domain}!`];
      if (prefixes.length === 0) prefixes = [''];
      const match = (name: string): boolean => prefixes.some((p) => name.startsWith(p));
      if (o.flags.has('f')) {
        const dry = o.flags.has('n');
        store.mboxlist.foreach('', (e) => {
          if (!match(e.name)) return;
          const db = store.indexFor(e);
          const row = db.s.mailboxById.get(e.uniqueId);
          if (!row) return;
          const c = db.s.recount.get(row.id)!;
          const bytes = c.bytes ?? 0;
          if (c.n !== row.exists_count || bytes !== row.size_total) {
            io.stdout(
              `${e.name}: usage was ${row.exists_count} messages/${row.size_total} bytes, now ${c.n}/${bytes}\n`,
            );
            if (!dry) db.write(() => db.s.setCounters.run(c.n, bytes, row.id));
          }
        });
        if (o.flags.has('q')) return 0;
      }
      io.stdout(`${pad('Quota', 8)} ${pad('% Used', 8)} ${pad('Used', 8)} Resource Root\n`);
      for (const root of store.quotas.roots()) {
        if (!match(root)) continue;
        const q = store.getQuota(root)!;
        const lines: [number | null, number, string][] = [];
        if (q.storageLimit !== null || q.messageLimit === null)
          lines.push([q.storageLimit, q.storageUsed, 'STORAGE']);
        if (q.messageLimit !== null) lines.push([q.messageLimit, q.messageUsed, 'MESSAGE']);
        for (const [limit, used, res] of lines) {
          const pct = limit ? Math.floor((used * 100) / limit) : '';
          io.stdout(`${pad(limit ?? '', 8)} ${pad(pct, 8)} ${pad(used, 8)} ${res.padEnd(8)} ${root}\n`);
        }
      }
      return 0;
    } finally {
      store.close();
    }
  });
}
