/**
 * LOGOUT (RFC 3501 §6.1.3): `tag LOGOUT` → `* BYE LOGOUT received` then `tag OK Completed`.
 */
import type { Command } from '../command.js';

const logout: Command = {
  names: ['LOGOUT'],
  states: ['notAuthenticated', 'authenticated', 'selected'],
  run({ session }, args) {
    args.end();
    session.untagged('BYE LOGOUT received');
    session.closeMailbox();
    session.state = { kind: 'logout' };
  },
};
export default logout;
