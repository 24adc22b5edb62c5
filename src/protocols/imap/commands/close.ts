/**
 * CLOSE (RFC 3501 §6.4.2) and UNSELECT (RFC 3691): leave the selected state; CLOSE first
 * removes \Deleted messages silently when the mailbox is read-write.
 */
import type { Command } from '../command.js';

const close: Command = {
  names: ['CLOSE', 'UNSELECT'],
  states: ['selected'],
  run({ session, name }, args) {
    args.end();
    const st = session.selected();
    if (name === 'CLOSE' && !st.readOnly) {
      try {
        st.view.expunge();
      } finally {
        session.closeMailbox();
      }
      return;
    }
    session.closeMailbox();
  },
};
export default close;
