/**
 * The `sqlite` cyrusdb backend: one table `kv(k BLOB PRIMARY KEY, v BLOB)` in a SQLite file
 * via better-sqlite3, WAL mode, `busy_timeout` so many worker processes share one file.
 *
 * Owns: the sqlite implementation of `CyrusDb` (rules in `api.ts`). Crash recovery is SQLite's
 * own (the WAL is replayed by the next opener), so Cyrus's `-r` recovery is an integrity check.
 * `synchronous=FULL`: a commit is on disk before `commit()` returns (NORMAL when opened
 * with `durable: false`: ephemeral databases).
 * Imports: better-sqlite3, node built-ins, ./api.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  DbError,
  prefixEnd,
  toBytes,
  type CheckResult,
  type CyrusDb,
  type DbKey,
  type DbOpenOptions,
  type DbTxn,
  type DbValue,
} from './api.js';

/** foreach reads keys in batches so a callback may write between batches */
const BATCH = 256;

class SqliteTxn implements DbTxn {
  active = true;
  constructor(readonly owner: SqliteDb) {}
}

type Row = { k: Buffer; v: Buffer };

export class SqliteDb implements CyrusDb {
  readonly backend = 'sqlite';
  #db: Database.Database;
  #txn: SqliteTxn | null = null;
  /** bumped by every write through this handle (foreach re-reads after a callback wrote) */
  #gen = 0;
  #st: {
    get: Database.Statement<[Buffer], Row>;
    put: Database.Statement<[Buffer, Buffer]>;
    ins: Database.Statement<[Buffer, Buffer]>;
    del: Database.Statement<[Buffer]>;
    range: Database.Statement<[Buffer, Buffer, Buffer], Row>;
    rangeOpen: Database.Statement<[Buffer, Buffer], Row>;
  };
  /** readCache: fetch results by key (latin1), null = absent; see DbOpenOptions.readCache */
  readonly #cache: Map<string, Buffer | null> | null;
  readonly #cacheMax: number;
  /** `PRAGMA data_version`: changes when another connection commits */
  #dataVersion: Database.Statement<[], number> | null = null;
  #cachedVersion = -1;

  constructor(
    readonly path: string,
    opts: DbOpenOptions = {},
  ) {
    const create = opts.create ?? true;
    if (!existsSync(path)) {
      if (!create || opts.readonly) throw new DbError('notFound', `${path}: no such database`);
      mkdirSync(dirname(path), { recursive: true });
    }
    try {
      this.#db = new Database(path, {
        readonly: opts.readonly ?? false,
        timeout: opts.busyTimeoutMs ?? 10000,
      });
      if (!opts.readonly) {
        this.#db.pragma('journal_mode = WAL');
        // WAL + NORMAL: no fsync per commit (only at checkpoints); for non-durable dbs only
        this.#db.pragma(opts.durable === false ? 'synchronous = NORMAL' : 'synchronous = FULL');
        this.#db.exec('CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID');
      }
    } catch (e) {
      throw wrap(e, path);
    }
    const d = this.#db;
    this.#cacheMax = opts.readCache ?? 0;
    this.#cache = this.#cacheMax > 0 ? new Map() : null;
    this.#st = {
      get: d.prepare<[Buffer], Row>('SELECT k, v FROM kv WHERE k = ?'),
      put: d.prepare<[Buffer, Buffer]>('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)'),
      ins: d.prepare<[Buffer, Buffer]>('INSERT INTO kv (k, v) VALUES (?, ?)'),
      del: d.prepare<[Buffer]>('DELETE FROM kv WHERE k = ?'),
      range: d.prepare<[Buffer, Buffer, Buffer], Row>(
        `SELECT k, v FROM kv WHERE k > ? AND k < ? AND k >= ? ORDER BY k LIMIT ${BATCH}`,
      ),
      rangeOpen: d.prepare<[Buffer, Buffer], Row>(
        `SELECT k, v FROM kv WHERE k > ? AND k >= ? ORDER BY k LIMIT ${BATCH}`,
      ),
    };
  }

  /** check that `txn` (or its absence) is a legal way to call on this handle now */
  #use(txn: DbTxn | undefined): void {
    if (txn) {
      if (!(txn instanceof SqliteTxn) || txn.owner !== this)
        throw new DbError('txn', 'transaction of another handle');
      if (!txn.active || txn !== this.#txn) throw new DbError('txn', 'transaction already finished');
    } else if (this.#txn) {
      throw new DbError('txn', `${this.path}: a transaction is open on this handle; pass it`);
    }
  }

  #run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw wrap(e, this.path);
    }
  }

  fetch(key: DbKey, txn?: DbTxn): Buffer | undefined {
    this.#use(txn);
    const k = toBytes(key);
    // inside a transaction the database is read directly (its own writes are not cached)
    if (!this.#cache || txn) {
      const row = this.#run(() => this.#st.get.get(k));
      return row ? row.v : undefined;
    }
    const version = this.#run(() =>
      (this.#dataVersion ??= this.#db.prepare<[], number>('PRAGMA data_version').pluck()).get()!,
    );
    if (version !== this.#cachedVersion) {
      this.#cache.clear();
      this.#cachedVersion = version;
    }
    const ck = k.toString('latin1');
    const hit = this.#cache.get(ck);
    if (hit !== undefined) return hit ?? undefined;
    const row = this.#run(() => this.#st.get.get(k));
    if (this.#cache.size >= this.#cacheMax) this.#cache.clear();
    this.#cache.set(ck, row ? row.v : null);
    return row ? row.v : undefined;
  }

  /** a write through this handle: its own commits do not change data_version */
  #forget(k: Buffer): void {
    this.#cache?.delete(k.toString('latin1'));
  }

  foreach(prefix: DbKey, cb: (key: Buffer, value: Buffer) => boolean | void, txn?: DbTxn): void {
    this.#use(txn);
    const p = toBytes(prefix);
    const end = prefixEnd(p);
    // start strictly after an impossible "key": the empty buffer sorts first, so use k >= prefix
    let after: Buffer = Buffer.alloc(0);
    let first = true;
    for (;;) {
      const rows = this.#run(() =>
        end ? this.#st.range.all(after, end, p) : this.#st.rangeOpen.all(after, p),
      );
      // the first batch must include an empty key equal to an empty prefix: k > '' excludes it
      if (first && p.length === 0) {
        const empty = this.#run(() => this.#st.get.get(Buffer.alloc(0)));
        if (empty && cb(empty.k, empty.v) === false) return;
      }
      first = false;
      let rescan = false;
      for (const r of rows) {
        const gen = this.#gen;
        if (cb(r.k, r.v) === false) return;
        after = r.k;
        // the callback wrote: re-read from the cursor so later keys reflect its writes
        if (gen !== this.#gen) {
          rescan = true;
          break;
        }
      }
      if (!rescan && rows.length < BATCH) return;
    }
  }

  store(key: DbKey, value: DbValue, txn?: DbTxn): void {
    this.#use(txn);
    this.#gen++;
    const k = toBytes(key);
    this.#forget(k);
    this.#run(() => this.#st.put.run(k, toBytes(value)));
  }

  create(key: DbKey, value: DbValue, txn?: DbTxn): void {
    this.#use(txn);
    this.#gen++;
    const k = toBytes(key);
    this.#forget(k);
    try {
      this.#st.ins.run(k, toBytes(value));
    } catch (e) {
      if ((e as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) {
        throw new DbError('exists', `${this.path}: key exists`);
      }
      throw wrap(e, this.path);
    }
  }

  delete(key: DbKey, txn?: DbTxn, opts: { force?: boolean } = {}): boolean {
    this.#use(txn);
    this.#gen++;
    const k = toBytes(key);
    this.#forget(k);
    const n = this.#run(() => this.#st.del.run(k).changes);
    if (n === 0 && opts.force === false) throw new DbError('notFound', `${this.path}: no such key`);
    return n > 0;
  }

  begin(): DbTxn {
    if (this.#txn) throw new DbError('txn', `${this.path}: a transaction is already open on this handle`);
    this.#run(() => this.#db.exec('BEGIN IMMEDIATE'));
    this.#txn = new SqliteTxn(this);
    return this.#txn;
  }

  commit(txn: DbTxn): void {
    this.#use(txn);
    this.#end(txn as SqliteTxn);
    this.#run(() => this.#db.exec('COMMIT'));
  }

  abort(txn: DbTxn): void {
    this.#use(txn);
    this.#end(txn as SqliteTxn);
    this.#run(() => {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
    });
  }

  #end(t: SqliteTxn): void {
    t.active = false;
    this.#txn = null;
  }

  checkpoint(): void {
    this.#use(undefined);
    this.#run(() => this.#db.pragma('wal_checkpoint(TRUNCATE)'));
  }

  archive(destFile: string): void {
    this.#use(undefined);
    mkdirSync(dirname(destFile), { recursive: true });
    rmSync(destFile, { force: true });
    this.#run(() => this.#db.prepare('VACUUM INTO ?').run(destFile));
  }

  check(): CheckResult {
    const rows = this.#run(() => this.#db.pragma('integrity_check') as { integrity_check: string }[]);
    const problems = rows.map((r) => r.integrity_check).filter((s) => s !== 'ok');
    return { ok: problems.length === 0, problems };
  }

  close(): void {
    if (!this.#db.open) return;
    if (this.#txn) {
      this.#txn.active = false;
      this.#txn = null;
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
    }
    this.#db.close();
  }
}

function wrap(e: unknown, path: string): Error {
  if (e instanceof DbError) return e;
  const code = (e as { code?: string }).code ?? '';
  const msg = `${path}: ${(e as Error).message}`;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return new DbError('locked', msg);
  if (code === 'SQLITE_READONLY') return new DbError('readonly', msg);
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_FULL')
    return new DbError('io', msg);
  return new DbError('internal', msg);
}

export function openSqlite(path: string, opts: DbOpenOptions): CyrusDb {
  return new SqliteDb(path, opts);
}
