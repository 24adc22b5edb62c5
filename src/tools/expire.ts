/**
 * cyr_expire: periodic clean-up (Cyrus cyr_expire).
 *
 *   cyr_expire [-C imapd.conf] [-E dur] [-X dur] [-D dur] [-A dur] [-p prefix] [-u user] [-t] [-v] [-x]
 *     -E  prune deliver.db (duplicate suppression) records older than dur
 *     -X  remove for good messages expunged more than dur ago (files, cache, records)
 *     -D  remove delayed-deleted mailboxes (DELETED.*) deleted more than dur ago
 *     -A  archive: a no-op unless archive_enabled (not implemented: reported)
 *     -t  drop unused user flags: nothing to do here (keywords are stored per message)
 *     -p  only mailboxes starting with prefix; -u only this user's mailboxes
 *     -x  skip expunging (-X); -v report counts
 *   Durations: N[dhms], a bare number is days; fractions allowed. At least one of -A -D -E -X -t.
 *
 * Owns: this program's behaviour; the work is store/expire.ts and db/duplicate.ts.
 */
import { DuplicateDb } from '../db/duplicate.js';
import { defaultIO, getopt, parseDays, runTool, toolStore, UsageError, type ToolIO } from '../store/cli.js';
import { purgeDeleted, purgeExpunged } from '../store/expire.js';
import { userInbox, isWithin } from '../store/names.js';

const USAGE = `usage: cyr_expire [-C imapd.conf] [-E dur] [-X dur] [-D dur] [-A dur] [-p prefix] [-u user] [-t] [-v] [-x]
  -E dur   prune duplicate-delivery records older than dur
  -X dur   finally remove messages expunged more than dur ago
  -D dur   finally remove mailboxes deleted more than dur ago
  -A dur   archive messages older than dur (no-op unless archive_enabled)
  -t       remove unused user flags (nothing to do in this store)
  -p pfx   only mailboxes starting with pfx      -u user  only this user's mailboxes
  -x       do not expunge                          -v       verbose
  durations: N[d|h|m|s], bare number = days
  -h       this help
`;

export async function main(argv: string[], io: ToolIO = defaultIO): Promise<number> {
  return runTool('cyr_expire', USAGE, argv, io, async (conf, rest) => {
    const o = getopt(rest, 'E:X:D:A:p:u:tvxaco');
    if (!['E', 'X', 'D', 'A'].some((k) => o.values.has(k)) && !o.flags.has('t')) {
      throw new UsageError('at least one of -A -D -E -X -t is required');
    }
    const now = Date.now();
    const verbose = o.flags.has('v');
    const cut = (k: string): number | null => (o.values.has(k) ? parseDays(o.values.get(k)!) : null);
    const e = cut('E');
    const x = cut('X');
    const d = cut('D');
    const a = cut('A');
    if (e !== null) {
      const dup = DuplicateDb.open(conf);
      try {
        const n = dup.prune(Math.floor(now / 1000 - e));
        if (verbose) io.stdout(`expired ${n} duplicate delivery records\n`);
      } finally {
        dup.close();
      }
    }
    if (a !== null && verbose) {
      io.stdout(
        conf.getSwitch('archive_enabled')
          ? 'archiving is not supported by this store: nothing moved\n'
          : 'archiving not enabled\n',
      );
    }
    if (x === null && d === null) return 0;
    const store = toolStore(conf);
    try {
      const prefix = o.values.get('p');
      const user = o.values.get('u');
      const inbox = user
        ? userInbox(user, conf.getEnum('virtdomains') !== 'off', conf.getString('defaultdomain') ?? '')
        : null;
      if (x !== null && !o.flags.has('x')) {
        let total = 0;
        const names: string[] = [];
        store.mboxlist.foreach('', (m) => {
          if (prefix && !m.name.startsWith(prefix)) return;
          if (inbox && !isWithin(m.name, inbox)) return;
          names.push(m.name);
        });
        for (const n of names) {
          const m = store.mboxlist.get(n);
          if (m) total += purgeExpunged(store, m, now - x * 1000);
        }
        if (verbose) io.stdout(`removed ${total} expunged messages\n`);
      }
      if (d !== null) {
        const gone = purgeDeleted(store, Math.floor(now / 1000 - d), prefix ?? inbox ?? '');
        if (verbose) for (const g of gone) io.stdout(`removed deleted mailbox ${g}\n`);
      }
      return 0;
    } finally {
      store.close();
    }
  });
}
