/**
 * COPY (RFC 3501 §6.4.7) and MOVE (RFC 6851), also as UID COPY / UID MOVE, with COPYUID
 * (RFC 4315): `tag [UID] COPY sequence-set mailbox`. MOVE sends `* OK [COPYUID ...]` first,
 * then the EXPUNGEs, then the tagged OK. A missing target gets `NO [TRYCREATE]`.
 */
import { MailError } from '../../../store/api.js';
import { formatSeqSet, resolveSeqSet } from '../args.js';
import type { Command } from '../command.js';

const copy: Command = {
  names: ['COPY', 'MOVE'],
  states: ['selected'],
  uid: true,
  async run({ session, name, uid }, args) {
    const set = args.seqSet();
    const raw = args.astringBytes();
    args.end();
    const st = session.selected();
    const uids = resolveSeqSet(set, st.view.uids(), uid, session.savedSearch);
    const dest = session.mailboxIn(raw);
    if (uids.length === 0) {
      // nothing matched: still say whether the target exists
      if (!session.store.list(session.who(), dest).some((m) => m.name === dest))
        return { status: 'NO', code: 'TRYCREATE', text: 'Mailbox does not exist' };
      return { text: 'Completed' };
    }
    if (name === 'MOVE' && st.readOnly)
      return { status: 'NO', code: 'READ-ONLY', text: 'Mailbox is read-only' };
    let r;
    try {
      r = name === 'MOVE' ? await st.view.move(uids, dest) : await st.view.copy(uids, dest);
    } catch (e) {
      if (e instanceof MailError && e.kind === 'notFound')
        return { status: 'NO', code: 'TRYCREATE', text: 'Mailbox does not exist' };
      throw e;
    }
    // RFC 4315: the two sets correspond in order; ranges keep that order when both ascend
    const ascending = (a: number[]): boolean => a.every((v, i) => i === 0 || v > a[i - 1]!);
    const asSet = (a: number[]): string =>
      ascending(r.src) && ascending(r.dst) ? formatSeqSet(a) : a.join(',');
    const code = r.src.length ? `COPYUID ${r.uidValidity} ${asSet(r.src)} ${asSet(r.dst)}` : undefined;
    if (name === 'MOVE') {
      if (code) session.untagged(`OK [${code}] Ok`);
      session.announceExpunges(r.src);
      return { text: 'Completed' };
    }
    return { code, text: 'Completed' };
  },
};
export default copy;
