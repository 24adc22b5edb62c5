/**
 * STATUS (RFC 3501 §6.3.10): `tag STATUS mailbox (items)` → `* STATUS mailbox (item value ...)`.
 */
import type { Command } from '../command.js';
import { formatStatus, parseStatusItems } from './status-items.js';

const status: Command = {
  names: ['STATUS'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    const raw = args.astringBytes();
    const items = parseStatusItems(args.list().v);
    args.end();
    const name = session.mailboxIn(raw);
    // our own selected mailbox: report what this session knows, after its pending updates
    if (session.state.kind === 'selected' && session.state.mailbox === name) session.sendUpdates(true);
    const st = session.store.status(session.who(), name);
    if (items.includes('HIGHESTMODSEQ')) session.enabled.add('CONDSTORE');
    const ext = session.externalName(name) ?? raw.toString('utf8');
    session.untagged(`STATUS ${session.wireName(ext)} (${formatStatus(st, items)})`);
  },
};
export default status;
