/**
 * TLS for every protocol: the server context from imapd.conf, STARTTLS upgrades of accepted
 * sockets, implicit TLS (`-s`), channel-binding data for SCRAM-PLUS and the client-certificate
 * identity for EXTERNAL.
 *
 * Options (imapd-conf.md §2.3, Cyrus 3.6 semantics):
 *  - TLS exists only when both tls_server_cert and tls_server_key are set and neither is
 *    `disabled`. Each may list two comma-separated files (e.g. RSA,EC), paired in order.
 *  - tls_client_certs: `off` never asks for a certificate; `optional` (default) asks when a
 *    client CA is configured and accepts connections without one (an unverified certificate
 *    simply gives no EXTERNAL identity); `require` refuses the handshake without a valid one.
 *    CAs come from tls_client_ca_file and every certificate file in tls_client_ca_dir.
 *  - tls_versions ("tls1_0 tls1_1 tls1_2 tls1_3"): the lowest and highest listed become the
 *    allowed range (OpenSSL, like Node, cannot leave a hole in the middle).
 *  - tls_ciphers applies to TLS ≤ 1.2 as in Cyrus (OpenSSL's cipher list); TLS 1.3 suites
 *    stay at the defaults. `DEFAULT` leaves Node's default list.
 *  - tls_prefer_server_ciphers → honorCipherOrder; tls_server_dhparam; tls_crl_file.
 *  - tls_eccurve: the Cyrus default `prime256v1` is read as "automatic" (X25519 first, then
 *    P-256...); any other value pins that curve as Cyrus does.
 *  - tls_session_timeout: session lifetime; ticket keys and TLS 1.2 session ids are shared
 *    through tls_sessions.db (see tls-sessions.ts); 0 turns resumption off.
 * Contexts are built once per conf and rebuilt after 60 s or when the ticket key rotates, so
 * renewed certificate files are picked up without a restart.
 *
 * Imports: node built-ins, config contract, logger, tls-sessions.
 */
import { constants as cryptoConstants, createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import tls, { type SecureContext, type TLSSocket, type TlsOptions } from 'node:tls';
import { ConfigError, type ImapdConf } from '../config/api.js';
import type { Logger } from '../log/logger.js';
import type { CyrusDb } from '../db/index.js';
import {
  currentTicketKey,
  fetchSession,
  openSessionDb,
  sessionTimeout,
  storeSession,
} from './tls-sessions.js';

const VERSION_NAMES: Record<string, tls.SecureVersion> = {
  tls1_0: 'TLSv1',
  tls1_1: 'TLSv1.1',
  tls1_2: 'TLSv1.2',
  tls1_3: 'TLSv1.3',
};
const VERSION_ORDER: tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const CONTEXT_TTL_MS = 60_000;
const MAX_CA_FILES = 2000;

/** Is TLS configured (cert and key both set, not `disabled`)? */
export function tlsAvailable(conf: ImapdConf): boolean {
  const c = conf.getString('tls_server_cert');
  const k = conf.getString('tls_server_key');
  return !!c && !!k && c !== 'disabled' && k !== 'disabled';
}

function readConfFile(conf: ImapdConf, opt: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(
      `${opt}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      conf.path,
      undefined,
      opt,
    );
  }
}

/** Client-certificate CAs from tls_client_ca_file and tls_client_ca_dir (PEM blocks). */
function clientCAs(conf: ImapdConf): Buffer[] {
  const out: Buffer[] = [];
  const file = conf.getString('tls_client_ca_file');
  if (file) out.push(readConfFile(conf, 'tls_client_ca_file', file));
  const dir = conf.getString('tls_client_ca_dir');
  if (dir) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).sort().slice(0, MAX_CA_FILES);
    } catch (e) {
      throw new ConfigError(
        `tls_client_ca_dir: cannot read ${dir}: ${(e as NodeJS.ErrnoException).code}`,
        conf.path,
        undefined,
        'tls_client_ca_dir',
      );
    }
    const seen = new Set<string>();
    for (const n of names) {
      const p = join(dir, n);
      try {
        if (!statSync(p).isFile()) continue;
        const b = readFileSync(p);
        if (!b.includes('-----BEGIN CERTIFICATE-----')) continue;
        // hashed directories (c_rehash) hold symlinks to the same files
        const h = createHash('sha256').update(b).digest('hex');
        if (seen.has(h)) continue;
        seen.add(h);
        out.push(b);
      } catch {
        /* unreadable entries are skipped, as OpenSSL's lookup does */
      }
    }
  }
  return out;
}

/** tls_versions → Node's min/max. Throws ConfigError when nothing usable is listed. */
export function versionRange(conf: ImapdConf): {
  minVersion: tls.SecureVersion;
  maxVersion: tls.SecureVersion;
} {
  const listed = (conf.getString('tls_versions') ?? '')
    .split(/\s+/)
    .map((v) => VERSION_NAMES[v.toLowerCase()])
    .filter((v): v is tls.SecureVersion => v !== undefined)
    .sort((a, b) => VERSION_ORDER.indexOf(a) - VERSION_ORDER.indexOf(b));
  if (listed.length === 0)
    throw new ConfigError(
      'tls_versions lists no known version (tls1_0 tls1_1 tls1_2 tls1_3)',
      conf.path,
      undefined,
      'tls_versions',
    );
  return { minVersion: listed[0], maxVersion: listed[listed.length - 1] };
}

/** tls_ciphers for TLS ≤ 1.2, keeping the default TLS 1.3 suites (Node would drop 1.3 otherwise). */
function cipherString(conf: ImapdConf): string | undefined {
  const c = (conf.getString('tls_ciphers') ?? 'DEFAULT').trim();
  if (c === '' || c === 'DEFAULT') return undefined;
  if (/(^|:)TLS_/.test(c)) return c;
  const tls13 = tls.DEFAULT_CIPHERS.split(':').filter((s) => s.startsWith('TLS_'));
  return [...tls13, c].join(':');
}

export interface ClientCertPolicy {
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

export function clientCertPolicy(conf: ImapdConf, haveCA: boolean): ClientCertPolicy {
  const mode = conf.getEnum('tls_client_certs');
  if (mode === 'off') return { requestCert: false, rejectUnauthorized: false };
  if (mode === 'require') return { requestCert: true, rejectUnauthorized: true };
  return { requestCert: haveCA, rejectUnauthorized: false };
}

/**
 * Options for `tls.createServer` / `new TLSSocket` (implicit TLS, `-s`). Reads the files
 * named by the conf. Throws ConfigError when TLS is not configured or a file is unreadable.
 */
export function tlsServerOptions(conf: ImapdConf, opts: { ticketKey?: Buffer } = {}): TlsOptions {
  if (!tlsAvailable(conf))
    throw new ConfigError('TLS is not configured (tls_server_cert, tls_server_key)', conf.path);
  const certs = conf
    .getString('tls_server_cert')!
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const keys = conf
    .getString('tls_server_key')!
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const ca = clientCAs(conf);
  const o: TlsOptions = {
    cert: certs.map((p) => readConfFile(conf, 'tls_server_cert', p)),
    key: (keys.length === certs.length ? keys : certs.map((_, i) => keys[Math.min(i, keys.length - 1)])).map(
      (p) => readConfFile(conf, 'tls_server_key', p),
    ),
    ...versionRange(conf),
    honorCipherOrder: conf.getSwitch('tls_prefer_server_ciphers'),
    ...clientCertPolicy(conf, ca.length > 0),
  };
  if (ca.length > 0) o.ca = ca;
  const ciphers = cipherString(conf);
  if (ciphers) o.ciphers = ciphers;
  const curve = conf.getString('tls_eccurve');
  if (curve && curve !== 'prime256v1') o.ecdhCurve = curve;
  const dh = conf.getString('tls_server_dhparam');
  if (dh) o.dhparam = readConfFile(conf, 'tls_server_dhparam', dh);
  const crl = conf.getString('tls_crl_file');
  if (crl) o.crl = readConfFile(conf, 'tls_crl_file', crl);
  const timeout = sessionTimeout(conf);
  if (timeout === 0) {
    o.secureOptions = cryptoConstants.SSL_OP_NO_TICKET;
  } else {
    o.sessionTimeout = timeout;
    if (opts.ticketKey) o.ticketKeys = opts.ticketKey;
  }
  // one id for the whole suite, so sessions resume across services and workers
  o.sessionIdContext = createHash('sha1').update(`cyrus-ts:${conf.path}`).digest('hex').slice(0, 32);
  return o;
}

interface Pending {
  resolve: (t: TLSSocket) => void;
  reject: (e: Error) => void;
}

interface CachedContext {
  ctx: SecureContext;
  /** a tls.Server that never listens: sockets are handed to it with emit('connection') */
  server: tls.Server;
  pending: WeakMap<object, Pending>;
  built: number;
  keyExpires: number;
}
const contexts = new WeakMap<ImapdConf, CachedContext>();

/** one handle per session database file for the life of the process */
const sessionDbs = new Map<string, CyrusDb | null>();

function sessionDb(conf: ImapdConf, log?: Logger): CyrusDb | null {
  const key = `${conf.path}\0${conf.configDirectory}\0${conf.getString('tls_sessions_db_path') ?? ''}`;
  if (sessionDbs.has(key)) return sessionDbs.get(key)!;
  let db: CyrusDb | null = null;
  try {
    db = openSessionDb(conf);
  } catch (e) {
    // no shared cache: tickets still resume within this process
    log?.warning(
      `tls_sessions.db unavailable (${(e as Error).message}); TLS sessions resume only within this process`,
    );
  }
  sessionDbs.set(key, db);
  return db;
}

function ticketKeyFor(conf: ImapdConf, db: CyrusDb | null, log?: Logger): { key?: Buffer; expires: number } {
  const timeout = sessionTimeout(conf);
  if (timeout === 0) return { expires: Infinity };
  if (!db) return { expires: Date.now() + CONTEXT_TTL_MS };
  try {
    return currentTicketKey(db, timeout);
  } catch (e) {
    log?.warning(`tls_sessions.db: ${(e as Error).message}`);
    return { expires: Date.now() + CONTEXT_TTL_MS };
  }
}

/** the raw socket a server-side TLSSocket wraps (Node keeps it as `_parent`) */
function parentOf(t: TLSSocket): object | undefined {
  return (t as unknown as { _parent?: object })._parent;
}

function cached(conf: ImapdConf, log?: Logger): CachedContext {
  const now = Date.now();
  const c = contexts.get(conf);
  if (c && now - c.built < CONTEXT_TTL_MS && now < c.keyExpires) return c;
  const timeout = sessionTimeout(conf);
  const db = timeout > 0 ? sessionDb(conf, log) : null;
  const tk = ticketKeyFor(conf, db, log);
  const o = tlsServerOptions(conf, { ticketKey: tk.key });
  // Node verifies client certificates (authorized / rejectUnauthorized) only for sockets a
  // tls.Server wraps, so upgrades go through one, fed with emit('connection') as Node's own
  // docs do for injected connections.
  const server = tls.createServer(o);
  const pending = new WeakMap<object, Pending>();
  server.on('secureConnection', (t: TLSSocket) => {
    const p = pending.get(parentOf(t) ?? t);
    if (p) p.resolve(t);
    else t.destroy();
  });
  server.on('tlsClientError', (err: Error, t: TLSSocket) => pending.get(parentOf(t) ?? t)?.reject(err));
  if (db) {
    // session-id resumption for TLS 1.2 clients without tickets, shared by every worker
    server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
      try {
        storeSession(db, id, data);
      } catch (e) {
        log?.debug(`tls_sessions.db: cannot store a session: ${(e as Error).message}`);
      }
      done();
    });
    server.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => {
      let data: Buffer | null = null;
      try {
        data = fetchSession(db, id, timeout);
      } catch {
        data = null;
      }
      done(null, data);
    });
  }
  const made: CachedContext = {
    ctx: tls.createSecureContext(o),
    server,
    pending,
    built: now,
    keyExpires: tk.expires,
  };
  contexts.set(conf, made);
  return made;
}

/** The server SecureContext for this conf, or null when TLS is not configured. */
export function tlsServerContext(conf: ImapdConf, log?: Logger): SecureContext | null {
  if (!tlsAvailable(conf)) return null;
  return cached(conf, log).ctx;
}

export interface StartTlsOptions {
  log?: Logger;
  /** give up on a handshake that takes longer (ms); default 60 s */
  timeoutMs?: number;
}

/**
 * Run the server side of a TLS handshake on an accepted socket: for STARTTLS (after the
 * protocol's "go ahead" reply was written and any buffered plaintext discarded) and for
 * implicit TLS right after accept. Resolves once the handshake is complete (and, with
 * tls_client_certs: require, the client certificate verified); rejects and destroys the
 * socket on failure or timeout. The caller must add its own 'error' listener afterwards.
 */
export function startTls(socket: Duplex, conf: ImapdConf, opts: StartTlsOptions = {}): Promise<TLSSocket> {
  let c: CachedContext;
  try {
    c = cached(conf, opts.log);
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const onClose = (): void => fail(new Error('connection closed during TLS handshake'));
    const timer = setTimeout(() => fail(new Error('TLS handshake timed out')), opts.timeoutMs ?? 60_000);
    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      c.pending.delete(socket);
      socket.off('close', onClose);
    };
    const fail = (e: Error): void => {
      if (settled) return;
      cleanup();
      socket.destroy();
      reject(e);
    };
    c.pending.set(socket, {
      resolve: (t) => {
        if (settled) return t.destroy();
        cleanup();
        // Hand the socket over one event-loop turn later, so the TLS 1.3 session tickets are
        // flushed before the protocol's greeting: written in the same turn they share a TCP
        // segment, and clients that select() on the socket without checking OpenSSL's
        // buffer (Cyrus 3.6 imtest -s) then wait forever for a greeting they already have.
        setImmediate(() => resolve(t));
      },
      reject: fail,
    });
    socket.once('close', onClose);
    socket.resume();
    c.server.emit('connection', socket);
  });
}

/** Which hash tls-server-end-point uses for this certificate (RFC 5929 §4.1). */
export function endPointHash(der: Buffer): 'sha256' | 'sha384' | 'sha512' {
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, ... }
  const readLen = (off: number): { len: number; hdr: number } => {
    const b = der[off + 1];
    if (b < 0x80) return { len: b, hdr: 2 };
    const n = b & 0x7f;
    let len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[off + 2 + i];
    return { len, hdr: 2 + n };
  };
  try {
    const outer = readLen(0);
    const tbsOff = outer.hdr;
    const tbs = readLen(tbsOff);
    const algOff = tbsOff + tbs.hdr + tbs.len;
    const alg = readLen(algOff);
    const oidOff = algOff + alg.hdr;
    const oid = readLen(oidOff);
    const hex = der.subarray(oidOff + oid.hdr, oidOff + oid.hdr + oid.len).toString('hex');
    const HASH: Record<string, 'sha384' | 'sha512'> = {
      '2a864886f70d01010c': 'sha384', // sha384WithRSAEncryption
      '2a864886f70d01010d': 'sha512', // sha512WithRSAEncryption
      '2a8648ce3d040303': 'sha384', // ecdsa-with-SHA384
      '2a8648ce3d040304': 'sha512', // ecdsa-with-SHA512
    };
    return HASH[hex] ?? 'sha256';
  } catch {
    return 'sha256';
  }
}

/**
 * Channel bindings this TLS connection offers, best first: TLS 1.3 gives tls-exporter
 * (RFC 9266), TLS ≤ 1.2 gives tls-unique (RFC 5929 §3: the first Finished message — the
 * client's on a full handshake, ours on a resumed one); both give tls-server-end-point (a
 * hash of our certificate); TLS 1.3 adds tls-unique last, for Cyrus SASL clients.
 */
export function channelBindings(t: TLSSocket): { type: string; data: Buffer }[] {
  const out: { type: string; data: Buffer }[] = [];
  const proto = t.getProtocol();
  const first = t.isSessionReused() ? t.getFinished() : t.getPeerFinished();
  if (proto === 'TLSv1.3') {
    out.push({
      type: 'tls-exporter',
      data: t.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)),
    });
  } else if (first) {
    out.push({ type: 'tls-unique', data: first });
  }
  const mine = t.getCertificate();
  if (mine && 'raw' in mine && mine.raw) {
    out.push({
      type: 'tls-server-end-point',
      data: createHash(endPointHash(mine.raw)).update(mine.raw).digest(),
    });
  }
  // Cyrus SASL 2.1.28 clients (imtest, Cyrus's own Murder/replication clients) bind with
  // tls-unique on TLS 1.3 too, taking the first Finished message as on TLS 1.2. RFC 9266
  // leaves tls-unique undefined there; offered last, for those clients only.
  if (proto === 'TLSv1.3' && first) out.push({ type: 'tls-unique', data: first });
  return out;
}

/** The EXTERNAL identity from a verified client certificate: its subject CN, else undefined. */
export function externalIdentity(t: TLSSocket): string | undefined {
  if (!t.authorized) return undefined;
  const peer = t.getPeerCertificate();
  const cn = peer?.subject?.CN;
  const v = Array.isArray(cn) ? cn[0] : cn;
  return v && v.length > 0 ? v : undefined;
}

/** A log description in Cyrus's words: `TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits new)`. */
export function describeTls(t: TLSSocket): string {
  const c = t.getCipher();
  const bits = c.name.includes('256') || c.name.includes('CHACHA20') ? 256 : 128;
  return `${t.getProtocol() ?? '?'} with cipher ${c.standardName ?? c.name} (${bits}/${bits} bits ${t.isSessionReused() ? 'reused' : 'new'})${
    externalIdentity(t) ? ` authenticated as ${externalIdentity(t)}` : ' no authentication'
  }`;
}
