/**
 * Pull-style input for the line protocols of this folder and pop3/: `await readLine()` gives
 * the next CRLF (or LF) terminated line, `await readChunk()` the next raw bytes (DATA), with
 * the source paused while enough is buffered (back-pressure) and resumed when drained.
 *
 * Owns: buffering and the line length limit. A line longer than `maxLine` is not kept: the
 * reader discards up to its end and reports `tooLong`, so memory never exceeds maxLine plus
 * one socket chunk. `detach()` stops reading (STARTTLS) and `attach()` continues on the
 * upgraded socket; bytes that arrived before the upgrade are dropped by the caller (RFC 3207
 * 4.2 / RFC 2595 4: data pipelined after STARTTLS must be ignored).
 *
 * Imports: node built-ins only.
 */
import type { Readable } from 'node:stream';

export type LineResult = { line: Buffer } | { tooLong: true } | null;

/** pause the source above this many buffered bytes */
const HIGH_WATER = 256 * 1024;

export class InputReader {
  #src: Readable | null = null;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  #discarding = false;
  readonly #maxLine: number;
  readonly #onData = (b: Buffer): void => {
    this.#chunks.push(b);
    this.#buffered += b.length;
    if (this.#buffered > HIGH_WATER) this.#src?.pause();
    this.#notify();
  };
  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#notify();
  };
  readonly #onError = (e: Error): void => {
    this.#error = e;
    this.#ended = true;
    this.#notify();
  };

  constructor(src: Readable, opts: { maxLine: number }) {
    this.#maxLine = opts.maxLine;
    this.attach(src);
  }

  get buffered(): number {
    return this.#buffered;
  }

  /** true once the source ended and everything buffered was read */
  get eof(): boolean {
    return this.#ended && this.#buffered === 0;
  }

  attach(src: Readable): void {
    this.#src = src;
    this.#ended = false;
    src.on('data', this.#onData);
    src.on('end', this.#onEnd);
    src.on('close', this.#onEnd);
    src.on('error', this.#onError);
    if (src.isPaused()) src.resume();
  }

  /** stop reading from the current source; returns (and forgets) whatever was buffered */
  detach(): Buffer {
    const src = this.#src;
    if (src) {
      src.off('data', this.#onData);
      src.off('end', this.#onEnd);
      src.off('close', this.#onEnd);
      src.off('error', this.#onError);
      src.pause();
    }
    this.#src = null;
    const rest = Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.#buffered = 0;
    return rest;
  }

  /** put bytes back in front (what a DATA decoder found after the final dot) */
  unshift(b: Buffer): void {
    if (b.length === 0) return;
    this.#chunks.unshift(b);
    this.#buffered += b.length;
  }

  /** the next line without its line ending; null at end of input (a partial last line is dropped) */
  async readLine(): Promise<LineResult> {
    let scanned = 0;
    for (;;) {
      const nl = this.#findLf(scanned);
      if (nl >= 0) {
        const all = this.#take(nl + 1);
        if (this.#discarding) {
          this.#discarding = false;
          return { tooLong: true };
        }
        let end = all.length - 1;
        if (end > 0 && all[end - 1] === 13) end--;
        return { line: all.subarray(0, end) };
      }
      if (this.#buffered > this.#maxLine) {
        // keep nothing of an over-long line
        this.#take(this.#buffered);
        this.#discarding = true;
        scanned = 0;
      } else scanned = this.#buffered;
      if (this.#ended) {
        if (this.#error === null && this.#buffered > 0 && !this.#discarding) {
          // unterminated last line: ignore it, as the protocols require CRLF
          this.#take(this.#buffered);
        }
        return null;
      }
      await this.#wait();
    }
  }

  /** the next raw bytes (everything buffered, or the next chunk); null at end of input */
  async readChunk(): Promise<Buffer | null> {
    for (;;) {
      if (this.#buffered > 0) return this.#take(this.#buffered);
      if (this.#ended) return null;
      await this.#wait();
    }
  }

  #findLf(from: number): number {
    let base = 0;
    for (const c of this.#chunks) {
      if (from < base + c.length) {
        const i = c.indexOf(10, Math.max(0, from - base));
        if (i >= 0) return base + i;
      }
      base += c.length;
    }
    return -1;
  }

  #take(n: number): Buffer {
    let out: Buffer;
    const first = this.#chunks[0]!;
    if (first.length === n) {
      this.#chunks.shift();
      out = first;
    } else if (first.length > n) {
      out = first.subarray(0, n);
      this.#chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.#chunks);
      out = all.subarray(0, n);
      this.#chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.#buffered -= n;
    if (this.#buffered <= HIGH_WATER && this.#src?.isPaused() && !this.#ended) this.#src.resume();
    return out;
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
}
