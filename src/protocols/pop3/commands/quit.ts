/**
 * QUIT  (RFC 1939 6): in TRANSACTION, enter UPDATE: expunge the messages marked deleted, then
 * release the maildrop. A failed expunge is "-ERR some deleted messages not removed".
 */
import type { PopCommand } from './index.js';

export const quit: PopCommand = {
  verb: 'QUIT',
  states: ['authorization', 'transaction'],
  args: [0, 0],
  run(s) {
    if (s.state.kind === 'transaction') {
      try {
        const n = s.state.drop.commit();
        if (n > 0) s.log.info(`${s.state.identity.userid}: expunged ${n} messages at QUIT`);
      } catch (e) {
        s.log.error(`UPDATE failed: ${String(e)}`);
        s.line('-ERR [SYS/TEMP] some deleted messages not removed');
        s.end();
        return;
      }
    }
    s.end();
    s.line('+OK');
  },
};
