/**
 * Reconstruct: bring a mailbox's index back in line with its message files.
 *
 * Owns: the repair rules. Rows whose file is gone are marked expunged; files with no row
 * (a crash after the rename and before the commit, or files copied in by hand) are parsed
 * and adopted when `addOrphans` (`cyr_reconstruct -f`); `reparse` (`-G`) re-reads every file
 * and refreshes GUID and cache; uidnext is raised above every uid seen; the exists/size
 * counters (quota usage) are recounted; stale spool files of dead processes are removed.
 * Imports: node built-ins, mail parser, ./store internals.
 */
import { createReadStream, readdirSync, statSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage } from '../mail/parse.js';
import { MailError } from './api.js';
import { cacheRow, expungeRows, type StoreImpl } from './store.js';
import { INDEX_TEXT_LIMITS, type Parsed } from './spool.js';

export interface ReconstructReport {
  mailbox: string;
  /** orphan files adopted as messages */
  added: number[];
  /** orphan files found but not adopted (no addOrphans) */
  orphans: number[];
  /** rows whose file was missing, now expunged */
  missing: number[];
  /** messages whose GUID changed on re-parse */
  guidFixed: number[];
  uidNext: { before: number; after: number };
  counters: { before: [number, number]; after: [number, number] };
}

export async function reconstructMailbox(
  store: StoreImpl,
  name: string,
  o: { addOrphans?: boolean; reparse?: boolean } = {},
): Promise<ReconstructReport> {
  const e = store.mboxlist.get(name);
  if (!e) throw new MailError('notFound', `${name}: Mailbox does not exist`);
  const db = store.indexFor(e);
  const row = store.mailboxRow(db, e);
  const dir = store.layout.mailboxDir(e.partition, e.uniqueId);
  const files = new Map<number, string>();
  if (existsSync(dir)) {
    for (const f of readdirSync(dir)) {
      const m = /^([1-9][0-9]*)\.$/.exec(f);
      if (m) files.set(Number(m[1]), join(dir, f));
    }
  }
  const rows = db.s.allRows.all(row.id);
  const known = new Map(rows.map((r) => [r.uid, r]));
  const report: ReconstructReport = {
    mailbox: name,
    added: [],
    orphans: [],
    missing: [],
    guidFixed: [],
    uidNext: { before: row.uidnext, after: row.uidnext },
    counters: { before: [row.exists_count, row.size_total], after: [0, 0] },
  };
  for (const r of rows) if (!r.expunged && !files.has(r.uid)) report.missing.push(r.uid);
  const orphanUids = [...files.keys()].filter((u) => !known.has(u)).sort((a, b) => a - b);
  const parsedOrphans = new Map<number, { parsed: Parsed; mtime: number }>();
  if (o.addOrphans) {
    for (const u of orphanUids) {
      const p = files.get(u)!;
      parsedOrphans.set(u, {
        parsed: await parseMessage(createReadStream(p), INDEX_TEXT_LIMITS),
        mtime: statSync(p).mtimeMs,
      });
    }
  } else report.orphans = orphanUids;
  const reparsed = new Map<number, Parsed>();
  if (o.reparse) {
    for (const r of rows) {
      const p = files.get(r.uid);
      if (!r.expunged && p) reparsed.set(r.uid, await parseMessage(createReadStream(p), INDEX_TEXT_LIMITS));
    }
  }
  db.write(() => {
    if (report.missing.length) expungeRows(db, row.id, report.missing);
    for (const [uid, { parsed, mtime }] of parsedOrphans) {
      const modseq = db.nextModseq();
      const t = Math.floor(mtime);
      db.s.insertMessage.run(
        row.id,
        uid,
        modseq,
        0,
        '',
        t,
        Date.now(),
        parsed.sentDate,
        parsed.size,
        parsed.guid,
      );
      db.putCache(cacheRow(row.id, uid, parsed));
      db.s.setHighest.run(modseq, row.id);
      report.added.push(uid);
    }
    for (const [uid, parsed] of reparsed) {
      const r = known.get(uid)!;
      db.putCache(cacheRow(row.id, uid, parsed));
      if (r.guid !== parsed.guid || r.size !== parsed.size) {
        const modseq = db.nextModseq();
        db.db
          .prepare('UPDATE message SET guid = ?, size = ?, modseq = ? WHERE mbox = ? AND uid = ?')
          .run(parsed.guid, parsed.size, modseq, row.id, uid);
        db.s.setHighest.run(modseq, row.id);
        report.guidFixed.push(uid);
      }
    }
    const maxUid = Math.max(0, ...files.keys(), ...rows.map((r) => r.uid));
    const cur = db.s.mailboxByRow.get(row.id)!;
    if (cur.uidnext <= maxUid) db.s.setUidnext.run(maxUid + 1, row.id);
    report.uidNext.after = Math.max(cur.uidnext, maxUid + 1);
    const c = db.s.recount.get(row.id)!;
    db.s.setCounters.run(c.n, c.bytes ?? 0, row.id);
    report.counters.after = [c.n, c.bytes ?? 0];
  });
  store.stamp(e.uniqueId);
  return report;
}

/** remove spool files left in `<partition>/stage./` by processes that are gone */
export function cleanStage(store: StoreImpl, partitions: string[]): number {
  let n = 0;
  for (const p of partitions) {
    const dir = store.layout.stageDir(p);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      const pid = Number(f.split('-')[0]);
      let alive = false;
      if (pid > 0) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch {
          alive = false;
        }
      }
      if (!alive) {
        rmSync(join(dir, f), { force: true });
        n++;
      }
    }
  }
  return n;
}
