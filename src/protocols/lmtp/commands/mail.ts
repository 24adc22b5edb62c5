/**
 * MAIL FROM:<reverse-path> [SIZE=<n>] [BODY=7BIT|8BITMIME] [AUTH=<mailbox>]  (RFC 5321 4.1.1.2,
 * RFC 1870 SIZE, RFC 6152 BODY, RFC 4954 5 AUTH). Starts a transaction.
 */
import type { LmtpCommand } from './index.js';
import { parsePath } from '../address.js';
import { R } from '../replies.js';

export const mail: LmtpCommand = {
  verb: 'MAIL',
  needsLhlo: true,
  needsAuth: true,
  run(s, arg) {
    if (s.txn) {
      s.send(R.nestedMail);
      return;
    }
    if (/[\x80-\xff]/.test(arg)) {
      if (s.deps.conf.getSwitch('lmtp_strict_rfc2821')) return s.send(R.paramSyntax);
      arg = arg.replace(/[\x80-\xff]/g, 'X');
    }
    const p = parsePath(arg, 'FROM');
    if (!p.ok) {
      s.send(p.reason === 'params' ? R.unknownParams : R.paramSyntax);
      return;
    }
    let size = 0;
    let body: '7BIT' | '8BITMIME' | 'BINARYMIME' = '7BIT';
    for (const [name, value] of Object.entries(p.params)) {
      if (name === 'SIZE' && value !== null && /^[0-9]{1,15}$/.test(value)) size = Number(value);
      else if (name === 'BODY' && value !== null && /^(7BIT|8BITMIME)$/i.test(value))
        body = value.toUpperCase() as '7BIT' | '8BITMIME';
      else if (name === 'AUTH' && value !== null)
        continue; // RFC 4954 5: informational
      else {
        s.send(R.unknownParams);
        return;
      }
    }
    const max = s.deps.conf.getBytes('maxmessagesize');
    if (max > 0 && size > max) {
      s.send(R.sizeExceeded);
      return;
    }
    s.txn = { from: p.address, size, body, rcpts: [] };
    s.send(R.senderOk);
  },
};
