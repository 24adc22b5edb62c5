/**
 * SEARCH (RFC 3501 §6.4.4) and UID SEARCH, with CHARSET (UTF-8, US-ASCII, and the legacy
 * charsets the platform's TextDecoder knows), ESEARCH's RETURN (MIN MAX ALL COUNT) (RFC 4731),
 * SEARCHRES's RETURN (SAVE) and `$` (RFC 5182),
 * and the CONDSTORE `(MODSEQ n)` suffix (RFC 7162 §3.1.5):
 *   tag [UID] SEARCH [RETURN (opts)] [CHARSET name] search-key...
 */
import type { TextDecoder } from 'node:util';
import { formatSeqSet, ImapSyntaxError, indexOfUid } from '../args.js';
import type { Command } from '../command.js';
import { charsetDecoder, parseSearch } from '../search.js';

const search: Command = {
  names: ['SEARCH'],
  states: ['selected'],
  uid: true,
  noExpungeUnlessUid: true,
  run({ session, uid, tag }, args) {
    let ret: Set<string> | null = null;
    if (args.optWord('RETURN')) {
      ret = new Set();
      for (const o of args.list().v) {
        const w = o.t === 'atom' ? o.v.toUpperCase() : '';
        if (!['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE'].includes(w))
          throw new ImapSyntaxError('Invalid Search return option');
        ret.add(w);
      }
      if (ret.size === 0) ret.add('ALL');
    }
    // IMAP4rev2 answers every SEARCH with ESEARCH (RFC 9051 §6.4.4)
    if (!ret && session.rev2) ret = new Set(['ALL']);
    let decoder: TextDecoder | undefined;
    if (args.optWord('CHARSET')) {
      const cs = args.astring();
      const d = charsetDecoder(cs);
      if (!d)
        return { status: 'NO', code: 'BADCHARSET (US-ASCII UTF-8)', text: 'Unrecognized character set' };
      decoder = d;
    }
    const view = session.view();
    const rest: import('../parser.js').Token[] = [];
    while (args.remaining > 0) rest.push(args.take());
    const ctx = { uids: view.uids(), decoder, saved: session.savedSearch, usedModseq: false };
    const key = parseSearch(rest, ctx);
    if (ctx.usedModseq) session.enabled.add('CONDSTORE');
    const found = view.search(key).sort((a, b) => a - b);
    const all = view.uids();
    const nums = uid ? found : found.map((u) => indexOfUid(all, u) + 1).filter((n) => n > 0);
    let modseqSuffix = '';
    if (ctx.usedModseq && found.length) {
      const max = Math.max(...view.records(found).map((r) => r.modseq));
      modseqSuffix = ` (MODSEQ ${max})`;
    }
    if (ret?.has('SAVE')) {
      // RFC 5182: with MIN or MAX alone only those are saved; otherwise all matches
      const saveMin = ret.has('MIN') && !ret.has('ALL') && !ret.has('COUNT');
      const saveMax = ret.has('MAX') && !ret.has('ALL') && !ret.has('COUNT');
      session.savedSearch =
        saveMin || saveMax
          ? [
              ...new Set([
                ...(saveMin && found.length ? [found[0]!] : []),
                ...(saveMax && found.length ? [found[found.length - 1]!] : []),
              ]),
            ]
          : found;
      ret.delete('SAVE');
      // SAVE alone: no ESEARCH response at all
      if (ret.size === 0) return;
    }
    if (ret) {
      const parts = [`(TAG "${tag.replace(/[\\"]/g, '\\$&')}")`];
      if (uid) parts.push('UID');
      if (nums.length) {
        if (ret.has('MIN')) parts.push(`MIN ${nums[0]}`);
        if (ret.has('MAX')) parts.push(`MAX ${nums[nums.length - 1]}`);
        if (ret.has('ALL')) parts.push(`ALL ${formatSeqSet(nums)}`);
      }
      if (ret.has('COUNT')) parts.push(`COUNT ${nums.length}`);
      if (modseqSuffix && nums.length) parts.push(`MODSEQ ${modseqSuffix.slice(8, -1)}`);
      session.untagged(`ESEARCH ${parts.join(' ')}`);
      return;
    }
    // keep lines bounded: one untagged line, written in pieces
    session.out.write('* SEARCH');
    for (let i = 0; i < nums.length; i += 1000) session.out.write(' ' + nums.slice(i, i + 1000).join(' '));
    session.out.write(`${modseqSuffix}\r\n`);
  },
};
export default search;
