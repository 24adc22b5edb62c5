/** QUIT  (RFC 5321 4.1.1.10): 221 and close. */
import type { LmtpCommand } from './index.js';
import { R } from '../replies.js';

export const quit: LmtpCommand = {
  verb: 'QUIT',
  needsLhlo: false,
  needsAuth: false,
  run(s) {
    s.send(R.bye);
    s.close();
  },
};
