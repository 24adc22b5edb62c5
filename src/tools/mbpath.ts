/**
 * cyr_mbpath: print where a mailbox lives on disk (Cyrus mbpath).
 *
 *   cyr_mbpath [-C imapd.conf] [-u] [-m|-M|-U|-S|-a] [-q] [-s] name...
 *     default: the mailbox's data directory (message files); -M/-m metadata (here: the index
 *     database, which holds what cyrus.index/cache hold in Cyrus); -U the user's index
 *     database; -a all of them, labelled; -u the names are userids; -q no errors for missing
 *     names; -s stop at the first error. Exit 66 when a name was not found.
 *
 * Owns: this program's behaviour.
 */
import { EX_NOINPUT } from '../config/tool.js';
import { defaultIO, getopt, runTool, toolMailboxName, toolStore, type ToolIO } from '../store/cli.js';
import { ownerOf, userInbox } from '../store/names.js';

const USAGE = `usage: cyr_mbpath [-C imapd.conf] [-u] [-m|-M|-U|-S|-a] [-q] [-s] name...
  -u   names are userids (their INBOX)
  -M   metadata (index database) path; -m the same
  -U   the user's index database
  -a   every path, labelled
  -q   quiet: no message for a missing mailbox
  -s   stop at the first error
  -h   this help
`;

export async function main(argv: string[], io: ToolIO = defaultIO): Promise<number> {
  return runTool('cyr_mbpath', USAGE, argv, io, async (conf, rest) => {
    const o = getopt(rest, 'umMUSaqsplA');
    if (o.args.length === 0) {
      io.stderr(`cyr_mbpath: no mailbox given\n${USAGE}`);
      return 64;
    }
    const store = toolStore(conf);
    let rc = 0;
    try {
      const virt = conf.getEnum('virtdomains') !== 'off';
      for (const a of o.args) {
        const name = o.flags.has('u')
          ? userInbox(a, virt, conf.getString('defaultdomain') ?? '')
          : toolMailboxName(conf, a);
        const e = store.mboxlist.get(name);
        if (!e) {
          if (!o.flags.has('q')) io.stderr(`cyr_mbpath: ${name}: Mailbox does not exist\n`);
          rc = EX_NOINPUT;
          if (o.flags.has('s')) break;
          continue;
        }
        const data = store.layout.mailboxDir(e.partition, e.uniqueId);
        const meta = store.layout.indexPath(store.layout.indexKey(e.name, e.uniqueId));
        const owner = ownerOf(e.name, store.layout.deletedPrefix);
        const userFiles = owner ? store.layout.userIndexPath(owner) : '';
        if (o.flags.has('a')) {
          io.stdout(`${name}\n  data: ${data}\n  meta: ${meta}\n${owner ? `  user: ${userFiles}\n` : ''}`);
        } else if (o.flags.has('M') || o.flags.has('m')) io.stdout(`${meta}\n`);
        else if (o.flags.has('U')) io.stdout(`${userFiles || meta}\n`);
        else io.stdout(`${data}\n`);
      }
      return rc;
    } finally {
      store.close();
    }
  });
}
