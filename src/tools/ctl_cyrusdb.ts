/**
 * cyr_ctl_cyrusdb: recover or checkpoint every cyrusdb database (Cyrus ctl_cyrusdb).
 *
 *   cyr_ctl_cyrusdb [-C imapd.conf] -r [-x]   recover: check every database (mailboxes,
 *       annotations, quotas, per-user indexes); ephemeral ones (deliver, statuscache,
 *       tls_sessions, ptscache) that fail the check are recreated; spool files left by dead
 *       processes are removed (not with -x). Exit 75 when a persistent database is damaged.
 *   cyr_ctl_cyrusdb [-C imapd.conf] -c        checkpoint: flush logs, copy mailboxes.db,
 *       annotations.db and quotas.db to {configdirectory}/db.backup1/ (old copy → db.backup2/).
 *
 * Owns: this program's behaviour; the work is done by src/db and src/store.
 */
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EX_TEMPFAIL } from '../config/tool.js';
import { confDbBackend, confDbPath, EPHEMERAL_ROLES, openDb, PERSISTENT_ROLES } from '../db/index.js';
import { IndexDb } from '../store/index-db.js';
import { defaultIO, getopt, runTool, toolStore, UsageError, type ToolIO } from '../store/cli.js';
import { cleanStage } from '../store/reconstruct.js';

const USAGE = `usage: cyr_ctl_cyrusdb [-C imapd.conf] -r [-x] | -c
  -r   recover: check all databases, recreate damaged ephemeral ones, clean leftovers
  -x   with -r: recovery only, no clean-up
  -c   checkpoint: flush and copy persistent databases to db.backup1 (previous → db.backup2)
  -h   this help
`;

function indexFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) indexFiles(p, out);
    else if (f.endsWith('.index.db')) out.push(p);
  }
  return out;
}

export async function main(argv: string[], io: ToolIO = defaultIO): Promise<number> {
  return runTool('cyr_ctl_cyrusdb', USAGE, argv, io, async (conf, rest) => {
    const o = getopt(rest, 'rxc');
    const recover = o.flags.has('r');
    const checkpoint = o.flags.has('c');
    if (recover === checkpoint || o.args.length) throw new UsageError('exactly one of -r or -c is required');
    if (recover) {
      let bad = 0;
      for (const role of [...PERSISTENT_ROLES, ...EPHEMERAL_ROLES]) {
        const path = confDbPath(conf, role);
        if (!existsSync(path) && EPHEMERAL_ROLES.includes(role)) continue;
        let ok = false;
        let problems: string[] = [];
        try {
          const db = openDb(path, confDbBackend(conf, role));
          const r = db.check();
          ok = r.ok;
          problems = r.problems;
          db.close();
        } catch (e) {
          problems = [(e as Error).message];
        }
        if (ok) continue;
        if (EPHEMERAL_ROLES.includes(role)) {
          io.stderr(`cyr_ctl_cyrusdb: ${path}: damaged, recreating (${problems.join('; ')})\n`);
          for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
          openDb(path, confDbBackend(conf, role)).close();
        } else {
          io.stderr(`cyr_ctl_cyrusdb: ${path}: DAMAGED: ${problems.join('; ')}\n`);
          bad++;
        }
      }
      for (const p of [
        ...indexFiles(join(conf.configDirectory, 'user')),
        ...indexFiles(join(conf.configDirectory, 'domain')),
        ...indexFiles(join(conf.configDirectory, 'shared')),
      ]) {
        try {
          const db = new IndexDb(p);
          const rows = db.db.pragma('integrity_check') as { integrity_check: string }[];
          db.close();
          if (rows.some((r) => r.integrity_check !== 'ok'))
            throw new Error(rows.map((r) => r.integrity_check).join('; '));
        } catch (e) {
          io.stderr(`cyr_ctl_cyrusdb: ${p}: DAMAGED: ${(e as Error).message}\n`);
          bad++;
        }
      }
      if (!o.flags.has('x')) {
        const store = toolStore(conf);
        try {
          cleanStage(store, [...conf.partitions().keys()]);
        } finally {
          store.close();
        }
      }
      return bad ? EX_TEMPFAIL : 0;
    }
    const b1 = join(conf.configDirectory, 'db.backup1');
    const b2 = join(conf.configDirectory, 'db.backup2');
    rmSync(b2, { recursive: true, force: true });
    if (existsSync(b1)) renameSync(b1, b2);
    for (const role of PERSISTENT_ROLES) {
      const path = confDbPath(conf, role);
      const db = openDb(path, confDbBackend(conf, role));
      try {
        db.checkpoint();
        db.archive(join(b1, basename(path)));
      } finally {
        db.close();
      }
    }
    for (const role of EPHEMERAL_ROLES) {
      const path = confDbPath(conf, role);
      if (!existsSync(path)) continue;
      const db = openDb(path, confDbBackend(conf, role));
      db.checkpoint();
      db.close();
    }
    return 0;
  });
}
