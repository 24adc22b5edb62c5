/**
 * Our sasldb: the `auxprop` password store at `sasl_sasldb_path` (default /etc/sasldb2).
 *
 * Cyrus's sasldb is a Berkeley DB of cleartext `userPassword` properties; ours is an SQLite
 * file (better-sqlite3, WAL) of salted hashes and SCRAM secrets. Why SQLite rather than an
 * atomically rewritten flat file: every worker process of every service reads it on each
 * login, and saslpasswd writes it while they run. WAL gives readers a consistent snapshot
 * without locks and a writer that never corrupts it on a crash, and a look-up is an index
 * probe instead of re-reading a file whose size grows with the user count.
 *
 * One row per user key: `user` or `user@realm` (what cyr_saslpasswd was given, with `-u
 * realm` appended as `@realm`; the authenticator looks users up by their canonical userid,
 * so with virtdomains the realm is the mail domain). Columns: the scrypt hash, SCRAM-SHA-1
 * and SCRAM-SHA-256 secrets, and the cleartext only when the administrator asked for it
 * (`cyr_saslpasswd -k`, needed by CRAM-MD5 and APOP, which cannot work from hashes).
 *
 * Verified-login cache: scrypt costs ~50-100 ms of CPU on purpose, and mail clients log in
 * again and again (several connections, reconnects every few minutes). After a successful
 * check we remember HMAC(per-process random key, userid, stored hash, password) for 10
 * minutes (at most 10000 entries, oldest dropped first), so the same password against the
 * same stored hash is accepted without scrypt. Only successes are cached, the stored hash is
 * part of the key (a password change invalidates at once) and the key never leaves memory.
 *
 * Readers never create the file: a missing sasldb is an empty one (every check fails).
 * The file is created mode 0600 (SQLite gives -wal/-shm the same mode).
 *
 * Imports: better-sqlite3, node built-ins, auth contract and secrets.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createHmac, randomBytes } from 'node:crypto';
import type { PasswordStore, ScramHash, ScramSecret } from './api.js';
import {
  SCRAM_ITERATIONS,
  checkHash,
  decodeScram,
  dummyCheck,
  encodeScram,
  hashPassword,
  scramSecret,
} from './secrets.js';

type Db = InstanceType<typeof Database>;

interface Row {
  userid: string;
  hash: string;
  scram1: string | null;
  scram256: string | null;
  cleartext: string | null;
  updated: number;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS users (
  userid TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  scram1 TEXT,
  scram256 TEXT,
  cleartext TEXT,
  updated INTEGER NOT NULL
)`;

const CACHE_TTL_MS = 10 * 60_000;
const CACHE_MAX = 10_000;

export class SasldbStore implements PasswordStore {
  #db: Db | null = null;
  readonly #cacheKey = randomBytes(32);
  readonly #verified = new Map<string, number>();

  constructor(readonly path: string) {}

  /** the open database, or null when the file does not exist yet (read side) */
  #reader(): Db | null {
    if (this.#db) return this.#db;
    if (!existsSync(this.path)) return null;
    const db = new Database(this.path, { fileMustExist: true });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
    } catch (e) {
      db.close();
      if ((e as { code?: string }).code === 'SQLITE_NOTADB') {
        throw new Error(
          `${this.path} is not a cyrus-ts sasldb (a Cyrus SASL Berkeley DB file?); ` +
            `import its users with: cyr_saslpasswd -I ${this.path} -f <new sasldb>`,
        );
      }
      throw e;
    }
    this.#db = db;
    return db;
  }

  #writer(): Db {
    const existing = this.#reader();
    if (existing) return existing;
    mkdirSync(dirname(this.path), { recursive: true });
    const db = new Database(this.path);
    chmodSync(this.path, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    this.#db = db;
    return db;
  }

  #row(userid: string): Row | undefined {
    const db = this.#reader();
    return db?.prepare('SELECT * FROM users WHERE userid = ?').get(userid) as Row | undefined;
  }

  async verify(userid: string, password: string): Promise<boolean> {
    const row = this.#row(userid);
    if (!row) {
      await dummyCheck(password);
      return false;
    }
    const tag = createHmac('sha256', this.#cacheKey)
      .update(`${userid}\0${row.hash}\0`)
      .update(password)
      .digest('base64');
    const until = this.#verified.get(tag);
    if (until !== undefined && until > Date.now()) return true;
    this.#verified.delete(tag);
    const ok = await checkHash(password, row.hash);
    if (ok) {
      if (this.#verified.size >= CACHE_MAX)
        this.#verified.delete(this.#verified.keys().next().value as string);
      this.#verified.set(tag, Date.now() + CACHE_TTL_MS);
    }
    return ok;
  }

  async scram(userid: string, hash: ScramHash): Promise<ScramSecret | null> {
    const row = this.#row(userid);
    return row ? decodeScram(hash === 'SHA-1' ? row.scram1 : row.scram256) : null;
  }

  async cleartext(userid: string): Promise<string | null> {
    return this.#row(userid)?.cleartext ?? null;
  }

  async exists(userid: string): Promise<boolean> {
    return this.#row(userid) !== undefined;
  }

  /** Create or replace a user's secrets. `keepCleartext` stores the password itself too. */
  async setPassword(
    userid: string,
    password: string,
    opts: { keepCleartext?: boolean; create?: boolean } = {},
  ): Promise<void> {
    const hash = await hashPassword(password);
    const s1 = scramSecret('SHA-1', password, randomBytes(16), SCRAM_ITERATIONS);
    const s256 = scramSecret('SHA-256', password, randomBytes(16), SCRAM_ITERATIONS);
    const db = this.#writer();
    const row: Row = {
      userid,
      hash,
      scram1: encodeScram(s1),
      scram256: encodeScram(s256),
      cleartext: opts.keepCleartext ? password : null,
      updated: Math.floor(Date.now() / 1000),
    };
    db.prepare(
      `INSERT INTO users (userid, hash, scram1, scram256, cleartext, updated)
       VALUES (@userid, @hash, @scram1, @scram256, @cleartext, @updated)
       ON CONFLICT(userid) DO UPDATE SET hash=excluded.hash, scram1=excluded.scram1,
         scram256=excluded.scram256, cleartext=excluded.cleartext, updated=excluded.updated`,
    ).run(row);
  }

  /** Remove a user; false when there was none. */
  delete(userid: string): boolean {
    const db = this.#reader();
    if (!db) return false;
    return db.prepare('DELETE FROM users WHERE userid = ?').run(userid).changes > 0;
  }

  /** Every user key, sorted. */
  list(): string[] {
    const db = this.#reader();
    if (!db) return [];
    return (db.prepare('SELECT userid FROM users ORDER BY userid').all() as { userid: string }[]).map(
      (r) => r.userid,
    );
  }

  close(): void {
    this.#db?.close();
    this.#db = null;
  }
}
