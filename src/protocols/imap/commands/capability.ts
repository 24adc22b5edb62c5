/**
 * CAPABILITY (RFC 3501 §6.1.1): `tag CAPABILITY` → `* CAPABILITY ...`.
 */
import type { Command } from '../command.js';

const capability: Command = {
  names: ['CAPABILITY'],
  states: ['notAuthenticated', 'authenticated', 'selected'],
  run({ session }, args) {
    args.end();
    session.untagged(`CAPABILITY ${session.capabilities().join(' ')}`);
  },
};
export default capability;
