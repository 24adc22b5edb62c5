/**
 * The mail store: `Store` of api.ts over the mailbox list (mailboxes.db), quota limits
 * (quotas.db), annotations (annotations.db), per-user SQLite index databases and message
 * files on the partitions.
 *
 * Owns: mailbox lifecycle (create/delete/rename per delete_mode, INBOX rename), rights checks,
 * append (spool → parse → rename → index commit → fsyncs), copy/move between mailboxes (hard
 * links, no bytes copied on one partition), quota accounting, subscriptions, annotations,
 * ensureInbox's autocreate_* options. Views of one selected mailbox are in view.ts.
 *
 * Crash safety. An append resolves (and the protocol acknowledges) only once the message
 * file's data, the index's WAL and the directory holding the file's name are all fsynced.
 * The three fsyncs run at the same time in the thread pool after the index commit (the
 * commit itself does not wait for the disk: IndexDb.writeDeferred), so an append waits for
 * one disk flush, not two in a row. The price is an order in which a crash can leave an
 * index row whose file is not on disk; such a row's uid is in its mailbox row's `pending`
 * list, written in the same transaction. The process takes a uid off the list in its next
 * append to the mailbox, once the fsyncs are done; and any process opening the index checks
 * the listed files first (#settlePending: fsync, size, SHA-1 = GUID): a lost file's row,
 * whose append was never acknowledged, is expunged. Staged messages (Store.stage, the
 * single-instance store) are fsynced before their commit and never pending. Another session
 * can see a new row a fraction of a millisecond before it is on disk: only a power cut in
 * that window loses it, and then it was never acknowledged. An orphan file (crash after the
 * rename, before the commit) is adopted by `cyr_reconstruct -f`. Appends to one mailbox that
 * are ready in the same event-loop turn share one commit (group commit: one WAL fsync, one
 * directory fsync); each still resolves only after its own data is on disk.
 * Imports: config, db, mail (via spool), log, ./*.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  close,
  fsync,
  fsyncSync,
  linkSync,
  mkdirSync,
  open,
  openSync,
  readSync,
  renameSync,
  rmSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ImapdConf } from '../config/api.js';
import { openConfDb, type CyrusDb } from '../db/index.js';
import type { Logger } from '../log/logger.js';
import { bodyText, envelopeText } from '../mail/imap-text.js';
import { aclFromPairs, applyAcl, effectiveRights, formatAcl, parseAcl } from './acl.js';
import {
  MailError,
  type AppendOptions,
  type AppendResult,
  type Identity,
  type MailboxInfo,
  type MailboxStatus,
  type MailboxView,
  type QuotaInfo,
  type StagedMessage,
  type Store,
} from './api.js';
import {
  DELETED,
  encodeFlags,
  IndexDb,
  keywordString,
  SEEN,
  type MailboxRow,
  type MessageRow,
} from './index-db.js';
import { Layout } from './layout.js';
import { MailboxList, type MboxEntry } from './mboxlist.js';
import {
  checkInternalName,
  isDeletedName,
  isInboxName,
  isWithin,
  joinDomain,
  ownerOf,
  parentOf,
  splitDomain,
  userInbox,
} from './names.js';
import { QuotaDb } from './quota.js';
import { spoolMessage, SpoolFiles, type Parsed } from './spool.js';
import { baseSubject } from './subject.js';
import { View } from './view.js';
import { touchStamp } from './watch.js';

const KNOWN_SPECIAL_USE = [
  '\\All',
  '\\Archive',
  '\\Drafts',
  '\\Flagged',
  '\\Junk',
  '\\Sent',
  '\\Trash',
  '\\Important',
  '\\Snoozed',
];
const XLIST_FLAGS = ['drafts', 'sent', 'trash', 'junk', 'spam', 'archive', 'flagged', 'all', 'important'];
const OWNER_RIGHTS = 'lrswipkxtecdan';
/** index databases kept open per process (those with open views are never closed) */
const MAX_OPEN_INDEXES = 128;

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A staged message (Store.stage): the fsynced spool file every appendStaged links. */
class Staged implements StagedMessage {
  released = false;
  constructor(
    readonly path: string,
    readonly partition: string,
    readonly parsed: Parsed,
  ) {}
  get size(): number {
    return this.parsed.size;
  }
  get guid(): string {
    return this.parsed.guid;
  }
  release(): void {
    if (this.released) return;
    this.released = true;
    rmSync(this.path, { force: true });
  }
}

/** fsync then close a descriptor, in the thread pool (the descriptor is closed either way) */
function fsyncClose(fd: number): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    fsync(fd, (e1) => close(fd, (e2) => ((e1 ?? e2) ? reject(e1 ?? e2) : resolve()))),
  );
}

/** close an item's unsynced spool descriptor (failure paths; idempotent) */
function dropSyncFd(item: NewItem): void {
  if (item.syncFd === undefined) return;
  try {
    closeSync(item.syncFd);
  } catch {
    /* already closed */
  }
  item.syncFd = undefined;
}

/**
 * Is the file at `path` on disk (fsynced here), `size` octets long, with SHA-1 `guid`?
 * 'lost' when it is missing or different; 'unknown' when it could not be read (EIO, EMFILE...):
 * never taken for lost.
 */
function checkFile(path: string, size: number, guid: string): 'ok' | 'lost' | 'unknown' {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'lost' : 'unknown';
  }
  try {
    fsyncSync(fd);
    const hash = createHash('sha1');
    const buf = Buffer.allocUnsafe(256 * 1024);
    let total = 0;
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) {
      hash.update(buf.subarray(0, n));
      total += n;
    }
    return total === size && hash.digest('hex') === guid ? 'ok' : 'lost';
  } catch {
    return 'unknown';
  } finally {
    closeSync(fd);
  }
}

/** the uids of a mailbox row's `pending` list */
export function pendingUids(list: string): number[] {
  return list === '' ? [] : list.split(' ').map(Number);
}

/** a `pending` list without the uids in `drop` */
function pendingWithout(list: string, drop: Iterable<number>): number[] {
  const gone = new Set(drop);
  return pendingUids(list).filter((u) => !gone.has(u));
}

/** fsync a file by path, in the thread pool */
function fsyncFile(path: string): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    open(path, 'r', (err, fd) => {
      if (err) return reject(err);
      fsync(fd, (e1) => close(fd, (e2) => ((e1 ?? e2) ? reject(e1 ?? e2) : resolve())));
    }),
  );
}

/**
 * A mailbox without appends for this long has this process's fsynced uids taken off its
 * pending list by a small write of their own (busy mailboxes: by the next append)
 */
const CONFIRM_QUIET_MS = 1000;

/** directories whose descriptor DirSyncer keeps open */
const DIR_FDS = 256;

/**
 * fsync of mailbox directories in the thread pool, on descriptors kept open (LRU, at most
 * DIR_FDS): one thread-pool round trip per commit instead of three (open, fsync, close).
 * A descriptor with an fsync in flight is closed only when that fsync is done.
 */
export class DirSyncer {
  #fds = new Map<string, { fd: number; busy: number; closing: boolean }>();

  /** a descriptor of `dir` is open (so it existed when opened, and is kept) */
  has(dir: string): boolean {
    return this.#fds.has(dir);
  }

  sync(dir: string): Promise<void> {
    let r = this.#fds.get(dir);
    if (r) {
      this.#fds.delete(dir);
      this.#fds.set(dir, r);
    } else {
      r = { fd: openSync(dir, 'r'), busy: 0, closing: false };
      this.#fds.set(dir, r);
      for (const [d, o] of this.#fds) {
        if (this.#fds.size <= DIR_FDS) break;
        this.#fds.delete(d);
        this.#release(o);
      }
    }
    const rec = r;
    rec.busy++;
    return new Promise<void>((resolve, reject) =>
      fsync(rec.fd, (err) => {
        rec.busy--;
        if (rec.closing && rec.busy === 0) closeSync(rec.fd);
        if (err) reject(err);
        else resolve();
      }),
    );
  }

  #release(r: { fd: number; busy: number; closing: boolean }): void {
    r.closing = true;
    if (r.busy === 0) closeSync(r.fd);
  }

  closeAll(): void {
    for (const r of this.#fds.values()) this.#release(r);
    this.#fds.clear();
  }
}

/** a spooled, parsed message waiting to be committed into a mailbox */
export interface NewItem {
  tmp: string;
  parsed: Parsed;
  flags: { bits: number; keywords: string[] };
  internalDate?: number;
  /**
   * The spool file's descriptor when its data is not fsynced yet (append): the commit lists
   * the uid as pending and the fsync runs beside the index's (see the module header).
   */
  syncFd?: number;
}

interface PendingAppend {
  item: NewItem;
  resolve: (uid: number) => void;
  reject: (err: unknown) => void;
}

export interface StoreOptions {
  log?: Logger;
  /** index databases kept open (default 128) */
  maxOpenIndexes?: number;
}

export class StoreImpl implements Store {
  readonly layout: Layout;
  readonly mboxlist: MailboxList;
  readonly quotas: QuotaDb;
  readonly annotations: CyrusDb;
  readonly log: Logger | undefined;
  readonly expungeMode: string;
  readonly deleteMode: string;
  readonly implicitOwnerRights: string;
  readonly defaultAcl: string;
  readonly maxMessageSize: number;
  readonly virtDomains: boolean;
  readonly defaultDomain: string;
  readonly #indexes = new Map<string, IndexDb>();
  readonly #maxOpen: number;
  /** appends waiting for their group commit, by mailbox + user + quota rule */
  readonly #commitQueue = new Map<string, PendingAppend[]>();
  /** per partition: spool files created one ahead (see SpoolFiles) */
  readonly #spools = new Map<string, SpoolFiles>();

  #spoolFiles(partition: string): SpoolFiles {
    let s = this.#spools.get(partition);
    if (!s) {
      s = new SpoolFiles(this.layout.stageDir(partition));
      this.#spools.set(partition, s);
    }
    return s;
  }
  #closed = false;
  readonly #dirs = new DirSyncer();

  /** how many index databases are open now (tests) */
  get openIndexes(): number {
    return this.#indexes.size;
  }

  constructor(
    readonly conf: ImapdConf,
    opts: StoreOptions = {},
  ) {
    this.log = opts.log;
    this.#maxOpen = opts.maxOpenIndexes ?? MAX_OPEN_INDEXES;
    this.layout = new Layout(conf);
    // read on every delivery and command, written rarely: fetches are cached (readCache)
    this.mboxlist = new MailboxList(
      openConfDb(conf, 'mboxlist', { log: this.log, readCache: 8192 }),
      this.layout.deletedPrefix,
    );
    this.quotas = new QuotaDb(openConfDb(conf, 'quota', { log: this.log, readCache: 1024 }));
    this.annotations = openConfDb(conf, 'annotation', { log: this.log });
    this.expungeMode = conf.getEnum('expunge_mode') || 'delayed';
    this.deleteMode = conf.getEnum('delete_mode') || 'delayed';
    this.implicitOwnerRights = conf.getString('implicit_owner_rights') ?? 'lkxan';
    this.defaultAcl = conf.getString('defaultacl') ?? 'anyone lrs';
    this.maxMessageSize = Math.max(0, conf.getBytes('maxmessagesize'));
    this.virtDomains = conf.getEnum('virtdomains') !== 'off';
    this.defaultDomain = conf.getString('defaultdomain') ?? '';
  }

  // ---- internals shared with view.ts and the tools ---------------------------------------

  /** the index database a mailbox lives in (opened once per process) */
  indexFor(e: { name: string; uniqueId: string }): IndexDb {
    return this.#indexAt(this.layout.indexPath(this.layout.indexKey(e.name, e.uniqueId)));
  }

  indexForUser(userid: string): IndexDb {
    return this.#indexAt(this.layout.userIndexPath(userid));
  }

  #indexAt(path: string): IndexDb {
    if (this.#closed) throw new MailError('temp', 'store is closed');
    let db = this.#indexes.get(path);
    if (db) {
      // keep the Map in least-recently-used order
      this.#indexes.delete(path);
      this.#indexes.set(path, db);
      return db;
    }
    db = new IndexDb(path);
    this.#indexes.set(path, db);
    this.#settlePending(db);
    if (this.#indexes.size > this.#maxOpen) {
      // a long-running worker serves many users: close the least recently used idle databases
      for (const [p, d] of this.#indexes) {
        if (this.#indexes.size <= this.#maxOpen) break;
        if (d.views > 0 || d === db) continue;
        this.#flushConfirmed(d);
        d.close();
        this.#indexes.delete(p);
      }
    }
    return db;
  }

  /**
   * Recovery of pending uids, when this process opens an index database (see the module
   * header): each listed message file is fsynced and checked against its row (size, and GUID
   * = SHA-1 of the file). A good one leaves the list (it may also be another process's
   * append in flight: its file is complete, and now on disk). A missing or different one is
   * what a crash left of an append that was never acknowledged: its row is expunged.
   */
  #settlePending(db: IndexDb): void {
    for (const r of db.s.pendingMailboxes.all()) {
      const name = this.mboxlist.nameById(r.uniqueid);
      const e = name === undefined ? undefined : this.mboxlist.get(name);
      const uids: number[] = [];
      const bad: number[] = [];
      for (const uid of pendingUids(r.pending)) {
        const m = e ? db.s.message.get(r.id, uid) : undefined;
        const state = e && m && !m.expunged ? checkFile(this.messagePath(e, uid), m.size, m.guid) : 'ok';
        if (state === 'unknown') continue; // stays pending: checked again by the next opener
        uids.push(uid);
        if (state === 'lost') bad.push(uid);
      }
      db.write(() => {
        const now = db.s.mailboxByRow.get(r.id);
        if (!now) return;
        db.s.setPending.run(pendingWithout(now.pending, uids).join(' '), r.id);
        if (bad.length) expungeRows(db, r.id, bad);
      });
      if (bad.length) {
        this.log?.warning(
          `${name ?? r.uniqueid}: expunged uid ${bad.join(',')}: message file lost before its append was acknowledged (crash)`,
        );
        this.stamp(r.uniqueid);
      }
    }
  }

  /**
   * Take this process's fsynced uids off their pending lists without waiting for its next
   * append there (closing, or the mailbox went quiet). Not fsynced: if a crash loses this
   * write the uids are only checked again by the next opener.
   */
  #flushConfirmed(db: IndexDb): void {
    if (db.confirmed.size === 0) return;
    const done = [...db.confirmed];
    db.confirmed.clear();
    try {
      db.writeDeferred(() => {
        for (const [rowId, uids] of done) {
          const row = db.s.mailboxByRow.get(rowId);
          if (row && row.pending !== '')
            db.s.setPending.run(pendingWithout(row.pending, uids).join(' '), rowId);
        }
      });
    } catch (e) {
      // busy or closed: the uids stay listed, and the next opener checks them
      this.log?.debug(`pending list of ${db.path} not updated: ${String(e)}`);
    }
  }

  #confirmSweep: NodeJS.Timeout | null = null;

  /** mailboxes whose appends stopped for CONFIRM_QUIET_MS get their pending lists cleared */
  #scheduleConfirmSweep(): void {
    if (this.#confirmSweep || this.#closed) return;
    this.#confirmSweep = setTimeout(() => {
      this.#confirmSweep = null;
      const now = Date.now();
      let again = false;
      for (const db of this.#indexes.values()) {
        if (db.confirmed.size === 0) continue;
        if (now - db.lastConfirmed < CONFIRM_QUIET_MS) again = true;
        else this.#flushConfirmed(db);
      }
      if (again) this.#scheduleConfirmSweep();
    }, CONFIRM_QUIET_MS);
    this.#confirmSweep.unref();
  }

  /** the mailbox's row in its index database, created when missing (e.g. after ctl_mboxlist -u) */
  mailboxRow(db: IndexDb, e: MboxEntry): MailboxRow {
    const row = db.s.mailboxById.get(e.uniqueId);
    if (row) return row;
    return db.write(() => this.#mailboxRowIn(db, e));
  }

  /** mailboxRow inside a write transaction */
  #mailboxRowIn(db: IndexDb, e: MboxEntry): MailboxRow {
    const row = db.s.mailboxById.get(e.uniqueId);
    if (row) return row;
    db.s.insertMailbox.run(e.uniqueId, e.name, e.uidValidity, db.nextModseq());
    return db.s.mailboxById.get(e.uniqueId)!;
  }

  entry(name: string): MboxEntry | undefined {
    return this.mboxlist.get(name);
  }

  rightsOn(who: Identity, e: MboxEntry): string {
    return effectiveRights(who, e.acl, ownerOf(e.name, this.layout.deletedPrefix), this.implicitOwnerRights);
  }

  /**
   * The entry, if `who` holds every right in `needed`. No 'l' and no 'r' reads as notFound
   * (never revealing that the mailbox exists); otherwise a missing right is perm.
   */
  need(who: Identity, name: string, needed: string): MboxEntry {
    const e = this.mboxlist.get(name);
    if (!e || (isDeletedName(name, this.layout.deletedPrefix) && !who.isAdmin)) {
      throw new MailError('notFound', 'Mailbox does not exist');
    }
    const r = this.rightsOn(who, e);
    for (const ch of needed) {
      if (!r.includes(ch)) {
        if (!r.includes('l') && !r.includes('r')) throw new MailError('notFound', 'Mailbox does not exist');
        throw new MailError('perm', 'Permission denied');
      }
    }
    return e;
  }

  stamp(uniqueId: string): void {
    touchStamp(this.layout.stampPath(uniqueId));
  }

  messagePath(e: { partition: string; uniqueId: string }, uid: number): string {
    return this.layout.messagePath(e.partition, e.uniqueId, uid);
  }

  /** \Seen is in the message row for the owner, in the seen table for everyone else */
  seenInRow(who: Identity, e: MboxEntry): boolean {
    const owner = ownerOf(e.name, this.layout.deletedPrefix);
    return owner !== null && owner === who.userid;
  }

  // ---- quota ----------------------------------------------------------------------------

  /** bytes and messages used under a root (mailboxes whose nearest root is `root`) */
  usage(root: string): { bytes: number; messages: number } {
    let bytes = 0;
    let messages = 0;
    const visit = (e: MboxEntry): void => {
      if (!isWithin(e.name, root) && !(root.endsWith('!') && e.name.startsWith(root))) return;
      if (this.quotas.rootOf(e.name) !== root) return;
      const row = this.indexFor(e).s.mailboxById.get(e.uniqueId);
      if (row) {
        bytes += row.size_total;
        messages += row.exists_count;
      }
    };
    const self = this.mboxlist.get(root);
    if (self) visit(self);
    this.mboxlist.foreach(root.endsWith('!') ? root : root + '.', visit);
    return { bytes, messages };
  }

  /** throw overQuota unless `bytes`/`count` more fit under the mailbox's quota root */
  checkQuota(name: string, bytes: number, count: number): void {
    const root = this.quotas.rootOf(name);
    if (!root) return;
    const lim = this.quotas.get(root);
    if (!lim || (lim.storage === null && lim.message === null)) return;
    const used = this.usage(root);
    if (lim.storage !== null && used.bytes + bytes > lim.storage * 1024) {
      throw new MailError('overQuota', 'Over quota');
    }
    if (lim.message !== null && used.messages + count > lim.message) {
      throw new MailError('overQuota', 'Over quota');
    }
    this.#quotaWarn(root, lim, used.bytes + bytes, used.messages + count);
  }

  #quotaWarn(
    root: string,
    lim: { storage: number | null; message: number | null },
    bytes: number,
    msgs: number,
  ): void {
    if (!this.log) return;
    const pct = this.conf.getInt('quotawarn');
    if (lim.storage && (bytes / 1024) * 100 >= lim.storage * pct) {
      this.log.notice(
        `quota: ${root} storage at ${Math.floor(bytes / 1024)} of ${lim.storage} KiB (quotawarn ${pct}%)`,
      );
    }
    if (lim.message && msgs * 100 >= lim.message * pct) {
      this.log.notice(`quota: ${root} messages at ${msgs} of ${lim.message} (quotawarn ${pct}%)`);
    }
  }

  quotaRoots(name: string): string[] {
    const r = this.quotas.rootOf(name);
    return r ? [r] : [];
  }

  quotaLimits(root: string): { storage: number | null; message: number | null } | undefined {
    return this.quotas.get(root);
  }

  getQuota(root: string): QuotaInfo | undefined {
    const lim = this.quotas.get(root);
    if (!lim) return undefined;
    const used = this.usage(root);
    return {
      root,
      storageLimit: lim.storage,
      storageUsed: Math.floor(used.bytes / 1024),
      messageLimit: lim.message,
      messageUsed: used.messages,
    };
  }

  setQuota(who: Identity, root: string, limits: { storage?: number | null; message?: number | null }): void {
    if (!who.isAdmin) throw new MailError('perm', 'Permission denied');
    if (!this.mboxlist.get(root) && !root.endsWith('!'))
      throw new MailError('notFound', 'Mailbox does not exist');
    const cur = this.quotas.get(root) ?? { storage: null, message: null };
    const next = {
      storage: limits.storage === undefined ? cur.storage : limits.storage,
      message: limits.message === undefined ? cur.message : limits.message,
    };
    for (const v of [next.storage, next.message]) {
      if (v !== null && (!Number.isInteger(v) || v < 0)) throw new MailError('limit', 'invalid quota limit');
    }
    this.quotas.set(root, next);
  }

  /** remove a quota root (cyr_quota, admin tools) */
  removeQuota(root: string): void {
    this.quotas.remove(root);
  }

  // ---- mailbox list ---------------------------------------------------------------------

  lookup(name: string): MailboxInfo | undefined {
    const e = this.mboxlist.get(name);
    return e ? this.mboxlist.toInfo(e) : undefined;
  }

  list(who: Identity, prefix = ''): MailboxInfo[] {
    const out: MailboxInfo[] = [];
    this.mboxlist.foreach(prefix, (e) => {
      if (!who.isAdmin && isDeletedName(e.name, this.layout.deletedPrefix)) return;
      if (this.rightsOn(who, e).includes('l')) out.push(this.mboxlist.toInfo(e));
    });
    return out;
  }

  rights(who: Identity, name: string): string {
    const e = this.mboxlist.get(name);
    if (!e) throw new MailError('notFound', 'Mailbox does not exist');
    const r = this.rightsOn(who, e);
    if (!r.includes('l') && !r.includes('r') && !r.includes('a'))
      throw new MailError('notFound', 'Mailbox does not exist');
    return r;
  }

  setAcl(who: Identity, name: string, identifier: string, rights: string | null): void {
    const e = this.need(who, name, 'a');
    if (!identifier || /[\s\u0000-\u001f]/.test(identifier))
      throw new MailError('badName', 'invalid identifier');
    const acl = applyAcl(e.acl, identifier, rights);
    this.mboxlist.put({ ...e, acl, mtime: Math.floor(Date.now() / 1000) });
  }

  setSpecialUse(who: Identity, name: string, uses: string[]): void {
    const e = this.need(who, name, 'a');
    this.mboxlist.put({ ...e, specialUse: this.#checkSpecialUse(uses) });
  }

  #checkSpecialUse(uses: string[]): string[] {
    const extra = (this.conf.getString('specialuse_extra') ?? '').split(/\s+/).filter(Boolean);
    const allowed = new Map([...KNOWN_SPECIAL_USE, ...extra].map((u) => [u.toLowerCase(), u]));
    return uses.map((u) => {
      const a = allowed.get(u.toLowerCase());
      if (!a) throw new MailError('badName', `unknown special-use attribute ${u}`);
      return a;
    });
  }

  createMailbox(
    who: Identity,
    name: string,
    opts: { partition?: string; specialUse?: string[]; type?: string } = {},
  ): MailboxInfo {
    checkInternalName(name);
    if (this.mboxlist.get(name)) throw new MailError('exists', 'Mailbox already exists');
    const deleted = isDeletedName(name, this.layout.deletedPrefix);
    if (opts.partition !== undefined && !this.layout.hasPartition(opts.partition)) {
      throw new MailError('notFound', `unknown partition ${opts.partition}`);
    }
    const specialUse = this.#checkSpecialUse(opts.specialUse ?? []);
    // nearest existing ancestor decides rights; missing levels are created (Cyrus 3.6: no holes)
    const missing: string[] = [name];
    let parent = parentOf(name);
    let parentEntry: MboxEntry | undefined;
    while (parent !== null) {
      parentEntry = this.mboxlist.get(parent);
      if (parentEntry) break;
      const { local } = splitDomain(parent);
      if (local === 'user' || local === this.layout.deletedPrefix) break;
      missing.unshift(parent);
      parent = parentOf(parent);
    }
    if (!who.isAdmin) {
      if (deleted || isInboxName(name)) throw new MailError('perm', 'Permission denied');
      if (!parentEntry || !this.rightsOn(who, parentEntry).includes('k')) {
        throw new MailError('perm', 'Permission denied');
      }
    }
    let made: MboxEntry | undefined;
    let inherit = parentEntry;
    for (const n of missing) {
      made = this.#createOne(n, {
        partition: opts.partition ?? inherit?.partition ?? this.layout.defaultPartition(),
        acl: this.#initialAcl(n, inherit),
        specialUse: n === name ? specialUse : [],
        type: n === name ? (opts.type ?? 'email') : 'email',
      });
      inherit = made;
    }
    return this.mboxlist.toInfo(made!);
  }

  #initialAcl(name: string, parent: MboxEntry | undefined): string {
    const owner = ownerOf(name, this.layout.deletedPrefix);
    if (parent && ownerOf(parent.name, this.layout.deletedPrefix) === owner) return parent.acl;
    if (owner !== null) return formatAcl(new Map([[owner, OWNER_RIGHTS]]));
    return aclFromPairs(this.defaultAcl);
  }

  #createOne(
    name: string,
    o: { partition: string; acl: string; specialUse: string[]; type: string },
  ): MboxEntry {
    const uniqueId = randomUUID();
    const e: MboxEntry = {
      name,
      uniqueId,
      partition: o.partition,
      acl: o.acl,
      type: o.type,
      specialUse: o.specialUse,
      uidValidity: 0,
      mtime: Math.floor(Date.now() / 1000),
    };
    mkdirSync(this.layout.mailboxDir(o.partition, uniqueId), { recursive: true });
    this.mboxlist.txn((t) => {
      if (this.mboxlist.get(name, t)) throw new MailError('exists', 'Mailbox already exists');
      e.uidValidity = this.mboxlist.nextUidValidity(t);
      // the index row first: a crash before the list commit leaves only an unused row
      this.mailboxRow(this.indexFor(e), e);
      this.mboxlist.put(e, t);
    });
    return e;
  }

  deleteMailbox(who: Identity, name: string): void {
    const e = this.need(who, name, 'x');
    if (isInboxName(name) && !who.isAdmin) throw new MailError('perm', 'Cannot delete INBOX');
    // deleting a user's INBOX (admin) deletes the whole user
    const victims = isInboxName(name) ? this.mboxlist.tree(name).reverse() : [e];
    for (const v of victims) {
      if (this.deleteMode === 'delayed' && !isDeletedName(v.name, this.layout.deletedPrefix)) {
        const { domain, local } = splitDomain(v.name);
        const hex = Math.floor(Date.now() / 1000)
          .toString(16)
          .toUpperCase();
        this.#renameOne(v, joinDomain(domain, `${this.layout.deletedPrefix}.${local}.${hex}`));
      } else {
        this.destroyMailbox(v);
      }
    }
    if (isInboxName(name)) {
      this.quotas.remove(name);
    }
  }

  /** remove a mailbox for good: list entry, index rows, files, annotations (immediate delete, cyr_expire -D) */
  destroyMailbox(e: MboxEntry): void {
    this.mboxlist.txn((t) => this.mboxlist.remove(e, t));
    const db = this.indexFor(e);
    const row = db.s.mailboxById.get(e.uniqueId);
    if (row) {
      db.write(() => {
        db.s.deleteMessages.run(row.id);
        db.deleteCaches(row.id);
        db.s.deleteSeenAll.run(row.id);
        db.s.deleteMailbox.run(row.id);
      });
    }
    rmSync(this.layout.mailboxDir(e.partition, e.uniqueId), { recursive: true, force: true });
    const keys: Buffer[] = [];
    this.annotations.foreach(e.uniqueId + '\0', (k) => {
      keys.push(Buffer.from(k));
    });
    for (const k of keys) this.annotations.delete(k);
    this.stamp(e.uniqueId);
  }

  renameMailbox(who: Identity, from: string, to: string, opts: { partition?: string } = {}): void {
    const src = this.need(who, from, 'x');
    checkInternalName(to);
    if (this.mboxlist.get(to)) throw new MailError('exists', 'Mailbox already exists');
    if (opts.partition !== undefined && !this.layout.hasPartition(opts.partition)) {
      throw new MailError('notFound', `unknown partition ${opts.partition}`);
    }
    let p = parentOf(to);
    let pe: MboxEntry | undefined;
    while (p !== null && !(pe = this.mboxlist.get(p))) p = parentOf(p);
    if (!who.isAdmin) {
      if (isInboxName(to) || isDeletedName(to, this.layout.deletedPrefix))
        throw new MailError('perm', 'Permission denied');
      if (!pe || !this.rightsOn(who, pe).includes('k')) throw new MailError('perm', 'Permission denied');
    }
    const fromOwner = ownerOf(from, this.layout.deletedPrefix);
    if (isInboxName(from) && (!who.isAdmin || ownerOf(to, this.layout.deletedPrefix) === fromOwner)) {
      this.#renameInbox(who, src, to);
      return;
    }
    if (isWithin(to, from)) throw new MailError('badName', 'cannot rename a mailbox into itself');
    const tree = this.mboxlist.tree(from);
    const targets = tree.map((e) => to + e.name.slice(from.length));
    for (const t of targets) {
      checkInternalName(t);
      if (this.mboxlist.get(t)) throw new MailError('exists', `Mailbox ${t} already exists`);
    }
    // a whole user renamed: the old userid's ACL entries follow to the new one
    const newOwner = ownerOf(to, this.layout.deletedPrefix);
    const renameUser = isInboxName(from) && fromOwner !== null && newOwner !== null && newOwner !== fromOwner;
    tree.forEach((e, i) => {
      let acl = e.acl;
      if (renameUser) {
        const m = parseAcl(acl);
        const r = m.get(fromOwner);
        if (r !== undefined) {
          m.delete(fromOwner);
          m.set(newOwner, r);
          acl = formatAcl(m);
        }
      }
      this.#renameOne({ ...e, acl }, targets[i]!, opts.partition);
    });
    const root = this.quotas.get(from);
    if (root && isInboxName(from)) {
      this.quotas.set(to, root);
      this.quotas.remove(from);
    }
  }

  /** rename one mailbox: list entry, index row (moving it to another index db when the owner changes), files when the partition changes */
  #renameOne(e: MboxEntry, to: string, partition?: string): void {
    const srcDb = this.indexFor(e);
    const dstDb = this.indexFor({ name: to, uniqueId: e.uniqueId });
    const row = this.mailboxRow(srcDb, e);
    const moved: MboxEntry = { ...e, name: to, mtime: Math.floor(Date.now() / 1000) };
    if (partition && partition !== e.partition) {
      const a = this.layout.mailboxDir(e.partition, e.uniqueId);
      const b = this.layout.mailboxDir(partition, e.uniqueId);
      mkdirSync(b, { recursive: true });
      if (existsSync(a)) cpSync(a, b, { recursive: true });
      moved.partition = partition;
    }
    if (srcDb === dstDb) {
      srcDb.write(() => srcDb.s.renameMailbox.run(to, row.id));
    } else {
      moveIndexRows(srcDb, dstDb, row, to);
    }
    this.mboxlist.txn((t) => {
      this.mboxlist.remove(e, t);
      this.mboxlist.put(moved, t);
    });
    if (moved.partition !== e.partition)
      rmSync(this.layout.mailboxDir(e.partition, e.uniqueId), { recursive: true, force: true });
    this.stamp(e.uniqueId);
  }

  /** RFC 3501 RENAME INBOX: the messages move to a new mailbox, INBOX stays (empty) */
  #renameInbox(who: Identity, inbox: MboxEntry, to: string): void {
    const dest = this.createMailbox({ ...who, isAdmin: true }, to, { partition: inbox.partition });
    const destEntry = this.mboxlist.get(dest.name)!;
    const view = this.open({ ...who, isAdmin: true }, inbox.name, { readOnly: false });
    try {
      const uids = Array.from(view.uids());
      if (uids.length) this.moveMessages(who, inbox, uids, destEntry, { move: true, skipRights: true });
    } finally {
      view.close();
    }
  }

  // ---- subscriptions --------------------------------------------------------------------

  subscriptions(userid: string): string[] {
    return this.indexForUser(userid).s.subs.all();
  }

  subscribe(userid: string, name: string): void {
    checkInternalName(name);
    if (!this.conf.getSwitch('allowallsubscribe') && !this.mboxlist.get(name)) {
      throw new MailError('notFound', 'Mailbox does not exist');
    }
    this.indexForUser(userid).s.subAdd.run(name);
  }

  unsubscribe(userid: string, name: string): void {
    this.indexForUser(userid).s.subDel.run(name);
  }

  // ---- annotations ----------------------------------------------------------------------

  #annotKey(uniqueId: string, entry: string, userid: string): string {
    return `${uniqueId}\0${entry}\0${userid}`;
  }

  #annotTarget(who: Identity, mailbox: string, write: boolean, shared: boolean): string {
    if (mailbox === '') {
      if (write && !who.isAdmin) throw new MailError('perm', 'Permission denied');
      return '';
    }
    const e = this.need(who, mailbox, write ? (shared ? 'ln' : 'l') : 'lr');
    return e.uniqueId;
  }

  getAnnotation(who: Identity, mailbox: string, entry: string, shared: boolean): string | undefined {
    const id = this.#annotTarget(who, mailbox, false, shared);
    return this.annotations.fetch(this.#annotKey(id, entry, shared ? '' : who.userid))?.toString('utf8');
  }

  setAnnotation(who: Identity, mailbox: string, entry: string, shared: boolean, value: string | null): void {
    const id = this.#annotTarget(who, mailbox, true, shared);
    const k = this.#annotKey(id, entry, shared ? '' : who.userid);
    if (value === null) this.annotations.delete(k);
    else this.annotations.store(k, value);
  }

  listAnnotations(
    who: Identity,
    mailbox: string,
    prefix: string,
  ): { entry: string; shared: boolean; value: string }[] {
    const id = this.#annotTarget(who, mailbox, false, true);
    const out: { entry: string; shared: boolean; value: string }[] = [];
    this.annotations.foreach(`${id}\0${prefix}`, (k, v) => {
      const [, entry, userid] = k.toString('utf8').split('\0');
      if (userid === '' || userid === who.userid)
        out.push({ entry: entry!, shared: userid === '', value: v.toString('utf8') });
    });
    return out;
  }

  // ---- messages -------------------------------------------------------------------------

  status(who: Identity, name: string): MailboxStatus {
    const e = this.need(who, name, 'r');
    const db = this.indexFor(e);
    const row0 = this.mailboxRow(db, e);
    return db.read(() => {
      const row = db.s.mailboxByRow.get(row0.id)!;
      const unseen = this.seenInRow(who, e)
        ? db.s.countUnseenOwner.get(row.id)!
        : row.exists_count - db.s.countSeenOther.get(row.id, who.userid)!;
      return {
        messages: row.exists_count,
        recent: db.s.countRecent.get(row.id, row.recentuid)!,
        uidNext: row.uidnext,
        uidValidity: e.uidValidity,
        unseen,
        size: row.size_total,
        deleted: db.s.countDeleted.get(row.id)!,
        highestModseq: row.highestmodseq,
        mailboxId: e.uniqueId,
      };
    });
  }

  async append(
    who: Identity,
    name: string,
    message: Readable | Buffer,
    opts: AppendOptions = {},
  ): Promise<AppendResult> {
    const e = this.need(who, name, 'i');
    const flagsIn = this.#appendFlags(who, e, opts.flags);
    const file = await this.#spoolFiles(e.partition).take();
    const tmp = file.path;
    const sp = await spoolMessage(message, file, this.maxMessageSize, { deferSync: true });
    if (sp.tooBig) throw new MailError('tooBig', `Message too large (limit ${this.maxMessageSize} octets)`);
    return this.#commitSpooled(who, e, tmp, sp.parsed!, flagsIn, opts, sp.fd);
  }

  async stage(message: Readable | Buffer, partition?: string): Promise<StagedMessage> {
    const part = partition ?? this.layout.defaultPartition();
    const file = await this.#spoolFiles(part).take();
    const sp = await spoolMessage(message, file, this.maxMessageSize);
    if (sp.tooBig) throw new MailError('tooBig', `Message too large (limit ${this.maxMessageSize} octets)`);
    return new Staged(file.path, part, sp.parsed!);
  }

  async appendStaged(
    who: Identity,
    name: string,
    staged: StagedMessage,
    opts: AppendOptions = {},
  ): Promise<AppendResult> {
    if (!(staged instanceof Staged) || staged.released)
      throw new Error('appendStaged: not a live staged message');
    const e = this.need(who, name, 'i');
    const flagsIn = this.#appendFlags(who, e, opts.flags);
    // this append's own name for the file: a hard link on the staged partition (no bytes
    // written; the data was fsynced when staged), a copy (fsynced) on another one
    const spool = this.#spoolFiles(e.partition);
    const tmp = spool.newName();
    if (e.partition === staged.partition) linkSync(staged.path, tmp);
    else {
      copyFileSync(staged.path, tmp);
      await fsyncFile(tmp);
    }
    return this.#commitSpooled(who, e, tmp, staged.parsed, flagsIn, opts);
  }

  async #commitSpooled(
    who: Identity,
    e: MboxEntry,
    tmp: string,
    parsed: Parsed,
    flagsIn: { bits: number; keywords: string[] },
    opts: AppendOptions,
    syncFd?: number,
  ): Promise<AppendResult> {
    const item: NewItem = {
      tmp,
      parsed,
      flags: flagsIn,
      internalDate: opts.internalDate?.getTime(),
      syncFd,
    };
    try {
      const uid = await this.#groupCommit(who, e, opts.ignoreQuota ?? false, item);
      return { uidValidity: e.uidValidity, uid, guid: parsed.guid };
    } catch (err) {
      dropSyncFd(item);
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  /** flags at APPEND follow STORE's rights: the ones `who` may not set are dropped */
  #appendFlags(
    who: Identity,
    e: MboxEntry,
    flags: string[] | undefined,
  ): { bits: number; keywords: string[] } {
    const flagsIn = encodeFlags(flags ?? []);
    if (flagsIn.bits !== 0 || flagsIn.keywords.length) {
      // flags at APPEND follow STORE's rights; drop the ones the user may not set
      const r = this.rightsOn(who, e);
      if (!r.includes('s')) flagsIn.bits &= ~SEEN;
      if (!r.includes('t')) flagsIn.bits &= ~DELETED;
      if (!r.includes('w')) {
        flagsIn.bits &= SEEN | DELETED;
        flagsIn.keywords = [];
      }
    }
    return flagsIn;
  }

  /**
   * Group commit: appends to one mailbox (same user, same quota rule) whose files became ready
   * in the same event-loop turn commit together: one index transaction, one directory fsync and
   * one WAL fsync for all of them. Each promise resolves only after that commit, so an
   * acknowledged message is as durable as before. If a batch fails (quota...), its messages
   * are committed one by one so each gets the answer it would have had alone.
   */
  #groupCommit(who: Identity, e: MboxEntry, ignoreQuota: boolean, item: NewItem): Promise<number> {
    const key = `${e.uniqueId}\0${who.userid}\0${who.isAdmin ? 1 : 0}\0${ignoreQuota ? 1 : 0}`;
    return new Promise<number>((resolve, reject) => {
      let batch = this.#commitQueue.get(key);
      if (!batch) {
        batch = [];
        this.#commitQueue.set(key, batch);
        setImmediate(() => this.#flushCommits(key, who, e, ignoreQuota));
      }
      batch.push({ item, resolve, reject });
    });
  }

  #flushCommits(key: string, who: Identity, e: MboxEntry, ignoreQuota: boolean): void {
    const batch = this.#commitQueue.get(key) ?? [];
    this.#commitQueue.delete(key);
    // the index commit did not wait for the disk: the WAL, the directory holding the renames
    // and the message files not fsynced yet (append) are fsynced in the thread pool, in
    // parallel; then the appends resolve and other sessions are told (stamp)
    const settle = (group: PendingAppend[], uids: number[]): void => {
      const db = this.indexFor(e);
      const files: Promise<void>[] = [];
      const synced: number[] = [];
      group.forEach((b, i) => {
        if (b.item.syncFd === undefined) return;
        files.push(fsyncClose(b.item.syncFd));
        b.item.syncFd = undefined;
        synced.push(uids[i]!);
      });
      Promise.all([
        db.syncWal(),
        this.#dirs.sync(this.layout.mailboxDir(e.partition, e.uniqueId)),
        ...files,
      ]).then(
        () => {
          // on disk now: the next append here takes them off the pending list
          const rowId = db.mailboxIds.get(e.uniqueId);
          if (rowId !== undefined && synced.length) {
            const done = db.confirmed.get(rowId);
            if (done) done.push(...synced);
            else db.confirmed.set(rowId, synced);
            db.lastConfirmed = Date.now();
            this.#scheduleConfirmSweep();
          }
          group.forEach((b, i) => b.resolve(uids[i]!));
          // other sessions are told once the callers had their turn (lmtpd's reply first)
          setImmediate(() => this.stamp(e.uniqueId));
        },
        (err: unknown) => group.forEach((b) => b.reject(err)),
      );
    };
    const one = (b: PendingAppend): void => {
      let uids: number[];
      try {
        uids = this.commitNew(who, e, [b.item], { ignoreQuota });
      } catch (err) {
        return b.reject(err);
      }
      settle([b], uids);
    };
    if (batch.length === 1) return one(batch[0]!);
    let uids: number[];
    try {
      uids = this.commitNew(
        who,
        e,
        batch.map((b) => b.item),
        { ignoreQuota },
      );
    } catch {
      // e.g. quota: retried alone, each message gets the answer it would have had alone
      return batch.forEach(one);
    }
    settle(batch, uids);
  }

  /**
   * Put spooled files into a mailbox: one index transaction; each file is renamed to
   * `<uid>.`, then the rows commit without waiting for the disk (writeDeferred). Returns the
   * new uids. The caller fsyncs the WAL (syncWal) and the mailbox directory, then stamps the
   * mailbox, before telling anyone the messages are stored.
   */
  commitNew(who: Identity, e: MboxEntry, items: NewItem[], o: { ignoreQuota: boolean }): number[] {
    const db = this.indexFor(e);
    // the row id from an earlier append saves a read before the transaction; checked inside
    const cachedId = db.mailboxIds.get(e.uniqueId);
    const rowId = cachedId ?? this.mailboxRow(db, e).id;
    const dir = this.layout.mailboxDir(e.partition, e.uniqueId);
    // a directory we hold open for fsync exists
    if (!this.#dirs.has(dir)) mkdirSync(dir, { recursive: true });
    const seenInRow = this.seenInRow(who, e);
    const placed: [final: string, tmp: string][] = [];
    const now = Date.now();
    let uids: number[];
    /** confirmed uids this commit took off the pending list: given back if it fails */
    let taken: [rowId: number, uids: number[]] | null = null;
    try {
      uids = db.writeDeferred(() => {
        let row = db.s.mailboxByRow.get(rowId);
        if (row?.uniqueid !== e.uniqueId) {
          // the cached id is stale (row deleted, id reused): look up, or create, as mailboxRow
          row = cachedId === undefined ? undefined : this.#mailboxRowIn(db, e);
          if (!row) throw new MailError('notFound', 'Mailbox does not exist');
        }
        db.mailboxIds.set(e.uniqueId, row.id);
        if (!o.ignoreQuota) {
          this.checkQuota(
            e.name,
            items.reduce((a, i) => a + i.parsed.size, 0),
            items.length,
          );
        }
        let uid = row.uidnext;
        let modseq = 0;
        let bytes = 0;
        const out: number[] = [];
        for (const it of items) {
          const final = join(dir, `${uid}.`);
          try {
            renameSync(it.tmp, final);
          } catch (err) {
            // the directory went away while its descriptor was kept (mailbox deleted and made again)
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
            mkdirSync(dir, { recursive: true });
            renameSync(it.tmp, final);
          }
          placed.push([final, it.tmp]);
          modseq = db.nextModseq();
          const p = it.parsed;
          let bits = it.flags.bits;
          if (!seenInRow && bits & SEEN) {
            bits &= ~SEEN;
            db.s.seenAdd.run(row.id, who.userid, uid);
          }
          db.s.insertMessage.run(
            row.id,
            uid,
            modseq,
            bits,
            keywordString(it.flags.keywords),
            it.internalDate ?? now,
            now,
            p.sentDate,
            p.size,
            p.guid,
          );
          db.putCache(cacheRow(row.id, uid, p));
          bytes += p.size;
          out.push(uid);
          uid++;
        }
        // pending: uids whose file may not be on disk yet. This process's fsynced ones leave
        // the list; this commit's unsynced ones join it (see the module header)
        const done = db.confirmed.get(row.id);
        const pending = pendingWithout(row.pending, done ?? []);
        if (done) {
          db.confirmed.delete(row.id);
          taken = [row.id, done];
        }
        items.forEach((it, i) => {
          if (it.syncFd !== undefined) pending.push(out[i]!);
        });
        db.s.afterAppendPending.run(uid, modseq, bytes, pending.join(' '), row.id);
        if (items.length > 1) db.s.counters.run(items.length - 1, 0, modseq, row.id);
        return out;
      });
    } catch (err) {
      if (taken) db.confirmed.set(taken[0], [...(db.confirmed.get(taken[0]) ?? []), ...taken[1]]);
      // put the spool files back, so a caller may retry them (group commit after overQuota)
      for (const [final, tmp] of placed) {
        try {
          renameSync(final, tmp);
        } catch {
          rmSync(final, { force: true });
        }
      }
      throw err;
    }
    return uids;
  }

  /**
   * COPY/MOVE `uids` of `src` into `dest`: hard links on one partition (no bytes copied),
   * one transaction per index db; a MOVE inside one index db is one transaction.
   */
  moveMessages(
    who: Identity,
    src: MboxEntry,
    uids: ArrayLike<number>,
    dest: MboxEntry,
    o: { move: boolean; skipRights?: boolean },
  ): { uidValidity: number; src: number[]; dst: number[] } {
    if (!o.skipRights) {
      this.need(who, dest.name, 'i');
      if (o.move) {
        const r = this.rightsOn(who, src);
        if (!r.includes('t') || !r.includes('e')) throw new MailError('perm', 'Permission denied');
      }
    }
    if (dest.uniqueId === src.uniqueId && o.move) return { uidValidity: dest.uidValidity, src: [], dst: [] };
    const sdb = this.indexFor(src);
    const ddb = this.indexFor(dest);
    const srow = this.mailboxRow(sdb, src);
    const drow0 = this.mailboxRow(ddb, dest);
    const want = Array.from(uids).sort((a, b) => a - b);
    const rows = sdb.read(() =>
      want.map((u) => sdb.s.message.get(srow.id, u)).filter((r): r is MessageRow => !!r && r.expunged === 0),
    );
    if (rows.length === 0) return { uidValidity: dest.uidValidity, src: [], dst: [] };
    const destDir = this.layout.mailboxDir(dest.partition, dest.uniqueId);
    mkdirSync(destDir, { recursive: true });
    const seenSrc = this.seenInRow(who, src);
    const seenDst = this.seenInRow(who, dest);
    const placed: string[] = [];
    const now = Date.now();
    const srcSeen = new Set<number>(
      seenSrc ? [] : sdb.s.seenRange.all(srow.id, who.userid, rows[0]!.uid, rows[rows.length - 1]!.uid),
    );
    const insertAll = (): number[] => {
      const drow = ddb.s.mailboxByRow.get(drow0.id);
      if (!drow) throw new MailError('notFound', 'Mailbox does not exist');
      this.checkQuota(
        dest.name,
        rows.reduce((a, r) => a + r.size, 0),
        rows.length,
      );
      let uid = drow.uidnext;
      let modseq = 0;
      let bytes = 0;
      const out: number[] = [];
      for (const r of rows) {
        const from = this.messagePath(src, r.uid);
        const to = join(destDir, `${uid}.`);
        rmSync(to, { force: true });
        if (src.partition === dest.partition) linkSync(from, to);
        else copyFileSync(from, to);
        placed.push(to);
        modseq = ddb.nextModseq();
        const isSeen = seenSrc ? (r.sysflags & SEEN) !== 0 : srcSeen.has(r.uid);
        let bits = r.sysflags & ~SEEN;
        if (isSeen) {
          if (seenDst) bits |= SEEN;
          else ddb.s.seenAdd.run(drow.id, who.userid, uid);
        }
        ddb.s.insertMessage.run(
          drow.id,
          uid,
          modseq,
          bits,
          r.keywords,
          r.internaldate,
          now,
          r.sentdate,
          r.size,
          r.guid,
        );
        const c = sdb.getCache(srow.id, r.uid);
        if (c) ddb.putCache({ ...c, mbox: drow.id, uid });
        bytes += r.size;
        out.push(uid);
        uid++;
      }
      fsyncDir(destDir);
      db0Counters(ddb, drow.id, uid, modseq, bytes, out.length);
      return out;
    };
    const expungeAll = (): void => {
      expungeRows(
        sdb,
        srow.id,
        rows.map((r) => r.uid),
      );
    };
    let dst: number[];
    try {
      if (o.move && sdb === ddb) {
        dst = sdb.write(() => {
          const d = insertAll();
          expungeAll();
          return d;
        });
      } else {
        dst = ddb.write(insertAll);
        if (o.move) sdb.write(expungeAll);
      }
    } catch (err) {
      for (const f of placed) rmSync(f, { force: true });
      throw err;
    }
    this.stamp(dest.uniqueId);
    if (o.move) {
      this.afterExpunge(
        src,
        rows.map((r) => r.uid),
        sdb,
        srow.id,
      );
      this.stamp(src.uniqueId);
    }
    return { uidValidity: dest.uidValidity, src: rows.map((r) => r.uid), dst };
  }

  /** after an expunge commit: drop files and cache per expunge_mode */
  afterExpunge(e: MboxEntry, uids: number[], db: IndexDb, mbox: number): void {
    if (this.expungeMode === 'delayed') return;
    for (const u of uids) {
      try {
        unlinkSync(this.messagePath(e, u));
      } catch {
        /* already gone */
      }
    }
    db.write(() => {
      for (const u of uids) db.deleteCache(mbox, u);
    });
  }

  open(who: Identity, name: string, opts: { readOnly: boolean }): MailboxView {
    const e = this.need(who, name, 'r');
    return new View(this, who, e, opts.readOnly);
  }

  ensureInbox(userid: string): MailboxInfo {
    const inbox = userInbox(userid, this.virtDomains, this.defaultDomain);
    const have = this.mboxlist.get(inbox);
    if (have) return this.mboxlist.toInfo(have);
    const sys: Identity = { userid, isAdmin: true, groups: [] };
    let info: MailboxInfo;
    try {
      info = this.createMailbox(sys, inbox);
    } catch (err) {
      if (err instanceof MailError && err.kind === 'exists') return this.lookup(inbox)!;
      throw err;
    }
    const kib = this.conf.getInt('autocreate_quota');
    const msgs = this.conf.getInt('autocreate_quota_messages');
    if (kib >= 0 || msgs >= 0) {
      this.quotas.set(inbox, { storage: kib > 0 ? kib : null, message: msgs > 0 ? msgs : null });
    }
    const folders = (this.conf.getString('autocreate_inbox_folders') ?? '')
      .split('|')
      .map((s) => s.trim())
      .filter(Boolean);
    const subscribe = new Set(
      (this.conf.getString('autocreate_subscribe_folders') ?? '')
        .split('|')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    for (const f of folders) {
      const child = `${inbox}.${f.replace(/\./g, '^').replace(/\//g, '.')}`;
      const uses = XLIST_FLAGS.filter((x) => this.conf.getOverflow(`xlist-${x}`) === f).map(
        (x) => '\\' + (x === 'spam' ? 'Junk' : x.charAt(0).toUpperCase() + x.slice(1)),
      );
      try {
        this.createMailbox(sys, child, { specialUse: uses });
      } catch (err) {
        this.log?.warning(`autocreate: ${child}: ${(err as Error).message}`);
        continue;
      }
      if (subscribe.has(f)) this.indexForUser(userid).s.subAdd.run(child);
    }
    return info;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#spools.values()) s.close();
    this.#spools.clear();
    this.#dirs.closeAll();
    if (this.#confirmSweep) clearTimeout(this.#confirmSweep);
    for (const db of this.#indexes.values()) {
      this.#flushConfirmed(db);
      db.close();
    }
    this.#indexes.clear();
    this.mboxlist.db.close();
    this.quotas.db.close();
    this.annotations.close();
  }
}

function db0Counters(
  db: IndexDb,
  mbox: number,
  uidnext: number,
  modseq: number,
  bytes: number,
  n: number,
): void {
  db.s.afterAppend.run(uidnext, modseq, bytes, mbox);
  if (n > 1) db.s.counters.run(n - 1, 0, modseq, mbox);
}

/** mark uids expunged (caller holds the write transaction); returns the modseq used */
export function expungeRows(db: IndexDb, mbox: number, uids: number[]): number {
  let modseq = 0;
  let n = 0;
  let bytes = 0;
  const now = Date.now();
  for (const u of uids) {
    const r = db.s.message.get(mbox, u);
    if (!r || r.expunged) continue;
    modseq = db.nextModseq();
    db.s.expungeRow.run(now, modseq, mbox, u);
    n++;
    bytes += r.size;
  }
  if (n) db.s.counters.run(-n, -bytes, modseq, mbox);
  return modseq;
}

/** copy a mailbox's rows into another index db under a new name, then drop them from the first */
function moveIndexRows(src: IndexDb, dst: IndexDb, row: MailboxRow, newName: string): void {
  dst.write(() => {
    dst.db.prepare("UPDATE meta SET v = max(v, ?) WHERE k = 'modseq'").run(row.highestmodseq);
    const old = dst.s.mailboxById.get(row.uniqueid);
    if (old) {
      dst.s.deleteMessages.run(old.id);
      dst.deleteCaches(old.id);
      dst.s.deleteSeenAll.run(old.id);
      dst.s.deleteMailbox.run(old.id);
    }
    dst.s.insertMailbox.run(row.uniqueid, newName, row.uidvalidity, row.highestmodseq);
    const n = dst.s.mailboxById.get(row.uniqueid)!;
    dst.db
      .prepare(
        'UPDATE mailbox SET uidnext = ?, recentuid = ?, deletedmodseq = ?, exists_count = ?, size_total = ? WHERE id = ?',
      )
      .run(row.uidnext, row.recentuid, row.deletedmodseq, row.exists_count, row.size_total, n.id);
    for (const m of src.s.allRows.all(row.id)) dst.s.insertMessageRow.run({ ...m, mbox: n.id });
    for (const m of src.s.allRows.all(row.id)) {
      const c = src.getCache(row.id, m.uid);
      if (c) dst.putCache({ ...c, mbox: n.id });
    }
    for (const s of src.s.seenRows.all(row.id)) dst.s.seenAdd.run(n.id, s.userid, s.uid);
  });
  src.write(() => {
    src.s.deleteMessages.run(row.id);
    src.deleteCaches(row.id);
    src.s.deleteSeenAll.run(row.id);
    src.s.deleteMailbox.run(row.id);
  });
}

/** the cache row of a parsed message */
export function cacheRow(mbox: number, uid: number, p: Parsed): Record<string, unknown> {
  return {
    mbox,
    uid,
    header_size: p.headerSize,
    lines: p.lines,
    envelope: JSON.stringify(p.envelope),
    body: JSON.stringify(p.body),
    envelope_imap: envelopeText(p.envelope),
    bodystructure_imap: bodyText(p.body, true),
    preview: p.preview,
    search_headers: p.searchHeaders,
    search_body: p.searchBody,
    search_truncated: p.searchTruncated ? 1 : 0,
    sort_subject: baseSubject(p.sortSubject),
    sort_from: p.sortFrom.toLowerCase(),
    sort_to: p.sortTo.toLowerCase(),
    sort_cc: p.sortCc.toLowerCase(),
    sort_displayfrom: (p.sortDisplayFrom ?? p.sortFrom).toLowerCase(),
    sort_displayto: (p.sortDisplayTo ?? p.sortTo).toLowerCase(),
  };
}
