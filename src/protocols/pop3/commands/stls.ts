/** STLS  (RFC 2595 4): "+OK Begin TLS negotiation", then the handshake; pipelined input is dropped. */
import type { PopCommand } from './index.js';
import { E } from '../replies.js';

export const stls: PopCommand = {
  verb: 'STLS',
  states: ['authorization'],
  args: [0, 0],
  async run(s) {
    if (s.secure) return s.line(E.tlsAlready);
    const start = s.deps.startTls;
    if (!start) return s.line(E.tlsUnavailable);
    s.line('+OK Begin TLS negotiation now');
    const plain = s.reader.detach();
    try {
      s.switchStream(await start(plain));
      s.state = { kind: 'authorization', user: null };
    } catch (e) {
      s.log.notice(`STLS failed: ${String(e)}`);
      s.end();
    }
  },
};
