/**
 * The cyrusdb contract: one small key/value interface behind every Cyrus database
 * (mailboxes.db, quotas, annotations, deliver.db, statuscache, tls_sessions, ptscache, ...).
 *
 * Owns: the `CyrusDb` interface, its rules, and `DbError`. Backends (`sqlite.ts`, later
 * `pgsql.ts`) implement it; `index.ts` picks one by name. Every backend must pass
 * `backend-suite.ts`. Imports: node built-ins only.
 *
 * Rules every backend keeps (Cyrus lib/cyrusdb.h semantics):
 *  - Keys and values are arbitrary bytes (NUL, TAB, CR, LF, 0xFF allowed). Strings are taken
 *    as UTF-8. Keys sort bytewise (memcmp order, shorter prefix first).
 *  - An empty value is a value: `fetch` returns an empty Buffer, never undefined, for it.
 *  - `txn` omitted: the call is one auto-committed operation. With a txn: the call joins it.
 *    A txn holds the database's write lock from `begin` until `commit`/`abort`; after either
 *    the handle is dead and using it throws DbError('txn'). One open txn per handle at a time;
 *    while it is open, calls on the same handle without a txn throw DbError('txn') rather than
 *    silently joining or deadlocking.
 *  - Other handles (in this or another process) never see uncommitted writes.
 *  - `foreach` visits keys with the prefix in order; the callback may write through the same
 *    txn (or auto-commit when none); keys written after the cursor position are visited.
 *    Returning `false` from the callback stops the walk.
 *  - A writer that finds the database locked waits up to the backend's busy timeout, then
 *    throws DbError('locked').
 */

export type DbErrorCode = 'notFound' | 'exists' | 'locked' | 'txn' | 'io' | 'readonly' | 'internal';

/** Cyrus return codes as an error: NOTFOUND, EXISTS, LOCKED, IOERROR, READONLY, INTERNAL, bad txn use. */
export class DbError extends Error {
  constructor(
    readonly code: DbErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DbError';
  }
}

export type DbKey = Buffer | string;
export type DbValue = Buffer | string;

/** An open transaction on one handle; opaque. */
export interface DbTxn {
  /** false once committed or aborted */
  readonly active: boolean;
}

export interface DbOpenOptions {
  /** create the file when missing (Cyrus CYRUSDB_CREATE); default true */
  create?: boolean;
  /** open read-only (Cyrus CYRUSDB_SHARED) */
  readonly?: boolean;
  /** how long a writer waits for another writer's lock, ms; default 10000 */
  busyTimeoutMs?: number;
  /**
   * default true: a commit is on stable storage before it returns. false (ephemeral databases
   * only, such as deliver.db): a commit survives a process crash but the last ones may be lost
   * on power failure; the file itself stays consistent.
   */
  durable?: boolean;
  /**
   * keep up to this many fetch results in memory (0, the default: none). A result is used
   * only while no other connection has committed to the database since it was read (SQLite
   * backend: `PRAGMA data_version`, one cheap query per fetch instead of a b-tree lookup with
   * its locks). For databases read far more often than written: mailboxes.db, quotas.db.
   */
  readCache?: number;
}

export interface CheckResult {
  ok: boolean;
  problems: string[];
}

export interface CyrusDb {
  readonly path: string;
  /** the backend that really serves this handle (`sqlite`, ...) */
  readonly backend: string;

  /** exact lookup; undefined when absent (an empty Buffer is a present, empty value) */
  fetch(key: DbKey, txn?: DbTxn): Buffer | undefined;
  /** ordered walk over keys starting with `prefix` ('' = all); return false from cb to stop */
  foreach(prefix: DbKey, cb: (key: Buffer, value: Buffer) => boolean | void, txn?: DbTxn): void;
  /** insert or replace */
  store(key: DbKey, value: DbValue, txn?: DbTxn): void;
  /** insert; throws DbError('exists') when the key is present */
  create(key: DbKey, value: DbValue, txn?: DbTxn): void;
  /** remove; returns whether it existed. `force: false` makes a missing key throw DbError('notFound') */
  delete(key: DbKey, txn?: DbTxn, opts?: { force?: boolean }): boolean;

  /** start a write transaction (takes the write lock, waiting up to the busy timeout) */
  begin(): DbTxn;
  commit(txn: DbTxn): void;
  abort(txn: DbTxn): void;

  /** flush logs into the main file (Cyrus `sync`, `ctl_cyrusdb -c`) */
  checkpoint(): void;
  /** write a consistent copy of the database to `destFile` (hot backup) */
  archive(destFile: string): void;
  /** consistency check (Cyrus `consistent`); recovery itself happens at open */
  check(): CheckResult;
  close(): void;
}

/** A backend: opens a file by path. */
export type DbBackendOpen = (path: string, opts: DbOpenOptions) => CyrusDb;

/** Convert a key or value argument to bytes. */
export function toBytes(v: DbKey | DbValue): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/** The smallest key greater than every key starting with `prefix`, or null if none exists (all 0xFF). */
export function prefixEnd(prefix: Buffer): Buffer | null {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return null;
}
