/** RSET  (RFC 1939 5): unmark every message marked deleted. */
import type { PopCommand } from './index.js';

export const rset: PopCommand = {
  verb: 'RSET',
  states: ['transaction'],
  args: [0, 0],
  run(s) {
    if (s.state.kind !== 'transaction') return;
    s.state.drop.reset();
    const { count, octets } = s.state.drop.stat();
    s.line(`+OK maildrop has ${count} messages (${octets} octets)`);
  },
};
