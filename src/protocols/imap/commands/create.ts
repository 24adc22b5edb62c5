/**
 * CREATE (RFC 3501 §6.3.3, CREATE-SPECIAL-USE RFC 6154 §3): `tag CREATE name [(USE (\Sent))]`,
 * and Cyrus's `tag CREATE name partition` (the store decides who may choose a partition).
 * A trailing hierarchy separator is dropped (it only says "will have children").
 */
import { textOf } from '../args.js';
import type { Command } from '../command.js';

const USES = [
  '\\All',
  '\\Archive',
  '\\Drafts',
  '\\Flagged',
  '\\Junk',
  '\\Sent',
  '\\Trash',
  '\\Important',
  '\\Snoozed',
  '\\Scheduled',
  '\\Memos',
];

const create: Command = {
  names: ['CREATE'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    let raw = args.astringBytes();
    // Cyrus extension: CREATE name partition (what cyradm's `cm --partition` sends)
    const partition = args.peek() && args.peek()!.t !== 'list' ? args.astring() : undefined;
    const params = args.optList();
    args.end();
    let specialUse: string[] | undefined;
    if (params) {
      const p = params.v;
      for (let i = 0; i < p.length; i += 2) {
        const key = textOf(p[i])?.toUpperCase();
        const val = p[i + 1];
        if (key !== 'USE' || !val || val.t !== 'list')
          return { status: 'BAD', text: 'Invalid Create parameters' };
        specialUse = [];
        for (const u of val.v) {
          const s = textOf(u);
          const canon = USES.find((x) => x.toLowerCase() === (s ?? '').toLowerCase());
          if (!canon) return { status: 'NO', code: 'USEATTR', text: 'Unsupported special-use attribute' };
          specialUse.push(canon);
        }
      }
    }
    const sep = session.ns.separator;
    if (raw.length > 1 && raw[raw.length - 1] === sep.charCodeAt(0)) raw = raw.subarray(0, raw.length - 1);
    const name = session.mailboxIn(raw);
    const opts: { specialUse?: string[]; partition?: string } = {};
    if (specialUse) opts.specialUse = specialUse;
    if (partition) opts.partition = partition;
    session.store.createMailbox(session.who(), name, opts);
  },
};
export default create;
