/**
 * cyr_ctl_deliver: look after deliver.db, the duplicate-delivery database (Cyrus ctl_deliver).
 *
 *   cyr_ctl_deliver [-C imapd.conf] [-f dbfile] -d       dump every record, one per line:
 *       id: <message-id>\tto: <mailbox>\tat: <unix time>\tuid: <uid>
 *   cyr_ctl_deliver [-C imapd.conf] [-f dbfile] -E days  remove records older than `days`
 *
 * `-f` names another database file (same backend, duplicate_db). Exit 0, 64 usage, 74 I/O.
 */
import { existsSync } from 'node:fs';
import { EX_IOERR, EX_USAGE, UsageError, loadConfigForTool } from '../config/tool.js';
import { DuplicateDb } from '../db/duplicate.js';
import { confDbBackend, openDb } from '../db/index.js';
import { impliedPath } from '../config/imapd-conf.js';

const USAGE = `usage: cyr_ctl_deliver [-C imapd.conf] [-f dbfile] -d | -E days
  -d        dump the duplicate delivery database
  -E days   prune entries older than days
  -f file   use this database file instead of duplicate_db_path
  -h        this help
`;

export interface CtlDeliverIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const defaultIO: CtlDeliverIO = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

class ExitError extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export async function main(argv: string[], io: CtlDeliverIO = defaultIO): Promise<number> {
  try {
    const { conf, rest } = loadConfigForTool(argv, 'cyr_ctl_deliver', {
      stderr: io.stderr,
      exit: (code) => {
        throw new ExitError(code);
      },
    });
    let dump = false;
    let days: number | null = null;
    let file: string | null = null;
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (a === '-h') {
        io.stdout(USAGE);
        return 0;
      } else if (a === '-d') dump = true;
      else if (a === '-E' || a === '-f') {
        const v = rest[++i];
        if (v === undefined) throw new UsageError(`option ${a} needs a value`);
        if (a === '-f') file = v;
        else if (/^[0-9]+(\.[0-9]+)?$/.test(v)) days = Number(v);
        else throw new UsageError(`-E needs a number of days, not ${JSON.stringify(v)}`);
      } else throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    }
    if (dump === (days !== null)) throw new UsageError('give exactly one of -d and -E');
    const path = file ?? impliedPath(conf, 'duplicate_db_path')!;
    if (!existsSync(path)) {
      // an ephemeral database that does not exist yet is an empty one
      return 0;
    }
    let db: DuplicateDb;
    try {
      db = new DuplicateDb(openDb(path, confDbBackend(conf, 'duplicate')));
    } catch (e) {
      io.stderr(`cyr_ctl_deliver: cannot open ${path}: ${(e as Error).message}\n`);
      return EX_IOERR;
    }
    try {
      if (dump) {
        db.foreach((id, to, mark) =>
          io.stdout(`id: ${id.padEnd(40)}\tto: ${to.padEnd(20)}\tat: ${mark.time}\tuid: ${mark.uid}\n`),
        );
      } else {
        // -E 0 empties the database, entries of this very second included
        const cutoff =
          days === 0 ? Math.floor(Date.now() / 1000) + 1 : Math.floor(Date.now() / 1000 - days! * 86400);
        const n = db.prune(cutoff);
        io.stdout(`deleted ${n} entries older than ${days} days\n`);
      }
    } finally {
      db.close();
    }
    return 0;
  } catch (e) {
    if (e instanceof ExitError) return e.code;
    if (e instanceof UsageError) {
      io.stderr(`cyr_ctl_deliver: ${e.message}\n${USAGE}`);
      return EX_USAGE;
    }
    throw e;
  }
}
