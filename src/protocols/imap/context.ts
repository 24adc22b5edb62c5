/**
 * Live search and sort contexts (CONTEXT=SEARCH, CONTEXT=SORT: RFC 5267 §4): what a
 * `SEARCH/SORT RETURN (UPDATE)` leaves behind while the mailbox stays selected, and the
 * unsolicited updates it produces:
 *   * ESEARCH (TAG "tag") [UID] ADDTO (position set) / REMOVEFROM (position set)
 * SEARCH contexts use position 0 (the result is a set); SORT contexts give each change's
 * 1-based position in the sort order, to be applied one after the other (removals, then
 * additions).
 *
 * Owns: the per-session list of contexts (at most MAX_CONTEXTS; beyond that the session
 * answers NOUPDATE), their current results, and re-evaluating them on the changed uids only
 * (`{op:'uid'}` AND the saved key). Messages expunged leave every result: UID contexts get a
 * REMOVEFROM; contexts in sequence numbers rely on the EXPUNGE response itself.
 * Keys whose truth changes with time alone (WITHIN, RECENT/NEW) are re-evaluated only when the
 * message changes.
 * Imports: store contract types, args.ts, search-return.ts.
 */
import type { MailboxView, SearchKey, SortKey } from '../../store/api.js';
import { formatSeqSet, indexOfUid, type ArgReader } from './args.js';
import { orderedSeqSet, parseReturnOpts, type ReturnOpts } from './commands/search-return.js';
import type { Reply } from './errors.js';
import type { Token } from './parser.js';
import type { ImapSession } from './session.js';

/** live contexts per session; one more is refused with NOUPDATE */
export const MAX_CONTEXTS = 10;

export interface SearchContext {
  tag: string;
  uid: boolean;
  key: SearchKey;
  /** null for SEARCH */
  sort: { key: SortKey; reverse: boolean }[] | null;
  /** the current result: ascending uids for SEARCH, sort order for SORT */
  result: number[];
}

/** the ESEARCH prefix of an update line, without "* " */
function head(c: SearchContext): string {
  return `ESEARCH (TAG "${c.tag.replace(/[\\"]/g, '\\$&')}")${c.uid ? ' UID' : ''}`;
}

export class SearchContexts {
  private list: SearchContext[] = [];

  get size(): number {
    return this.list.length;
  }

  tags(): string[] {
    return this.list.map((c) => c.tag);
  }

  /** keep a context; a context under the same tag is replaced. false when there is no room. */
  add(c: SearchContext): boolean {
    const i = this.list.findIndex((x) => x.tag === c.tag);
    if (i >= 0) {
      this.list[i] = c;
      return true;
    }
    if (this.list.length >= MAX_CONTEXTS) return false;
    this.list.push(c);
    return true;
  }

  has(tag: string): boolean {
    return this.list.some((c) => c.tag === tag);
  }

  cancel(tag: string): void {
    this.list = this.list.filter((c) => c.tag !== tag);
  }

  /**
   * Messages left the view (announced with EXPUNGE or VANISHED). Call before the view drops
   * them, so sequence numbers still resolve. `emit` gets each update line.
   */
  expunged(gone: number[], emit: (line: string) => void): void {
    const g = new Set(gone);
    for (const c of this.list) {
      if (!c.result.some((u) => g.has(u))) continue;
      const removed: string[] = [];
      if (c.uid) {
        if (c.sort) {
          // one pair per message, highest position first: each position holds when applied in turn
          const at = c.result.map((u, i) => [u, i + 1] as const).filter(([u]) => g.has(u));
          for (let k = at.length - 1; k >= 0; k--) removed.push(`REMOVEFROM (${at[k]![1]} ${at[k]![0]})`);
        } else removed.push(`REMOVEFROM (0 ${formatSeqSet(c.result.filter((u) => g.has(u)))})`);
      }
      c.result = c.result.filter((u) => !g.has(u));
      if (removed.length) emit(`${head(c)} ${removed.join(' ')}`);
    }
  }

  /**
   * Re-evaluate the contexts on `uids` (arrived, or changed flags), which are in the view and
   * already announced to the client; emit ADDTO / REMOVEFROM for those that start or stop
   * matching.
   */
  update(view: MailboxView, uids: number[], emit: (line: string) => void): void {
    if (!uids.length) return;
    const touched = [...new Set(uids)].sort((a, b) => a - b);
    for (const c of this.list) {
      const matches = new Set(view.search({ op: 'and', keys: [{ op: 'uid', uids: touched }, c.key] }));
      const inResult = new Set(c.result);
      const leaving = touched.filter((u) => inResult.has(u) && !matches.has(u));
      const coming = touched.filter((u) => !inResult.has(u) && matches.has(u));
      if (!leaving.length && !coming.length) continue;
      const all = c.uid ? null : view.uids();
      const num = (u: number): number => (all ? indexOfUid(all, u) + 1 : u);
      const parts: string[] = [];
      if (c.sort) {
        if (leaving.length) {
          const l = new Set(leaving);
          const at = c.result.map((u, i) => [u, i + 1] as const).filter(([u]) => l.has(u));
          for (let k = at.length - 1; k >= 0; k--) parts.push(`REMOVEFROM (${at[k]![1]} ${num(at[k]![0])})`);
          c.result = c.result.filter((u) => !l.has(u));
        }
        if (coming.length) {
          // the new order of the result (not the mailbox); additions in ascending position,
          // consecutive ones in one pair
          const order = view.sort(c.sort, {
            op: 'uid',
            uids: [...c.result, ...coming].sort((a, b) => a - b),
          });
          const added = new Set(coming);
          for (let i = 0; i < order.length; i++) {
            if (!added.has(order[i]!)) continue;
            const run: number[] = [];
            const pos = i + 1;
            while (i < order.length && added.has(order[i]!)) run.push(num(order[i++]!));
            i--;
            parts.push(`ADDTO (${pos} ${orderedSeqSet(run)})`);
          }
          c.result = order;
        }
      } else {
        if (leaving.length) {
          parts.push(`REMOVEFROM (0 ${formatSeqSet(leaving.map(num))})`);
          const l = new Set(leaving);
          c.result = c.result.filter((u) => !l.has(u));
        }
        if (coming.length) {
          parts.push(`ADDTO (0 ${formatSeqSet(coming.map(num))})`);
          c.result = [...c.result, ...coming].sort((a, b) => a - b);
        }
      }
      emit(`${head(c)} ${parts.join(' ')}`);
    }
  }
}

/**
 * RFC 5267 §4.1's return options, taken out of a RETURN list before the ESEARCH ones are
 * parsed: UPDATE (keep the context live) and CONTEXT (a hint we need not act on). The options
 * left decide the first answer; none left means ALL, as an empty RETURN list.
 */
export function takeContextOpts(list: Token[]): { update: boolean; rest: Token[] } {
  let update = false;
  const rest: Token[] = [];
  for (const t of list) {
    const w = t.t === 'atom' ? t.v.toUpperCase() : '';
    if (w === 'UPDATE') update = true;
    else if (w !== 'CONTEXT') rest.push(t);
  }
  return { update, rest };
}

/**
 * The optional `RETURN (...)` of SEARCH and SORT: the ESEARCH return options, and whether the
 * client asked for a live context (UPDATE). `ret` is null when there was no RETURN.
 */
export function takeReturn(
  args: ArgReader,
  what: 'Search' | 'Sort',
): { ret: ReturnOpts | null; update: boolean } {
  if (!args.optWord('RETURN')) return { ret: null, update: false };
  const o = takeContextOpts(args.list().v);
  return { ret: parseReturnOpts(o.rest, what), update: o.update };
}

/**
 * Keep a context for the command being answered; the reply to give when there is no room
 * (RFC 5267 §4.2: `OK [NOUPDATE "tag"]`, the result already sent stands).
 */
export function keepContext(session: ImapSession, c: SearchContext): Reply | void {
  const list = (session.contexts ??= new SearchContexts());
  if (!list.add(c))
    return { code: `NOUPDATE "${c.tag.replace(/[\\"]/g, '\\$&')}"`, text: 'Too many contexts' };
}
