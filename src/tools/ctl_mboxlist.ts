/**
 * cyr_ctl_mboxlist: dump and load the mailbox list (Cyrus ctl_mboxlist -d / -u).
 *
 *   cyr_ctl_mboxlist [-C imapd.conf] -d [-p partition] [-f file]   dump as JSON (as Cyrus 3.6):
 *       one object, one mailbox per line: {"user.fred": {"mbtype": "e", "partition": "default",
 *       "uniqueid": "...", "uidvalidity": N, "acl": {"fred": "lrswipkxtecdan"}, "specialuse": [...]}}
 *   cyr_ctl_mboxlist [-C imapd.conf] -u [-f file]   load such a dump from stdin (entries are
 *       added or replaced; index rows are created on first use)
 *
 * Owns: this program's behaviour and the dump format.
 */
import { EX_DATAERR } from '../config/tool.js';
import { openDb, confDbBackend, confDbPath } from '../db/index.js';
import { formatAcl } from '../store/acl.js';
import { defaultIO, getopt, runTool, UsageError, type ToolIO } from '../store/cli.js';
import { MailboxList, type MboxEntry } from '../store/mboxlist.js';
import { checkInternalName } from '../store/names.js';
import { parseAcl } from '../store/acl.js';

const USAGE = `usage: cyr_ctl_mboxlist [-C imapd.conf] -d [-p partition] [-f file]
       cyr_ctl_mboxlist [-C imapd.conf] -u [-f file] < dump
  -d   dump the mailbox list as JSON to stdout
  -u   load a dump from stdin
  -p   dump only mailboxes on this partition
  -f   use this mailboxes.db instead of the configured one
  -h   this help
`;

const CODE: Record<string, string> = {
  email: 'e',
  netnews: 'n',
  submission: 's',
  collection: 'c',
  sieve: 'f',
};
const TYPE: Record<string, string> = Object.fromEntries(Object.entries(CODE).map(([a, b]) => [b, a]));

interface DumpEntry {
  mbtype?: string;
  partition?: string;
  uniqueid?: string;
  uidvalidity?: number;
  acl?: Record<string, string>;
  specialuse?: string[];
  mtime?: number;
}

export async function main(argv: string[], io: ToolIO = defaultIO): Promise<number> {
  return runTool('cyr_ctl_mboxlist', USAGE, argv, io, async (conf, rest) => {
    const o = getopt(rest, 'dup:f:xyL');
    const dump = o.flags.has('d');
    const undump = o.flags.has('u');
    if (dump === undump || o.args.length) throw new UsageError('exactly one of -d or -u is required');
    const path = o.values.get('f') ?? confDbPath(conf, 'mboxlist');
    const db = openDb(path, confDbBackend(conf, 'mboxlist'), { create: undump });
    const list = new MailboxList(db, conf.getString('deletedprefix') ?? 'DELETED');
    try {
      if (dump) {
        const part = o.values.get('p');
        const lines: string[] = [];
        list.foreach('', (e) => {
          if (part && e.partition !== part) return;
          const d: DumpEntry = {
            mbtype: CODE[e.type] ?? e.type,
            partition: e.partition,
            uniqueid: e.uniqueId,
            uidvalidity: e.uidValidity,
            acl: Object.fromEntries(parseAcl(e.acl)),
            specialuse: e.specialUse,
            mtime: e.mtime,
          };
          lines.push(`${JSON.stringify(e.name)}: ${JSON.stringify(d)}`);
        });
        io.stdout(lines.length ? `{\n${lines.join(',\n')}\n}\n` : '{}\n');
        return 0;
      }
      let data: Record<string, DumpEntry>;
      try {
        data = JSON.parse(await io.stdin()) as Record<string, DumpEntry>;
        if (typeof data !== 'object' || data === null || Array.isArray(data))
          throw new Error('not a JSON object');
      } catch (e) {
        io.stderr(`cyr_ctl_mboxlist: cannot read the dump: ${(e as Error).message}\n`);
        return EX_DATAERR;
      }
      let n = 0;
      list.txn((t) => {
        for (const [name, d] of Object.entries(data)) {
          checkInternalName(name);
          if (!d.uniqueid || !d.partition)
            throw new UsageError(`${name}: uniqueid and partition are required`);
          const e: MboxEntry = {
            name,
            uniqueId: d.uniqueid,
            partition: d.partition,
            acl: formatAcl(new Map(Object.entries(d.acl ?? {}))),
            type: TYPE[d.mbtype ?? 'e'] ?? d.mbtype ?? 'email',
            specialUse: d.specialuse ?? [],
            uidValidity: d.uidvalidity ?? Math.floor(Date.now() / 1000),
            mtime: d.mtime ?? Math.floor(Date.now() / 1000),
          };
          list.put(e, t);
          n++;
        }
      });
      io.stderr(`cyr_ctl_mboxlist: loaded ${n} mailboxes\n`);
      return 0;
    } finally {
      db.close();
    }
  });
}
