/**
 * The IMAP command reader: an exact, incremental, byte-level tokenizer for client commands
 * (RFC 3501 §9 / RFC 9051 §9 grammar, RFC 7888 LITERAL+/LITERAL-, RFC 3516 literal8).
 *
 * Owns: turning bytes into `tag command args…` where args are atoms, strings (quoted or
 * literal, kept as Buffers), literal8 and parenthesised lists. Commands then read their own
 * grammar from these tokens (see args.ts). Section specifiers such as
 * `BODY.PEEK[HEADER.FIELDS (From To)]<0.100>` are kept as one atom (brackets may hold spaces).
 *
 * Rules that matter for security: every limit is checked before memory is spent — an atom past
 * `maxword`, a quoted string past `maxquoted`, and a literal's size is judged at `{N}` against
 * `maxliteral` (or `maxmessagesize` for an APPEND message) BEFORE any of its bytes are read.
 * A synchronising literal that is too big gets `NO [TOOBIG]` and its bytes were never sent;
 * a non-synchronising one is fatal (`* BYE`), except an APPEND message, whose bytes are read
 * and dropped so the session can go on (RFC 7888 §4 lets a server do either).
 *
 * The session feeds bytes with `push()` and pulls results with `next()`: 'more' (needs
 * input), 'goAhead' (send `+ go ahead` now: a synchronising literal may be sent), a command,
 * or an error that says whether the session can continue. In raw-line states (AUTHENTICATE
 * continuation, IDLE) the session uses `nextLine()` instead.
 *
 * Imports: node built-ins only.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface ParserLimits {
  /** longest atom (bytes) — imapd.conf maxword */
  maxWord: number;
  /** longest quoted string (bytes) — maxquoted */
  maxQuoted: number;
  /** largest literal outside an APPEND message — maxliteral */
  maxLiteral: number;
  /** largest APPEND message literal — maxmessagesize (0 = 4294967295, the RFC 7889 ceiling) */
  maxMessage: number;
  /** largest total size of one command's arguments, APPEND messages excluded (0 = unlimited) */
  maxArgs: number;
  /** LITERAL- (RFC 7888): a non-synchronising literal may be at most 4096 octets */
  literalMinus: boolean;
  /**
   * Where APPEND messages larger than `spoolOver` bytes are written while they arrive, so a big
   * message never sits in memory (null: keep them in memory).
   */
  spoolDir: string | null;
  spoolOver: number;
}

export const DEFAULT_LIMITS: ParserLimits = {
  maxWord: 131072,
  maxQuoted: 131072,
  maxLiteral: 131072,
  maxMessage: 0,
  maxArgs: 0,
  literalMinus: false,
  spoolDir: null,
  spoolOver: 256 * 1024,
};

function isComplete(l: Partial<ParserLimits>): l is ParserLimits {
  return (Object.keys(DEFAULT_LIMITS) as (keyof ParserLimits)[]).every((k) => l[k] !== undefined);
}

/** Without maxargssize a line of endless small tokens would still grow a list: cap it anyway. */
const HARD_ARGS_CAP = 64 * 1024 * 1024;
const UINT32_MAX = 4294967295;

export interface AtomToken {
  t: 'atom';
  v: string;
}
export interface StringToken {
  t: 'string';
  /** the bytes, as received chunks (one chunk unless it was a large literal) */
  chunks: Buffer[];
  size: number;
  /** came as a literal (else a quoted string) */
  literal: boolean;
  /** literal8 `~{N}` */
  binary: boolean;
  /** a spooled APPEND message: its bytes are in this file, `chunks` is empty (see disposeTokens) */
  file?: string;
}
export interface ListToken {
  t: 'list';
  v: Token[];
}
export type Token = AtomToken | StringToken | ListToken;

export type ParseResult =
  | { kind: 'more' }
  | { kind: 'goAhead' }
  | { kind: 'command'; tag: string; name: string; uid: boolean; args: Token[] }
  | {
      kind: 'error';
      /** null when the tag itself was bad */
      tag: string | null;
      /** command name as typed ('' when unknown) */
      name: string;
      /** the session cannot go on: send `* BYE` with `code`/`text` and close */
      fatal: boolean;
      /** 'BAD' or 'NO' for non-fatal errors */
      status: 'BAD' | 'NO';
      code?: string;
      text: string;
    };

/** Remove the spool files of spooled literals among `toks` (after the command ran). */
export function disposeTokens(toks: Token[]): void {
  for (const t of toks) {
    if (t.t === 'string' && t.file) rmSync(t.file, { force: true });
    else if (t.t === 'list') disposeTokens(t.v);
  }
}

/** Bytes of a string token as one Buffer (never for spooled literals: read `file`). */
export function bytesOf(s: StringToken): Buffer {
  return s.chunks.length === 1 ? s.chunks[0]! : Buffer.concat(s.chunks, s.size);
}

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const DQUOTE = 0x22;
const BSLASH = 0x5c;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LBRACE = 0x7b;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const TILDE = 0x7e;

/** tag = 1*<any ASTRING-CHAR except "+">; ASTRING-CHAR excludes ( ) { SP CTL % * " \ */
function isTagChar(c: number): boolean {
  return (
    c > 0x20 &&
    c < 0x7f &&
    c !== LPAREN &&
    c !== RPAREN &&
    c !== LBRACE &&
    c !== 0x25 &&
    c !== 0x2a &&
    c !== DQUOTE &&
    c !== BSLASH &&
    c !== 0x2b
  );
}

/** bytes allowed in an atom-like token (atoms, flags, sequence sets, list-wildcards, sections) */
function isAtomChar(c: number): boolean {
  return c > 0x20 && c !== 0x7f && c !== LPAREN && c !== RPAREN && c !== DQUOTE && c !== LBRACE;
}

type Phase =
  | 'tag'
  | 'name'
  | 'args'
  | 'literalData'
  | 'afterLiteral'
  | 'skipLine'
  | 'skipLiteral'
  | 'discardLiteral'
  | 'dead';

interface Pending {
  status: 'BAD' | 'NO';
  code?: string;
  text: string;
}

/** the input buffer once everything received was consumed (nothing kept per connection) */
const EMPTY = Buffer.alloc(0);

export class ImapParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private phase: Phase = 'tag';
  private tag = '';
  private name = '';
  private uid = false;
  /** open lists: stack[0] is the command's arguments */
  private stack: Token[][] = [[]];
  private argsSize = 0;
  /** scan offset inside the token that starts at `pos` (so a split token is never rescanned) */
  private scan = 0;
  private bracketDepth = 0;
  private litRemaining = 0;
  private lit: StringToken | null = null;
  private pendingGoAhead = false;
  private spoolFd: number | null = null;
  /** a non-fatal error to report once the rest of the line has been skipped */
  private pending: Pending | null = null;
  private skipLiteralTo: Phase = 'skipLine';
  limits: ParserLimits;

  /** a complete ParserLimits object is kept as given (sessions of one service share one) */
  constructor(limits: Partial<ParserLimits> | ParserLimits = {}) {
    this.limits = isComplete(limits) ? limits : { ...DEFAULT_LIMITS, ...limits };
  }

  /** Drop the last input chunk once it is all consumed (an idle connection keeps no buffer). */
  release(): void {
    if (this.pos >= this.buf.length && this.buf !== EMPTY) {
      this.buf = EMPTY;
      this.pos = 0;
    }
  }

  /** Add received bytes. */
  push(chunk: Buffer): void {
    if (this.phase === 'dead') return;
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
      this.pos = 0;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
      this.pos = 0;
    }
  }

  /** Bytes received but not consumed (for tests and STARTTLS injection checks). */
  buffered(): number {
    return this.buf.length - this.pos;
  }

  /** Hand over unread input (COMPRESS: it is compressed, the new transport must decode it). */
  takeBuffered(): Buffer {
    const rest = Buffer.from(this.buf.subarray(this.pos));
    this.buf = EMPTY;
    this.pos = 0;
    return rest;
  }

  /** Drop unread input (STARTTLS: anything sent before the handshake must be ignored, RFC 3501 §6.2.1). */
  discardBuffered(): void {
    this.buf = EMPTY;
    this.pos = 0;
  }

  /**
   * Raw-line mode (AUTHENTICATE responses, IDLE's DONE): the next CRLF-terminated line without
   * its CRLF, or null if none is complete yet. Lines longer than `max` give an Error.
   */
  nextLine(max = this.limits.maxWord): Buffer | null | Error {
    const lf = this.buf.indexOf(LF, this.pos);
    if (lf < 0) {
      if (this.buf.length - this.pos > max) {
        this.pos = this.buf.length;
        return new Error('Line too long');
      }
      return null;
    }
    let end = lf;
    if (end > this.pos && this.buf[end - 1] === CR) end--;
    const line = this.buf.subarray(this.pos, end);
    this.pos = lf + 1;
    if (line.length > max) return new Error('Line too long');
    return Buffer.from(line);
  }

  /** Advance as far as the input allows. */
  next(): ParseResult {
    if (this.pendingGoAhead) {
      this.pendingGoAhead = false;
      return { kind: 'goAhead' };
    }
    for (;;) {
      const r = this.step();
      if (r) return r;
    }
  }

  /** Close and remove a half-received spooled literal (connection gone). */
  dispose(): void {
    if (this.spoolFd !== null) {
      closeSync(this.spoolFd);
      this.spoolFd = null;
    }
    if (this.lit?.file) rmSync(this.lit.file, { force: true });
    for (const l of this.stack) disposeTokens(l);
    this.lit = null;
    this.phase = 'dead';
  }

  private reset(): void {
    this.phase = 'tag';
    this.tag = '';
    this.name = '';
    this.uid = false;
    this.stack = [[]];
    this.argsSize = 0;
    this.scan = 0;
    this.bracketDepth = 0;
    this.lit = null;
    this.pending = null;
  }

  private errorResult(p: Pending, tag: string | null = this.tag || null): ParseResult {
    const r: ParseResult = {
      kind: 'error',
      tag,
      name: this.name,
      fatal: false,
      status: p.status,
      code: p.code,
      text: p.text,
    };
    for (const l of this.stack) disposeTokens(l);
    this.reset();
    return r;
  }

  private fatal(code: string | undefined, text: string): ParseResult {
    const r: ParseResult = {
      kind: 'error',
      tag: this.tag || null,
      name: this.name,
      fatal: true,
      status: 'BAD',
      code,
      text,
    };
    for (const l of this.stack) disposeTokens(l);
    this.phase = 'dead';
    this.buf = EMPTY;
    this.pos = 0;
    return r;
  }

  /** Stop parsing this line: report `p` once the line (and its non-sync literals) is consumed. */
  private failLine(p: Pending): null {
    this.pending = p;
    this.phase = 'skipLine';
    this.scan = 0;
    return null;
  }

  private displayName(): string {
    const n = this.name.toLowerCase();
    const pretty = n.charAt(0).toUpperCase() + n.slice(1);
    return this.uid ? `UID ${pretty}` : pretty;
  }

  /** One step of the state machine: a result, or null to loop again. */
  private step(): ParseResult | null {
    const buf = this.buf;
    switch (this.phase) {
      case 'dead':
        return { kind: 'more' };

      case 'tag':
      case 'name': {
        // scan a word up to SP or CRLF
        let i = this.pos + this.scan;
        while (i < buf.length && buf[i] !== SP && buf[i] !== CR && buf[i] !== LF) i++;
        if (i >= buf.length) {
          this.scan = i - this.pos;
          if (this.scan > this.limits.maxWord) {
            this.pos = buf.length;
            return this.failLine({
              status: 'BAD',
              text: this.phase === 'tag' ? 'Invalid tag' : 'Invalid command',
            });
          }
          return { kind: 'more' };
        }
        const word = buf.subarray(this.pos, i);
        this.scan = 0;
        const atEol = buf[i] !== SP;
        if (this.phase === 'tag') {
          if (word.length === 0 || !word.every(isTagChar)) {
            this.pos = i;
            this.tag = '';
            return this.failLine({ status: 'BAD', text: 'Invalid tag' });
          }
          this.pos = i;
          // a tag alone: Cyrus answers `* BAD Invalid tag` (spec/cyrus-observed.md §6)
          if (atEol) return this.failLine({ status: 'BAD', text: 'Invalid tag' });
          this.tag = word.toString('latin1');
          this.pos = i + 1;
          this.phase = 'name';
          return null;
        }
        // command name (and UID's sub-command)
        if (
          word.length === 0 ||
          !word.every(
            (c) =>
              (c >= 0x41 && c <= 0x5a) ||
              (c >= 0x61 && c <= 0x7a) ||
              (c >= 0x30 && c <= 0x39) ||
              c === 0x2d ||
              c === 0x5f ||
              c === 0x2e,
          )
        ) {
          this.pos = i;
          return this.failLine({
            status: 'BAD',
            text: word.length === 0 ? 'Null command' : 'Unrecognized command',
          });
        }
        const w = word.toString('latin1').toUpperCase();
        this.pos = atEol ? i : i + 1;
        if (w === 'UID' && !this.uid && this.name === '') {
          this.uid = true;
          if (atEol) return this.failLine({ status: 'BAD', text: 'Missing required argument to Uid' });
          return null;
        }
        this.name = w;
        this.phase = 'args';
        return null;
      }

      case 'args':
        return this.stepArgs();

      case 'literalData': {
        const avail = buf.length - this.pos;
        if (avail === 0 && this.litRemaining > 0) return { kind: 'more' };
        const n = Math.min(avail, this.litRemaining);
        if (this.spoolFd !== null) writeSync(this.spoolFd, buf, this.pos, n);
        // copy: the socket's chunk may be reused/held by other slices otherwise
        else this.lit!.chunks.push(Buffer.from(buf.subarray(this.pos, this.pos + n)));
        this.pos += n;
        this.litRemaining -= n;
        if (this.litRemaining > 0) return { kind: 'more' };
        if (this.spoolFd !== null) {
          closeSync(this.spoolFd);
          this.spoolFd = null;
        }
        const tok = this.lit!;
        if (tok.chunks.length > 1 && tok.size <= 65536) tok.chunks = [Buffer.concat(tok.chunks, tok.size)];
        if (tok.chunks.length === 0) tok.chunks = [Buffer.alloc(0)];
        this.stack[this.stack.length - 1]!.push(tok);
        this.lit = null;
        this.phase = 'afterLiteral';
        return null;
      }

      case 'afterLiteral': {
        // after a literal: SP, ')' or CRLF, handled by the args scanner which checks separators
        this.phase = 'args';
        return null;
      }

      case 'discardLiteral':
      case 'skipLiteral': {
        const avail = buf.length - this.pos;
        const n = Math.min(avail, this.litRemaining);
        this.pos += n;
        this.litRemaining -= n;
        if (this.litRemaining > 0) return { kind: 'more' };
        this.phase = 'skipLine';
        this.scan = 0;
        return null;
      }

      case 'skipLine': {
        // consume to end of line; a line ending in a non-synchronising literal continues after it
        const lf = buf.indexOf(LF, this.pos);
        if (lf < 0) {
          // keep only a short tail (a `{N+}` marker may be split); never buffer a long junk line
          const keep = Math.min(buf.length - this.pos, 24);
          this.pos = buf.length - keep;
          if (this.pos > 0) {
            this.buf = Buffer.from(buf.subarray(this.pos));
            this.pos = 0;
          }
          return { kind: 'more' };
        }
        const line = buf.subarray(Math.max(this.pos, lf - 24), lf);
        this.pos = lf + 1;
        const m = /~?\{(\d{1,20})\+\}\r?$/.exec(line.toString('latin1'));
        if (m) {
          const n = Number(m[1]);
          if (n > UINT32_MAX) return this.fatal(undefined, 'Literal size not a number');
          this.litRemaining = n;
          this.phase = 'skipLiteral';
          return null;
        }
        const p = this.pending ?? { status: 'BAD', text: 'Invalid command' };
        return this.errorResult(p);
      }
    }
  }

  /** Scan arguments: separators, lists, atoms, quoted strings, literal markers, CRLF. */
  private stepArgs(): ParseResult | null {
    const buf = this.buf;
    if (this.scan === 0) {
      if (this.pos >= buf.length) return { kind: 'more' };
      const c = buf[this.pos]!;
      if (c === SP) {
        this.pos++;
        return null;
      }
      if (c === CR) {
        if (this.pos + 1 >= buf.length) return { kind: 'more' };
        if (buf[this.pos + 1] !== LF) {
          this.pos++;
          return this.failLine({ status: 'BAD', text: 'Invalid character in arguments' });
        }
        this.pos += 2;
        return this.endOfLine();
      }
      if (c === LF) {
        this.pos++;
        return this.endOfLine();
      }
      if (c === LPAREN) {
        if (this.stack.length > 64) return this.failLine({ status: 'BAD', text: 'Too many nested lists' });
        this.pos++;
        this.stack.push([]);
        return this.countArg(1);
      }
      if (c === RPAREN) {
        this.pos++;
        if (this.stack.length === 1)
          return this.failLine({
            status: 'BAD',
            text: `Unexpected close parenthesis in ${this.displayName()}`,
          });
        const items = this.stack.pop()!;
        this.stack[this.stack.length - 1]!.push({ t: 'list', v: items });
        return null;
      }
    }
    const c = buf[this.pos]!;
    if (c === DQUOTE) return this.scanQuoted();
    if (c === LBRACE || (c === TILDE && this.pos + 1 < buf.length && buf[this.pos + 1] === LBRACE))
      return this.scanLiteralMarker();
    if (c === TILDE && this.pos + 1 >= buf.length && this.scan === 0) return { kind: 'more' };
    return this.scanAtom();
  }

  private countArg(n: number): null {
    this.argsSize += n;
    const cap = this.limits.maxArgs > 0 ? this.limits.maxArgs : HARD_ARGS_CAP;
    if (this.argsSize > cap)
      return this.failLine({
        status: 'NO',
        code: 'TOOBIG',
        text: `Arguments too long in ${this.displayName()}`,
      });
    return null;
  }

  private endOfLine(): ParseResult {
    if (this.stack.length > 1) {
      return this.errorResult({ status: 'BAD', text: `Missing close parenthesis in ${this.displayName()}` });
    }
    const r: ParseResult = {
      kind: 'command',
      tag: this.tag,
      name: this.name,
      uid: this.uid,
      args: this.stack[0]!,
    };
    this.reset();
    return r;
  }

  private scanAtom(): ParseResult | null {
    const buf = this.buf;
    let i = this.pos + this.scan;
    let inQuote = false;
    for (; i < buf.length; i++) {
      const c = buf[i]!;
      if (this.bracketDepth > 0) {
        // inside a section specifier: anything but CR/LF; track quotes so "]" in a quoted header name is data
        if (c === CR || c === LF) break;
        if (inQuote) {
          if (c === BSLASH) i++;
          else if (c === DQUOTE) inQuote = false;
          continue;
        }
        if (c === DQUOTE) inQuote = true;
        else if (c === LBRACKET) this.bracketDepth++;
        else if (c === RBRACKET) this.bracketDepth--;
        continue;
      }
      if (c === LBRACKET) {
        this.bracketDepth = 1;
        continue;
      }
      if (!isAtomChar(c)) break;
    }
    const len = i - this.pos;
    if (len > this.limits.maxWord) {
      this.pos = Math.min(i, buf.length);
      this.bracketDepth = 0;
      this.scan = 0;
      return this.failLine({ status: 'BAD', text: `Word too long in ${this.displayName()}` });
    }
    if (i >= buf.length) {
      // quoted state inside brackets is recomputed on resume, so resume from the token start then
      if (this.bracketDepth > 0) {
        this.scan = 0;
        this.bracketDepth = 0;
      } else this.scan = len;
      return { kind: 'more' };
    }
    if (this.bracketDepth > 0) {
      this.bracketDepth = 0;
      this.scan = 0;
      this.pos = i;
      return this.failLine({ status: 'BAD', text: `Missing close bracket in ${this.displayName()}` });
    }
    this.scan = 0;
    if (len === 0) {
      this.pos = i + 1;
      return this.failLine({ status: 'BAD', text: `Invalid character in ${this.displayName()}` });
    }
    const v = buf.toString('utf8', this.pos, i);
    this.pos = i;
    this.stack[this.stack.length - 1]!.push({ t: 'atom', v });
    return this.countArg(len);
  }

  private scanQuoted(): ParseResult | null {
    const buf = this.buf;
    let i = this.pos + 1 + Math.max(0, this.scan - 1);
    let split = false;
    for (; i < buf.length; i++) {
      const c = buf[i]!;
      if (c === BSLASH) {
        if (i + 1 >= buf.length) {
          split = true;
          break;
        }
        const d = buf[i + 1]!;
        if (d !== BSLASH && d !== DQUOTE) {
          this.scan = 0;
          this.pos = i + 1;
          return this.failLine({ status: 'BAD', text: `Invalid quoted string in ${this.displayName()}` });
        }
        i++;
        continue;
      }
      if (c === DQUOTE) break;
      if (c === CR || c === LF || c === 0) {
        this.scan = 0;
        this.pos = i;
        return this.failLine({ status: 'BAD', text: `Missing required argument to ${this.displayName()}` });
      }
    }
    const rawLen = i - this.pos - 1;
    const complete = i < buf.length && !split;
    if (rawLen > this.limits.maxQuoted * 2 || (complete && rawLen > this.limits.maxQuoted)) {
      // escapes can at most double the raw length; check the unescaped size once complete
      this.scan = 0;
      this.pos = Math.min(i + 1, buf.length);
      return this.failLine({ status: 'BAD', text: `Quoted string too long in ${this.displayName()}` });
    }
    if (!complete) {
      this.scan = i - this.pos;
      return { kind: 'more' };
    }
    // unescape
    const raw = buf.subarray(this.pos + 1, i);
    let out: Buffer;
    if (raw.includes(BSLASH)) {
      out = Buffer.alloc(raw.length);
      let o = 0;
      for (let k = 0; k < raw.length; k++) {
        if (raw[k] === BSLASH) k++;
        out[o++] = raw[k]!;
      }
      out = out.subarray(0, o);
    } else out = Buffer.from(raw);
    if (out.length > this.limits.maxQuoted) {
      this.scan = 0;
      this.pos = i + 1;
      return this.failLine({ status: 'BAD', text: `Quoted string too long in ${this.displayName()}` });
    }
    this.scan = 0;
    this.pos = i + 1;
    this.stack[this.stack.length - 1]!.push({
      t: 'string',
      chunks: [out],
      size: out.length,
      literal: false,
      binary: false,
    });
    return this.countArg(out.length);
  }

  /** `{N}`, `{N+}`, `~{N}`, `~{N+}` at the end of a line. Size judged here, before any data. */
  private scanLiteralMarker(): ParseResult | null {
    const buf = this.buf;
    const start = this.pos;
    const binary = buf[start] === TILDE;
    const open = start + (binary ? 1 : 0);
    let i = open + 1;
    while (i < buf.length && buf[i]! >= 0x30 && buf[i]! <= 0x39 && i - open <= 22) i++;
    if (i >= buf.length) return { kind: 'more' };
    let nonSync = false;
    const digits = buf.toString('latin1', open + 1, i);
    if (buf[i] === 0x2b) {
      nonSync = true;
      i++;
    }
    if (i >= buf.length) return { kind: 'more' };
    if (buf[i] !== 0x7d) {
      this.pos = i;
      return this.failLine({ status: 'BAD', text: `Invalid literal in ${this.displayName()}` });
    }
    // "}" must be followed by CRLF
    if (i + 1 >= buf.length) return { kind: 'more' };
    let eol = i + 1;
    if (buf[eol] === CR) {
      if (eol + 1 >= buf.length) return { kind: 'more' };
      eol++;
    }
    if (buf[eol] !== LF) {
      this.pos = i + 1;
      return this.failLine({ status: 'BAD', text: `Missing CRLF after literal in ${this.displayName()}` });
    }
    this.pos = eol + 1;
    if (digits.length === 0 || digits.length > 10 || Number(digits) > UINT32_MAX) {
      if (nonSync) return this.fatal(undefined, 'Literal size not a number');
      return this.errorResult({ status: 'BAD', text: 'Literal size not a number' });
    }
    const size = Number(digits);
    // a message literal: APPEND's (after the mailbox), REPLACE's (after the number and mailbox),
    // CATENATE's parts — judged against maxmessagesize and spooled to disk when big
    const isMessage =
      (this.name === 'APPEND' && this.argIndex() > 0) ||
      (this.name === 'REPLACE' && this.argIndex() > 1) ||
      this.name === 'CATENATE';
    const limit = isMessage ? this.limits.maxMessage || UINT32_MAX : this.limits.maxLiteral;
    if (nonSync && this.limits.literalMinus && size > 4096) {
      return this.fatal('TOOBIG', 'Non-synchronizing literal larger than 4096 octets');
    }
    if (size > limit) {
      if (!nonSync) {
        return this.errorResult({
          status: 'NO',
          code: 'TOOBIG',
          text: `Literal size exceeds fixed limit in ${this.displayName()}`,
        });
      }
      if (isMessage) {
        // the client is sending the bytes anyway: read and drop them, then answer
        this.pending = { status: 'NO', code: 'TOOBIG', text: 'Message too large' };
        this.litRemaining = size;
        this.phase = 'discardLiteral';
        return null;
      }
      return this.fatal('TOOBIG', 'Literal size exceeds fixed limit');
    }
    if (!isMessage) {
      const r = this.countArg(size);
      if (this.phase === 'skipLine') {
        // over maxargssize: behave like an over-limit literal
        if (!nonSync) return this.errorResult(this.pending!);
        this.litRemaining = size;
        this.phase = 'skipLiteral';
        return r;
      }
    }
    this.lit = { t: 'string', chunks: [], size, literal: true, binary };
    if (isMessage && this.limits.spoolDir && size > this.limits.spoolOver) {
      const file = join(this.limits.spoolDir, `append-${process.pid}-${randomBytes(8).toString('hex')}`);
      this.spoolFd = openSync(file, 'wx', 0o600);
      this.lit.file = file;
      this.lit.chunks = [];
    }
    this.litRemaining = size;
    this.phase = 'literalData';
    if (!nonSync) return { kind: 'goAhead' };
    return null;
  }

  /** index of the next top-level argument */
  private argIndex(): number {
    return this.stack[0]!.length;
  }
}
