/**
 * SELECT and EXAMINE (RFC 3501 §6.3.1-2, CONDSTORE parameter RFC 7162 §3.1.8):
 * `tag SELECT mailbox [(CONDSTORE)]`. A previously selected mailbox is closed first
 * (`* OK [CLOSED]`), even when the new one cannot be opened.
 */
import type { Command } from '../command.js';

const SYSTEM = '\\Answered \\Flagged \\Draft \\Deleted \\Seen';

const select: Command = {
  names: ['SELECT', 'EXAMINE'],
  states: ['authenticated', 'selected'],
  run({ session, name }, args) {
    const raw = args.astringBytes();
    const params = args.optList();
    args.end();
    if (params) {
      for (const p of params.v) {
        if (p.t === 'atom' && p.v.toUpperCase() === 'CONDSTORE') session.enabled.add('CONDSTORE');
        else return { status: 'BAD', text: `Invalid ${name === 'SELECT' ? 'Select' : 'Examine'} parameter` };
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
    session.untagged(`${view.recentCount()} RECENT`);
    session.untagged(`FLAGS (${SYSTEM})`);
    session.untagged(`OK [PERMANENTFLAGS (${ro ? '' : SYSTEM + ' \\*'})] Ok`);
    const unseen = view.firstUnseen();
    if (unseen > 0) session.untagged(`OK [UNSEEN ${unseen}] Ok`);
    session.untagged(`OK [UIDVALIDITY ${view.info.uidValidity}] Ok`);
    session.untagged(`OK [UIDNEXT ${view.uidNext()}] Ok`);
    session.untagged(`OK [HIGHESTMODSEQ ${view.highestModseq()}] Ok`);
    session.untagged(`OK [MAILBOXID (${view.info.uniqueId})] Ok`);
    return { code: ro ? 'READ-ONLY' : 'READ-WRITE', text: 'Completed' };
  },
};
export default select;
