/**
 * Periodic clean-up behind `cyr_expire` and `cyr_ipurge`.
 *
 * Owns: removing expunged messages for good (files, cache and tombstone rows older than a
 * cut-off, raising the mailbox's deletedmodseq so QRESYNC knows what it can no longer
 * answer), purging delayed-deleted mailboxes (`DELETED.<name>.<HEXTIME>`) older than a
 * cut-off, and selecting messages by age/size for ipurge.
 * Imports: node built-ins, ./store, ./mboxlist, ./names, ./api.
 */
import { unlinkSync } from 'node:fs';
import type { MboxEntry } from './mboxlist.js';
import { isDeletedName, splitDomain } from './names.js';
import type { StoreImpl } from './store.js';

/** drop expunged messages expunged before `cutoffMs`; returns how many */
export function purgeExpunged(store: StoreImpl, e: MboxEntry, cutoffMs: number): number {
  const db = store.indexFor(e);
  const row = db.s.mailboxById.get(e.uniqueId);
  if (!row) return 0;
  const victims = db.db
    .prepare<[number, number], { uid: number; modseq: number }>(
      'SELECT uid, modseq FROM message WHERE mbox = ? AND expunged != 0 AND expunged <= ?',
    )
    .all(row.id, cutoffMs);
  if (!victims.length) return 0;
  for (const v of victims) {
    try {
      unlinkSync(store.messagePath(e, v.uid));
    } catch {
      /* semidelayed/immediate already removed it */
    }
  }
  db.write(() => {
    let top = 0;
    for (const v of victims) {
      db.deleteCache(row.id, v.uid);
      db.s.deleteMessage.run(row.id, v.uid);
      db.db.prepare('DELETE FROM seen WHERE mbox = ? AND uid = ?').run(row.id, v.uid);
      if (v.modseq > top) top = v.modseq;
    }
    db.s.setDeletedModseq.run(top, row.id);
  });
  return victims.length;
}

/** the deletion time (unix seconds) of a delayed-deleted mailbox name, or null */
export function deletedAt(name: string, deletedPrefix: string): number | null {
  if (!isDeletedName(name, deletedPrefix)) return null;
  const { local } = splitDomain(name);
  const hex = local.slice(local.lastIndexOf('.') + 1);
  return /^[0-9A-F]{8,}$/i.test(hex) ? parseInt(hex, 16) : null;
}

/** remove delayed-deleted mailboxes deleted before `cutoffSec`; returns their names */
export function purgeDeleted(store: StoreImpl, cutoffSec: number, prefix = ''): string[] {
  const victims: MboxEntry[] = [];
  store.mboxlist.foreach('', (e) => {
    const t = deletedAt(e.name, store.layout.deletedPrefix);
    if (t !== null && t <= cutoffSec && e.name.includes(prefix)) victims.push(e);
  });
  for (const e of victims) store.destroyMailbox(e);
  return victims.map((e) => e.name);
}

export interface PurgeSelection {
  /** older than this many seconds (by Date: header, or delivery time with `byDelivery`) */
  ageSeconds?: number;
  byDelivery?: boolean;
  /** at least this many octets */
  minSize?: number;
  skipFlagged?: boolean;
  onlyDeleted?: boolean;
  invert?: boolean;
}

/** uids of live messages in `e` matching an ipurge selection */
export function selectForPurge(
  store: StoreImpl,
  e: MboxEntry,
  sel: PurgeSelection,
  now = Date.now(),
): number[] {
  const db = store.indexFor(e);
  const row = db.s.mailboxById.get(e.uniqueId);
  if (!row) return [];
  const conds: string[] = [];
  if (sel.ageSeconds !== undefined) {
    const col = sel.byDelivery ? 'internaldate' : 'coalesce(sentdate, internaldate)';
    conds.push(`${col} < ${Math.floor(now - sel.ageSeconds * 1000)}`);
  }
  if (sel.minSize !== undefined) conds.push(`size >= ${Math.floor(sel.minSize)}`);
  let where = conds.length ? conds.join(' AND ') : '1';
  if (sel.invert) where = `NOT (${where})`;
  if (sel.skipFlagged) where += ' AND (sysflags & 2) = 0';
  if (sel.onlyDeleted) where += ' AND (sysflags & 4) != 0';
  return db.db
    .prepare<[number], number>(
      `SELECT uid FROM message WHERE mbox = ? AND expunged = 0 AND ${where} ORDER BY uid`,
    )
    .pluck()
    .all(row.id);
}
