/**
 * The facade protocols authenticate through: which SASL mechanisms to offer, running an
 * exchange, LOGIN/USER+PASS password checks, APOP, authorisation, the failed-login pause.
 *
 * Policy (Cyrus 3.6 imapd/pop3d + Cyrus SASL, imapd-conf.md §2.2):
 *  - tls_required: nothing at all is offered or accepted before TLS.
 *  - allowplaintext off: no PLAIN, LOGIN, IMAP LOGIN or POP3 USER/PASS without TLS.
 *  - sasl_minimum_layer: we have no SASL security layers, so only TLS can provide the SSF;
 *    a minimum above 0 means "nothing before TLS", above 256 means "never".
 *  - sasl_mech_list (space separated) restricts the offer to the names listed; CRAM-MD5 is
 *    offered only when listed there, because our sasldb keeps cleartext only on request
 *    (`cyr_saslpasswd -k`), and a client that prefers CRAM-MD5 would otherwise fail for most
 *    users.
 *  - SCRAM needs stored secrets: offered only when the auxprop store is in use.
 *  - -PLUS variants are offered only on TLS and only when the caller says it will pass the
 *    channel bindings (`hasChannelBinding`), so a protocol that does not pass them never
 *    advertises a mechanism it cannot run.
 *  - EXTERNAL when the connection has an external identity; ANONYMOUS only with
 *    allowanonymouslogin.
 * Failed logins are logged at notice level as `badlogin: <remote> <mech> [<user>] <why>` —
 * never with the password or the raw client data.
 *
 * How a protocol uses it (IMAP shown; POP3/LMTP/ManageSieve differ only in framing):
 *   const auth = createAuthenticator(conf, log);            // once per worker (service init)
 *   caps: auth.mechanisms({ secure, hasExternal: !!externalId, hasChannelBinding: !!tls }).map((m) => `AUTH=${m}`)
 *         and LOGINDISABLED when !auth.plaintextAllowed(secure)
 *   LOGIN u p:  const who = await auth.checkPassword(u, p, { service, secure, remote });
 *               if (!who) { await sleep(auth.failedLoginDelay()); NO ... }
 *   AUTHENTICATE m [ir]:
 *     const ex = auth.start(m, { service, secure, serverName, remote,
 *                                channelBindings: tls ? channelBindings(tls) : undefined,
 *                                externalId: tls ? externalIdentity(tls) : undefined });
 *     const ok = await runExchange(ex, { initial, challenge });   // sasl/wire.ts
 *     const who = auth.identityFor(ok.authcid, ok.authzid);
 *   SaslFailure reasons: 'mech' → NO unsupported; 'aborted' → BAD/NO cancelled;
 *   'syntax' / 'auth' / 'authz' → NO after failedLoginDelay().
 *
 * Imports: config contract, logger, store contract (Identity), the rest of src/auth.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { hostname } from 'node:os';
import type { ImapdConf } from '../config/api.js';
import type { Logger } from '../log/logger.js';
import type { Identity } from '../store/api.js';
import {
  type Authenticator,
  type PasswordStore,
  type SaslContext,
  type SaslExchange,
  type ScramHash,
  SaslFailure,
} from './api.js';
import { canonUser, isAdmin, mayAuthorize } from './identity.js';
import { openPasswordStore, sasldbPath } from './passwords.js';
import type { MechBackend } from './sasl/common.js';
import { plain } from './sasl/plain.js';
import { login } from './sasl/login.js';
import { cramMd5 } from './sasl/cram-md5.js';
import { scram } from './sasl/scram.js';
import { external } from './sasl/external.js';
import { anonymous } from './sasl/anonymous.js';

export type { Authenticator } from './api.js';

/** Every mechanism we implement, in the order we prefer them. */
export const ALL_MECHANISMS = [
  'EXTERNAL',
  'SCRAM-SHA-256-PLUS',
  'SCRAM-SHA-1-PLUS',
  'SCRAM-SHA-256',
  'SCRAM-SHA-1',
  'CRAM-MD5',
  'PLAIN',
  'LOGIN',
  'ANONYMOUS',
] as const;

const PLAINTEXT_MECHS = new Set(['PLAIN', 'LOGIN']);

export interface AuthenticatorOptions {
  /** use this store instead of the one sasl_pwcheck_method names (tests) */
  store?: PasswordStore;
  /** whether that store keeps SCRAM secrets (default true with `store`) */
  storeHasSecrets?: boolean;
  /** nonce source for SCRAM/CRAM-MD5 (tests) */
  nonce?: () => string;
}

export function createAuthenticator(
  conf: ImapdConf,
  log: Logger,
  opts: AuthenticatorOptions = {},
): Authenticator {
  const choice = opts.store
    ? { store: opts.store, hasSecrets: opts.storeHasSecrets ?? true }
    : openPasswordStore(conf, (m) => log.error(m));
  // a broken store (unreadable file, wrong format) fails closed: logged, never thrown at a
  // protocol in the middle of a login
  const store = failClosed(choice.store, log);
  // stable across worker processes (same salt for the same unknown user every time), so the
  // fake SCRAM salt does not reveal that a user is unknown
  const secret = createHash('sha256')
    .update(`cyrus-ts:${hostname()}:${conf.path}:${sasldbPath(conf)}`)
    .digest();

  const mechList = (conf.getSasl('mech_list') ?? '').toUpperCase().split(/\s+/).filter(Boolean);
  const listed = (m: string): boolean => (mechList.length === 0 ? m !== 'CRAM-MD5' : mechList.includes(m));

  const plaintextAllowed = (secure: boolean): boolean => {
    if (conf.getSwitch('tls_required') && !secure) return false;
    return secure || conf.getSwitch('allowplaintext');
  };

  const mechanisms = (o: {
    secure: boolean;
    hasExternal?: boolean;
    hasChannelBinding?: boolean;
  }): string[] => {
    if (conf.getSwitch('tls_required') && !o.secure) return [];
    const ssf = o.secure ? 256 : 0;
    if (conf.getInt('sasl_minimum_layer') > ssf) return [];
    return ALL_MECHANISMS.filter((m) => {
      if (!listed(m.replace(/-PLUS$/, '')) && !listed(m)) return false;
      if (m === 'EXTERNAL') return !!o.hasExternal;
      if (m.endsWith('-PLUS')) return o.secure && !!o.hasChannelBinding && choice.hasSecrets;
      if (m.startsWith('SCRAM-')) return choice.hasSecrets;
      if (PLAINTEXT_MECHS.has(m)) return plaintextAllowed(o.secure);
      if (m === 'ANONYMOUS') return conf.getSwitch('allowanonymouslogin');
      return true;
    });
  };

  const badlogin = (
    remote: string | undefined,
    mech: string,
    user: string | undefined,
    why: string,
  ): void => {
    const u = user === undefined ? '' : ` [${user.replace(/[^\x21-\x7e]/g, '?').slice(0, 255)}]`;
    log.notice(`badlogin: ${remote ?? 'unknown'} ${mech}${u} ${why}`);
  };

  const identity = (userid: string): Identity => ({ userid, isAdmin: isAdmin(conf, userid), groups: [] });

  const backendFor = (seen: { user?: string }): MechBackend => ({
    canon: (raw) => {
      seen.user ??= raw;
      return canonUser(conf, raw);
    },
    verify: (u, p) => store.verify(u, p, conf.service),
    scram: (u, h) => store.scram(u, h),
    cleartext: (u) => store.cleartext(u),
    secret,
    nonce: opts.nonce,
  });

  const start = (mech: string, ctx: SaslContext): SaslExchange => {
    const name = mech.toUpperCase();
    const bindings = ctx.channelBindings ?? (ctx.channelBinding ? [ctx.channelBinding] : []);
    const offered = mechanisms({
      secure: ctx.secure,
      hasExternal: !!ctx.externalId,
      hasChannelBinding: bindings.length > 0,
    });
    if (!offered.includes(name)) throw new SaslFailure(`mechanism ${name} not available`, 'mech');
    const seen: { user?: string } = {};
    const be = backendFor(seen);
    let ex: SaslExchange;
    switch (name) {
      case 'PLAIN':
        ex = plain(be);
        break;
      case 'LOGIN':
        ex = login(be);
        break;
      case 'CRAM-MD5':
        ex = cramMd5(be, ctx.serverName);
        break;
      case 'SCRAM-SHA-1':
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-1-PLUS':
      case 'SCRAM-SHA-256-PLUS': {
        const plus = name.endsWith('-PLUS');
        if (plus && bindings.length === 0)
          throw new SaslFailure('no channel binding on this connection', 'mech');
        ex = scram(be, {
          hash: name.startsWith('SCRAM-SHA-1') ? 'SHA-1' : 'SHA-256',
          plus,
          bindings: ctx.secure ? bindings : [],
        });
        break;
      }
      case 'EXTERNAL':
        ex = external(be, ctx.externalId);
        break;
      case 'ANONYMOUS':
        ex = anonymous((t) =>
          log.info(`anonymous login: ${ctx.remote ?? 'unknown'} trace=${JSON.stringify(t.slice(0, 64))}`),
        );
        break;
      default:
        throw new SaslFailure(`mechanism ${name} not available`, 'mech');
    }
    return {
      step: async (resp) => {
        try {
          const r = await ex.step(resp);
          // authorisation checked here too, so a protocol that forgot identityFor() still
          // cannot let a user act as someone else
          if ('done' in r && r.done.authzid !== '' && !mayAuthorize(conf, r.done.authcid, r.done.authzid))
            throw new SaslFailure(`${r.done.authcid} may not act as ${r.done.authzid}`, 'authz');
          return r;
        } catch (e) {
          if (e instanceof SaslFailure && e.reason !== 'mech')
            badlogin(ctx.remote, name, seen.user, `${e.reason}: ${e.message}`);
          throw e;
        }
      },
    };
  };

  const checkPassword: Authenticator['checkPassword'] = async (user, password, ctx) => {
    if (!plaintextAllowed(ctx.secure)) {
      badlogin(ctx.remote, 'plaintext', user, 'cleartext passwords not allowed without TLS');
      return null;
    }
    const userid = canonUser(conf, user);
    if (userid === null) {
      badlogin(ctx.remote, 'plaintext', user, 'invalid user name');
      return null;
    }
    if (userid === 'anonymous' && conf.getSwitch('allowanonymouslogin')) return identity('anonymous');
    if (!(await store.verify(userid, password, ctx.service))) {
      badlogin(ctx.remote, 'plaintext', userid, 'authentication failure');
      return null;
    }
    return identity(userid);
  };

  const identityFor = (authcid: string, authzid: string): Identity => {
    if (authcid === 'anonymous' && authzid === '' && conf.getSwitch('allowanonymouslogin'))
      return identity('anonymous');
    const c = canonUser(conf, authcid);
    const z = authzid === '' ? '' : canonUser(conf, authzid);
    if (c === null || z === null) throw new SaslFailure('invalid user name', 'authz');
    if (!mayAuthorize(conf, c, z)) {
      badlogin(undefined, 'authz', c, `may not act as ${z}`);
      throw new SaslFailure(`${c} may not act as ${z}`, 'authz');
    }
    return identity(z === '' ? c : z);
  };

  const apop: Authenticator['apop'] = async (user, banner, digest, ctx) => {
    const userid = canonUser(conf, user);
    const clear = userid === null || !conf.getSwitch('allowapop') ? null : await store.cleartext(userid);
    const d = digest.toLowerCase();
    if (userid !== null && clear !== null && /^[0-9a-f]{32}$/.test(d)) {
      const want = createHash('md5')
        .update(banner + clear)
        .digest();
      if (timingSafeEqual(want, Buffer.from(d, 'hex'))) return identity(userid);
    }
    badlogin(ctx?.remote, 'APOP', userid ?? user, 'authentication failure');
    return null;
  };

  return {
    mechanisms,
    plaintextAllowed,
    start,
    checkPassword,
    identityFor,
    failedLoginDelay: () => Math.max(0, conf.getDuration('failedloginpause')) * 1000,
    plaintextLoginPolicy: (secure) =>
      secure
        ? { pauseMs: 0, alert: null }
        : {
            pauseMs: Math.max(0, conf.getDuration('plaintextloginpause')) * 1000,
            alert: conf.getString('plaintextloginalert'),
          },
    apop,
  };
}

function failClosed(inner: PasswordStore, log: Logger): PasswordStore {
  let last = '';
  const report = (e: unknown): void => {
    const m = `password store error: ${(e as Error).message}`;
    // one line per distinct problem, not one per login attempt
    if (m !== last) log.error(m);
    last = m;
  };
  const guard =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>, dflt: R) =>
    async (...a: A): Promise<R> => {
      try {
        return await fn(...a);
      } catch (e) {
        report(e);
        return dflt;
      }
    };
  return {
    verify: guard((u: string, p: string, s: string) => inner.verify(u, p, s), false),
    scram: guard((u: string, h: ScramHash) => inner.scram(u, h), null),
    cleartext: guard((u: string) => inner.cleartext(u), null),
    exists: guard((u: string) => inner.exists(u), false),
  };
}

/** Whether APOP can be offered at all (allowapop and a store that may keep cleartext). */
export function apopPossible(conf: ImapdConf): boolean {
  if (!conf.getSwitch('allowapop')) return false;
  const m = (conf.getSasl('pwcheck_method') ?? 'auxprop').split(/\s+/);
  return m.includes('auxprop');
}
