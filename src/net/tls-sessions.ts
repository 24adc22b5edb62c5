/**
 * The TLS session cache in `tls_sessions.db` (tls_sessions_db_path, ephemeral: may sit on
 * tmpfs and be lost at reboot).
 *
 * How resumption works across processes: every worker of every service encrypts session
 * tickets (RFC 5077 for TLS 1.2, RFC 8446 §4.6.1 for TLS 1.3) with the same ticket key,
 * which lives in this database. A client that got a ticket from one worker resumes with any
 * other. We keep ticket keys rather than a server-side session-id cache because Node only
 * exposes the session-id callbacks on a listening tls.Server, while our workers upgrade
 * sockets master handed them (and STARTTLS upgrades happen mid-connection); every client
 * we target (OpenSSL, GnuTLS, NSS, SChannel, Java) supports tickets.
 *
 * Records (cyrusdb keys): `ticketkey` → 8-byte big-endian creation time (ms) + 48 key bytes
 * (16 name, 16 HMAC, 16 AES, Node's layout). A key is used for `tls_session_timeout`, then
 * replaced; tickets made with the previous key then fail to decrypt and the client does a
 * full handshake, so no ticket outlives the configured timeout by more than one period.
 * `cyr_tls_prune` removes a key older than the timeout (so a stolen old database cannot
 * decrypt recent tickets) and compacts the file.
 *
 * Imports: node:crypto, the db layer, config contract.
 */
import { randomBytes } from 'node:crypto';
import type { ImapdConf } from '../config/api.js';
import { openConfDb, type CyrusDb } from '../db/index.js';

const KEY = 'ticketkey';
export const TICKET_KEY_BYTES = 48;

/** tls_session_timeout in seconds (Cyrus caps it at 24 hours; 0 disables the cache). */
export function sessionTimeout(conf: ImapdConf): number {
  const t = conf.getDuration('tls_session_timeout');
  return Math.min(Math.max(t, 0), 24 * 3600);
}

function decode(v: Buffer | undefined): { created: number; key: Buffer } | null {
  if (!v || v.length !== 8 + TICKET_KEY_BYTES) return null;
  return { created: Number(v.readBigUInt64BE(0)), key: Buffer.from(v.subarray(8)) };
}

function encode(created: number, key: Buffer): Buffer {
  const b = Buffer.alloc(8 + TICKET_KEY_BYTES);
  b.writeBigUInt64BE(BigInt(created), 0);
  key.copy(b, 8);
  return b;
}

/**
 * The ticket key to use now: the stored one while younger than the timeout, else a new one
 * stored in its place (in one transaction, so concurrent workers agree on a single key).
 */
export function currentTicketKey(
  db: CyrusDb,
  timeoutSec: number,
  now = Date.now(),
): { key: Buffer; expires: number } {
  const fresh = (r: { created: number } | null): boolean =>
    r !== null && r.created <= now && now - r.created < timeoutSec * 1000;
  const cur = decode(db.fetch(KEY));
  if (cur && fresh(cur)) return { key: cur.key, expires: cur.created + timeoutSec * 1000 };
  const txn = db.begin();
  try {
    const again = decode(db.fetch(KEY, txn));
    if (again && fresh(again)) {
      db.commit(txn);
      return { key: again.key, expires: again.created + timeoutSec * 1000 };
    }
    const key = randomBytes(TICKET_KEY_BYTES);
    db.store(KEY, encode(now, key), txn);
    db.commit(txn);
    return { key, expires: now + timeoutSec * 1000 };
  } catch (e) {
    if (txn.active) db.abort(txn);
    throw e;
  }
}

/** Open the session database as configured. */
export function openSessionDb(conf: ImapdConf): CyrusDb {
  return openConfDb(conf, 'tls_sessions');
}

/** Remove expired entries; returns how many were removed. */
export function pruneSessions(db: CyrusDb, timeoutSec: number, now = Date.now()): number {
  let removed = 0;
  const stale: Buffer[] = [];
  db.foreach('', (k, v) => {
    if (k.toString() === KEY) {
      const r = decode(v);
      if (!r || timeoutSec === 0 || now - r.created >= timeoutSec * 1000 || r.created > now + 60_000)
        stale.push(k);
    } else {
      stale.push(k); // nothing else belongs here
    }
  });
  for (const k of stale) if (db.delete(k)) removed++;
  return removed;
}
