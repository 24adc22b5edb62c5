/**
 * STARTTLS  (RFC 3207): 220, then the TLS handshake on the same connection. Commands the
 * client pipelined after STARTTLS are discarded (RFC 3207 4.2), and the session forgets
 * LHLO (the client must send it again); a pre-authorised unix peer stays pre-authorised.
 */
import type { LmtpCommand } from './index.js';
import { R } from '../replies.js';

export const starttls: LmtpCommand = {
  verb: 'STARTTLS',
  needsLhlo: true,
  needsAuth: false,
  async run(s, arg) {
    if (arg.trim() !== '') return s.send(R.paramSyntax);
    if (s.secure) return s.send(R.tlsAlready);
    const start = s.deps.startTls;
    if (!start) return s.send(R.tlsUnavailable);
    s.send(R.tlsGo);
    const plain = s.reader.detach();
    try {
      s.switchStream(await start(plain));
      s.phase = 'greeted';
      s.resetTransaction();
    } catch (e) {
      s.log.notice(`STARTTLS failed: ${String(e)}`);
      s.close();
    }
  },
};
