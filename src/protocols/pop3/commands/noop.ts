/** NOOP  (RFC 1939 5) */
import type { PopCommand } from './index.js';

export const noop: PopCommand = {
  verb: 'NOOP',
  states: ['transaction'],
  args: [0, 0],
  run(s) {
    s.line('+OK');
  },
};
