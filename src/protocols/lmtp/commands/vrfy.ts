/** VRFY <string>  (RFC 5321 4.1.1.6, 3.5.3): never verifies; 252 as Cyrus does. */
import type { LmtpCommand } from './index.js';
import { R } from '../replies.js';

export const vrfy: LmtpCommand = {
  verb: 'VRFY',
  needsLhlo: false,
  needsAuth: false,
  run(s, arg) {
    if (arg.trim() === '') return s.send(R.paramSyntax);
    s.send(R.vrfy);
  },
};
