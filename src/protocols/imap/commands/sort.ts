/**
 * SORT (RFC 5256 §3, SORT=DISPLAY RFC 5957 keys accepted): `tag [UID] SORT (keys) charset search-key...`
 * → `* SORT n...`; with ESORT (RFC 5267 §3) and PARTIAL (RFC 9394) result options,
 * `tag [UID] SORT RETURN (MIN MAX ALL COUNT PARTIAL range) (keys) charset search-key...`
 * → `* ESEARCH (TAG "tag") [UID] ...`, ALL and PARTIAL in sort order; with CONTEXT=SORT's
 * UPDATE (RFC 5267 §4) the result stays live (context.ts).
 */
import type { SortKey } from '../../../store/api.js';
import { ImapSyntaxError, indexOfUid } from '../args.js';
import type { Command } from '../command.js';
import { keepContext, takeReturn } from '../context.js';
import { BADCHARSET_REPLY, charsetDecoder, parseSearch } from '../search.js';
import { esearchLine } from './search-return.js';

const KEYS: Record<string, SortKey> = {
  ARRIVAL: 'arrival',
  CC: 'cc',
  DATE: 'date',
  FROM: 'from',
  SIZE: 'size',
  SUBJECT: 'subject',
  TO: 'to',
  DISPLAYFROM: 'displayfrom',
  DISPLAYTO: 'displayto',
};

const sort: Command = {
  names: ['SORT'],
  states: ['selected'],
  uid: true,
  noExpungeUnlessUid: true,
  run({ session, uid, tag }, args) {
    const { ret, update } = takeReturn(args, 'Sort');
    const keys: { key: SortKey; reverse: boolean }[] = [];
    let reverse = false;
    for (const t of args.list().v) {
      const w = t.t === 'atom' ? t.v.toUpperCase() : '';
      if (w === 'REVERSE') {
        reverse = true;
        continue;
      }
      const k = KEYS[w];
      if (!k) throw new ImapSyntaxError('Invalid Sort criteria');
      keys.push({ key: k, reverse });
      reverse = false;
    }
    if (!keys.length || reverse) throw new ImapSyntaxError('Invalid Sort criteria');
    const decoder = charsetDecoder(args.astring());
    if (!decoder) return BADCHARSET_REPLY;
    const view = session.view();
    const rest: import('../parser.js').Token[] = [];
    while (args.remaining > 0) rest.push(args.take());
    const key = parseSearch(rest, { uids: view.uids(), decoder, saved: session.savedSearch });
    const sorted = view.sort(keys, key);
    const all = view.uids();
    const nums = uid ? sorted : sorted.map((u) => indexOfUid(all, u) + 1).filter((n) => n > 0);
    if (ret) {
      session.untagged(esearchLine(tag, uid, ret, nums, { sorted: true }));
      if (!update) return;
      const result = uid ? sorted : sorted.filter((u) => indexOfUid(all, u) >= 0);
      return keepContext(session, { tag, uid, key, sort: keys, result });
    }
    // keep lines bounded: one untagged line, written in pieces
    session.out.write('* SORT');
    for (let i = 0; i < nums.length; i += 1000) session.out.write(' ' + nums.slice(i, i + 1000).join(' '));
    session.out.write('\r\n');
  },
};
export default sort;
