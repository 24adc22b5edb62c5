/**
 * CAPA  (RFC 2449 5): the capability list, which changes with the state (cyrus-observed.md §2,
 * services.md §3): SASL and USER only before login, STLS only without TLS before login,
 * IMPLEMENTATION after login or with serverinfo on.
 */
import type { PopCommand } from './index.js';

export const capa: PopCommand = {
  verb: 'CAPA',
  states: ['authorization', 'transaction'],
  args: [0, 0],
  run(s) {
    const { conf, auth } = s.deps;
    const before = s.state.kind === 'authorization';
    const lines: string[] = [];
    if (before) {
      const mechs = auth.mechanisms({ secure: s.secure });
      if (mechs.length > 0) lines.push(`SASL ${mechs.join(' ')}`);
      if (s.deps.startTls && !s.secure) lines.push('STLS');
    }
    const expire = conf.getDuration('popexpiretime');
    lines.push(expire < 0 ? 'EXPIRE NEVER' : `EXPIRE ${Math.floor(expire / 86400)}`);
    lines.push(`LOGIN-DELAY ${Math.max(0, conf.getDuration('popminpoll'))}`);
    lines.push('TOP', 'UIDL', 'PIPELINING', 'RESP-CODES', 'AUTH-RESP-CODE');
    if (before && auth.plaintextAllowed(s.secure)) lines.push('USER');
    if (s.deps.product && (!before || conf.getEnum('serverinfo') === 'on'))
      lines.push(`IMPLEMENTATION ${s.deps.product}`);
    s.write(`+OK List of capabilities follows\r\n${lines.map((l) => l + '\r\n').join('')}.\r\n`);
  },
};
