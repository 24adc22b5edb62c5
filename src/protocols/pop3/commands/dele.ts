/**
 * DELE <msg>  (RFC 1939 5): mark for deletion; nothing is removed before QUIT. With popuseacl
 * the user needs the 't' right (delete messages) on the maildrop.
 */
import type { PopCommand } from './index.js';

export const dele: PopCommand = {
  verb: 'DELE',
  states: ['transaction'],
  args: [1, 1],
  run(s, args) {
    if (s.state.kind !== 'transaction') return;
    const m = s.message(args[0]);
    if (!m) return;
    const { conf, store } = s.deps;
    if (
      conf.getSwitch('popuseacl') &&
      !store.rights(s.state.identity, s.state.drop.view.info.name).includes('t')
    ) {
      return s.line('-ERR [SYS/PERM] Permission denied');
    }
    m.deleted = true;
    s.line('+OK message deleted');
  },
};
