/**
 * Reading one command's arguments from the parser's tokens, grammar rule by grammar rule
 * (RFC 3501 §9 / RFC 9051 §9 names: astring, nstring, number, nz-number, sequence-set,
 * flag-list, date-time...). A rule that does not match throws `SyntaxError` with the text of
 * the BAD reply ("Missing required argument to Login", "Invalid sequence in Fetch"), which the
 * dispatcher sends.
 *
 * Owns: ArgReader, sequence sets (with `*` and `$`), flag validation, date parsing.
 * Imports: parser.ts only.
 */
import { bytesOf, type Token, type StringToken, type ListToken } from './parser.js';

/** A grammar mismatch: the dispatcher answers `BAD <text>`. */
export class ImapSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImapSyntaxError';
  }
}

/** One range of a sequence set; `*` is Infinity until resolved, `$` is the saved result. */
export type SeqRange = { from: number; to: number };
export type SeqSet = { ranges: SeqRange[]; saved: boolean };

const SEQ_RE = /^(?:\d+|\*)(?::(?:\d+|\*))?(?:,(?:\d+|\*)(?::(?:\d+|\*))?)*$/;

/** sequence-set = (seq-number / seq-range) ["," sequence-set] / "$"; null if not one */
export function parseSeqSet(s: string): SeqSet | null {
  if (s === '$') return { ranges: [], saved: true };
  if (!SEQ_RE.test(s)) return null;
  const ranges: SeqRange[] = [];
  for (const part of s.split(',')) {
    const [a, b] = part.split(':');
    const x = a === '*' ? Infinity : Number(a);
    const y = b === undefined ? x : b === '*' ? Infinity : Number(b);
    if (x === 0 || y === 0 || (x > 4294967295 && x !== Infinity) || (y > 4294967295 && y !== Infinity))
      return null;
    ranges.push({ from: Math.min(x, y), to: Math.max(x, y) });
  }
  return { ranges, saved: false };
}

/** The uids a sequence set names, given the view's ascending uids. `uid` picks UID or MSN semantics. */
export function resolveSeqSet(
  set: SeqSet,
  uids: ArrayLike<number>,
  uid: boolean,
  saved: number[] = [],
): number[] {
  if (set.saved) return saved.filter((u) => indexOfUid(uids, u) >= 0);
  const n = uids.length;
  const out = new Set<number>();
  if (uid) {
    const max = n ? uids[n - 1]! : 0;
    for (const r of set.ranges) {
      let from = r.from === Infinity ? max : r.from;
      let to = r.to === Infinity ? max : r.to;
      if (from > to) [from, to] = [to, from];
      // RFC 3501: "*" in a UID range means the largest uid in use, even if the range is beyond it
      let i = lowerBound(uids, from);
      for (; i < n && uids[i]! <= to; i++) out.add(uids[i]!);
    }
  } else {
    for (const r of set.ranges) {
      const from = r.from === Infinity ? n : r.from;
      const to = r.to === Infinity ? n : r.to;
      // in an empty mailbox "*" is 0: nothing matches
      for (let s = Math.max(1, Math.min(from, to)); s <= Math.max(from, to) && s <= n; s++)
        out.add(uids[s - 1]!);
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** true when a message-number set names a number beyond the mailbox (Fetch's BAD/NO rule) */
export function seqOutOfRange(set: SeqSet, count: number): boolean {
  return set.ranges.some(
    (r) => (r.from !== Infinity && r.from > count) || (r.to !== Infinity && r.to > count),
  );
}

export function lowerBound(a: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function indexOfUid(a: ArrayLike<number>, v: number): number {
  const i = lowerBound(a, v);
  return i < a.length && a[i] === v ? i : -1;
}

/** Compact a sorted list of numbers as an IMAP sequence set ("1:3,7"). */
export function formatSeqSet(nums: ArrayLike<number>): string {
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

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** date = date-text / DQUOTE date-text DQUOTE; date-text = date-day "-" date-month "-" date-year → YYYY-MM-DD */
export function parseDay(s: string): string | null {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(s);
  if (!m) return null;
  const mon = MONTHS.indexOf(m[2]!.toLowerCase());
  const day = Number(m[1]);
  if (mon < 0 || day < 1 || day > 31) return null;
  return `${m[3]}-${String(mon + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

const SYSTEM_FLAGS = new Map(
  ['\\seen', '\\answered', '\\flagged', '\\deleted', '\\draft'].map((f) => [
    f,
    '\\' + f[1]!.toUpperCase() + f.slice(2),
  ]),
);
const ATOM_SPECIALS = /[(){ \x00-\x1f\x7f%*"\\\]]/;

/** flag = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" / flag-keyword; null if invalid */
export function normaliseFlag(f: string, allowRecent = false): string | null {
  if (f.startsWith('\\')) {
    const sys = SYSTEM_FLAGS.get(f.toLowerCase());
    if (sys) return sys;
    if (allowRecent && f.toLowerCase() === '\\recent') return '\\Recent';
    return null;
  }
  if (f.length === 0 || ATOM_SPECIALS.test(f) || /[^\x21-\x7e]/.test(f)) return null;
  return f;
}

/** Reads arguments left to right; `cmd` names the command in error texts ("Login", "UID Fetch"). */
export class ArgReader {
  private i = 0;
  constructor(
    private readonly toks: Token[],
    readonly cmd: string,
  ) {}

  get remaining(): number {
    return this.toks.length - this.i;
  }

  peek(): Token | undefined {
    return this.toks[this.i];
  }

  /** next token, or BAD "Missing required argument" */
  take(): Token {
    const t = this.toks[this.i];
    if (!t) throw new ImapSyntaxError(`Missing required argument to ${this.cmd}`);
    this.i++;
    return t;
  }

  /** no more arguments, or BAD "Unexpected extra arguments" */
  end(): void {
    if (this.i < this.toks.length) throw new ImapSyntaxError(`Unexpected extra arguments to ${this.cmd}`);
  }

  /** astring as bytes (atom, quoted or literal) */
  astringBytes(): Buffer {
    const t = this.take();
    if (t.t === 'atom') return Buffer.from(t.v, 'utf8');
    if (t.t === 'string') return bytesOf(t);
    throw new ImapSyntaxError(`Invalid argument to ${this.cmd}`);
  }

  /** astring as UTF-8 text */
  astring(): string {
    return this.astringBytes().toString('utf8');
  }

  /** nstring-ish: NIL → null */
  nastring(): string | null {
    const t = this.peek();
    if (t?.t === 'atom' && t.v.toUpperCase() === 'NIL') {
      this.i++;
      return null;
    }
    return this.astring();
  }

  /** string token (quoted or literal) */
  string(): StringToken {
    const t = this.take();
    if (t.t !== 'string') throw new ImapSyntaxError(`Invalid argument to ${this.cmd}`);
    return t;
  }

  atom(): string {
    const t = this.take();
    if (t.t !== 'atom') throw new ImapSyntaxError(`Invalid argument to ${this.cmd}`);
    return t.v;
  }

  /** an optional atom equal (case-insensitively) to one of `words` */
  optWord(...words: string[]): string | null {
    const t = this.peek();
    if (t?.t === 'atom' && words.includes(t.v.toUpperCase())) {
      this.i++;
      return t.v.toUpperCase();
    }
    return null;
  }

  number(what = 'number'): number {
    const t = this.take();
    if (t.t !== 'atom' || !/^\d{1,20}$/.test(t.v))
      throw new ImapSyntaxError(`Invalid ${what} in ${this.cmd}`);
    return Number(t.v);
  }

  list(): ListToken {
    const t = this.take();
    if (t.t !== 'list') throw new ImapSyntaxError(`Missing required open parenthesis in ${this.cmd}`);
    return t;
  }

  optList(): ListToken | null {
    const t = this.peek();
    if (t?.t === 'list') {
      this.i++;
      return t;
    }
    return null;
  }

  seqSet(): SeqSet {
    const t = this.take();
    const s = t.t === 'atom' ? parseSeqSet(t.v) : null;
    if (!s) throw new ImapSyntaxError(`Invalid sequence in ${this.cmd}`);
    return s;
  }

  /** flag-list = "(" [flag *(SP flag)] ")" (a single bare flag accepted, as Cyrus does) */
  flagList(allowRecent = false): string[] {
    const t = this.take();
    const items = t.t === 'list' ? t.v : [t];
    const out: string[] = [];
    for (const it of items) {
      if (it.t !== 'atom') throw new ImapSyntaxError(`Invalid flag in ${this.cmd}`);
      const f = normaliseFlag(it.v, allowRecent);
      if (f === null) {
        throw new ImapSyntaxError(
          it.v.startsWith('\\')
            ? `Invalid system flag in ${this.cmd} command`
            : `Invalid flag name in ${this.cmd}`,
        );
      }
      if (!out.includes(f)) out.push(f);
    }
    return out;
  }
}

/** Token helpers for commands that walk lists themselves. */
export function atomOf(t: Token | undefined): string | null {
  return t && t.t === 'atom' ? t.v : null;
}

export function textOf(t: Token | undefined): string | null {
  if (!t) return null;
  if (t.t === 'atom') return t.v;
  if (t.t === 'string') return bytesOf(t).toString('utf8');
  return null;
}
