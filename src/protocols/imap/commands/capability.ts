/**
 * CAPABILITY (RFC 3501 §6.1.1): `tag CAPABILITY` → `* CAPABILITY ...`; before login the whole
 * list plus AUTH= and SASL-IR, as Cyrus 3.6 answers (the greeting has the short list).
 */
import type { Command } from '../command.js';

const capability: Command = {
  names: ['CAPABILITY'],
  states: ['notAuthenticated', 'authenticated', 'selected'],
  run({ session }, args) {
    args.end();
    session.untagged(`CAPABILITY ${session.capabilities({ full: true }).join(' ')}`);
  },
};
export default capability;
