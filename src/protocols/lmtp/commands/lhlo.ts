/**
 * LHLO <domain>  (RFC 2033 4.1): like EHLO; the reply lists the service extensions.
 *   250-<servername> / 250-8BITMIME / 250-ENHANCEDSTATUSCODES / 250-PIPELINING / 250-CHUNKING /
 *   250-SIZE [<max>] / 250-STARTTLS / 250-AUTH <mechs> / 250-IGNOREQUOTA / 250 Ok SESSIONID=<id>
 * A new LHLO resets the transaction (RFC 5321 4.1.4).
 */
import type { LmtpCommand } from './index.js';
import { R } from '../replies.js';

export const lhlo: LmtpCommand = {
  verb: 'LHLO',
  needsLhlo: false,
  needsAuth: false,
  run(s, arg) {
    const host = arg.trim();
    if (host === '' || /\s/.test(host)) {
      s.send(R.paramSyntax);
      return;
    }
    s.lhloHost = host;
    s.resetTransaction();
    s.phase = 'ready';
    const max = s.deps.conf.getBytes('maxmessagesize');
    const lines = [
      s.deps.serverName || 'localhost',
      '8BITMIME',
      'ENHANCEDSTATUSCODES',
      'PIPELINING',
      'CHUNKING',
    ];
    lines.push(max > 0 ? `SIZE ${max}` : 'SIZE');
    if (s.deps.startTls && !s.secure) lines.push('STARTTLS');
    if (s.deps.auth && !s.authenticated) {
      const mechs = s.conn.preauth ? ['EXTERNAL'] : s.deps.auth.mechanisms({ secure: s.secure });
      if (mechs.length > 0) lines.push(`AUTH ${mechs.join(' ')}`);
    }
    lines.push('IGNOREQUOTA');
    s.write(lines.map((l) => `250-${l}\r\n`).join('') + `250 Ok SESSIONID=<${s.conn.sessionId}>\r\n`);
  },
};
