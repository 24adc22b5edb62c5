/**
 * The end and the dot-unstuffing of LMTP/SMTP DATA (RFC 5321 4.5.2), incrementally over Buffers.
 *
 * Owns: finding `<CRLF>.<CRLF>` across chunk boundaries and removing the leading dot of
 * "transparency" lines, without copying the data more than needed (slices of the input are
 * returned). A bare `LF . LF` also ends the data (some local clients send bare newlines);
 * the line endings themselves are normalised later by `MessageFilter`.
 *
 * The state is kept between calls: feed it any split of the input, one byte at a time
 * included, and the output is the same.
 */

const enum S {
  /** at the beginning of a line */
  Bol,
  /** inside a line */
  Mid,
  /** a '.' at the beginning of a line was seen (and dropped) */
  Dot,
  /** '.' then CR at the beginning of a line (the CR is held back) */
  DotCr,
}

export interface DotFeed {
  /** unstuffed message bytes from this chunk, in order */
  out: Buffer[];
  /** true when the terminating dot line was found */
  done: boolean;
  /** bytes after the terminating line (pipelined commands), when done */
  rest: Buffer;
}

const CR_ONLY = Buffer.from('\r');
const EMPTY = Buffer.alloc(0);

export class DotDecoder {
  #state: S = S.Bol;

  feed(chunk: Buffer): DotFeed {
    const out: Buffer[] = [];
    let i = 0;
    let start = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.#state) {
        case S.Mid: {
          const nl = chunk.indexOf(10, i);
          if (nl < 0) {
            i = n;
          } else {
            i = nl + 1;
            this.#state = S.Bol;
          }
          break;
        }
        case S.Bol:
          if (chunk[i] === 0x2e) {
            if (i > start) out.push(chunk.subarray(start, i));
            i++;
            start = i;
            this.#state = S.Dot;
          } else this.#state = S.Mid;
          break;
        case S.Dot: {
          const c = chunk[i];
          if (c === 13) {
            i++;
            start = i;
            this.#state = S.DotCr;
          } else if (c === 10) {
            return { out, done: true, rest: chunk.subarray(i + 1) };
          } else this.#state = S.Mid; // the dot was stuffing: dropped, the byte stays
          break;
        }
        case S.DotCr:
          if (chunk[i] === 10) return { out, done: true, rest: chunk.subarray(i + 1) };
          out.push(CR_ONLY);
          this.#state = S.Mid;
          break;
      }
    }
    if (start < n && this.#state !== S.Dot && this.#state !== S.DotCr) out.push(chunk.subarray(start, n));
    return { out, done: false, rest: EMPTY };
  }
}
