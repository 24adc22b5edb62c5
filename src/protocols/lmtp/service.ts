/**
 * `lmtpd` as a built-in service (RFC 2033): one LmtpSession per accepted connection.
 *
 * Arguments (cyrus.conf `cmd=`): `-a` pre-authorise TCP peers as postman (unix-socket peers
 * always are), `-s` implicit TLS, `-p <ssf>` an external security layer. Workers open the store, the authenticator, deliver.db
 * (when duplicatesuppression) and the TLS context once in `init`.
 *
 * The Sieve hook: `plannerFor(ctx)` picks the DeliveryPlanner (deliver.ts); it is the single
 * place where src/sieve plugs in.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createAuthenticator } from '../../auth/authenticator.js';
import { DuplicateDb } from '../../db/duplicate.js';
import type { BuiltinService, ServiceContext } from '../../master/service-api.js';
import { procEntryOf } from '../../master/procfile.js';
import { startTls, tlsAvailable } from '../../net/tls.js';
import { openStore } from '../../store/index.js';
import type { Store } from '../../store/api.js';
import type { DeliveryPlanner } from './deliver.js';
import { sievePlanner } from '../../sieve/planner.js';
import { externalSsf, newSessionId, product, remoteOf, serverName, shutdownMessage } from './identity.js';
import { R, formatReply } from './replies.js';
import { LmtpSession, type LmtpDeps } from './session.js';

/** RFC 5321 4.5.3.2.7: a server should wait at least 5 minutes for the next command */
const IDLE_TIMEOUT_MS = 5 * 60 * 1000;

/**
 * The DeliveryPlanner this service uses: Sieve (src/sieve/planner.ts), which falls back to
 * `defaultPlanner`'s answer (INBOX or the +detail folder) for users without an active script.
 */
export function plannerFor(ctx: ServiceContext): DeliveryPlanner {
  void ctx;
  return sievePlanner;
}

interface Worker {
  deps: LmtpDeps;
  store: Store;
  dup: DuplicateDb | null;
  preauthTcp: boolean;
  implicitTls: boolean;
  /** -s, or -p <ssf> with ssf >= 2 */
  secure: boolean;
  sessions: Set<{ socket: Duplex }>;
}

/** per service context: one worker process may run several listeners (and tests do) */
const workers = new WeakMap<ServiceContext, Worker>();

/** Build the dependencies of LMTP sessions from a service context (also used by cyr_deliver -l). */
export function lmtpDeps(ctx: ServiceContext, store: Store, dup: DuplicateDb | null): LmtpDeps {
  const conf = ctx.config;
  return {
    conf,
    log: ctx.log,
    store,
    dup,
    planner: plannerFor(ctx),
    auth: createAuthenticator(conf, ctx.log),
    startTls: tlsAvailable(conf) ? (s: Duplex) => startTls(s, conf, { log: ctx.log }) : null,
    serverName: serverName(conf),
    product: product(conf, 'LMTP'),
  };
}

export function openDuplicateDb(ctx: ServiceContext): DuplicateDb | null {
  if (!ctx.config.getSwitch('duplicatesuppression')) return null;
  try {
    return DuplicateDb.open(ctx.config, (e) =>
      ctx.log.error(`deliver.db: cannot record a delivery: ${String(e)}`),
    );
  } catch (e) {
    ctx.log.error(`cannot open duplicate delivery db; suppression off: ${String(e)}`);
    return null;
  }
}

const lmtpd: BuiltinService = {
  init(ctx) {
    const store = openStore(ctx.config, { log: ctx.log });
    const dup = openDuplicateDb(ctx);
    workers.set(ctx, {
      deps: lmtpDeps(ctx, store, dup),
      store,
      dup,
      preauthTcp: ctx.argv.includes('-a'),
      implicitTls: ctx.argv.includes('-s'),
      secure: ctx.argv.includes('-s') || externalSsf(ctx.argv) >= 2,
      sessions: new Set(),
    });
  },

  async serve(socket: Socket, ctx) {
    if (!workers.has(ctx)) lmtpd.init!(ctx);
    const w = workers.get(ctx)!;
    const log = ctx.log.child(`session=${newSessionId(ctx.config).split('-').slice(-2).join('-')}`);
    const unix = !socket.remoteAddress;
    let stream: Duplex = socket;
    socket.on('error', (e) => log.debug(`socket: ${e.message}`));
    // replies are small and pipelined: Nagle + the peer's delayed ACK would add ~40 ms each
    socket.setNoDelay(true);
    socket.setTimeout(IDLE_TIMEOUT_MS, () => {
      socket.end(formatReply(R.timeout));
      socket.destroy();
    });
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
      stream.end(`421 4.3.2 ${down}\r\n`);
      return;
    }
    const entry = { socket: stream };
    w.sessions.add(entry);
    const session = new LmtpSession(
      { ...w.deps, log },
      {
        stream,
        preauth: unix || w.preauthTcp,
        secure: w.secure,
        remote: remoteOf(socket),
        sessionId: newSessionId(ctx.config),
        proc: procEntryOf(socket),
      },
    );
    try {
      await session.run();
    } finally {
      w.sessions.delete(entry);
      stream.end();
    }
  },

  shutdown(ctx) {
    const w = workers.get(ctx);
    if (!w) return;
    workers.delete(ctx);
    for (const s of w.sessions) s.socket.end(formatReply(R.shuttingDown));
    w.dup?.close();
    w.store.close();
  },
};

export default lmtpd;
