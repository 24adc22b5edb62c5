/**
 * UNAUTHENTICATE (RFC 8437): `tag UNAUTHENTICATE` → back to the not-authenticated state
 * (the selected mailbox is closed, ENABLEd extensions reset), so another user can log in on
 * the same connection; TLS and COMPRESS stay in force.
 */
import type { Command } from '../command.js';

const unauthenticate: Command = {
  names: ['UNAUTHENTICATE'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    args.end();
    session.closeMailbox();
    session.log.notice(`unauthenticate: ${session.who().userid}`);
    session.enabled.clear();
    session.state = { kind: 'notAuthenticated' };
  },
};
export default unauthenticate;
