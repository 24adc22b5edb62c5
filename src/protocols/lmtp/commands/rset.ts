/** RSET  (RFC 5321 4.1.1.5): abort the transaction, keep LHLO and authentication. */
import type { LmtpCommand } from './index.js';
import { R } from '../replies.js';

export const rset: LmtpCommand = {
  verb: 'RSET',
  needsLhlo: false,
  needsAuth: false,
  run(s, arg) {
    if (arg.trim() !== '') return s.send(R.paramSyntax);
    s.resetTransaction();
    s.send(R.reset);
  },
};
