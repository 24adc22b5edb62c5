/**
 * SEARCH criteria (RFC 3501 §6.4.4, RFC 9051 §6.4.4, WITHIN RFC 5032, CONDSTORE MODSEQ
 * RFC 7162 §3.1.5, SAVEDATE RFC 8514, OBJECTID RFC 8474) into the store's `SearchKey`.
 *
 * Owns: the search-key grammar, charset decoding of string arguments (CHARSET), and the
 * mapping of message sequence sets to uids. The store evaluates the result.
 * Imports: store/api.ts types, args.ts, parser.ts.
 */
import { TextDecoder } from 'node:util';
import type { SearchKey } from '../../store/api.js';
import { ImapSyntaxError, normaliseFlag, parseDay, parseSeqSet, resolveSeqSet } from './args.js';
import { bytesOf, type Token } from './parser.js';

export interface SearchContext {
  /** the view's uids, for message sequence sets */
  uids: ArrayLike<number>;
  /** the saved search result ($), when SEARCHRES is in use */
  saved?: number[];
  /** TextDecoder for string arguments (CHARSET); default UTF-8 */
  decoder?: TextDecoder;
  /** set when a key needs CONDSTORE (MODSEQ) so the caller can enable it */
  usedModseq?: boolean;
}

/** the reply to a CHARSET we cannot decode (RFC 3501 §6.4.4), for SEARCH, SORT and THREAD */
export const BADCHARSET_REPLY = {
  status: 'NO',
  code: 'BADCHARSET (US-ASCII UTF-8)',
  text: 'Unrecognized character set',
} as const;

/** CHARSET name → decoder, or null when unsupported (→ BADCHARSET_REPLY). */
export function charsetDecoder(name: string): TextDecoder | null {
  try {
    return new TextDecoder(name.toLowerCase() === 'us-ascii' ? 'utf-8' : name, { fatal: false });
  } catch {
    return null;
  }
}

/** Parse search keys from tokens [from..]; returns one key (an implicit AND of all). */
export function parseSearch(toks: Token[], ctx: SearchContext): SearchKey {
  const r = new KeyReader(toks, ctx);
  const keys: SearchKey[] = [];
  while (!r.done()) keys.push(r.key());
  if (keys.length === 0) throw new ImapSyntaxError('Missing Search criteria');
  return keys.length === 1 ? keys[0]! : { op: 'and', keys };
}

class KeyReader {
  private i = 0;
  constructor(
    private toks: Token[],
    private ctx: SearchContext,
  ) {}

  done(): boolean {
    return this.i >= this.toks.length;
  }

  private take(): Token {
    const t = this.toks[this.i++];
    if (!t) throw new ImapSyntaxError('Missing required argument to Search');
    return t;
  }

  private text(): string {
    const t = this.take();
    if (t.t === 'atom') return t.v;
    if (t.t === 'string') return (this.ctx.decoder ?? new TextDecoder()).decode(bytesOf(t));
    throw new ImapSyntaxError('Invalid Search criteria');
  }

  private atom(): string {
    const t = this.take();
    if (t.t !== 'atom') throw new ImapSyntaxError('Invalid Search criteria');
    return t.v;
  }

  private num(): number {
    const s = this.text();
    if (!/^\d{1,20}$/.test(s)) throw new ImapSyntaxError('Invalid Search criteria');
    return Number(s);
  }

  private day(): string {
    const d = parseDay(this.text());
    if (!d) throw new ImapSyntaxError('Invalid date in Search');
    return d;
  }

  key(): SearchKey {
    const t = this.take();
    if (t.t === 'list') {
      const sub = new KeyReader(t.v, this.ctx);
      const keys: SearchKey[] = [];
      while (!sub.done()) keys.push(sub.key());
      if (!keys.length) throw new ImapSyntaxError('Invalid Search criteria');
      return keys.length === 1 ? keys[0]! : { op: 'and', keys };
    }
    if (t.t !== 'atom') throw new ImapSyntaxError('Invalid Search criteria');
    const w = t.v.toUpperCase();
    const flag = (f: string): SearchKey => ({ op: 'flag', flag: f });
    const not = (k: SearchKey): SearchKey => ({ op: 'not', key: k });
    switch (w) {
      case 'ALL':
        return { op: 'all' };
      case 'ANSWERED':
        return flag('\\Answered');
      case 'DELETED':
        return flag('\\Deleted');
      case 'DRAFT':
        return flag('\\Draft');
      case 'FLAGGED':
        return flag('\\Flagged');
      case 'SEEN':
        return flag('\\Seen');
      case 'UNANSWERED':
        return not(flag('\\Answered'));
      case 'UNDELETED':
        return not(flag('\\Deleted'));
      case 'UNDRAFT':
        return not(flag('\\Draft'));
      case 'UNFLAGGED':
        return not(flag('\\Flagged'));
      case 'UNSEEN':
        return not(flag('\\Seen'));
      case 'RECENT':
        return { op: 'recent' };
      case 'OLD':
        return not({ op: 'recent' });
      case 'NEW':
        return { op: 'new' };
      case 'KEYWORD':
      case 'UNKEYWORD': {
        const f = normaliseFlag(this.atom());
        if (!f) throw new ImapSyntaxError('Invalid Search criteria');
        return w === 'KEYWORD' ? flag(f) : not(flag(f));
      }
      case 'BCC':
      case 'CC':
      case 'FROM':
      case 'TO':
      case 'SUBJECT':
        return { op: 'header', name: w.toLowerCase(), value: this.text() };
      case 'HEADER': {
        const name = this.text().toLowerCase();
        return { op: 'header', name, value: this.text() };
      }
      case 'BODY':
        return { op: 'body', value: this.text() };
      case 'TEXT':
        return { op: 'text', value: this.text() };
      case 'BEFORE':
      case 'ON':
      case 'SINCE':
        return {
          op: 'date',
          field: 'internal',
          rel: w === 'BEFORE' ? 'before' : w === 'ON' ? 'on' : 'since',
          day: this.day(),
        };
      case 'SENTBEFORE':
      case 'SENTON':
      case 'SENTSINCE':
        return {
          op: 'date',
          field: 'sent',
          rel: w === 'SENTBEFORE' ? 'before' : w === 'SENTON' ? 'on' : 'since',
          day: this.day(),
        };
      case 'SAVEDBEFORE':
      case 'SAVEDON':
      case 'SAVEDSINCE':
        return {
          op: 'date',
          field: 'save',
          rel: w === 'SAVEDBEFORE' ? 'before' : w === 'SAVEDON' ? 'on' : 'since',
          day: this.day(),
        };
      case 'SAVEDATESUPPORTED':
        return { op: 'all' };
      case 'OLDER':
      case 'YOUNGER':
        return { op: 'age', rel: w === 'OLDER' ? 'older' : 'younger', seconds: this.num() };
      case 'LARGER':
      case 'SMALLER':
        return { op: 'size', rel: w === 'LARGER' ? 'larger' : 'smaller', octets: this.num() };
      case 'NOT':
        return not(this.key());
      case 'OR': {
        const a = this.key();
        return { op: 'or', a, b: this.key() };
      }
      case 'UID': {
        const s = parseSeqSet(this.atom());
        if (!s) throw new ImapSyntaxError('Invalid sequence in Search');
        return { op: 'uid', uids: resolveSeqSet(s, this.ctx.uids, true, this.ctx.saved) };
      }
      case 'MODSEQ': {
        // MODSEQ [entry-name entry-type-req] mod-sequence-valzer
        const next = this.toks[this.i];
        if (next && next.t === 'string') {
          this.i += 2;
        } else if (next && next.t === 'atom' && !/^\d+$/.test(next.v)) {
          this.i += 2;
        }
        this.ctx.usedModseq = true;
        return { op: 'modseq', min: this.num() };
      }
      case 'EMAILID':
        return { op: 'emailid', id: this.text() };
      case 'THREADID':
        return { op: 'threadid', id: this.text() };
      default: {
        const s = parseSeqSet(t.v);
        if (s) return { op: 'uid', uids: resolveSeqSet(s, this.ctx.uids, false, this.ctx.saved) };
        throw new ImapSyntaxError('Invalid Search criteria');
      }
    }
  }
}
