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
    // Cyrus extension: RENAME old new partition (moves the mailbox to another partition)
    const partition = args.remaining > 0 ? args.astring() : undefined;
    args.end();
    session.store.renameMailbox(session.who(), from, to, partition ? { partition } : undefined);
  },
};
export default rename;
