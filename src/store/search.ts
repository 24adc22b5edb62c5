/**
 * SEARCH over the index: a `SearchKey` program compiled to one SQL expression over
 * `message m` joined with `hdrtext h` / `bodytext b` only when a key needs them, run by SQLite over cached fields only (no message file is
 * read). Text keys are case-insensitive substrings: the cached text was case-folded by the
 * parser (`foldCase`), the needle is folded the same way and matched with `instr`. The index
 * keeps the first 64 KiB of a body's text; a longer body's row is marked truncated, and only
 * for those rows (without a match in the kept text) the rest is read from the file.
 * Owns: the compilation. Imports: mail/decode (foldCase), ./api, ./index-db.
 */
import { foldCase } from '../mail/decode.js';
import type { SearchKey } from './api.js';
import { FLAG_BITS, SEEN } from './index-db.js';

export interface SearchContext {
  /** \Seen lives in the message row (the owner) or in the seen table (others) */
  seenInRow: boolean;
  userid: string;
  /** uids this session sees as \Recent */
  recent: number[];
  now: number;
}

export interface CompiledSearch {
  where: string;
  params: unknown[];
  /** the header text table is referenced (as h) */
  needsHeaders: boolean;
  /** the body text table is referenced (as b) */
  needsBody: boolean;
}

function dayStart(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return NaN;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime();
}

export function compileSearch(key: SearchKey, ctx: SearchContext): CompiledSearch {
  const params: unknown[] = [];
  let needsHeaders = false;
  let needsBody = false;
  const seenExpr = (): string => {
    if (ctx.seenInRow) return `(m.sysflags & ${SEEN}) != 0`;
    params.push(ctx.userid);
    return 'EXISTS (SELECT 1 FROM seen s WHERE s.mbox = m.mbox AND s.userid = ? AND s.uid = m.uid)';
  };
  const recentExpr = (): string => {
    params.push(JSON.stringify(ctx.recent));
    return 'm.uid IN (SELECT value FROM json_each(?))';
  };
  const text = (col: string, v: string): string => {
    if (col.startsWith('h.')) needsHeaders = true;
    else needsBody = true;
    params.push(foldCase(v));
    return `instr(${col}, ?) > 0`;
  };
  // the body's text: matched natively by instr(); a row holding only the start of a long body
  // asks bodymatch() (index-db.ts), which reads the rest from the message file
  const bodyText = (v: string): string => {
    needsBody = true;
    const folded = foldCase(v);
    params.push(folded, folded);
    return '(instr(b.search_body, ?) > 0 OR (b.truncated != 0 AND bodymatch(m.mbox, m.uid, ?)))';
  };
  const c = (k: SearchKey): string => {
    switch (k.op) {
      case 'all':
        return '1';
      case 'and':
        return k.keys.length ? `(${k.keys.map(c).join(' AND ')})` : '1';
      case 'or':
        return `(${c(k.a)} OR ${c(k.b)})`;
      case 'not':
        return `NOT (${c(k.key)})`;
      case 'uid':
        params.push(JSON.stringify(Array.from(k.uids)));
        return 'm.uid IN (SELECT value FROM json_each(?))';
      case 'flag': {
        const lower = k.flag.toLowerCase();
        if (lower === '\\seen') return seenExpr();
        if (lower === '\\recent') return recentExpr();
        const bit = FLAG_BITS[lower];
        if (bit !== undefined) return `(m.sysflags & ${bit}) != 0`;
        params.push(` ${lower} `);
        return 'instr(lower(m.keywords), ?) > 0';
      }
      case 'recent':
        return recentExpr();
      case 'new':
        return `(${recentExpr()} AND NOT ${seenExpr()})`;
      case 'date': {
        const col =
          k.field === 'internal'
            ? 'm.internaldate'
            : k.field === 'save'
              ? 'm.savedate'
              : 'coalesce(m.sentdate, m.internaldate)';
        const start = dayStart(k.day);
        if (Number.isNaN(start)) return '0';
        const d = new Date(start);
        const end = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
        if (k.rel === 'before') return `${col} < ${start}`;
        if (k.rel === 'since') return `${col} >= ${start}`;
        return `(${col} >= ${start} AND ${col} < ${end})`;
      }
      case 'age': {
        const cut = ctx.now - k.seconds * 1000;
        return k.rel === 'older' ? `m.internaldate <= ${cut}` : `m.internaldate > ${cut}`;
      }
      case 'size':
        return k.rel === 'larger' ? `m.size > ${Math.floor(k.octets)}` : `m.size < ${Math.floor(k.octets)}`;
      case 'header':
        needsHeaders = true;
        params.push(k.name, foldCase(k.value));
        return 'hdrmatch(h.search_headers, ?, ?) = 1';
      case 'body':
        return bodyText(k.value);
      case 'text':
        return `(${text('h.search_headers', k.value)} OR ${bodyText(k.value)})`;
      case 'modseq':
        return `m.modseq >= ${Math.floor(k.min)}`;
      case 'emailid':
        if (!/^M[0-9a-f]{24}$/.test(k.id)) return '0';
        params.push(k.id.slice(1));
        return 'substr(m.guid, 1, 24) = ?';
      case 'threadid':
        return '0';
    }
  };
  const where = c(key);
  return { where, params, needsHeaders, needsBody };
}
