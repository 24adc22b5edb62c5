/** TOP <msg> <n>  (RFC 1939 7): the header, the blank line and the first n body lines. */
import type { PopCommand } from './index.js';
import { E } from '../replies.js';

export const top: PopCommand = {
  verb: 'TOP',
  states: ['transaction'],
  args: [2, 2],
  async run(s, args) {
    if (s.state.kind !== 'transaction') return;
    if (!/^[0-9]{1,10}$/.test(args[1]!)) return s.line(E.syntax);
    const m = s.message(args[0]);
    if (!m) return;
    await s.sendMessage(m.uid, '+OK Message follows', Number(args[1]), m.size);
  },
};
