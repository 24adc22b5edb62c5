/**
 * cyr_reconstruct: repair mailbox indexes from the message files (Cyrus reconstruct).
 *
 *   cyr_reconstruct [-C imapd.conf] [-r] [-f] [-G] [-n] [-u] [mailbox...]
 *     no mailbox: every mailbox. -r also the mailboxes below each named one; -u the names are
 *     userids (their whole tree); -f adopt message files that have no index row (parsing them);
 *     -G re-parse every message (GUID and cache); -n report only (no change, implies not -f/-G).
 *   Prints each mailbox name, then one line per repair. Quota usage follows the recount.
 *
 * Owns: this program's behaviour; the work is store/reconstruct.ts.
 */
import { defaultIO, getopt, runTool, toolMailboxName, toolStore, type ToolIO } from '../store/cli.js';
import { cleanStage, reconstructMailbox } from '../store/reconstruct.js';
import { userInbox } from '../store/names.js';
import { MailError } from '../store/api.js';

const USAGE = `usage: cyr_reconstruct [-C imapd.conf] [-r] [-f] [-G] [-n] [-u] [mailbox...]
  -r   recurse into sub-mailboxes of each named mailbox
  -f   adopt message files that have no index record
  -G   re-parse every message (refresh GUID and cached data)
  -n   report only, change nothing
  -u   the arguments are userids
  -h   this help
`;

export async function main(argv: string[], io: ToolIO = defaultIO): Promise<number> {
  return runTool('cyr_reconstruct', USAGE, argv, io, async (conf, rest) => {
    const o = getopt(rest, 'rfGnuxsqoOMIUp:V:');
    const store = toolStore(conf);
    try {
      let names: string[] = [];
      const virt = conf.getEnum('virtdomains') !== 'off';
      const args = o.args.map((a) =>
        o.flags.has('u')
          ? userInbox(a, virt, conf.getString('defaultdomain') ?? '')
          : toolMailboxName(conf, a),
      );
      if (args.length === 0) {
        store.mboxlist.foreach('', (e) => {
          names.push(e.name);
        });
      } else {
        for (const a of args) {
          if (!store.mboxlist.get(a)) throw new MailError('notFound', `${a}: Mailbox does not exist`);
          names.push(a);
          if (o.flags.has('r') || o.flags.has('u')) {
            store.mboxlist.foreach(a + '.', (e) => {
              names.push(e.name);
            });
          }
        }
      }
      names = [...new Set(names)];
      if (!o.flags.has('n')) cleanStage(store, [...conf.partitions().keys()]);
      for (const name of names) {
        io.stdout(`${name}\n`);
        if (o.flags.has('n')) {
          const r = await reconstructDry(store, name);
          for (const l of r) io.stdout(`  ${l}\n`);
          continue;
        }
        const r = await reconstructMailbox(store, name, {
          addOrphans: o.flags.has('f'),
          reparse: o.flags.has('G'),
        });
        for (const u of r.missing) io.stdout(`  ${name} uid ${u}: message file missing, expunged\n`);
        for (const u of r.added) io.stdout(`  ${name} uid ${u}: message file adopted\n`);
        for (const u of r.orphans)
          io.stdout(`  ${name} uid ${u}: message file without record (use -f to adopt)\n`);
        for (const u of r.guidFixed) io.stdout(`  ${name} uid ${u}: GUID corrected\n`);
        if (r.uidNext.after !== r.uidNext.before)
          io.stdout(`  ${name}: uidnext ${r.uidNext.before} -> ${r.uidNext.after}\n`);
        if (r.counters.after[0] !== r.counters.before[0] || r.counters.after[1] !== r.counters.before[1]) {
          io.stdout(
            `  ${name}: counts ${r.counters.before.join('/')} -> ${r.counters.after.join('/')} (messages/bytes)\n`,
          );
        }
      }
      return 0;
    } finally {
      store.close();
    }
  });
}

/** -n: compare without changing anything */
async function reconstructDry(store: ReturnType<typeof toolStore>, name: string): Promise<string[]> {
  const { existsSync, readdirSync } = await import('node:fs');
  const e = store.mboxlist.get(name)!;
  const db = store.indexFor(e);
  const row = db.s.mailboxById.get(e.uniqueId);
  const dir = store.layout.mailboxDir(e.partition, e.uniqueId);
  const files = new Set(
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /^[1-9][0-9]*\.$/.test(f))
          .map((f) => Number(f.slice(0, -1)))
      : [],
  );
  const out: string[] = [];
  const rows = row ? db.s.allRows.all(row.id) : [];
  const known = new Set(rows.map((r) => r.uid));
  for (const r of rows) if (!r.expunged && !files.has(r.uid)) out.push(`uid ${r.uid}: message file missing`);
  for (const u of files) if (!known.has(u)) out.push(`uid ${u}: message file without record`);
  return out;
}
