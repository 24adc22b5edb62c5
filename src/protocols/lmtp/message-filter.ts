/**
 * What lmtpd checks and changes in a message on its way to the spool, streaming:
 *
 *  - line endings: bare LF becomes CRLF (the store keeps RFC 5322 CRLF lines);
 *  - the header block must be a header: each line `field-name ":"` or a continuation
 *    (Cyrus: `554 5.6.0 Message contains invalid header`);
 *  - NUL bytes anywhere are refused (`554 5.6.0 Message contains NUL characters`);
 *  - 8-bit bytes in the header are replaced by 'X' (`munge8bit`) or refused (`reject8bit`);
 *  - Message-ID and Resent-Message-ID are captured for duplicate suppression;
 *  - the size is counted; past `maxSize` (0 = unlimited) output stops but input is still
 *    accepted, so the reply can come after the final dot (STYLE.md: answer after the end).
 *
 * Owns: the byte-level checks only; the result is a verdict the DATA command turns into replies.
 * Memory: one header line at a time, capped at HEADER_LINE_CAP bytes.
 */

/** a longer header line is passed through but not inspected for Message-ID */
const HEADER_LINE_CAP = 16 * 1024;

export interface FilterOptions {
  maxSize: number;
  munge8bit: boolean;
  reject8bit: boolean;
}

export type FilterProblem = 'invalidHeader' | 'nul' | 'eightBitHeader' | 'tooBig';

export interface FilterVerdict {
  problem: FilterProblem | null;
  /** bytes of the (normalised) message */
  size: number;
  messageId: string | null;
  resentMessageId: string | null;
}

const CRLF = Buffer.from('\r\n');

export class MessageFilter {
  readonly #opts: FilterOptions;
  #inHeader = true;
  /** current header line without its line ending */
  #line: number[] = [];
  #lineOverflow = false;
  #firstLine = true;
  /** the logical field being collected when it is one we want, else null */
  #field: string | null = null;
  #fieldName = '';
  #problem: FilterProblem | null = null;
  #size = 0;
  #messageId: string | null = null;
  #resentMessageId: string | null = null;
  /** the previous body chunk ended in CR */
  #lastCr = false;

  constructor(opts: FilterOptions) {
    this.#opts = opts;
  }

  /** Take decoded message bytes; return what goes to the spool (possibly nothing). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    while (this.#inHeader && i < chunk.length) {
      const b = chunk[i++]!;
      if (b === 10) {
        this.#endHeaderLine(out);
      } else {
        if (this.#line.length < HEADER_LINE_CAP) this.#line.push(b);
        else this.#lineOverflow = true;
      }
    }
    if (!this.#inHeader && i < chunk.length) this.#body(i === 0 ? chunk : chunk.subarray(i), out);
    return this.#emit(out);
  }

  /** The input ended (final dot seen): flush and give the verdict. */
  end(): { out: Buffer[]; verdict: FilterVerdict } {
    const out: Buffer[] = [];
    if (this.#inHeader && (this.#line.length > 0 || this.#lineOverflow)) this.#endHeaderLine(out, false);
    if (this.#inHeader) this.#finishField();
    return {
      out: this.#emit(out),
      verdict: {
        problem: this.#problem,
        size: this.#size,
        messageId: this.#messageId,
        resentMessageId: this.#resentMessageId,
      },
    };
  }

  #emit(out: Buffer[]): Buffer[] {
    let n = 0;
    for (const b of out) n += b.length;
    this.#size += n;
    if (this.#opts.maxSize > 0 && this.#size > this.#opts.maxSize) this.#fail('tooBig');
    return this.#problem ? [] : out;
  }

  #fail(p: FilterProblem): void {
    if (!this.#problem) this.#problem = p;
  }

  #endHeaderLine(out: Buffer[], hadNewline = true): void {
    let line = this.#line;
    if (line.length > 0 && line[line.length - 1] === 13) line = line.slice(0, -1);
    this.#line = [];
    const overflow = this.#lineOverflow;
    this.#lineOverflow = false;
    if (line.length === 0 && !overflow) {
      // blank line: end of header
      this.#finishField();
      this.#inHeader = false;
      if (hadNewline) out.push(CRLF);
      return;
    }
    for (let k = 0; k < line.length; k++) {
      const c = line[k]!;
      if (c === 0) this.#fail('nul');
      else if (c >= 0x80) {
        if (this.#opts.reject8bit) this.#fail('eightBitHeader');
        else if (this.#opts.munge8bit) line[k] = 0x58; // 'X'
      }
    }
    const continuation = line[0] === 0x20 || line[0] === 0x09;
    if (continuation) {
      if (this.#firstLine) this.#fail('invalidHeader');
      else if (this.#field !== null && !overflow)
        this.#field += ' ' + Buffer.from(line).toString('latin1').trim();
    } else {
      this.#finishField();
      const colon = line.indexOf(0x3a);
      let valid = colon > 0;
      for (let k = 0; valid && k < colon; k++) {
        const c = line[k]!;
        if (c <= 0x20 || c >= 0x7f) valid = false;
      }
      if (!valid) this.#fail('invalidHeader');
      else {
        const name = Buffer.from(line.slice(0, colon)).toString('latin1').toLowerCase();
        if ((name === 'message-id' || name === 'resent-message-id') && !overflow) {
          this.#fieldName = name;
          this.#field = Buffer.from(line.slice(colon + 1))
            .toString('latin1')
            .trim();
        }
      }
    }
    this.#firstLine = false;
    out.push(Buffer.from(line));
    if (hadNewline) out.push(CRLF);
  }

  #finishField(): void {
    if (this.#field === null) return;
    const m = /<[^<>\s]+>/.exec(this.#field);
    const value = m ? m[0] : this.#field.trim() || null;
    if (this.#fieldName === 'message-id' && this.#messageId === null) this.#messageId = value;
    if (this.#fieldName === 'resent-message-id' && this.#resentMessageId === null)
      this.#resentMessageId = value;
    this.#field = null;
  }

  /** body bytes: refuse NUL, turn bare LF into CRLF */
  #body(chunk: Buffer, out: Buffer[]): void {
    if (chunk.indexOf(0) >= 0) this.#fail('nul');
    let start = 0;
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(10, from);
      if (nl < 0) break;
      from = nl + 1;
      const cr = nl > 0 ? chunk[nl - 1] === 13 : this.#lastCr;
      if (cr) continue;
      if (nl > start) out.push(chunk.subarray(start, nl));
      out.push(CRLF);
      start = nl + 1;
    }
    if (start < chunk.length) out.push(start === 0 ? chunk : chunk.subarray(start));
    this.#lastCr = chunk[chunk.length - 1] === 13;
  }
}
