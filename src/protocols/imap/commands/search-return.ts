/**
 * The result options shared by SEARCH and SORT, and the ESEARCH response they produce:
 * RETURN (MIN MAX ALL COUNT SAVE) (ESEARCH RFC 4731, SEARCHRES RFC 5182, ESORT RFC 5267 §3)
 * and PARTIAL (RFC 9394 §3.1):
 *   search-return-opt = "MIN" / "MAX" / "ALL" / "COUNT" / "SAVE" / "PARTIAL" SP partial-range
 *   partial-range = nz-number ":" nz-number / "-" nz-number ":" "-" nz-number
 *   ret-data-partial = "PARTIAL" SP "(" partial-range SP (sequence-set / "NIL") ")"
 *
 * Owns: parsing the options and formatting `* ESEARCH (TAG "t") [UID] ...`. Results are
 * passed in result order (mailbox order for SEARCH, sort order for SORT); MIN and MAX are the
 * first and last of that order, as RFC 5267 §3.1 defines them for SORT.
 * Imports: args.ts, parser.ts types.
 */
import { formatSeqSet, ImapSyntaxError } from '../args.js';
import type { Token } from '../parser.js';

export interface PartialRange {
  /** the range as the client sent it, echoed in the response */
  text: string;
  /** 1-based, from <= to */
  from: number;
  to: number;
  /** counted from the last result ("-1" is the last one) */
  fromEnd: boolean;
}

export interface ReturnOpts {
  min: boolean;
  max: boolean;
  all: boolean;
  count: boolean;
  save: boolean;
  partial: PartialRange | null;
}

const UINT32_MAX = 4294967295;

/** partial-range (RFC 9394 §4); null when `s` is not one */
export function parsePartialRange(s: string): PartialRange | null {
  const m = /^(-?)([1-9]\d{0,9}):(-?)([1-9]\d{0,9})$/.exec(s);
  if (!m || m[1] !== m[3]) return null;
  const a = Number(m[2]);
  const b = Number(m[4]);
  if (a > UINT32_MAX || b > UINT32_MAX) return null;
  return { text: s, from: Math.min(a, b), to: Math.max(a, b), fromEnd: m[1] === '-' };
}

/** RETURN's list; an empty list means ALL (RFC 4731 §3.1) */
export function parseReturnOpts(list: Token[], what: 'Search' | 'Sort'): ReturnOpts {
  const o: ReturnOpts = { min: false, max: false, all: false, count: false, save: false, partial: null };
  const bad = (): never => {
    throw new ImapSyntaxError(`Invalid ${what} return option`);
  };
  for (let i = 0; i < list.length; i++) {
    const t = list[i]!;
    const w = t.t === 'atom' ? t.v.toUpperCase() : '';
    switch (w) {
      case 'MIN':
        o.min = true;
        break;
      case 'MAX':
        o.max = true;
        break;
      case 'COUNT':
        o.count = true;
        break;
      case 'SAVE':
        if (what === 'Sort') bad();
        o.save = true;
        break;
      case 'ALL':
        // RFC 9394 §3.1: one ALL or one PARTIAL, never both, never twice
        if (o.all || o.partial) bad();
        o.all = true;
        break;
      case 'PARTIAL': {
        const r = list[++i];
        if (o.all || o.partial || !r || r.t !== 'atom') bad();
        o.partial = parsePartialRange((r as { v: string }).v) ?? bad();
        break;
      }
      default:
        bad();
    }
  }
  if (!o.min && !o.max && !o.all && !o.count && !o.save && !o.partial) o.all = true;
  return o;
}

/** the results that fall in a partial range (in result order) */
export function partialSlice<T>(results: T[], p: PartialRange): T[] {
  const n = results.length;
  if (!p.fromEnd) return results.slice(p.from - 1, p.to);
  return results.slice(Math.max(0, n - p.to), Math.max(0, n - p.from + 1));
}

/**
 * A sequence-set that keeps the order of `nums` (RFC 5267 §3.1: ESORT's ALL is "in the requested
 * sort order"): only ascending runs of consecutive numbers become ranges.
 */
export function orderedSeqSet(nums: ArrayLike<number>): string {
  const parts: string[] = [];
  let i = 0;
  while (i < nums.length) {
    const start = nums[i]!;
    let end = start;
    while (i + 1 < nums.length && nums[i + 1] === end + 1) end = nums[++i]!;
    parts.push(start === end ? `${start}` : `${start}:${end}`);
    i++;
  }
  return parts.join(',');
}

/**
 * The ESEARCH response line (without "* "). `nums` are message numbers or uids in result order;
 * `sorted` says that order is a sort order (then ALL/PARTIAL keep it) rather than mailbox order.
 */
export function esearchLine(
  tag: string,
  uid: boolean,
  o: ReturnOpts,
  nums: number[],
  opts: { sorted?: boolean; modseq?: number } = {},
): string {
  const set = opts.sorted ? orderedSeqSet : formatSeqSet;
  const parts = [`(TAG "${tag.replace(/[\\"]/g, '\\$&')}")`];
  if (uid) parts.push('UID');
  if (nums.length) {
    if (o.min) parts.push(`MIN ${nums[0]}`);
    if (o.max) parts.push(`MAX ${nums[nums.length - 1]}`);
    if (o.all) parts.push(`ALL ${set(nums)}`);
  }
  if (o.partial) {
    const page = partialSlice(nums, o.partial);
    parts.push(`PARTIAL (${o.partial.text} ${page.length ? set(page) : 'NIL'})`);
  }
  if (o.count) parts.push(`COUNT ${nums.length}`);
  if (opts.modseq !== undefined && nums.length) parts.push(`MODSEQ ${opts.modseq}`);
  return `ESEARCH ${parts.join(' ')}`;
}
