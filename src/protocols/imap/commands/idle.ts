/**
 * IDLE (RFC 2177): `tag IDLE` → `+ idling`; untagged updates are pushed as they happen
 * (MailboxView.watch wakes us when another process changes the mailbox; `imapidlepoll` is
 * the fallback poll) until the client sends `DONE`. Autologout after `imapidletimeout`
 * (default: `timeout`).
 */
import type { Command } from '../command.js';

const idle: Command = {
  names: ['IDLE'],
  states: ['authenticated', 'selected'],
  async run({ session }, args) {
    args.end();
    const pollS = session.conf.getDuration('imapidlepoll');
    if (pollS <= 0) return { status: 'BAD', text: 'Unrecognized command' };
    session.waiting = 'idle';
    session.out.write('+ idling\r\n');
    session.out.flush();
    let changed = false;
    let unwatch: (() => void) | null = null;
    let wakeFn: (() => void) | null = null;
    if (session.state.kind === 'selected') {
      unwatch = session.state.view.watch(() => {
        changed = true;
        wakeFn?.();
      });
    }
    // imapidletimeout (unset: timeout), see net/limits.ts
    const deadline = Date.now() + session.limits.timeouts.imapIdle * 1000;
    try {
      for (;;) {
        const line = session.parser.nextLine(session.limits.maxSaslLine);
        if (line instanceof Error) return { status: 'BAD', text: 'Invalid Idle continuation' };
        if (line) {
          if (line.toString('latin1').toUpperCase() === 'DONE') return { text: 'Completed' };
          return { status: 'BAD', text: 'Invalid Idle continuation' };
        }
        if (session.isClosed()) return { text: 'Completed' };
        const left = deadline - Date.now();
        if (left <= 0) {
          session.untagged('BYE Autologout; idle for too long');
          session.state = { kind: 'logout' };
          return { status: 'NO', text: 'Autologout' };
        }
        await session.waitInput(Math.min(left, pollS * 1000), (w) => {
          wakeFn = w;
          if (changed) w();
        });
        wakeFn = null;
        changed = false;
        if (session.state.kind === 'selected') {
          session.sendUpdates(true);
          await session.out.drain();
        }
      }
    } finally {
      unwatch?.();
    }
  },
};
export default idle;
