/**
 * One session's view of a selected (or examined) mailbox: stable sequence numbers between
 * syncs, \Recent claimed by the first read-write session to see a message, flags, expunge,
 * search, sort, copy/move, and cross-process wake-ups.
 *
 * Owns: `View`, the `MailboxView` of api.ts. Reads come from the index db (WAL snapshot per
 * call); writes are `BEGIN IMMEDIATE` transactions in the mailbox's index db and touch the
 * mailbox's stamp file afterwards so other processes' `watch` callbacks fire.
 * Imports: node built-ins, ./api, ./index-db, ./search, ./watch, store types,
 * mail/imap-text.ts (rendering rows cached before the IMAP text columns existed).
 */
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { BodyPart, Envelope } from '../mail/api.js';
import { bodyText, envelopeText } from '../mail/imap-text.js';
import {
  MailError,
  type FlagOp,
  type Identity,
  type MailboxInfo,
  type MailboxView,
  type MessageCache,
  type MessageRecord,
  type SearchKey,
  type SortKey,
  type SyncResult,
} from './api.js';
import {
  DELETED,
  encodeFlags,
  keywordString,
  parseKeywords,
  SEEN,
  SYSTEM_FLAG_NAMES,
  type CacheRow,
  type IndexDb,
  type MessageRow,
} from './index-db.js';
import type { MboxEntry } from './mboxlist.js';
import { compileSearch } from './search.js';
import type { StoreImpl } from './store.js';
import { expungeRows } from './store.js';
import { watchStamp } from './watch.js';

/** records() switches from point look-ups to one range scan above this many uids */
const POINT_LOOKUPS = 64;
/** caches() reads uids lying within this span of each other with one range scan */
const CACHE_CHUNK_SPAN = 1024;

function bsearch(a: Uint32Array, v: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const x = a[mid]!;
    if (x === v) return mid;
    if (x < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

type CacheJson = Pick<CacheRow, 'envelope' | 'body'>;

/**
 * One message's cache entry: the JSON of the envelope and structure is decoded on first use
 * (a FETCH of ENVELOPE and BODYSTRUCTURE sends the stored IMAP text and never decodes it).
 * Rows from before the text columns existed render the text from the JSON.
 */
class CachedMessage implements MessageCache {
  readonly headerSize: number;
  readonly lines: number;
  readonly preview: string;
  #json: CacheJson | (() => CacheJson | undefined) | undefined;
  #envelopeImap: string | null;
  #bodyStructureImap: string | null;
  #envelope: Envelope | undefined;
  #body: BodyPart | undefined;

  constructor(
    row: Pick<CacheRow, 'header_size' | 'lines' | 'preview'> & Partial<CacheRow>,
    json: CacheJson | (() => CacheJson | undefined),
  ) {
    this.headerSize = row.header_size;
    this.lines = row.lines;
    this.preview = row.preview;
    this.#envelopeImap = row.envelope_imap ?? null;
    this.#bodyStructureImap = row.bodystructure_imap ?? null;
    this.#json = json;
  }

  #raw(): CacheJson {
    if (typeof this.#json === 'function') {
      const j = this.#json();
      // expunged and removed since the range was read: the caller already holds the texts
      if (!j) throw new MailError('expunged', 'message has been expunged');
      this.#json = j;
    }
    return this.#json!;
  }

  get envelope(): Envelope {
    return (this.#envelope ??= JSON.parse(this.#raw().envelope) as Envelope);
  }

  get body(): BodyPart {
    return (this.#body ??= JSON.parse(this.#raw().body) as BodyPart);
  }

  get envelopeImap(): string {
    return (this.#envelopeImap ??= envelopeText(this.envelope));
  }

  get bodyStructureImap(): string {
    return (this.#bodyStructureImap ??= bodyText(this.body, true));
  }
}

export class View implements MailboxView {
  readonly info: MailboxInfo;
  readonly #db: IndexDb;
  readonly #mbox: number;
  readonly #seenInRow: boolean;
  #uids: Uint32Array;
  #uidNext: number;
  #highest: number;
  /** index modseq up to which this view has seen changes */
  #synced: number;
  #recent = new Set<number>();
  /** changes this view made itself: uid → modseq (not reported back by sync) */
  #own = new Map<number, number>();
  #closed = false;
  #unwatch: (() => void)[] = [];

  constructor(
    readonly store: StoreImpl,
    readonly who: Identity,
    readonly entry: MboxEntry,
    readonly readOnly: boolean,
  ) {
    this.info = store.mboxlist.toInfo(entry);
    this.#db = store.indexFor(entry);
    const row0 = store.mailboxRow(this.#db, entry);
    this.#mbox = row0.id;
    this.#seenInRow = store.seenInRow(who, entry);
    const db = this.#db;
    const load = (): { uids: number[]; recentFrom: number } => {
      const row = db.s.mailboxByRow.get(this.#mbox);
      if (!row) throw new MailError('notFound', 'Mailbox does not exist');
      const uids = db.s.liveUids.all(this.#mbox);
      this.#uidNext = row.uidnext;
      this.#highest = row.highestmodseq;
      this.#synced = row.highestmodseq;
      if (!readOnly && row.uidnext - 1 > row.recentuid) db.s.setRecent.run(row.uidnext - 1, row.id);
      return { uids, recentFrom: row.recentuid };
    };
    this.#uidNext = 0;
    this.#highest = 0;
    this.#synced = 0;
    const { uids, recentFrom } = readOnly ? db.read(load) : db.write(load);
    this.#uids = Uint32Array.from(uids);
    for (let i = this.#uids.length - 1; i >= 0 && this.#uids[i]! > recentFrom; i--)
      this.#recent.add(this.#uids[i]!);
    this.#db.views++;
  }

  #check(): void {
    if (this.#closed) throw new MailError('temp', 'mailbox view is closed');
  }

  uids(): Uint32Array {
    return this.#uids;
  }

  uidNext(): number {
    return this.#uidNext;
  }

  highestModseq(): number {
    return this.#highest;
  }

  recentCount(): number {
    return this.#recent.size;
  }

  firstUnseen(): number {
    this.#check();
    const db = this.#db;
    const unseen = this.#seenInRow
      ? db.db
          .prepare<[number], number>(
            'SELECT uid FROM message WHERE mbox = ? AND expunged = 0 AND (sysflags & 16) = 0 ORDER BY uid',
          )
          .pluck()
          .iterate(this.#mbox)
      : db.db
          .prepare<[number, string], number>(
            'SELECT uid FROM message m WHERE mbox = ? AND expunged = 0 AND NOT EXISTS (SELECT 1 FROM seen s WHERE s.mbox = m.mbox AND s.userid = ? AND s.uid = m.uid) ORDER BY uid',
          )
          .pluck()
          .iterate(this.#mbox, this.who.userid);
    for (const uid of unseen) {
      const i = bsearch(this.#uids, uid);
      if (i >= 0) {
        (unseen as IterableIterator<number> & { return?: () => void }).return?.();
        return i + 1;
      }
    }
    return 0;
  }

  sync(): SyncResult {
    this.#check();
    const db = this.#db;
    const res = db.read(() => {
      const row = db.s.mailboxByRow.get(this.#mbox);
      if (!row) throw new MailError('notFound', 'Mailbox does not exist');
      return { row, changes: db.s.changedSince.all(this.#mbox, this.#synced) };
    });
    const expunged: number[] = [];
    const added: number[] = [];
    const changed: number[] = [];
    const last = this.#uids.length ? this.#uids[this.#uids.length - 1]! : 0;
    for (const c of res.changes) {
      const inView = c.uid <= last && bsearch(this.#uids, c.uid) >= 0;
      if (c.expunged) {
        if (inView) expunged.push(c.uid);
      } else if (!inView) {
        if (c.uid > last) added.push(c.uid);
      } else if (this.#own.get(c.uid) !== c.modseq) {
        changed.push(c.uid);
      }
    }
    this.#own.clear();
    if (added.length) {
      const grown = new Uint32Array(this.#uids.length + added.length);
      grown.set(this.#uids);
      grown.set(added, this.#uids.length);
      this.#uids = grown;
      if (!this.readOnly && added[added.length - 1]! > res.row.recentuid) {
        // claim \Recent for the new arrivals nobody has seen yet
        const claimed = db.write(() => {
          const cur = db.s.mailboxByRow.get(this.#mbox)!.recentuid;
          const top = added[added.length - 1]!;
          if (top > cur) db.s.setRecent.run(top, this.#mbox);
          return cur;
        });
        for (const u of added) if (u > claimed) this.#recent.add(u);
      }
    }
    this.#synced = Math.max(this.#synced, res.row.highestmodseq);
    this.#highest = res.row.highestmodseq;
    this.#uidNext = res.row.uidnext;
    return { expunged, added, changed };
  }

  applyExpunges(uids: number[]): void {
    if (uids.length === 0) return;
    const gone = new Set(uids);
    this.#uids = this.#uids.filter((u) => !gone.has(u));
    for (const u of uids) this.#recent.delete(u);
  }

  #toRecord(r: MessageRow, seen: boolean): MessageRecord {
    const flags: string[] = [];
    const bits = this.#seenInRow ? r.sysflags : (r.sysflags & ~SEEN) | (seen ? SEEN : 0);
    for (const [b, n] of SYSTEM_FLAG_NAMES) if (bits & b) flags.push(n);
    if (r.keywords) for (const k of parseKeywords(r.keywords)) flags.push(k);
    return {
      uid: r.uid,
      modseq: r.modseq,
      flags,
      internalDate: r.internaldate,
      saveDate: r.savedate,
      size: r.size,
      guid: r.guid,
      emailId: 'M' + r.guid.slice(0, 24),
      threadId: null,
    };
  }

  records(uids: ArrayLike<number>): MessageRecord[] {
    this.#check();
    if (uids.length === 0) return [];
    const db = this.#db;
    return db.read(() => {
      const out: MessageRecord[] = [];
      let min = Infinity;
      let max = 0;
      for (let i = 0; i < uids.length; i++) {
        const u = uids[i]!;
        if (u < min) min = u;
        if (u > max) max = u;
      }
      const seen = this.#seenInRow
        ? null
        : new Set(db.s.seenRange.all(this.#mbox, this.who.userid, min, max));
      if (uids.length <= POINT_LOOKUPS) {
        for (let i = 0; i < uids.length; i++) {
          const r = db.s.message.get(this.#mbox, uids[i]!);
          if (r && !r.expunged) out.push(this.#toRecord(r, seen?.has(r.uid) ?? false));
        }
        return out;
      }
      // all(): one call into SQLite for the range (iterate() pays a round trip per row)
      const rows = db.s.rangeRows.all(this.#mbox, min, max);
      let ascending = true;
      for (let i = 1; i < uids.length && ascending; i++) ascending = uids[i]! > uids[i - 1]!;
      if (ascending) {
        // both sorted by uid: one merge pass, no map
        for (let i = 0, k = 0; i < uids.length && k < rows.length;) {
          const r = rows[k]!;
          const u = uids[i]!;
          if (r.uid < u) k++;
          else if (r.uid > u) i++;
          else {
            out.push(this.#toRecord(r, seen?.has(u) ?? false));
            i++;
            k++;
          }
        }
        return out;
      }
      const byUid = new Map<number, MessageRow>();
      for (const r of rows) byUid.set(r.uid, r);
      for (let i = 0; i < uids.length; i++) {
        const r = byUid.get(uids[i]!);
        if (r) out.push(this.#toRecord(r, seen?.has(r.uid) ?? false));
      }
      return out;
    });
  }

  cache(uid: number): MessageCache {
    this.#check();
    const c = this.#db.s.msgCache.get(this.#mbox, uid);
    if (!c) throw new MailError('expunged', `message ${uid} has been expunged`);
    return new CachedMessage(c, c);
  }

  caches(uids: ArrayLike<number>, opts: { textOnly?: boolean } = {}): Map<number, MessageCache> {
    this.#check();
    const out = new Map<number, MessageCache>();
    if (uids.length === 0) return out;
    const want = Array.from(uids).sort((a, b) => a - b);
    const db = this.#db;
    db.read(() => {
      // one range scan per chunk of nearby uids: a sparse set does not scan the whole mailbox
      for (let i = 0; i < want.length;) {
        let j = i;
        while (j + 1 < want.length && want[j + 1]! - want[i]! < CACHE_CHUNK_SPAN) j++;
        const lo = want[i]!;
        const hi = want[j]!;
        const wanted = j - i + 1 === hi - lo + 1 ? null : new Set(want.slice(i, j + 1));
        // all(): one call into SQLite per chunk (iterate() pays a round trip per row)
        if (opts.textOnly) {
          const mbox = this.#mbox;
          for (const c of db.s.cacheTextRange.all(mbox, lo, mbox, hi)) {
            if (wanted && !wanted.has(c.uid)) continue;
            out.set(c.uid, new CachedMessage(c, () => db.s.cacheJson.get(mbox, c.uid)));
          }
        } else {
          for (const c of db.s.cacheRange.all(this.#mbox, lo, this.#mbox, hi)) {
            if (wanted && !wanted.has(c.uid)) continue;
            out.set(c.uid, new CachedMessage(c, c));
          }
        }
        i = j + 1;
      }
    });
    return out;
  }

  path(uid: number): string {
    return this.store.messagePath(this.entry, uid);
  }

  open(uid: number, start = 0, end?: number): Readable {
    this.#check();
    const p = this.path(uid);
    let size: number;
    try {
      size = statSync(p).size;
    } catch {
      throw new MailError('expunged', `message ${uid} has been expunged`);
    }
    const stop = Math.min(end ?? size, size);
    if (stop <= start) return createReadStream(p, { start: 0, end: -1 });
    return createReadStream(p, { start, end: stop - 1 });
  }

  storeFlags(
    uids: ArrayLike<number>,
    op: FlagOp,
    flags: string[],
    opts: { unchangedSince?: number } = {},
  ): { changed: MessageRecord[]; failedModified: number[] } {
    this.#check();
    if (this.readOnly) throw new MailError('perm', 'Mailbox is read-only');
    const want = encodeFlags(flags);
    const rights = this.store.rightsOn(this.who, this.entry);
    const needs: string[] = [];
    if (want.bits & SEEN) needs.push('s');
    if (want.bits & DELETED) needs.push('t');
    if (want.bits & ~(SEEN | DELETED) || want.keywords.length) needs.push('w');
    if (op === 'set') {
      // replacing the flag list touches every flag class
      needs.push(...['s', 't', 'w'].filter((r) => rights.includes(r)));
      if (!needs.length) throw new MailError('perm', 'Permission denied');
    }
    for (const r of needs) if (!rights.includes(r)) throw new MailError('perm', 'Permission denied');
    // with 'set', flag classes the user may not change are kept as they are
    const keepMask =
      (rights.includes('s') ? 0 : SEEN) |
      (rights.includes('t') ? 0 : DELETED) |
      (rights.includes('w') ? 0 : 0b1011);
    const keepKeywords = !rights.includes('w');
    const wantKw = new Map(want.keywords.map((k) => [k.toLowerCase(), k]));
    const db = this.#db;
    const changedUids: number[] = [];
    const failedModified: number[] = [];
    const list = Array.from(uids).filter((u) => bsearch(this.#uids, u) >= 0);
    db.write(() => {
      let modseq = 0;
      for (const u of list) {
        const r = db.s.message.get(this.#mbox, u);
        if (!r || r.expunged) continue;
        if (opts.unchangedSince !== undefined && r.modseq > opts.unchangedSince) {
          failedModified.push(u);
          continue;
        }
        let seenNow = false;
        if (!this.#seenInRow) seenNow = db.s.seenOne.get(this.#mbox, this.who.userid, u) === 1;
        let bits = this.#seenInRow ? r.sysflags : (r.sysflags & ~SEEN) | (seenNow ? SEEN : 0);
        const before = bits;
        const kws = parseKeywords(r.keywords);
        let newKws = kws;
        if (op === 'add') {
          bits |= want.bits;
          const have = new Set(kws.map((k) => k.toLowerCase()));
          newKws = [...kws, ...[...wantKw].filter(([l]) => !have.has(l)).map(([, k]) => k)];
        } else if (op === 'remove') {
          bits &= ~want.bits;
          newKws = kws.filter((k) => !wantKw.has(k.toLowerCase()));
        } else {
          bits = (want.bits & ~keepMask) | (bits & keepMask);
          newKws = keepKeywords ? kws : [...wantKw.values()];
        }
        const kwStr = keywordString(newKws);
        if (bits === before && kwStr === r.keywords) continue;
        modseq = db.nextModseq();
        if (this.#seenInRow) {
          db.s.setFlags.run(bits, kwStr, modseq, this.#mbox, u);
        } else {
          if ((bits & SEEN) !== (before & SEEN)) {
            if (bits & SEEN) db.s.seenAdd.run(this.#mbox, this.who.userid, u);
            else db.s.seenDel.run(this.#mbox, this.who.userid, u);
          }
          db.s.setFlags.run((r.sysflags & SEEN) | (bits & ~SEEN), kwStr, modseq, this.#mbox, u);
        }
        this.#own.set(u, modseq);
        changedUids.push(u);
      }
      if (modseq) db.s.setHighest.run(modseq, this.#mbox);
    });
    if (changedUids.length) this.store.stamp(this.entry.uniqueId);
    return { changed: this.records(changedUids), failedModified };
  }

  expunge(uids?: ArrayLike<number>): number[] {
    this.#check();
    if (this.readOnly) throw new MailError('perm', 'Mailbox is read-only');
    if (!this.store.rightsOn(this.who, this.entry).includes('e'))
      throw new MailError('perm', 'Permission denied');
    const limit = uids ? new Set(Array.from(uids)) : null;
    const db = this.#db;
    const done = db.write(() => {
      const victims: number[] = [];
      const flagged = db.db
        .prepare<[number], number>(
          `SELECT uid FROM message WHERE mbox = ? AND expunged = 0 AND (sysflags & ${DELETED}) != 0 ORDER BY uid`,
        )
        .pluck()
        .all(this.#mbox);
      for (const uid of flagged) {
        if (limit && !limit.has(uid)) continue;
        if (bsearch(this.#uids, uid) < 0) continue;
        victims.push(uid);
      }
      expungeRows(db, this.#mbox, victims);
      return victims;
    });
    if (done.length) {
      this.store.afterExpunge(this.entry, done, db, this.#mbox);
      this.store.stamp(this.entry.uniqueId);
    }
    return done;
  }

  #matching(key: SearchKey, columns: string): { uid: number; [k: string]: unknown }[] {
    const q = compileSearch(key, {
      seenInRow: this.#seenInRow,
      userid: this.who.userid,
      recent: [...this.#recent],
      now: Date.now(),
    });
    // a long body's text is read from its file (index-db.ts bodymatch): tell it where
    if (q.needsBody) {
      const e = this.entry;
      const store = this.store;
      this.#db.messageFiles.set(this.#mbox, (uid) => store.messagePath(e, uid));
    }
    const join = [
      // the cache tables are keyed by (mbox << 32) + uid (index-db.ts CACHE_TABLES)
      columns.includes('c.') ? 'LEFT JOIN msgcache c ON c.id = (m.mbox << 32) + m.uid' : '',
      q.needsHeaders ? 'LEFT JOIN hdrtext h ON h.id = (m.mbox << 32) + m.uid' : '',
      q.needsBody ? 'LEFT JOIN bodytext b ON b.id = (m.mbox << 32) + m.uid' : '',
    ].join(' ');
    const sql = `SELECT m.uid AS uid${columns} FROM message m ${join} WHERE m.mbox = ? AND m.expunged = 0 AND (${q.where}) ORDER BY m.uid`;
    let rows: { uid: number }[];
    try {
      rows = this.#db.db.prepare(sql).all(this.#mbox, ...q.params) as { uid: number }[];
    } finally {
      this.#db.fullTextMemo = null;
    }
    return rows.filter((r) => bsearch(this.#uids, r.uid) >= 0);
  }

  search(key: SearchKey): number[] {
    this.#check();
    return this.#matching(key, '').map((r) => r.uid);
  }

  sort(keys: { key: SortKey; reverse: boolean }[], search: SearchKey): number[] {
    this.#check();
    const rows = this.#matching(
      search,
      ', m.internaldate AS arrival, coalesce(m.sentdate, m.internaldate) AS date, m.size AS size, m.modseq AS modseq,' +
        ' c.sort_subject AS subject, c.sort_from AS "from", c.sort_to AS "to", c.sort_cc AS cc,' +
        ' c.sort_displayfrom AS displayfrom, c.sort_displayto AS displayto',
    );
    const cmp = (a: Record<string, unknown>, b: Record<string, unknown>): number => {
      for (const k of keys) {
        const x = (a[k.key] ?? '') as string | number;
        const y = (b[k.key] ?? '') as string | number;
        const d = x < y ? -1 : x > y ? 1 : 0;
        if (d !== 0) return k.reverse ? -d : d;
      }
      return (a['uid'] as number) - (b['uid'] as number);
    };
    return rows.sort(cmp).map((r) => r.uid);
  }

  vanishedSince(modseq: number, within?: ArrayLike<number>): number[] {
    this.#check();
    const v = this.#db.s.vanished.all(this.#mbox, modseq);
    if (!within) return v;
    const w = new Set(Array.from(within));
    return v.filter((u) => w.has(u));
  }

  async copy(
    uids: ArrayLike<number>,
    dest: string,
  ): Promise<{ uidValidity: number; src: number[]; dst: number[] }> {
    this.#check();
    const d = this.store.need(this.who, dest, 'i');
    const inView = Array.from(uids).filter((u) => bsearch(this.#uids, u) >= 0);
    return this.store.moveMessages(this.who, this.entry, inView, d, { move: false });
  }

  async move(
    uids: ArrayLike<number>,
    dest: string,
  ): Promise<{ uidValidity: number; src: number[]; dst: number[] }> {
    this.#check();
    if (this.readOnly) throw new MailError('perm', 'Mailbox is read-only');
    const d = this.store.need(this.who, dest, 'i');
    const inView = Array.from(uids).filter((u) => bsearch(this.#uids, u) >= 0);
    const r = this.store.moveMessages(this.who, this.entry, inView, d, { move: true });
    return r;
  }

  watch(cb: () => void): () => void {
    this.#check();
    const stop = watchStamp(this.store.layout.stampPath(this.entry.uniqueId), cb);
    this.#unwatch.push(stop);
    return () => {
      stop();
      this.#unwatch = this.#unwatch.filter((f) => f !== stop);
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.views--;
    for (const f of this.#unwatch) f();
    this.#unwatch = [];
  }
}
