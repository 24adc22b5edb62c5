/**
 * A byte-level CRLF line reader over a socket, for the line protocols (POP3, LMTP,
 * ManageSieve, NNTP); IMAP has its own parser.
 *
 * Pull model: the session awaits `readLine()` for its next command, `readRaw()` for message
 * data (LMTP DATA, literals) and hands back what it did not consume with `unread()`, so the
 * bytes after the end of DATA become the next command line. Lines come out as Buffers
 * without the line ending; a bare LF is accepted as a line end (a lone CR before it is
 * dropped, other CRs are data).
 *
 * Limits: a line longer than `maxLine` bytes (not counting CRLF) is never buffered: once
 * the limit is passed the bytes are dropped until the next LF, and that line is reported as
 * `{ tooLong: true }` (so the error reply lines up with the command that caused it). Bytes
 * nobody asked for are buffered only up to `highWater`; past that the socket is paused
 * (backpressure instead of memory).
 *
 * STARTTLS (RFC 3207 §4.2, RFC 2595 §3.1): `detach()` takes the socket away, pauses it and
 * *discards* anything the client pipelined after the STARTTLS command — such bytes arrived
 * in plaintext and must not be read as if they came over TLS. `attach(tlsSocket)` continues
 * on the upgraded stream.
 *
 * Imports: node built-ins.
 */
import type { Duplex } from 'node:stream';

export type LineResult = { line: Buffer } | { tooLong: true } | null;

export interface LineReaderOptions {
  /** longest line accepted, in bytes, without the line ending */
  maxLine: number;
  /** pause the socket when this many unread bytes are buffered (default max(64 KiB, maxLine + 2)) */
  highWater?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

export class LineReader {
  #sock: Duplex | null = null;
  #pending: Buffer = EMPTY;
  /** bytes of #pending already searched for LF */
  #scanned = 0;
  #skipping = false;
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  readonly #maxLine: number;
  readonly #highWater: number;
  #onData = (d: Buffer): void => {
    this.#pending = this.#pending.length === 0 ? d : Buffer.concat([this.#pending, d]);
    if (this.#pending.length > this.#highWater) this.#sock?.pause();
    this.#notify();
  };
  #onEnd = (): void => {
    this.#ended = true;
    this.#notify();
  };
  #onError = (e: Error): void => {
    this.#error = e;
    this.#ended = true;
    this.#notify();
  };

  constructor(socket: Duplex, opts: LineReaderOptions) {
    this.#maxLine = opts.maxLine;
    this.#highWater = opts.highWater ?? Math.max(64 * 1024, opts.maxLine + 2);
    this.attach(socket);
  }

  /** the stream being read (null while detached) */
  get socket(): Duplex | null {
    return this.#sock;
  }
  /** unread bytes held */
  get buffered(): number {
    return this.#pending.length;
  }
  /** the socket error that ended input, if any */
  get error(): Error | null {
    return this.#error;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  #wait(): Promise<void> {
    this.#sock?.resume();
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  #take(n: number): Buffer {
    const out = this.#pending.subarray(0, n);
    this.#pending = n >= this.#pending.length ? EMPTY : this.#pending.subarray(n);
    this.#scanned = 0;
    if (this.#pending.length <= this.#highWater) this.#sock?.resume();
    return out;
  }

  /** The next line, `{ tooLong: true }` for an over-long one, or null at end of input. */
  async readLine(): Promise<LineResult> {
    for (;;) {
      if (this.#wake) throw new Error('LineReader: concurrent reads');
      if (this.#skipping) {
        const lf = this.#pending.indexOf(LF);
        if (lf >= 0) {
          this.#take(lf + 1);
          this.#skipping = false;
          return { tooLong: true };
        }
        this.#take(this.#pending.length);
      } else {
        const lf = this.#pending.indexOf(LF, this.#scanned);
        if (lf >= 0) {
          const raw = this.#take(lf + 1);
          const end = lf > 0 && raw[lf - 1] === CR ? lf - 1 : lf;
          if (end > this.#maxLine) return { tooLong: true };
          return { line: raw.subarray(0, end) };
        }
        // no LF yet: a CR may still be the last byte of an acceptable line
        if (this.#pending.length > this.#maxLine + 1) {
          this.#skipping = true;
          continue;
        }
        this.#scanned = this.#pending.length;
      }
      if (this.#ended) {
        this.#take(this.#pending.length);
        return null;
      }
      await this.#wait();
    }
  }

  /** The next bytes as they come (buffered ones first), or null at end of input. */
  async readRaw(): Promise<Buffer | null> {
    if (this.#skipping) throw new Error('LineReader: readRaw while skipping an over-long line');
    for (;;) {
      if (this.#pending.length > 0) return this.#take(this.#pending.length);
      if (this.#ended) return null;
      await this.#wait();
    }
  }

  /** Give back bytes read with readRaw that belong to what follows (they are read first). */
  unread(buf: Buffer): void {
    if (buf.length === 0) return;
    this.#pending = this.#pending.length === 0 ? buf : Buffer.concat([buf, this.#pending]);
    this.#scanned = 0;
  }

  /**
   * Stop reading the socket and return it (paused), discarding every buffered byte: for
   * STARTTLS, after the reply to the command has been written.
   */
  detach(): Duplex {
    const s = this.#sock;
    if (!s) throw new Error('LineReader: not attached');
    s.off('data', this.#onData);
    s.off('end', this.#onEnd);
    s.off('error', this.#onError);
    s.off('close', this.#onEnd);
    s.pause();
    this.#sock = null;
    this.#pending = EMPTY;
    this.#scanned = 0;
    this.#skipping = false;
    return s;
  }

  /** Read from a new stream (the TLS socket after STARTTLS). */
  attach(socket: Duplex): void {
    if (this.#sock) throw new Error('LineReader: already attached');
    this.#sock = socket;
    this.#ended = false;
    this.#error = null;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    // a socket destroyed without 'end' (reset, timeout) must still wake a waiting reader
    socket.once('close', this.#onEnd);
  }
}
