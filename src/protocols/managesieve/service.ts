/**
 * `timsieved`: the ManageSieve service (RFC 5804) as a BuiltinService.
 *
 * Owns: per-worker setup (the authenticator; the store, only to check that a user logging in
 * has an INBOX, as timsieved refuses users without one) and one session per connection
 * (session.ts).
 * Imports: master service contract, auth facade, store entry point, session.
 */
import type { Socket } from 'node:net';
import type { BuiltinService, ServiceContext } from '../../master/service-api.js';
import type { Authenticator } from '../../auth/api.js';
import { createAuthenticator } from '../../auth/authenticator.js';
import { openStore, Namespace } from '../../store/index.js';
import type { Store } from '../../store/api.js';
import { runSession } from './session.js';

export interface TimsievedOptions {
  /** use this authenticator (tests: an in-memory user list) */
  auth?: Authenticator;
  /** does the user have an INBOX? default: look in the store; null = do not check */
  inboxExists?: ((userid: string) => boolean) | null;
}

export function createTimsieved(opts: TimsievedOptions = {}): BuiltinService {
  let auth: Authenticator | null = opts.auth ?? null;
  let inboxExists: ((userid: string) => boolean) | null | undefined = opts.inboxExists;
  let store: Store | null = null;
  const open = new Set<Socket>();
  let counter = 0;
  const setup = (ctx: ServiceContext): void => {
    auth ??= createAuthenticator(ctx.config, ctx.log);
    if (inboxExists === undefined) {
      try {
        const s = openStore(ctx.config, { log: ctx.log });
        store = s;
        const ns = new Namespace(ctx.config);
        inboxExists = (userid) => s.lookup(ns.inbox(userid)) !== undefined;
      } catch (e) {
        ctx.log.warning(`timsieved: cannot open the mailbox store, INBOX check off: ${(e as Error).message}`);
        inboxExists = null;
      }
    }
  };
  return {
    init(ctx: ServiceContext) {
      setup(ctx);
    },
    async serve(socket: Socket, ctx: ServiceContext) {
      if (!auth) setup(ctx);
      open.add(socket);
      socket.on('error', () => undefined);
      const session = `${process.pid.toString(36)}-${(++counter).toString(36)}`;
      const log = ctx.log.child(`session=${session}`);
      log.debug(`accepted connection from ${socket.remoteAddress ?? 'unix socket'}`);
      try {
        await runSession(socket, {
          conf: ctx.config,
          log,
          auth: auth!,
          service: ctx.service,
          signal: ctx.signal,
          inboxExists: inboxExists ?? null,
        });
      } finally {
        open.delete(socket);
      }
    },
    shutdown() {
      for (const s of open) {
        if (!s.destroyed) s.end('BYE "Server shutting down"\r\n');
      }
      open.clear();
      store?.close();
      store = null;
    },
  };
}

const timsieved: BuiltinService = createTimsieved();
export default timsieved;
