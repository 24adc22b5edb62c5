/** STAT  (RFC 1939 5): "+OK <count> <octets>" of the messages not marked deleted. */
import type { PopCommand } from './index.js';

export const stat: PopCommand = {
  verb: 'STAT',
  states: ['transaction'],
  args: [0, 0],
  run(s) {
    if (s.state.kind !== 'transaction') return;
    const { count, octets } = s.state.drop.stat();
    s.line(`+OK ${count} ${octets}`);
  },
};
