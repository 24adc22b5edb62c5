/**
 * EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1): `tag [UID] EXPUNGE [uid-set]`.
 * Sends `* n EXPUNGE` (or VANISHED) for each message removed.
 */
import { resolveSeqSet } from '../args.js';
import type { Command } from '../command.js';

const expunge: Command = {
  names: ['EXPUNGE'],
  states: ['selected'],
  uid: true,
  run({ session, uid }, args) {
    const st = session.selected();
    let limit: number[] | undefined;
    if (uid) limit = resolveSeqSet(args.seqSet(), st.view.uids(), true);
    args.end();
    if (st.readOnly) return { status: 'NO', code: 'READ-ONLY', text: 'Mailbox is read-only' };
    const gone = st.view.expunge(limit);
    session.announceExpunges(gone);
  },
};
export default expunge;
