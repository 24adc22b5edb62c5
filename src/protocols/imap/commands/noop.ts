/**
 * NOOP (RFC 3501 §6.1.2): `tag NOOP`; the dispatcher sends pending mailbox updates after it.
 */
import type { Command } from '../command.js';

const noop: Command = {
  names: ['NOOP'],
  states: ['notAuthenticated', 'authenticated', 'selected'],
  run(_ctx, args) {
    args.end();
  },
};
export default noop;
