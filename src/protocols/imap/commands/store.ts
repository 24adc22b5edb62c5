/**
 * STORE (RFC 3501 §6.4.6) with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3):
 *   tag [UID] STORE sequence-set [(UNCHANGEDSINCE modseq)] (+|-)FLAGS[.SILENT] (flag-list | flag...)
 * Sends `* n FETCH (FLAGS ...)` for each message unless .SILENT, with UID for UID STORE and
 * MODSEQ once CONDSTORE is on; messages changed since UNCHANGEDSINCE come back in
 * `OK [MODIFIED set]`.
 */
import type { FlagOp } from '../../../store/api.js';
import { formatSeqSet, ImapSyntaxError, indexOfUid, resolveSeqSet } from '../args.js';
import type { Command } from '../command.js';

const store: Command = {
  names: ['STORE'],
  states: ['selected'],
  uid: true,
  noExpungeUnlessUid: true,
  run({ session, uid }, args) {
    const set = args.seqSet();
    let unchangedSince: number | undefined;
    const mods = args.optList();
    if (mods) {
      const m = mods.v;
      if (
        m.length !== 2 ||
        m[0]!.t !== 'atom' ||
        m[0]!.v.toUpperCase() !== 'UNCHANGEDSINCE' ||
        m[1]!.t !== 'atom' ||
        !/^\d+$/.test(m[1]!.v)
      ) {
        throw new ImapSyntaxError('Invalid Store modifiers');
      }
      unchangedSince = Number(m[1]!.v);
      session.enabled.add('CONDSTORE');
    }
    const item = args.atom().toUpperCase();
    const im = /^([+-]?)FLAGS(\.SILENT)?$/.exec(item);
    if (!im) throw new ImapSyntaxError(`Invalid Store attribute ${item}`);
    const op: FlagOp = im[1] === '+' ? 'add' : im[1] === '-' ? 'remove' : 'set';
    const silent = !!im[2];
    const flags = args.flagList();
    // flag... without parentheses
    while (args.remaining > 0) {
      const more = args.flagList();
      for (const f of more) if (!flags.includes(f)) flags.push(f);
    }
    const st = session.selected();
    if (st.readOnly) return { status: 'NO', code: 'READ-ONLY', text: 'Mailbox is read-only' };
    const view = st.view;
    const uids = resolveSeqSet(set, view.uids(), uid, session.savedSearch);
    if (uids.length === 0) return;
    const r = view.storeFlags(uids, op, flags, unchangedSince !== undefined ? { unchangedSince } : undefined);
    for (const rec of r.changed) session.selfChanged.set(rec.uid, rec.modseq);
    const condstore = session.enabled.has('CONDSTORE');
    const failed = new Set(r.failedModified);
    if (!silent || condstore) {
      const all = view.uids();
      const changedUids = new Set(r.changed.map((c) => c.uid));
      const recs = silent ? r.changed : view.records(uids.filter((u) => !failed.has(u)));
      for (const rec of recs) {
        const seq = indexOfUid(all, rec.uid) + 1;
        if (seq <= 0) continue;
        const parts: string[] = [];
        // RFC 7162 §3.2.4: with QRESYNC every FETCH response carries the UID
        if (uid || session.enabled.has('QRESYNC')) parts.push(`UID ${rec.uid}`);
        if (!silent) parts.push(`FLAGS (${rec.flags.join(' ')})`);
        if (condstore && (changedUids.has(rec.uid) || !silent)) parts.push(`MODSEQ (${rec.modseq})`);
        if (parts.length) session.untagged(`${seq} FETCH (${parts.join(' ')})`);
      }
    }
    if (failed.size) {
      const all = view.uids();
      const nums = uid
        ? [...failed].sort((a, b) => a - b)
        : [...failed]
            .map((u) => indexOfUid(all, u) + 1)
            .filter((n) => n > 0)
            .sort((a, b) => a - b);
      return { code: `MODIFIED ${formatSeqSet(nums)}`, text: 'Conditional STORE failed' };
    }
  },
};
export default store;
