/**
 * DELETE (RFC 3501 §6.3.4): `tag DELETE mailbox`.
 */
import type { Command } from '../command.js';

const del: Command = {
  names: ['DELETE'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    const name = session.mailboxIn(args.astringBytes());
    args.end();
    if (session.state.kind === 'selected' && session.state.mailbox === name) {
      session.closeMailbox();
      session.untagged('OK [CLOSED] Ok');
    }
    session.store.deleteMailbox(session.who(), name);
  },
};
export default del;
