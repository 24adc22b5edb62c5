/**
 * Writing IMAP responses: string quoting (quoted when safe, literal otherwise), NIL, lists,
 * and the connection's output buffer with backpressure.
 *
 * Owns: `quoted`/`astring`/`nstring` encoders and `Output`, which batches small writes into
 * one socket write and lets long producers (FETCH) wait for 'drain' so a slow client never
 * makes us hold more than a buffer's worth of a mailbox in memory.
 *
 * Imports: node built-ins, mail/imap-text.ts (the string encoders, shared with the store's
 * pre-rendered ENVELOPE/BODYSTRUCTURE).
 */
import type { Duplex, Readable } from 'node:stream';

export { nstr, str } from '../../mail/imap-text.js';
import { str } from '../../mail/imap-text.js';

const ATOM_OK = /^[!#$&'+,\-./0-9:;<=>?@A-Z[^_`a-z|}~]+$/;

/** astring: bare atom when possible */
export function astr(s: string, utf8 = false): string {
  if (s.length > 0 && ATOM_OK.test(s) && s.toUpperCase() !== 'NIL') return s;
  return str(s, utf8);
}

/** Buffered writer over the connection's stream. */
export class Output {
  private parts: (string | Buffer)[] = [];
  private size = 0;
  private waiting: Promise<void> | null = null;
  /** for tests and logs: bytes written so far */
  written = 0;
  /** told when a streamed literal's source fails midway (it is padded to its announced size) */
  onStreamError?: (e: unknown) => void;
  /** or where to log it (a session's logger: no closure per connection) */
  log?: { error(msg: string): void };

  constructor(public sock: Duplex) {}

  write(data: string | Buffer): void {
    this.parts.push(data);
    this.size += data.length;
    if (this.size >= 65536) this.flush();
  }

  /** send what is buffered */
  flush(): void {
    if (this.parts.length === 0) return;
    // runs of strings are joined and encoded once (FETCH writes many small strings)
    const chunks: Buffer[] = [];
    let text: string[] = [];
    for (const p of this.parts) {
      if (typeof p === 'string') text.push(p);
      else {
        if (text.length) chunks.push(Buffer.from(text.join(''), 'utf8'));
        text = [];
        chunks.push(p);
      }
    }
    if (text.length) chunks.push(Buffer.from(text.join(''), 'utf8'));
    const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    this.parts = [];
    this.size = 0;
    this.written += buf.length;
    if (this.sock.destroyed || this.sock.writableEnded) return;
    this.sock.write(buf);
  }

  /** flush, then wait until the socket's buffer has drained below its high-water mark */
  async drain(): Promise<void> {
    this.flush();
    if (!this.sock.writableNeedDrain || this.sock.destroyed) return;
    if (!this.waiting) {
      this.waiting = new Promise<void>((resolve) => {
        const done = (): void => {
          this.sock.off('drain', done);
          this.sock.off('close', done);
          this.waiting = null;
          resolve();
        };
        this.sock.on('drain', done);
        this.sock.on('close', done);
      });
    }
    return this.waiting;
  }

  /** copy a stream to the socket, exactly `expect` bytes (padding with spaces or cutting) */
  async pipeExact(src: Readable, expect: number): Promise<void> {
    let sent = 0;
    try {
      for await (const chunk of src as AsyncIterable<Buffer>) {
        if (sent >= expect) continue;
        const piece = sent + chunk.length > expect ? chunk.subarray(0, expect - sent) : chunk;
        sent += piece.length;
        this.write(piece);
        if (this.size >= 65536 || this.sock.writableNeedDrain) await this.drain();
      }
    } catch (e) {
      // the literal's size is already on the wire: keep the protocol in step, report the error
      if (this.onStreamError) this.onStreamError(e);
      else
        this.log?.error(
          `message file read failed during FETCH: ${e instanceof Error ? e.message : String(e)}`,
        );
    } finally {
      src.destroy();
    }
    // the file shrank (should not happen): keep the protocol in step
    if (sent < expect) this.write(Buffer.alloc(expect - sent, 0x20));
  }
}

/**
 * End a stream and wait until what was written has left it ('finish'), or the peer is gone, or
 * `ms` passed. Needed before destroying a socket under TLS or COMPRESS, whose last bytes (BYE,
 * the LOGOUT OK) are still being encrypted or deflated when end() returns.
 */
export function endGracefully(s: Duplex, ms = 2000): Promise<void> {
  if (s.destroyed || s.writableFinished) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      s.off('finish', done);
      s.off('close', done);
      s.off('error', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    s.once('finish', done);
    s.once('close', done);
    s.once('error', done);
    if (!s.writableEnded) s.end();
  });
}
