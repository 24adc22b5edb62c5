/**
 * cyr_ipurge: delete messages by age or size (Cyrus ipurge).
 *
 *   cyr_ipurge [-C imapd.conf] [-f] [-x] [-X] [-i] [-s] [-o] [-n] [-v] [-M]
 *              -d days | -b bytes | -k KiB | -m MiB  [mailbox-pattern...]
 *   Patterns are internal names with IMAP wildcards (* and %); default every mailbox. Without
 *   -f only shared mailboxes are touched (as Cyrus); -x exact names only (no sub-mailboxes;
 *   -M the same); -X age by delivery time instead of the Date: header; -i invert the
 *   selection; -s skip \Flagged; -o only messages already \Deleted; -n dry run; -v report.
 *   Messages are expunged per expunge_mode (delayed: files stay until cyr_expire -X).
 *
 * Owns: this program's behaviour; selection is store/expire.ts.
 */
import {
  defaultIO,
  getopt,
  patternRegExp,
  runTool,
  TOOL_ADMIN,
  toolStore,
  UsageError,
  type ToolIO,
  toolMailboxName,
} from '../store/cli.js';
import { selectForPurge, type PurgeSelection } from '../store/expire.js';
import { ownerOf } from '../store/names.js';

const USAGE = `usage: cyr_ipurge [-C imapd.conf] [-f] [-x] [-X] [-i] [-s] [-o] [-n] [-v]
                  -d days | -b bytes | -k KiB | -m MiB  [mailbox-pattern...]
  -d   messages older than days      -b/-k/-m  messages at least this large
  -f   also user mailboxes (default: shared only)
  -x   exact mailbox names (no sub-mailboxes); -M the same
  -X   age by delivery time, not the Date: header
  -i   invert the selection          -s  skip \\Flagged     -o  only \\Deleted
  -n   dry run                        -v  verbose
  -h   this help
`;

export async function main(argv: string[], io: ToolIO = defaultIO): Promise<number> {
  return runTool('cyr_ipurge', USAGE, argv, io, async (conf, rest) => {
    const o = getopt(rest, 'fxXisonvMd:b:k:m:');
    const sel: PurgeSelection = {
      byDelivery: o.flags.has('X'),
      invert: o.flags.has('i'),
      skipFlagged: o.flags.has('s'),
      onlyDeleted: o.flags.has('o'),
    };
    const num = (k: string): number => {
      const v = Number(o.values.get(k));
      if (!Number.isFinite(v) || v < 0) throw new UsageError(`-${k} needs a non-negative number`);
      return v;
    };
    if (o.values.has('d')) sel.ageSeconds = num('d') * 86400;
    if (o.values.has('b')) sel.minSize = num('b');
    if (o.values.has('k')) sel.minSize = num('k') * 1024;
    if (o.values.has('m')) sel.minSize = num('m') * 1024 * 1024;
    if ((sel.ageSeconds === undefined) === (sel.minSize === undefined)) {
      throw new UsageError('exactly one of -d, -b, -k, -m is required');
    }
    const exact = o.flags.has('x') || o.flags.has('M');
    const pats = (o.args.length ? o.args : ['*'])
      .map((p) => toolMailboxName(conf, p))
      .map((p) => ({ re: patternRegExp(p), prefix: p + '.' }));
    const store = toolStore(conf);
    try {
      const names: string[] = [];
      store.mboxlist.foreach('', (e) => {
        if (!o.flags.has('f') && ownerOf(e.name, store.layout.deletedPrefix) !== null) return;
        if (pats.some((p) => p.re.test(e.name) || (!exact && e.name.startsWith(p.prefix))))
          names.push(e.name);
      });
      let total = 0;
      for (const name of names) {
        const e = store.mboxlist.get(name)!;
        const uids = selectForPurge(store, e, sel);
        if (o.flags.has('v')) io.stdout(`Working on ${name}...\n`);
        if (!uids.length) continue;
        if (!o.flags.has('n')) {
          const v = store.open(TOOL_ADMIN, name, { readOnly: false });
          try {
            v.storeFlags(uids, 'add', ['\\Deleted']);
            v.expunge(uids);
          } finally {
            v.close();
          }
        }
        total += uids.length;
        if (o.flags.has('v'))
          io.stdout(`${o.flags.has('n') ? 'Would delete' : 'Deleted'} ${uids.length} messages\n`);
      }
      if (o.flags.has('v')) io.stdout(`total ${total} messages\n`);
      return 0;
    } finally {
      store.close();
    }
  });
}
