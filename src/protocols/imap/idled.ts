/**
 * `idled`: the DAEMON Cyrus runs so IDLEing imapd processes learn about changes made by other
 * processes (spec/services.md §7).
 *
 * Our choice: not needed. The store's `MailboxView.watch()` already wakes every IDLEing
 * session in every process within milliseconds (a stamp file per mailbox watched with
 * fs.watch, src/store/watch.ts), and `imapidlepoll` stays as the fallback. So `idled` only
 * keeps Cyrus configurations that list it under DAEMON working: it removes a stale
 * `idlesocket`, logs that it is idle, and waits for master's stop signal.
 * Imports: master contract.
 */
import { rmSync } from 'node:fs';
import type { BuiltinDaemon } from '../../master/service-api.js';

const idled: BuiltinDaemon = {
  async run(ctx) {
    const sock = ctx.config.getString('idlesocket');
    if (sock) rmSync(sock, { force: true });
    ctx.log.info('idled: IDLE wake-ups are delivered by the store directly; nothing to do');
    if (ctx.signal.aborted) return;
    await new Promise<void>((resolve) =>
      ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
  },
};
export default idled;
