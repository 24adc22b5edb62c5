/**
 * SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.6-7): `tag SUBSCRIBE mailbox`. Subscribing to a
 * mailbox that does not exist is refused (NONEXISTENT), unsubscribing never is.
 */
import type { Command } from '../command.js';

const subscribe: Command = {
  names: ['SUBSCRIBE', 'UNSUBSCRIBE'],
  states: ['authenticated', 'selected'],
  run({ session, name }, args) {
    const mbox = session.mailboxIn(args.astringBytes());
    args.end();
    const userid = session.who().userid;
    if (name === 'SUBSCRIBE') {
      const visible = session.store.list(session.who(), mbox).some((m) => m.name === mbox);
      if (!visible) return { status: 'NO', code: 'NONEXISTENT', text: 'Mailbox does not exist' };
      session.store.subscribe(userid, mbox);
    } else session.store.unsubscribe(userid, mbox);
  },
};
export default subscribe;
