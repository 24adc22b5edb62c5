/**
 * `smmapd` as a built-in service: the socketmap protocol on TCP or unix sockets (session.ts).
 */
import type { Socket } from 'node:net';
import type { BuiltinService, ServiceContext } from '../../master/service-api.js';
import { openStore } from '../../store/index.js';
import type { Store } from '../../store/api.js';
import { serveSmmap } from './session.js';

/** per service context: one worker process may run several listeners (and tests do) */
const workers = new WeakMap<ServiceContext, { store: Store; open: Set<Socket> }>();

const smmapd: BuiltinService = {
  init(ctx) {
    workers.set(ctx, { store: openStore(ctx.config, { log: ctx.log }), open: new Set() });
  },
  async serve(socket, ctx) {
    if (!workers.has(ctx)) smmapd.init!(ctx);
    const { store, open } = workers.get(ctx)!;
    open.add(socket);
    socket.on('error', (e) => ctx.log.debug(`socket: ${e.message}`));
    try {
      await serveSmmap({ conf: ctx.config, log: ctx.log, store }, socket);
    } finally {
      open.delete(socket);
    }
  },
  shutdown(ctx) {
    const w = workers.get(ctx);
    if (!w) return;
    workers.delete(ctx);
    for (const s of w.open) s.end();
    w.store.close();
  },
};

export default smmapd;
