/**
 * The PARTIAL fetch modifier (RFC 9394 §3.3):
 *   tag [UID] FETCH sequence-set items (PARTIAL partial-range [CHANGEDSINCE n])
 * The messages the set names (those changed since CHANGEDSINCE, when given) are numbered 1..n
 * in mailbox order; only the page `partial-range` picks ("1:30", or "-1:-30" from the last) is
 * fetched. This module narrows the set to that page and hands the command to fetch.ts, which
 * does everything else; a FETCH without PARTIAL goes to fetch.ts untouched. With QRESYNC's
 * VANISHED modifier, `VANISHED (EARLIER)` is sent here for the whole set, before the page.
 */
import { formatSeqSet, ImapSyntaxError, indexOfUid, parseSeqSet, resolveSeqSet } from '../args.js';
import { ArgReader } from '../args.js';
import type { Command } from '../command.js';
import type { Token } from '../parser.js';
import fetch from './fetch.js';
import { parsePartialRange, partialSlice, type PartialRange } from './search-return.js';

const fetchPartial: Command = {
  ...fetch,
  async run(ctx, args) {
    const toks: Token[] = [];
    while (args.remaining > 0) toks.push(args.take());
    const mods = toks.length === 3 && toks[2]!.t === 'list' ? toks[2]!.v : null;
    const at = mods ? mods.findIndex((t) => t.t === 'atom' && t.v.toUpperCase() === 'PARTIAL') : -1;
    if (!mods || at < 0) return fetch.run(ctx, new ArgReader(toks, args.cmd));

    const what = ctx.uid ? 'UID Fetch' : 'Fetch';
    const r = mods[at + 1];
    const range: PartialRange | null = r?.t === 'atom' ? parsePartialRange(r.v) : null;
    if (!range) throw new ImapSyntaxError(`Invalid PARTIAL range in ${what}`);
    const rest = [...mods.slice(0, at), ...mods.slice(at + 2)];
    let changedSince: number | null = null;
    let vanished = false;
    for (let i = 0; i < rest.length; i++) {
      const t = rest[i]!;
      const w = t.t === 'atom' ? t.v.toUpperCase() : '';
      if (w === 'PARTIAL') throw new ImapSyntaxError(`Only one PARTIAL modifier in ${what}`);
      if (w === 'VANISHED') vanished = true;
      const v = rest[i + 1];
      if (w === 'CHANGEDSINCE' && v?.t === 'atom' && /^\d+$/.test(v.v)) changedSince = Number(v.v);
    }
    const setTok = toks[0]!;
    const set = setTok.t === 'atom' ? parseSeqSet(setTok.v) : null;
    if (!set) throw new ImapSyntaxError(`Invalid sequence in ${what}`);

    const session = ctx.session;
    const view = session.selected().view;
    const all = view.uids();
    let uids = resolveSeqSet(set, all, ctx.uid, session.savedSearch);
    if (changedSince !== null) {
      const changed = new Set(view.search({ op: 'modseq', min: changedSince + 1 }));
      uids = uids.filter((u) => changed.has(u));
    }
    if (vanished) {
      // RFC 7162 §3.2.6: VANISHED (EARLIER) covers the whole set, whatever the page
      if (!ctx.uid || changedSince === null || !session.enabled.has('QRESYNC'))
        throw new ImapSyntaxError(`Invalid ${what} modifier`);
      const top = view.uidNext() - 1;
      const saved = new Set(session.savedSearch);
      const inSet = (u: number): boolean =>
        set.saved
          ? saved.has(u)
          : set.ranges.some(
              (x) => u >= (x.from === Infinity ? top : x.from) && (x.to === Infinity || u <= x.to),
            );
      const gone = view
        .vanishedSince(changedSince)
        .filter(inSet)
        .sort((a, b) => a - b);
      if (gone.length) session.untagged(`VANISHED (EARLIER) ${formatSeqSet(gone)}`);
    }
    const page = partialSlice(uids, range);
    // nothing on this page: a successful FETCH with no responses
    if (page.length === 0) return;
    const nums = ctx.uid ? page : page.map((u) => indexOfUid(all, u) + 1);
    const narrowed: Token[] = [{ t: 'atom', v: formatSeqSet(nums) }, toks[1]!];
    const others = rest.filter((t) => !(t.t === 'atom' && t.v.toUpperCase() === 'VANISHED'));
    if (others.length) narrowed.push({ t: 'list', v: others });
    return fetch.run(ctx, new ArgReader(narrowed, args.cmd));
  },
};
export default fetchPartial;
