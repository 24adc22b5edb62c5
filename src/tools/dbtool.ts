/**
 * cyr_dbtool: look into any cyrusdb database file (Cyrus cyr_dbtool).
 *
 *   cyr_dbtool [-C imapd.conf] [-n] [-T] db-file backend action [key] [value]
 *   actions: show [prefix] | get key | set key value | delete key | consistency | repack
 *   `set` without a key reads `key<TAB>value` lines from stdin. Output of show/get:
 *   `key<TAB>value` per line; bytes that are not printable are shown as \xHH.
 *   -n create the file if missing; -T run set/delete in one transaction.
 *   The path is not taken from imapd.conf (as Cyrus); -C only matters for logging.
 *
 * Owns: this program's behaviour.
 */
import { EX_DATAERR, EX_NOINPUT } from '../config/tool.js';
import { openDb, type CyrusDb, type DbTxn } from '../db/index.js';
import { defaultIO, getopt, runTool, UsageError, type ToolIO } from '../store/cli.js';

const USAGE = `usage: cyr_dbtool [-C imapd.conf] [-n] [-T] db-file backend action [key] [value]
  actions: show [prefix] | get key | set key value | delete key | consistency | repack
  backend: sqlite (Cyrus names such as twoskip are served by sqlite)
  -n   create the database if it does not exist
  -T   use one transaction for set/delete
  -h   this help
`;

function printable(b: Buffer): string {
  let s = '';
  for (const c of b)
    s +=
      c >= 0x20 && c < 0x7f && c !== 0x5c
        ? String.fromCharCode(c)
        : c === 0x5c
          ? '\\\\'
          : `\\x${c.toString(16).padStart(2, '0')}`;
  return s;
}

export async function main(argv: string[], io: ToolIO = defaultIO): Promise<number> {
  return runTool('cyr_dbtool', USAGE, argv, io, async (_conf, rest) => {
    const o = getopt(rest, 'nTMo');
    const [file, backend, action, key, value] = o.args;
    if (!file || !backend || !action) throw new UsageError('db-file, backend and action are required');
    let db: CyrusDb;
    try {
      db = openDb(file, backend, { create: o.flags.has('n') });
    } catch (e) {
      io.stderr(`cyr_dbtool: ${(e as Error).message}\n`);
      return EX_NOINPUT;
    }
    let txn: DbTxn | undefined;
    try {
      switch (action) {
        case 'show':
          db.foreach(key ?? '', (k, v) => {
            io.stdout(`${printable(k)}\t${printable(v)}\n`);
          });
          return 0;
        case 'get': {
          if (key === undefined) throw new UsageError('get needs a key');
          const v = db.fetch(key);
          if (v === undefined) {
            io.stderr(`cyr_dbtool: ${key}: not found\n`);
            return EX_DATAERR;
          }
          io.stdout(`${printable(Buffer.from(key))}\t${printable(v)}\n`);
          return 0;
        }
        case 'set': {
          const pairs: [string, string][] = [];
          if (key !== undefined) {
            if (value === undefined) throw new UsageError('set needs a key and a value');
            pairs.push([key, value]);
          } else {
            for (const line of (await io.stdin()).split('\n')) {
              if (!line) continue;
              const t = line.indexOf('\t');
              if (t < 0) throw new UsageError(`stdin line without TAB: ${line}`);
              pairs.push([line.slice(0, t), line.slice(t + 1)]);
            }
          }
          if (o.flags.has('T')) txn = db.begin();
          for (const [k, v] of pairs) db.store(k, v, txn);
          if (txn) db.commit(txn);
          return 0;
        }
        case 'delete':
          if (key === undefined) throw new UsageError('delete needs a key');
          if (o.flags.has('T')) txn = db.begin();
          db.delete(key, txn);
          if (txn) db.commit(txn);
          return 0;
        case 'consistency': {
          const r = db.check();
          if (r.ok) {
            io.stdout('ok\n');
            return 0;
          }
          io.stdout(`not ok: ${r.problems.join('; ')}\n`);
          return EX_DATAERR;
        }
        case 'repack':
          db.checkpoint();
          return 0;
        default:
          throw new UsageError(`unknown action ${action}`);
      }
    } finally {
      if (txn?.active) db.abort(txn);
      db.close();
    }
  });
}
