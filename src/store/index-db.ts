/**
 * One index database: every mailbox of one user (or one shared mailbox), in SQLite.
 *
 * Owns: the schema and the statements. Tables:
 *  - `mailbox`: per mailbox state (uniqueid, name, uidvalidity, uidnext, highestmodseq,
 *    recentuid = highest uid some session already reported as \Recent, deletedmodseq = below
 *    it VANISHED can no longer be answered, exists/size counters kept in the same transaction
 *    as the messages, so quota usage is always exact; `pending` = uids committed while their
 *    message file's fsync was still running, see store.ts);
 *  - `message`: one row per uid ever appended (uid, modseq, system flag bits, keywords,
 *    dates, size, guid, `expunged` = 0 or expunge time in ms; expunged rows are tombstones
 *    kept for QRESYNC and `sync`);
 *  - `msgcache`: what the parser computed at append (sort keys first, then preview,
 *    envelope and body structure as JSON, then ENVELOPE and BODYSTRUCTURE as IMAP text, so
 *    FETCH of many messages reads text it can send as it is; NULL in rows written before
 *    those columns existed: readers render them from the JSON), `hdrtext` / `bodytext`: the case-folded search
 *    text of the header and of the text parts. Kept apart from `message` and from each other
 *    so listing uids and flags, sorting, reading envelopes and header searches never read
 *    the (large) body text: SQLite reads a row's columns in order through overflow pages;
 *  - `seen`: \Seen of users other than the owner; `subs`: the user's subscriptions;
 *  - `meta`: the per-database modseq counter.
 *
 * Concurrency (why SQLite's lock and not lock files): every write is one `BEGIN IMMEDIATE`
 * transaction; SQLite's write lock serialises writers of this database across processes and
 * `busy_timeout` makes them queue instead of failing. WAL lets readers run beside a writer
 * and see only committed transactions, so a reader never sees a row whose file is not yet
 * in place (the file is renamed into place and its directory fsynced before the commit).
 * Lock files under mboxname_lockpath would add a second lock with its own crash-cleanup
 * problem and no extra safety. Imports: better-sqlite3, node built-ins.
 */
import Database from 'better-sqlite3';
import { closeSync, fdatasync, mkdirSync, openSync, readSync } from 'node:fs';
import { MessageParser } from '../mail/parse.js';
import { dirname } from 'node:path';

export const FLAG_BITS: Record<string, number> = {
  '\\answered': 1,
  '\\flagged': 2,
  '\\deleted': 4,
  '\\draft': 8,
  '\\seen': 16,
};
export const SEEN = 16;
/** SQLite page cache per open index database, KiB */
const PAGE_CACHE_KIB = 512;
export const DELETED = 4;
export const SYSTEM_FLAG_NAMES: [number, string][] = [
  [1, '\\Answered'],
  [2, '\\Flagged'],
  [4, '\\Deleted'],
  [16, '\\Seen'],
  [8, '\\Draft'],
];

export interface MailboxRow {
  id: number;
  uniqueid: string;
  name: string;
  uidvalidity: number;
  uidnext: number;
  highestmodseq: number;
  recentuid: number;
  deletedmodseq: number;
  exists_count: number;
  size_total: number;
  /** uids committed before their message file was known to be on disk (see `pending`) */
  pending: string;
}

export interface MessageRow {
  mbox: number;
  uid: number;
  modseq: number;
  sysflags: number;
  keywords: string;
  internaldate: number;
  savedate: number;
  sentdate: number | null;
  size: number;
  guid: string;
  expunged: number;
}

export interface CacheRow {
  mbox: number;
  uid: number;
  header_size: number;
  lines: number;
  envelope: string;
  body: string;
  preview: string;
  search_headers: string;
  search_body: string;
  /** 1: search_body holds only the start of the body's text (src/store/spool.ts INDEX_TEXT_LIMITS) */
  search_truncated: number;
  sort_subject: string;
  sort_from: string;
  sort_to: string;
  sort_cc: string;
  sort_displayfrom: string;
  sort_displayto: string;
  /** ENVELOPE as IMAP text (ASCII form: non-ASCII strings as literals), null in old rows */
  envelope_imap: string | null;
  /** BODYSTRUCTURE as IMAP text (ASCII form), null in old rows */
  bodystructure_imap: string | null;
}

/** what FETCH of ENVELOPE/BODYSTRUCTURE over a range reads: the text forms, not the JSON */
export type CacheTextRow = Pick<
  CacheRow,
  'uid' | 'header_size' | 'lines' | 'preview' | 'envelope_imap' | 'bodystructure_imap'
>;

/**
 * The per-message cache tables are keyed by `id = (mbox << 32) + uid`, their rowid: an append
 * adds a row at the end of one b-tree per table. (Keyed by PRIMARY KEY (mbox, uid) each also
 * kept a separate index, three more pages written per delivery; WITHOUT ROWID was worse for
 * rows this large.) `mbox` and `uid` stay as columns for readers.
 */
const CACHE_TABLES = {
  msgcache: `CREATE TABLE IF NOT EXISTS msgcache (
  id INTEGER PRIMARY KEY,
  mbox INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  header_size INTEGER NOT NULL,
  lines INTEGER NOT NULL,
  sort_subject TEXT NOT NULL,
  sort_from TEXT NOT NULL,
  sort_to TEXT NOT NULL,
  sort_cc TEXT NOT NULL,
  sort_displayfrom TEXT NOT NULL,
  sort_displayto TEXT NOT NULL,
  preview TEXT NOT NULL,
  envelope TEXT NOT NULL,
  body TEXT NOT NULL,
  envelope_imap TEXT,
  bodystructure_imap TEXT
)`,
  hdrtext: `CREATE TABLE IF NOT EXISTS hdrtext (id INTEGER PRIMARY KEY, mbox INTEGER NOT NULL, uid INTEGER NOT NULL, search_headers TEXT NOT NULL)`,
  bodytext: `CREATE TABLE IF NOT EXISTS bodytext (id INTEGER PRIMARY KEY, mbox INTEGER NOT NULL, uid INTEGER NOT NULL, search_body TEXT NOT NULL, truncated INTEGER NOT NULL DEFAULT 0)`,
};
/** their columns besides id, for copying rows of an older layout */
const CACHE_COLUMNS = {
  msgcache:
    'mbox, uid, header_size, lines, sort_subject, sort_from, sort_to, sort_cc, sort_displayfrom, sort_displayto, preview, envelope, body, envelope_imap, bodystructure_imap',
  hdrtext: 'mbox, uid, search_headers',
  bodytext: 'mbox, uid, search_body, truncated',
};
/** SQL for the cache key of (mbox, uid) given as two parameters */
const KEY = '((? << 32) + ?)';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (k, v) VALUES ('modseq', 1);
CREATE TABLE IF NOT EXISTS mailbox (
  id INTEGER PRIMARY KEY,
  uniqueid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  uidvalidity INTEGER NOT NULL,
  uidnext INTEGER NOT NULL DEFAULT 1,
  highestmodseq INTEGER NOT NULL,
  recentuid INTEGER NOT NULL DEFAULT 0,
  deletedmodseq INTEGER NOT NULL DEFAULT 0,
  exists_count INTEGER NOT NULL DEFAULT 0,
  size_total INTEGER NOT NULL DEFAULT 0,
  pending TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS message (
  mbox INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  sysflags INTEGER NOT NULL DEFAULT 0,
  keywords TEXT NOT NULL DEFAULT '',
  internaldate INTEGER NOT NULL,
  savedate INTEGER NOT NULL,
  sentdate INTEGER,
  size INTEGER NOT NULL,
  guid TEXT NOT NULL,
  expunged INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (mbox, uid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS message_modseq ON message (mbox, modseq);
${CACHE_TABLES.msgcache};
${CACHE_TABLES.hdrtext};
${CACHE_TABLES.bodytext};
CREATE TABLE IF NOT EXISTS seen (
  mbox INTEGER NOT NULL,
  userid TEXT NOT NULL,
  uid INTEGER NOT NULL,
  PRIMARY KEY (mbox, userid, uid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subs (name TEXT PRIMARY KEY) WITHOUT ROWID;
`;

/** `hdrmatch(search_headers, name, needle)`: does a header line `name: ...` contain needle */
function hdrmatch(headers: unknown, name: unknown, needle: unknown): number {
  if (typeof headers !== 'string' || typeof name !== 'string' || typeof needle !== 'string') return 0;
  const want = name.toLowerCase() + ':';
  let pos = 0;
  while (pos < headers.length) {
    let end = headers.indexOf('\n', pos);
    if (end < 0) end = headers.length;
    if (end - pos >= want.length && headers.slice(pos, pos + want.length).toLowerCase() === want) {
      if (needle === '' || headers.slice(pos + want.length, end).includes(needle)) return 1;
    }
    pos = end + 1;
  }
  return 0;
}

/**
 * Statements prepared on first use: a worker keeps many index databases open and most use
 * only a few of the statements; each prepared statement costs memory in SQLite.
 */
function lazyStatements<T extends Record<string, () => unknown>>(
  make: T,
): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const out = {} as { [K in keyof T]: ReturnType<T[K]> };
  for (const k of Object.keys(make) as (keyof T)[]) {
    Object.defineProperty(out, k, {
      configurable: true,
      enumerable: true,
      get() {
        const v = make[k]!() as ReturnType<T[typeof k]>;
        Object.defineProperty(out, k, { value: v, enumerable: true });
        return v;
      },
    });
  }
  return out;
}

/** body text kept whole for a truncated-row SEARCH: a bigger body is searched up to here */
const FULL_TEXT_MAX = 16 * 1024 * 1024;

/**
 * `bodymatch(mbox, uid, needle)`, asked by SEARCH only for a row that holds just the start of
 * a long body's text and does not contain the (case-folded) needle there: the message file is
 * parsed again (read in 256 KiB pieces) and its whole text, up to FULL_TEXT_MAX chars,
 * searched. Rare (bodies over 64 KiB of text), and what a server without a search index does
 * for every message. The last such text is remembered, so several text keys of one SEARCH
 * read the file once.
 */
function bodymatch(db: IndexDb, mbox: unknown, uid: unknown, needle: unknown): number {
  if (typeof needle !== 'string' || typeof mbox !== 'number' || typeof uid !== 'number') return 0;
  const key = `${mbox}\0${uid}`;
  let memo = db.fullTextMemo;
  if (memo?.key !== key) {
    const path = db.messageFiles.get(mbox)?.(uid);
    if (!path) return 0;
    let full = '';
    try {
      const p = new MessageParser({ maxSearchText: FULL_TEXT_MAX, maxHeaderText: 0 });
      const fd = openSync(path, 'r');
      try {
        const buf = Buffer.allocUnsafe(256 * 1024);
        for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) p.write(buf.subarray(0, n));
      } finally {
        closeSync(fd);
      }
      full = p.end().searchBody;
    } catch {
      return 0; // the file is gone (expunged meanwhile): no match
    }
    memo = db.fullTextMemo = { key, text: full };
  }
  return memo.text.includes(needle) ? 1 : 0;
}

export class IndexDb {
  readonly db: Database.Database;
  readonly s;
  /**
   * where a message's file is, per mailbox row id (set by a view before a body SEARCH; used
   * by bodymatch, which may not query this connection while the search runs)
   */
  readonly messageFiles = new Map<number, (uid: number) => string>();
  /**
   * the whole text bodymatch read last, for the other keys of the same SEARCH; the view drops
   * it when the query is done (it may be megabytes)
   */
  fullTextMemo: { key: string; text: string } | null = null;
  /** open MailboxViews using this handle (the store never closes it while > 0) */
  views = 0;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { timeout: 15000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // a worker keeps up to 128 of these open: SQLite's default 2 MiB page cache each made
    // RSS grow with the number of users served; pages not cached come from the OS page cache
    this.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    this.db.exec(SCHEMA);
    this.#migrate();
    this.db.function('hdrmatch', { deterministic: true }, hdrmatch);
    this.db.function('bodymatch', (mbox, uid, needle) => bodymatch(this, mbox, uid, needle));
    const d = this.db;
    this.s = lazyStatements({
      nextModseq: () =>
        d.prepare<[], number>("UPDATE meta SET v = v + 1 WHERE k = 'modseq' RETURNING v").pluck(),
      mailboxById: () => d.prepare<[string], MailboxRow>('SELECT * FROM mailbox WHERE uniqueid = ?'),
      mailboxByRow: () => d.prepare<[number], MailboxRow>('SELECT * FROM mailbox WHERE id = ?'),
      mailboxes: () => d.prepare<[], MailboxRow>('SELECT * FROM mailbox ORDER BY name'),
      insertMailbox: () =>
        d.prepare<[string, string, number, number]>(
          'INSERT INTO mailbox (uniqueid, name, uidvalidity, highestmodseq) VALUES (?, ?, ?, ?)',
        ),
      renameMailbox: () => d.prepare<[string, number]>('UPDATE mailbox SET name = ? WHERE id = ?'),
      deleteMailbox: () => d.prepare<[number]>('DELETE FROM mailbox WHERE id = ?'),
      deleteMessages: () => d.prepare<[number]>('DELETE FROM message WHERE mbox = ?'),
      deleteSeenAll: () => d.prepare<[number]>('DELETE FROM seen WHERE mbox = ?'),
      afterAppendPending: () =>
        d.prepare<[number, number, number, string, number]>(
          'UPDATE mailbox SET uidnext = ?, highestmodseq = ?, exists_count = exists_count + 1, size_total = size_total + ?, pending = ? WHERE id = ?',
        ),
      pendingMailboxes: () =>
        d.prepare<[], { id: number; uniqueid: string; pending: string }>(
          "SELECT id, uniqueid, pending FROM mailbox WHERE pending != ''",
        ),
      setPending: () => d.prepare<[string, number]>('UPDATE mailbox SET pending = ? WHERE id = ?'),
      afterAppend: () =>
        d.prepare<[number, number, number, number]>(
          'UPDATE mailbox SET uidnext = ?, highestmodseq = ?, exists_count = exists_count + 1, size_total = size_total + ? WHERE id = ?',
        ),
      setHighest: () => d.prepare<[number, number]>('UPDATE mailbox SET highestmodseq = ? WHERE id = ?'),
      counters: () =>
        d.prepare<[number, number, number, number]>(
          'UPDATE mailbox SET exists_count = exists_count + ?, size_total = size_total + ?, highestmodseq = ? WHERE id = ?',
        ),
      setCounters: () =>
        d.prepare<[number, number, number]>(
          'UPDATE mailbox SET exists_count = ?, size_total = ? WHERE id = ?',
        ),
      setUidnext: () => d.prepare<[number, number]>('UPDATE mailbox SET uidnext = ? WHERE id = ?'),
      setRecent: () => d.prepare<[number, number]>('UPDATE mailbox SET recentuid = ? WHERE id = ?'),
      setDeletedModseq: () =>
        d.prepare<[number, number]>('UPDATE mailbox SET deletedmodseq = max(deletedmodseq, ?) WHERE id = ?'),
      insertMessage: () =>
        d.prepare<[number, number, number, number, string, number, number, number | null, number, string]>(
          'INSERT INTO message (mbox, uid, modseq, sysflags, keywords, internaldate, savedate, sentdate, size, guid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ),
      insertMessageRow: () =>
        d.prepare(
          'INSERT OR REPLACE INTO message (mbox, uid, modseq, sysflags, keywords, internaldate, savedate, sentdate, size, guid, expunged) VALUES (@mbox, @uid, @modseq, @sysflags, @keywords, @internaldate, @savedate, @sentdate, @size, @guid, @expunged)',
        ),
      insertMsgCache: () =>
        d.prepare(
          `INSERT OR REPLACE INTO msgcache (id, mbox, uid, header_size, lines, sort_subject, sort_from, sort_to, sort_cc,
          sort_displayfrom, sort_displayto, preview, envelope, body, envelope_imap, bodystructure_imap)
         VALUES ((@mbox << 32) + @uid, @mbox, @uid, @header_size, @lines, @sort_subject, @sort_from, @sort_to, @sort_cc,
          @sort_displayfrom, @sort_displayto, @preview, @envelope, @body, @envelope_imap, @bodystructure_imap)`,
        ),
      insertHdrText: () =>
        d.prepare(
          'INSERT OR REPLACE INTO hdrtext (id, mbox, uid, search_headers) VALUES ((@mbox << 32) + @uid, @mbox, @uid, @search_headers)',
        ),
      insertBodyText: () =>
        d.prepare(
          'INSERT OR REPLACE INTO bodytext (id, mbox, uid, search_body, truncated) VALUES ((@mbox << 32) + @uid, @mbox, @uid, @search_body, @search_truncated)',
        ),
      message: () =>
        d.prepare<[number, number], MessageRow>('SELECT * FROM message WHERE mbox = ? AND uid = ?'),
      liveUids: () =>
        d
          .prepare<[number], number>('SELECT uid FROM message WHERE mbox = ? AND expunged = 0 ORDER BY uid')
          .pluck(),
      liveRows: () =>
        d.prepare<[number], MessageRow>('SELECT * FROM message WHERE mbox = ? AND expunged = 0 ORDER BY uid'),
      allRows: () => d.prepare<[number], MessageRow>('SELECT * FROM message WHERE mbox = ? ORDER BY uid'),
      rangeRows: () =>
        d.prepare<[number, number, number], MessageRow>(
          'SELECT * FROM message WHERE mbox = ? AND uid BETWEEN ? AND ? AND expunged = 0 ORDER BY uid',
        ),
      changedSince: () =>
        d.prepare<[number, number], { uid: number; modseq: number; expunged: number }>(
          'SELECT uid, modseq, expunged FROM message WHERE mbox = ? AND modseq > ? ORDER BY uid',
        ),
      vanished: () =>
        d
          .prepare<[number, number], number>(
            'SELECT uid FROM message WHERE mbox = ? AND modseq > ? AND expunged != 0 ORDER BY uid',
          )
          .pluck(),
      setFlags: () =>
        d.prepare<[number, string, number, number, number]>(
          'UPDATE message SET sysflags = ?, keywords = ?, modseq = ? WHERE mbox = ? AND uid = ?',
        ),
      bumpModseq: () =>
        d.prepare<[number, number, number]>('UPDATE message SET modseq = ? WHERE mbox = ? AND uid = ?'),
      expungeRow: () =>
        d.prepare<[number, number, number, number]>(
          'UPDATE message SET expunged = ?, modseq = ? WHERE mbox = ? AND uid = ?',
        ),
      msgCache: () =>
        d.prepare<[number, number], Omit<CacheRow, 'search_headers' | 'search_body'>>(
          `SELECT * FROM msgcache WHERE id = ${KEY}`,
        ),
      cacheRange: () =>
        d.prepare<
          [number, number, number, number],
          Pick<CacheRow, 'uid' | 'header_size' | 'lines' | 'preview' | 'envelope' | 'body'>
        >(
          `SELECT uid, header_size, lines, preview, envelope, body FROM msgcache WHERE id BETWEEN ${KEY} AND ${KEY} ORDER BY id`,
        ),
      cacheTextRange: () =>
        d.prepare<[number, number, number, number], CacheTextRow>(
          `SELECT uid, header_size, lines, preview, envelope_imap, bodystructure_imap FROM msgcache WHERE id BETWEEN ${KEY} AND ${KEY} ORDER BY id`,
        ),
      cacheJson: () =>
        d.prepare<[number, number], Pick<CacheRow, 'envelope' | 'body'>>(
          `SELECT envelope, body FROM msgcache WHERE id = ${KEY}`,
        ),
      fullCache: () =>
        d.prepare<[number, number], CacheRow>(
          `SELECT c.*, coalesce(h.search_headers, '') AS search_headers, coalesce(b.search_body, '') AS search_body, coalesce(b.truncated, 0) AS search_truncated
         FROM msgcache c LEFT JOIN hdrtext h ON h.id = c.id LEFT JOIN bodytext b ON b.id = c.id
         WHERE c.id = ${KEY}`,
        ),
      delMsgCache: () => d.prepare<[number, number]>(`DELETE FROM msgcache WHERE id = ${KEY}`),
      delHdrText: () => d.prepare<[number, number]>(`DELETE FROM hdrtext WHERE id = ${KEY}`),
      delBodyText: () => d.prepare<[number, number]>(`DELETE FROM bodytext WHERE id = ${KEY}`),
      // every uid of one mailbox: ids [mbox << 32, (mbox << 32) + 2^32)
      delMsgCaches: () =>
        d.prepare<[number, number, number, number]>(
          `DELETE FROM msgcache WHERE id BETWEEN ${KEY} AND ${KEY}`,
        ),
      delHdrTexts: () =>
        d.prepare<[number, number, number, number]>(`DELETE FROM hdrtext WHERE id BETWEEN ${KEY} AND ${KEY}`),
      delBodyTexts: () =>
        d.prepare<[number, number, number, number]>(
          `DELETE FROM bodytext WHERE id BETWEEN ${KEY} AND ${KEY}`,
        ),
      deleteMessage: () => d.prepare<[number, number]>('DELETE FROM message WHERE mbox = ? AND uid = ?'),
      seenRange: () =>
        d
          .prepare<[number, string, number, number], number>(
            'SELECT uid FROM seen WHERE mbox = ? AND userid = ? AND uid BETWEEN ? AND ?',
          )
          .pluck(),
      seenOne: () =>
        d
          .prepare<[number, string, number], number>(
            'SELECT 1 FROM seen WHERE mbox = ? AND userid = ? AND uid = ?',
          )
          .pluck(),
      seenAdd: () =>
        d.prepare<[number, string, number]>(
          'INSERT OR IGNORE INTO seen (mbox, userid, uid) VALUES (?, ?, ?)',
        ),
      seenDel: () =>
        d.prepare<[number, string, number]>('DELETE FROM seen WHERE mbox = ? AND userid = ? AND uid = ?'),
      seenRows: () =>
        d.prepare<[number], { userid: string; uid: number }>('SELECT userid, uid FROM seen WHERE mbox = ?'),
      subs: () => d.prepare<[], string>('SELECT name FROM subs ORDER BY name').pluck(),
      subAdd: () => d.prepare<[string]>('INSERT OR IGNORE INTO subs (name) VALUES (?)'),
      subDel: () => d.prepare<[string]>('DELETE FROM subs WHERE name = ?'),
      countUnseenOwner: () =>
        d
          .prepare<[number], number>(
            'SELECT count(*) FROM message WHERE mbox = ? AND expunged = 0 AND (sysflags & 16) = 0',
          )
          .pluck(),
      countSeenOther: () =>
        d
          .prepare<[number, string], number>(
            'SELECT count(*) FROM seen s JOIN message m ON m.mbox = s.mbox AND m.uid = s.uid WHERE s.mbox = ? AND s.userid = ? AND m.expunged = 0',
          )
          .pluck(),
      countDeleted: () =>
        d
          .prepare<[number], number>(
            'SELECT count(*) FROM message WHERE mbox = ? AND expunged = 0 AND (sysflags & 4) != 0',
          )
          .pluck(),
      countRecent: () =>
        d
          .prepare<[number, number], number>(
            'SELECT count(*) FROM message WHERE mbox = ? AND expunged = 0 AND uid > ?',
          )
          .pluck(),
      recount: () =>
        d.prepare<[number], { n: number; bytes: number | null }>(
          'SELECT count(*) AS n, sum(size) AS bytes FROM message WHERE mbox = ? AND expunged = 0',
        ),
    });
  }

  /** store a message's cached data (all three cache tables) */
  putCache(c: CacheRow | Record<string, unknown>): void {
    this.s.insertMsgCache.run(c);
    this.s.insertHdrText.run(c);
    this.s.insertBodyText.run({ search_truncated: 0, ...(c as Record<string, unknown>) });
  }

  /** the whole cached record, search text included (copying between mailboxes) */
  getCache(mbox: number, uid: number): CacheRow | undefined {
    return this.s.fullCache.get(mbox, uid);
  }

  deleteCache(mbox: number, uid: number): void {
    this.s.delMsgCache.run(mbox, uid);
    this.s.delHdrText.run(mbox, uid);
    this.s.delBodyText.run(mbox, uid);
  }

  deleteCaches(mbox: number): void {
    for (const st of [this.s.delMsgCaches, this.s.delHdrTexts, this.s.delBodyTexts])
      st.run(mbox, 0, mbox, 0xffffffff);
  }

  /** run `fn` in a write transaction (BEGIN IMMEDIATE: waits for other writers) */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * `write` committed without waiting for the disk (synchronous=NORMAL for this one
   * transaction; WAL mode keeps that corruption-safe); the caller then awaits `syncWal()`
   * before telling anyone the data is stored. This moves the WAL fsync of appends off the
   * event loop, and concurrent appends to different databases fsync in parallel (the file
   * system folds them into one journal commit). Other sessions can see the rows a fraction
   * of a millisecond before they are on disk: only a power cut inside that window loses
   * them, and then they were never acknowledged.
   */
  writeDeferred<T>(fn: () => T): T {
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.db.transaction(fn).immediate();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  /**
   * Row ids of mailboxes by uniqueid, remembered by appends (commitNew) so the next one needs
   * no read before its transaction; a user may check them only inside a transaction.
   */
  readonly mailboxIds = new Map<string, number>();

  /**
   * Uids (by mailbox row id) this process committed as pending whose message files it has
   * since fsynced: its next append to the mailbox takes them off the `pending` list.
   */
  readonly confirmed = new Map<number, number[]>();
  /** when this process last added to `confirmed` (ms) */
  lastConfirmed = 0;

  /** descriptor of the WAL file for syncWal (opened on first use), syncs in flight */
  #walFd = -1;
  #syncing = 0;
  #closed = false;

  /** fdatasync the WAL in the thread pool: every commit made so far is then on disk */
  syncWal(): Promise<void> {
    if (this.#walFd < 0) this.#walFd = openSync(this.path + '-wal', 'r');
    const fd = this.#walFd;
    this.#syncing++;
    return new Promise<void>((resolve, reject) =>
      fdatasync(fd, (err) => {
        this.#syncing--;
        if (this.#closed && this.#syncing === 0) this.#closeWal();
        if (err) reject(err);
        else resolve();
      }),
    );
  }

  #closeWal(): void {
    if (this.#walFd < 0) return;
    closeSync(this.#walFd);
    this.#walFd = -1;
  }

  /** run `fn` in a read transaction (one consistent snapshot) */
  read<T>(fn: () => T): T {
    return this.db.transaction(fn).deferred();
  }

  /**
   * Older databases: add the IMAP text columns (rows keep NULL there and are rendered on
   * read); cache tables keyed by (mbox, uid) are rebuilt keyed by id (CACHE_TABLES); a
   * database written before the cache was split keeps a single `cache` table: move it over.
   */
  #migrate(): void {
    const boxCols = this.db.prepare<[], { name: string }>('PRAGMA table_info(mailbox)').all();
    if (!boxCols.some((c) => c.name === 'pending'))
      this.db.exec("ALTER TABLE mailbox ADD COLUMN pending TEXT NOT NULL DEFAULT ''");
    const cols = this.db.prepare<[], { name: string }>('PRAGMA table_info(msgcache)').all();
    const bodyCols = this.db.prepare<[], { name: string }>('PRAGMA table_info(bodytext)').all();
    if (!bodyCols.some((c) => c.name === 'truncated'))
      this.db.exec('ALTER TABLE bodytext ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0');
    if (!cols.some((c) => c.name === 'envelope_imap'))
      this.db.exec(
        'ALTER TABLE msgcache ADD COLUMN envelope_imap TEXT; ALTER TABLE msgcache ADD COLUMN bodystructure_imap TEXT;',
      );
    for (const t of ['msgcache', 'hdrtext', 'bodytext'] as const) {
      const has = this.db.prepare<[], { name: string }>(`PRAGMA table_info(${t})`).all();
      if (has.some((c) => c.name === 'id')) continue;
      this.db
        .transaction(() => {
          this.db.exec(`ALTER TABLE ${t} RENAME TO ${t}_by_mbox_uid;
          ${CACHE_TABLES[t]};
          INSERT OR REPLACE INTO ${t} (id, ${CACHE_COLUMNS[t]}) SELECT (mbox << 32) + uid, ${CACHE_COLUMNS[t]} FROM ${t}_by_mbox_uid;
          DROP TABLE ${t}_by_mbox_uid;`);
        })
        .immediate();
    }
    const old = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cache'").get();
    if (!old) return;
    this.db
      .transaction(() => {
        this.db
          .exec(`INSERT OR REPLACE INTO msgcache (id, mbox, uid, header_size, lines, sort_subject, sort_from, sort_to, sort_cc,
          sort_displayfrom, sort_displayto, preview, envelope, body) SELECT (mbox << 32) + uid, mbox, uid, header_size, lines, sort_subject, sort_from, sort_to, sort_cc,
          sort_displayfrom, sort_displayto, preview, envelope, body FROM cache;
        INSERT OR REPLACE INTO hdrtext (id, mbox, uid, search_headers) SELECT (mbox << 32) + uid, mbox, uid, search_headers FROM cache;
        INSERT OR REPLACE INTO bodytext (id, mbox, uid, search_body) SELECT (mbox << 32) + uid, mbox, uid, search_body FROM cache;
        DROP TABLE cache;`);
      })
      .immediate();
  }

  nextModseq(): number {
    return this.s.nextModseq.get()!;
  }

  close(): void {
    this.#closed = true;
    // a sync still running keeps the descriptor until it is done
    if (this.#syncing === 0) this.#closeWal();
    if (this.db.open) this.db.close();
  }
}

/** system flag bits and keyword string (' kw1 kw2 ') from IMAP flags; \Recent is ignored */
export function encodeFlags(flags: string[]): { bits: number; keywords: string[] } {
  let bits = 0;
  const kws: string[] = [];
  const seen = new Set<string>();
  for (const f of flags) {
    const lower = f.toLowerCase();
    const b = FLAG_BITS[lower];
    if (b !== undefined) bits |= b;
    else if (lower === '\\recent' || f.startsWith('\\')) continue;
    else if (!seen.has(lower)) {
      seen.add(lower);
      kws.push(f);
    }
  }
  return { bits, keywords: kws };
}

export function keywordString(kws: string[]): string {
  return kws.length ? ` ${kws.join(' ')} ` : '';
}

export function parseKeywords(s: string): string[] {
  return s.trim() ? s.trim().split(' ') : [];
}
