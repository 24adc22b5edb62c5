/**
 * CHECK (RFC 3501 §6.4.1): `tag CHECK`; the store commits as it goes, so this is a NOOP that
 * still reports pending updates (removed in IMAP4rev2, kept for rev1 clients).
 */
import type { Command } from '../command.js';

const check: Command = {
  names: ['CHECK'],
  states: ['selected'],
  run(_ctx, args) {
    args.end();
  },
};
export default check;
