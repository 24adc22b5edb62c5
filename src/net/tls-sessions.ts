/**
 * The TLS session cache in `tls_sessions.db` (tls_sessions_db_path, ephemeral: may sit on
 * tmpfs and be lost at reboot).
 *
 * How resumption works across processes, two ways, both kept here:
 *  - Session tickets (RFC 5077 for TLS 1.2, RFC 8446 §4.6.1 for TLS 1.3): every worker of
 *    every service encrypts tickets with the same ticket key, stored here, so a client that
 *    got a ticket from one worker resumes with any other. Nearly every client uses these.
 *  - A session-id cache (TLS 1.2 clients that do not do tickets): the sessions themselves,
 *    stored at 'newSession' and looked up at 'resumeSession', as Cyrus's tls_sessions.db does.
 *
 * Records (cyrusdb keys):
 *   `ticketkey`     → 8-byte big-endian creation time (ms) + 48 key bytes (Node's layout:
 *                     16 name, 16 HMAC, 16 AES). Used for `tls_session_timeout`, then
 *                     replaced; tickets made with the old key fail to decrypt and the client
 *                     does a full handshake, so no ticket outlives the timeout by more than
 *                     one period.
 *   `s:<id bytes>`  → 8-byte creation time (ms) + the serialized session (DER).
 * `cyr_tls_prune` removes everything older than the timeout (so a stolen old database
 * cannot decrypt recent tickets) and anything it does not recognise.
 *
 * Imports: node:crypto, the db layer, config contract.
 */
import { randomBytes } from 'node:crypto';
import type { ImapdConf } from '../config/api.js';
import { openConfDb, type CyrusDb } from '../db/index.js';

const KEY = 'ticketkey';
const SESSION_PREFIX = Buffer.from('s:');
/** a serialized TLS session is a few KiB at most; refuse to store anything silly */
const MAX_SESSION_BYTES = 16 * 1024;
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

/** Remember a session under its id (TLS 1.2 session-id resumption). */
export function storeSession(db: CyrusDb, id: Buffer, data: Buffer, now = Date.now()): void {
  if (id.length === 0 || id.length > 32 || data.length > MAX_SESSION_BYTES) return;
  const v = Buffer.alloc(8 + data.length);
  v.writeBigUInt64BE(BigInt(now), 0);
  data.copy(v, 8);
  db.store(Buffer.concat([SESSION_PREFIX, id]), v);
}

/** The stored session for an id, or null when unknown or older than the timeout. */
export function fetchSession(db: CyrusDb, id: Buffer, timeoutSec: number, now = Date.now()): Buffer | null {
  if (id.length === 0 || id.length > 32) return null;
  const v = db.fetch(Buffer.concat([SESSION_PREFIX, id]));
  if (!v || v.length <= 8) return null;
  const created = Number(v.readBigUInt64BE(0));
  if (now - created >= timeoutSec * 1000 || created > now + 60_000) return null;
  return Buffer.from(v.subarray(8));
}

/** Remove expired entries (and anything unrecognised); returns how many were removed. */
export function pruneSessions(db: CyrusDb, timeoutSec: number, now = Date.now()): number {
  const expired = (created: number): boolean =>
    timeoutSec === 0 || now - created >= timeoutSec * 1000 || created > now + 60_000;
  const stale: Buffer[] = [];
  db.foreach('', (k, v) => {
    if (k.toString() === KEY) {
      const r = decode(v);
      if (!r || expired(r.created)) stale.push(k);
    } else if (k.subarray(0, SESSION_PREFIX.length).equals(SESSION_PREFIX) && v.length > 8) {
      if (expired(Number(v.readBigUInt64BE(0)))) stale.push(k);
    } else {
      stale.push(k); // nothing else belongs here
    }
  });
  let removed = 0;
  for (const k of stale) if (db.delete(k)) removed++;
  return removed;
}
