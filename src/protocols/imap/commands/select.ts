/**
 * SELECT and EXAMINE (RFC 3501 §6.3.1-2, CONDSTORE and QRESYNC parameters RFC 7162 §3.1.8,
 * §3.2.5): `tag SELECT mailbox [(CONDSTORE | QRESYNC (uidvalidity modseq [known-uids]))]`.
 * A previously selected mailbox is closed first (`* OK [CLOSED]`), even when the new one
 * cannot be opened. With QRESYNC and a matching UIDVALIDITY the client gets
 * `* VANISHED (EARLIER)` and FETCH FLAGS for what changed since its modseq.
 */
import { formatSeqSet, ImapSyntaxError, indexOfUid, parseSeqSet } from '../args.js';
import type { Command } from '../command.js';
import type { Token } from '../parser.js';

interface Qresync {
  uidValidity: number;
  modseq: number;
  known: string | null;
}

function parseQresync(t: Token | undefined): Qresync {
  if (!t || t.t !== 'list' || t.v.length < 2 || t.v.length > 4)
    throw new ImapSyntaxError('Invalid QRESYNC parameters');
  const [a, b] = t.v;
  // known-uids and seq-match-data are each optional
  let [, , c, d]: (Token | undefined)[] = t.v;
  if (c?.t === 'list' && !d) [c, d] = [undefined, c];
  if (a!.t !== 'atom' || !/^[1-9]\d*$/.test(a!.v) || b!.t !== 'atom' || !/^\d+$/.test(b!.v))
    throw new ImapSyntaxError('Invalid QRESYNC parameters');
  let known: string | null = null;
  if (c) {
    if (c.t !== 'atom' || !parseSeqSet(c.v)) throw new ImapSyntaxError('Invalid QRESYNC parameters');
    known = c.v;
  }
  // seq-match-data = "(" known-sequence-set SP known-uid-set ")": a hint we do not need, since
  // the store keeps every expunged uid's modseq (VANISHED is exact without it); checked only
  if (d) {
    const ok =
      d.t === 'list' &&
      d.v.length === 2 &&
      d.v.every((x) => x.t === 'atom' && parseSeqSet(x.v) !== null && !x.v.includes('*'));
    if (!ok) throw new ImapSyntaxError('Invalid QRESYNC parameters');
  }
  return { uidValidity: Number(a!.v), modseq: Number(b!.v), known };
}

const SYSTEM = '\\Answered \\Flagged \\Draft \\Deleted \\Seen';

const select: Command = {
  names: ['SELECT', 'EXAMINE'],
  states: ['authenticated', 'selected'],
  async run({ session, name }, args) {
    const raw = args.astringBytes();
    const params = args.optList();
    args.end();
    let qresync: Qresync | null = null;
    if (params) {
      for (let i = 0; i < params.v.length; i++) {
        const p = params.v[i]!;
        const w = p.t === 'atom' ? p.v.toUpperCase() : '';
        if (w === 'CONDSTORE') session.enabled.add('CONDSTORE');
        else if (w === 'QRESYNC') {
          if (!session.enabled.has('QRESYNC')) return { status: 'BAD', text: 'QRESYNC not enabled' };
          qresync = parseQresync(params.v[++i]);
        } else
          return { status: 'BAD', text: `Invalid ${name === 'SELECT' ? 'Select' : 'Examine'} parameter` };
      }
    }
    if (session.state.kind === 'selected') {
      session.closeMailbox();
      session.untagged('OK [CLOSED] Ok');
    }
    const mailbox = session.mailboxIn(raw);
    const who = session.who();
    const readOnly = name === 'EXAMINE';
    const view = session.store.open(who, mailbox, { readOnly });
    const ro = readOnly || view.readOnly;
    session.state = { kind: 'selected', who, view, mailbox, readOnly: ro };
    const count = view.uids().length;
    session.announcedExists = count;
    session.untagged(`${count} EXISTS`);
    // IMAP4rev2 has no \Recent (RFC 9051 Appendix E)
    if (!session.rev2) session.untagged(`${view.recentCount()} RECENT`);
    session.untagged(`FLAGS (${SYSTEM})`);
    session.untagged(`OK [PERMANENTFLAGS (${ro ? '' : SYSTEM + ' \\*'})] Ok`);
    const unseen = view.firstUnseen();
    if (unseen > 0 && !session.rev2) session.untagged(`OK [UNSEEN ${unseen}] Ok`);
    session.untagged(`OK [UIDVALIDITY ${view.info.uidValidity}] Ok`);
    session.untagged(`OK [UIDNEXT ${view.uidNext()}] Ok`);
    session.untagged(`OK [HIGHESTMODSEQ ${view.highestModseq()}] Ok`);
    session.untagged(`OK [MAILBOXID (${view.info.uniqueId})] Ok`);
    // RFC 9051 §6.3.2: the mailbox's name as the server knows it
    if (session.rev2)
      session.untagged(
        `LIST () "${session.ns.separator}" ${session.wireName(session.externalName(mailbox) ?? raw.toString('utf8'))}`,
      );
    if (qresync && qresync.uidValidity === view.info.uidValidity) {
      const uids = view.uids();
      // known-uids bounds both answers; it is tested range by range, never expanded
      const known = qresync.known ? parseSeqSet(qresync.known)!.ranges : null;
      const top = view.uidNext() - 1;
      const isKnown = (u: number): boolean =>
        !known ||
        known.some((r) => u >= (r.from === Infinity ? top : r.from) && (r.to === Infinity || u <= r.to));
      const asc = (a: number, b: number): number => a - b;
      // uids the client may know that are gone: from the store's expunge history
      const gone = view.vanishedSince(qresync.modseq).filter(isKnown).sort(asc);
      if (gone.length) session.untagged(`VANISHED (EARLIER) ${formatSeqSet(gone)}`);
      const changed = view
        .search({ op: 'modseq', min: qresync.modseq + 1 })
        .filter(isKnown)
        .sort(asc);
      // in batches: after a long absence nearly every message may have changed; a batch of
      // uids scattered over a big mailbox is split small, so the store looks each one up
      // instead of reading every row between the first and the last
      for (const batch of batches(changed)) {
        for (const rec of view.records(batch)) {
          const seq = indexOfUid(uids, rec.uid) + 1;
          if (seq > 0)
            session.untagged(
              `${seq} FETCH (UID ${rec.uid} FLAGS (${rec.flags.join(' ')}) MODSEQ (${rec.modseq}))`,
            );
        }
        await session.out.drain();
      }
    }
    return { code: ro ? 'READ-ONLY' : 'READ-WRITE', text: 'Completed' };
  },
};
export default select;

/** ascending uids in slices of 500, or of 50 where they are sparse (span over 4 per uid) */
function* batches(uids: number[]): Generator<number[]> {
  for (let b = 0; b < uids.length; b += 500) {
    const slice = uids.slice(b, b + 500);
    if (slice[slice.length - 1]! - slice[0]! + 1 <= 4 * slice.length) yield slice;
    else for (let i = 0; i < slice.length; i += 50) yield slice.slice(i, i + 50);
  }
}
