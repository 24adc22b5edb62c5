/**
 * POP3 multi-line output of a message (RFC 1939 3): byte-stuff lines that start with '.',
 * make sure the data ends with CRLF before the terminating ".\r\n", and for TOP stop after
 * the header and `bodyLines` lines of the body (RFC 1939 7). Incremental over Buffers, so a
 * message streams from its file without being held in memory.
 */

const enum Part {
  Header,
  Body,
  Done,
}

export class PopStuffer {
  #bol = true;
  #lineHasContent = false;
  #part = Part.Header;
  #bodyLinesLeft: number;
  #any = false;
  #endsWithLf = false;

  /** bodyLines: for TOP, the number of body lines; undefined = whole message (RETR) */
  constructor(bodyLines?: number) {
    this.#bodyLinesLeft = bodyLines ?? -1;
    if (bodyLines === undefined) this.#part = Part.Body;
  }

  /** true once TOP has sent what it should (the caller may stop reading) */
  get finished(): boolean {
    return this.#part === Part.Done;
  }

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let start = 0;
    let i = 0;
    const n = chunk.length;
    while (i < n && this.#part !== Part.Done) {
      if (this.#bol) {
        this.#bol = false;
        if (this.#part === Part.Body && this.#bodyLinesLeft === 0) {
          this.#part = Part.Done;
          break;
        }
        if (chunk[i] === 0x2e) {
          if (i > start) out.push(chunk.subarray(start, i));
          out.push(DOT);
          start = i;
        }
      }
      const nl = chunk.indexOf(10, i);
      const end = nl < 0 ? n : nl + 1;
      if (this.#part === Part.Header) {
        // a line of only CR/LF ends the header
        for (let k = i; k < end && !this.#lineHasContent; k++) {
          const c = chunk[k];
          if (c !== 13 && c !== 10) this.#lineHasContent = true;
        }
        if (nl >= 0) {
          if (!this.#lineHasContent) this.#part = Part.Body;
          this.#lineHasContent = false;
        }
      } else if (nl >= 0 && this.#bodyLinesLeft > 0) this.#bodyLinesLeft--;
      if (nl >= 0) this.#bol = true;
      i = end;
    }
    if (i > start) out.push(chunk.subarray(start, i));
    if (i > 0) {
      this.#any = true;
      this.#endsWithLf = chunk[i - 1] === 10;
    }
    return out;
  }

  /** the terminating line, preceded by CRLF when the data did not end with one */
  end(): Buffer {
    return this.#any && !this.#endsWithLf ? CRLF_DOT : DOT_LINE;
  }
}

const DOT = Buffer.from('.');
const DOT_LINE = Buffer.from('.\r\n');
const CRLF_DOT = Buffer.from('\r\n.\r\n');
