/**
 * SEARCH (RFC 3501 §6.4.4) and UID SEARCH, with CHARSET (UTF-8, US-ASCII, and the legacy
 * charsets the platform's TextDecoder knows), ESEARCH's RETURN (MIN MAX ALL COUNT) (RFC 4731),
 * PARTIAL's RETURN (PARTIAL range) (RFC 9394; options in search-return.ts),
 * SEARCHRES's RETURN (SAVE) and `$` (RFC 5182),
 * the CONDSTORE `(MODSEQ n)` suffix (RFC 7162 §3.1.5), and CONTEXT=SEARCH's RETURN (UPDATE)
 * (RFC 5267 §4, kept in context.ts; CONTEXT is accepted as the hint it is):
 *   tag [UID] SEARCH [RETURN (opts)] [CHARSET name] search-key...
 */
import type { TextDecoder } from 'node:util';
import { indexOfUid } from '../args.js';
import type { Command } from '../command.js';
import { keepContext, takeReturn } from '../context.js';
import { BADCHARSET_REPLY, charsetDecoder, parseSearch } from '../search.js';
import { esearchLine, partialSlice } from './search-return.js';

const search: Command = {
  names: ['SEARCH'],
  states: ['selected'],
  uid: true,
  noExpungeUnlessUid: true,
  run({ session, uid, tag }, args) {
    const asked = takeReturn(args, 'Search');
    const update = asked.update;
    let ret = asked.ret;
    // IMAP4rev2 answers every SEARCH with ESEARCH (RFC 9051 §6.4.4)
    if (!ret && session.rev2)
      ret = { min: false, max: false, all: true, count: false, save: false, partial: null };
    let decoder: TextDecoder | undefined;
    if (args.optWord('CHARSET')) {
      const cs = args.astring();
      const d = charsetDecoder(cs);
      if (!d) return BADCHARSET_REPLY;
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
    // RFC 5267 §4: the result the client was given, kept up to date from now on
    const live = () =>
      keepContext(session, {
        tag,
        uid,
        key,
        sort: null,
        result: uid ? found : found.filter((u) => indexOfUid(all, u) >= 0),
      });
    let modseqSuffix = '';
    if (ctx.usedModseq && found.length) {
      // in batches: a big result must neither sit in memory whole nor overflow the stack
      let max = 0;
      for (let i = 0; i < found.length; i += 1000)
        for (const r of view.records(found.slice(i, i + 1000))) if (r.modseq > max) max = r.modseq;
      modseqSuffix = ` (MODSEQ ${max})`;
    }
    if (ret?.save) {
      // RFC 5182: with MIN or MAX alone only those are saved; RFC 9394 §3.2: with PARTIAL, the
      // page returned; otherwise all matches
      const alone = !ret.all && !ret.count;
      const saveMin = ret.min && alone && !ret.partial;
      const saveMax = ret.max && alone && !ret.partial;
      session.savedSearch =
        ret.partial && alone
          ? partialSlice(found, ret.partial)
          : saveMin || saveMax
            ? [
                ...new Set([
                  ...(saveMin && found.length ? [found[0]!] : []),
                  ...(saveMax && found.length ? [found[found.length - 1]!] : []),
                ]),
              ]
            : found;
      // SAVE alone: no ESEARCH response at all
      if (!ret.min && !ret.max && !ret.all && !ret.count && !ret.partial) return update ? live() : undefined;
    }
    if (ret) {
      const modseq = modseqSuffix ? Number(modseqSuffix.slice(8, -1)) : undefined;
      session.untagged(esearchLine(tag, uid, ret, nums, { modseq }));
      return update ? live() : undefined;
    }
    // keep lines bounded: one untagged line, written in pieces
    session.out.write('* SEARCH');
    for (let i = 0; i < nums.length; i += 1000) session.out.write(' ' + nums.slice(i, i + 1000).join(' '));
    session.out.write(`${modseqSuffix}\r\n`);
  },
};
export default search;
