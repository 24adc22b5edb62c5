/**
 * `imapd`: the BuiltinService cyr_master's worker loads for IMAP (and IMAPS with `-s`).
 *
 * Owns: per-worker setup (store, authenticator, namespace, TLS context, from imapd.conf read
 * for this service), per-connection `ImapSession`s, and shutdown (`* BYE` to open sessions).
 * Arguments (Cyrus imapd(8)): `-s` implicit TLS, `-p ssf` an external security layer (>= 2
 * counts as encrypted), `-N` no password checks (tests only),
 * `-C`/`-U`/`-T`/`-D` are master's and ignored here.
 * Imports: config, log, store, auth, net contracts; session.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { createAuthenticator } from '../../auth/authenticator.js';
import type { BuiltinService, ServiceContext } from '../../master/service-api.js';
import { startTls, tlsAvailable } from '../../net/tls.js';
import type { Store } from '../../store/api.js';
import { openStore } from '../../store/index.js';
import { Namespace } from '../../store/namespace.js';
import { procEntryOf } from '../../master/procfile.js';
import { endGracefully } from './response.js';
import { ImapSession, type SessionDeps } from './session.js';

interface Worker {
  deps: Omit<SessionDeps, 'implicitTls'>;
  implicitTls: boolean;
  /** `-p ssf`: a security layer outside us (stunnel, a VPN); >= 2 counts as encrypted */
  externalSsf: number;
  sessions: Set<ImapSession>;
  store: Store;
}

const workers = new WeakMap<ServiceContext, Worker>();

function ssfArg(argv: string[]): number {
  const i = argv.indexOf('-p');
  const n = i >= 0 ? Number(argv[i + 1]) : 0;
  return Number.isFinite(n) && n > 0 ? n : 0;
}

function setup(ctx: ServiceContext): Worker {
  let w = workers.get(ctx);
  if (w) return w;
  const conf = ctx.config;
  const store = openStore(conf, { log: ctx.log });
  const auth = createAuthenticator(conf, ctx.log);
  const tlsOk = tlsAvailable(conf);
  w = {
    deps: {
      conf,
      service: ctx.service,
      log: ctx.log,
      store,
      auth,
      ns: new Namespace(conf),
      adminNs: new Namespace(conf, { admin: true }),
      startTls: tlsOk ? (sock: Duplex) => startTls(sock, conf, { log: ctx.log }) : null,
      noPasswordCheck: ctx.argv.includes('-N'),
      spoolDir: mkdtempSync(join(tmpdir(), `cyrus-imapd-${process.pid}-`)),
      signal: ctx.signal,
    },
    implicitTls: ctx.argv.includes('-s'),
    externalSsf: ssfArg(ctx.argv),
    sessions: new Set(),
    store,
  };
  workers.set(ctx, w);
  return w;
}

const imapd: BuiltinService = {
  init(ctx) {
    setup(ctx);
  },

  async serve(socket: Socket, ctx) {
    const w = setup(ctx);
    let sock: Duplex = socket;
    if (w.implicitTls) {
      if (!w.deps.startTls) {
        ctx.log.error('imapd -s: TLS is not configured (tls_server_cert/tls_server_key)');
        socket.destroy();
        return;
      }
      try {
        sock = await w.deps.startTls(socket);
      } catch (e) {
        ctx.log.notice(`TLS handshake failed: ${e instanceof Error ? e.message : String(e)}`);
        socket.destroy();
        return;
      }
    }
    socket.setNoDelay?.(true);
    const session = new ImapSession(sock, {
      ...w.deps,
      // no STARTTLS on imaps, behind a declared external layer, or with allowstarttls off
      startTls:
        w.implicitTls || w.externalSsf >= 2 || !ctx.config.getSwitch('allowstarttls')
          ? null
          : w.deps.startTls,
      // -p 2 or more: the connection counts as encrypted (plaintext logins allowed)
      implicitTls: w.implicitTls || w.externalSsf >= 2,
      proc: procEntryOf(socket),
    });
    w.sessions.add(session);
    try {
      await session.run();
    } finally {
      w.sessions.delete(session);
      await endGracefully(sock);
      if (!sock.destroyed) sock.destroy();
    }
  },

  async shutdown(ctx) {
    const w = workers.get(ctx);
    if (!w) return;
    const ending: Promise<void>[] = [];
    for (const s of w.sessions) {
      try {
        s.untagged('BYE Server shutting down');
        s.out.flush();
        // under TLS/COMPRESS the BYE is still being encrypted/deflated: wait for it to leave
        ending.push(endGracefully(s.sock, 1000));
      } catch {
        // already gone
      }
    }
    await Promise.all(ending);
    w.store.close();
    if (w.deps.spoolDir) rmSync(w.deps.spoolDir, { recursive: true, force: true });
    workers.delete(ctx);
  },
};
export default imapd;
