/**
 * `smmapd` as a built-in service: the socketmap protocol on TCP or unix sockets (session.ts).
 */
import type { Socket } from 'node:net';
import type { BuiltinService } from '../../master/service-api.js';
import { openStore } from '../../store/index.js';
import type { Store } from '../../store/api.js';
import { serveSmmap } from './session.js';

let store: Store | null = null;
const open = new Set<Socket>();

const smmapd: BuiltinService = {
  init(ctx) {
    store = openStore(ctx.config, { log: ctx.log });
  },
  async serve(socket, ctx) {
    if (!store) smmapd.init!(ctx);
    open.add(socket);
    socket.on('error', (e) => ctx.log.debug(`socket: ${e.message}`));
    try {
      await serveSmmap({ conf: ctx.config, log: ctx.log, store: store! }, socket);
    } finally {
      open.delete(socket);
    }
  },
  shutdown() {
    for (const s of open) s.end();
    store?.close();
    store = null;
  },
};

export default smmapd;
