/** NOOP [string]  (RFC 5321 4.1.1.9) */
import type { LmtpCommand } from './index.js';
import { R } from '../replies.js';

export const noop: LmtpCommand = {
  verb: 'NOOP',
  needsLhlo: false,
  needsAuth: false,
  run(s) {
    s.send(R.ok);
  },
};
