/**
 * RENAME (RFC 3501 §6.3.5): `tag RENAME old new`; renaming INBOX moves its messages (store).
 */
import type { Command } from '../command.js';

const rename: Command = {
  names: ['RENAME'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    const from = session.mailboxIn(args.astringBytes());
    const to = session.mailboxIn(args.astringBytes());
    if (args.remaining > 0) args.astring(); // partition (Cyrus extension), ignored for users
    args.end();
    session.store.renameMailbox(session.who(), from, to);
  },
};
export default rename;
