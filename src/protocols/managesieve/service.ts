/**
 * `timsieved`: the ManageSieve service (RFC 5804) as a BuiltinService.
 *
 * Owns: per-worker setup (the authenticator) and one session per connection (session.ts).
 * Imports: master service contract, auth facade, session.
 */
import type { Socket } from 'node:net';
import type { BuiltinService, ServiceContext } from '../../master/service-api.js';
import type { Authenticator } from '../../auth/api.js';
import { createAuthenticator } from '../../auth/authenticator.js';
import { runSession } from './session.js';

/** A timsieved service; tests may pass their own authenticator (e.g. an in-memory user list). */
export function createTimsieved(opts: { auth?: Authenticator } = {}): BuiltinService {
  let auth: Authenticator | null = opts.auth ?? null;
  const open = new Set<Socket>();
  let counter = 0;
  return {
    init(ctx: ServiceContext) {
      auth ??= createAuthenticator(ctx.config, ctx.log);
    },
    async serve(socket: Socket, ctx: ServiceContext) {
      auth ??= createAuthenticator(ctx.config, ctx.log);
      open.add(socket);
      socket.on('error', () => undefined);
      const session = `${process.pid.toString(36)}-${(++counter).toString(36)}`;
      const log = ctx.log.child(`session=${session}`);
      log.debug(`accepted connection from ${socket.remoteAddress ?? 'unix socket'}`);
      try {
        await runSession(socket, { conf: ctx.config, log, auth, service: ctx.service, signal: ctx.signal });
      } finally {
        open.delete(socket);
      }
    },
    shutdown() {
      for (const s of open) {
        if (!s.destroyed) s.end('BYE "Server shutting down"\r\n');
      }
      open.clear();
    },
  };
}

const timsieved: BuiltinService = createTimsieved();
export default timsieved;
