/**
 * `pop3d` as a built-in service (RFC 1939): one PopSession per accepted connection.
 *
 * Arguments: `-s` implicit TLS (pop3s), `-p <ssf>` an external security layer. Inactivity: `poptimeout` (at least 10 minutes, as
 * Cyrus enforces). Locks and last-login marks under `mboxname_lockpath`.
 */
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { apopPossible, createAuthenticator } from '../../auth/authenticator.js';
import type { BuiltinService, ServiceContext } from '../../master/service-api.js';
import { procEntryOf } from '../../master/procfile.js';
import { startTls, tlsAvailable } from '../../net/tls.js';
import { openStore } from '../../store/index.js';
import type { Store } from '../../store/api.js';
import {
  externalSsf,
  newSessionId,
  product,
  remoteOf,
  serverName,
  shutdownMessage,
} from '../lmtp/identity.js';
import { E } from './replies.js';
import { PopSession, type PopDeps } from './session.js';

interface Worker {
  deps: PopDeps;
  store: Store;
  implicitTls: boolean;
  /** -s, or -p <ssf> with ssf >= 2 */
  secure: boolean;
  sessions: Set<PopSession>;
}

/** per service context: one worker process may run several listeners (and tests do) */
const workers = new WeakMap<ServiceContext, Worker>();

export function popDeps(ctx: ServiceContext, store: Store): PopDeps {
  const conf = ctx.config;
  return {
    conf,
    log: ctx.log,
    store,
    auth: createAuthenticator(conf, ctx.log),
    startTls: tlsAvailable(conf) ? (s: Duplex) => startTls(s, conf, { log: ctx.log }) : null,
    serverName: serverName(conf),
    product: product(conf, 'POP3'),
    apop: apopPossible(conf),
    lockDir: conf.getString('mboxname_lockpath') ?? join(conf.configDirectory, 'lock'),
  };
}

const pop3d: BuiltinService = {
  init(ctx) {
    const store = openStore(ctx.config, { log: ctx.log });
    workers.set(ctx, {
      deps: popDeps(ctx, store),
      store,
      implicitTls: ctx.argv.includes('-s'),
      secure: ctx.argv.includes('-s') || externalSsf(ctx.argv) >= 2,
      sessions: new Set(),
    });
  },

  async serve(socket: Socket, ctx) {
    if (!workers.has(ctx)) pop3d.init!(ctx);
    const w = workers.get(ctx)!;
    const sessionId = newSessionId(ctx.config);
    const log = ctx.log.child(`session=${sessionId.split('-').slice(-2).join('-')}`);
    socket.on('error', (e) => log.debug(`socket: ${e.message}`));
    // replies are small and pipelined: Nagle + the peer's delayed ACK would add ~40 ms each
    socket.setNoDelay(true);
    const timeout = Math.max(600, ctx.config.getDuration('poptimeout')) * 1000;
    let session: PopSession | null = null;
    socket.setTimeout(timeout, () => {
      log.info('autologout: idle for too long');
      session?.end();
      socket.end(E.timeout + '\r\n');
      socket.destroy();
    });
    let stream: Duplex = socket;
    if (w.implicitTls) {
      try {
        stream = await startTls(socket, ctx.config, { log });
      } catch (e) {
        log.notice(`TLS handshake failed: ${String(e)}`);
        return;
      }
    }
    const down = shutdownMessage(ctx.config);
    if (down !== null) {
      stream.end(`-ERR [SYS/TEMP] ${down}\r\n`);
      return;
    }
    session = new PopSession(
      { ...w.deps, log },
      { stream, secure: w.secure, remote: remoteOf(socket), sessionId, proc: procEntryOf(socket) },
    );
    w.sessions.add(session);
    try {
      await session.run();
    } finally {
      w.sessions.delete(session);
      stream.end();
    }
  },

  shutdown(ctx) {
    const w = workers.get(ctx);
    if (!w) return;
    workers.delete(ctx);
    for (const s of w.sessions) {
      s.end();
      s.conn.stream.end(E.shutdown + '\r\n');
    }
    w.store.close();
  },
};

export default pop3d;
