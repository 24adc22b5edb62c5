/**
 * Netstrings (D. J. Bernstein, used by the sendmail/Postfix socketmap protocol):
 * `<decimal length>:<bytes>,`. Incremental over Buffers, with the length bounded before any
 * byte of the payload is buffered.
 *
 * Owns: framing only. A malformed netstring is fatal for the connection (the peer's framing
 * is lost); the caller answers PERM and closes.
 */

export type NetstringResult =
  { kind: 'value'; value: Buffer } | { kind: 'more' } | { kind: 'error'; reason: string };

export class NetstringParser {
  #buf: Buffer = Buffer.alloc(0);
  readonly #max: number;

  constructor(maxLength: number) {
    this.#max = maxLength;
  }

  push(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
  }

  /** the next complete netstring, 'more' when incomplete, 'error' when malformed */
  next(): NetstringResult {
    const b = this.#buf;
    const digitsMax = String(this.#max).length;
    let i = 0;
    while (i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39) {
      i++;
      if (i > digitsMax) return { kind: 'error', reason: 'length too long' };
    }
    if (i === b.length) return { kind: 'more' };
    if (i === 0 || b[i] !== 0x3a) return { kind: 'error', reason: 'bad length' };
    if (i > 1 && b[0] === 0x30) return { kind: 'error', reason: 'leading zero in length' };
    const len = Number(b.subarray(0, i).toString('latin1'));
    if (len > this.#max) return { kind: 'error', reason: `length ${len} over the limit ${this.#max}` };
    const end = i + 1 + len;
    if (b.length < end + 1) return { kind: 'more' };
    if (b[end] !== 0x2c) return { kind: 'error', reason: "missing ','" };
    const value = b.subarray(i + 1, end);
    this.#buf = b.subarray(end + 1);
    return { kind: 'value', value };
  }
}

export function netstring(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]);
}
