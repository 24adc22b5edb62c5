/** UIDL [msg]  (RFC 1939 7): unique-id listings "<n> <uidl>", stable across sessions (maildrop.ts). */
import type { PopCommand } from './index.js';
import { writeListing } from './list.js';

export const uidl: PopCommand = {
  verb: 'UIDL',
  states: ['transaction'],
  args: [0, 1],
  async run(s, args) {
    if (s.state.kind !== 'transaction') return;
    const drop = s.state.drop;
    if (args.length === 1) {
      const m = s.message(args[0]);
      if (m) s.line(`+OK ${args[0]!.replace(/^0+(?=\d)/, '')} ${drop.uidl(m)}`);
      return;
    }
    await writeListing(s, '+OK Unique-ID listing follows', drop.size, (n) => {
      const m = drop.get(n);
      return m ? `${n} ${drop.uidl(m)}` : null;
    });
  },
};
