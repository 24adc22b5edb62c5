/**
 * The global mailbox list (mailboxes.db) on the cyrusdb interface.
 *
 * Owns: its records. Key `N<dbname>` where dbname is the internal name with '.' as 0x1F and
 * the domain '!' as 0x1D, as Cyrus 3.6, so plain byte order lists parents before children;
 * value JSON `{ T, I, P, A, V, S, M }` (type, uniqueid, partition, ACL, uidvalidity,
 * special-use, mtime). Key `I<uniqueid>` → name. Key `\x1FUIDV\x1F` keeps the last
 * uidvalidity handed out so a re-created name never reuses one.
 * Imports: ../db, ./api, ./names.
 */
import type { CyrusDb, DbTxn } from '../db/index.js';
import type { MailboxInfo } from './api.js';
import { ownerOf } from './names.js';

export interface MboxEntry {
  name: string;
  uniqueId: string;
  partition: string;
  acl: string;
  type: string;
  specialUse: string[];
  uidValidity: number;
  mtime: number;
}

const TYPE_CODE: Record<string, string> = {
  email: 'e',
  netnews: 'n',
  submission: 's',
  collection: 'c',
  sieve: 'f',
};
const CODE_TYPE: Record<string, string> = Object.fromEntries(
  Object.entries(TYPE_CODE).map(([a, b]) => [b, a]),
);
const UIDV_KEY = '\x1FUIDV\x1F';

export function dbName(name: string): string {
  return name.replace(/\./g, '\x1F').replace('!', '\x1D');
}

export function fromDbName(db: string): string {
  return db.replace(/\x1F/g, '.').replace('\x1D', '!');
}

export class MailboxList {
  constructor(
    readonly db: CyrusDb,
    readonly deletedPrefix: string,
  ) {}

  get(name: string, txn?: DbTxn): MboxEntry | undefined {
    const v = this.db.fetch('N' + dbName(name), txn);
    return v ? this.#decode(name, v) : undefined;
  }

  nameById(uniqueId: string): string | undefined {
    return this.db.fetch('I' + uniqueId)?.toString('utf8');
  }

  #decode(name: string, v: Buffer): MboxEntry {
    const o = JSON.parse(v.toString('utf8')) as {
      T: string;
      I: string;
      P: string;
      A: string;
      V: number;
      S?: string[];
      M?: number;
    };
    return {
      name,
      uniqueId: o.I,
      partition: o.P,
      acl: o.A,
      type: CODE_TYPE[o.T] ?? o.T,
      specialUse: o.S ?? [],
      uidValidity: o.V,
      mtime: o.M ?? 0,
    };
  }

  put(e: MboxEntry, txn?: DbTxn): void {
    const v = JSON.stringify({
      T: TYPE_CODE[e.type] ?? e.type,
      I: e.uniqueId,
      P: e.partition,
      A: e.acl,
      V: e.uidValidity,
      S: e.specialUse,
      M: e.mtime,
    });
    this.db.store('N' + dbName(e.name), v, txn);
    this.db.store('I' + e.uniqueId, e.name, txn);
  }

  remove(e: MboxEntry, txn?: DbTxn): void {
    this.db.delete('N' + dbName(e.name), txn);
    if (this.db.fetch('I' + e.uniqueId, txn)?.toString('utf8') === e.name)
      this.db.delete('I' + e.uniqueId, txn);
  }

  /** every entry whose name equals `prefix` or starts with it (string prefix, '' = all), in order */
  foreach(prefix: string, cb: (e: MboxEntry) => boolean | void, txn?: DbTxn): void {
    this.db.foreach(
      'N' + dbName(prefix),
      (k, v) => cb(this.#decode(fromDbName(k.subarray(1).toString('utf8')), v)),
      txn,
    );
  }

  /** `name` and every mailbox below it */
  tree(name: string): MboxEntry[] {
    const out: MboxEntry[] = [];
    const self = this.get(name);
    if (self) out.push(self);
    this.foreach(name + '.', (e) => {
      out.push(e);
    });
    return out;
  }

  /** a uidvalidity greater than any handed out before (Cyrus: creation time) */
  nextUidValidity(txn: DbTxn): number {
    const last = Number(this.db.fetch(UIDV_KEY, txn)?.toString() ?? '0');
    const v = Math.max(Math.floor(Date.now() / 1000), last + 1) >>> 0;
    this.db.store(UIDV_KEY, String(v), txn);
    return v;
  }

  toInfo(e: MboxEntry): MailboxInfo {
    return {
      name: e.name,
      uniqueId: e.uniqueId,
      partition: e.partition,
      acl: e.acl,
      specialUse: [...e.specialUse],
      uidValidity: e.uidValidity,
      type: e.type,
      owner: ownerOf(e.name, this.deletedPrefix),
    };
  }

  /** run `fn` in one mailboxes.db transaction */
  txn<T>(fn: (txn: DbTxn) => T): T {
    const t = this.db.begin();
    try {
      const r = fn(t);
      this.db.commit(t);
      return r;
    } catch (e) {
      if (t.active) this.db.abort(t);
      throw e;
    }
  }
}
