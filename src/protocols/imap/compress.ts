/**
 * COMPRESS=DEFLATE's transport (RFC 4978): a Duplex that inflates what the client sends and
 * deflates what we write, over the raw (or TLS) socket. Each write is followed by a
 * Z_SYNC_FLUSH so the client can decode every response as soon as it arrives; a write's
 * callback waits for the socket to drain, so FETCH's backpressure still works.
 *
 * Owns: `DeflateStream`. Imports: node built-ins.
 */
import { Duplex } from 'node:stream';
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';

export class DeflateStream extends Duplex {
  private readonly inflate: InflateRaw;
  private readonly deflate: DeflateRaw;

  constructor(
    private readonly raw: Duplex,
    /** bytes the client sent after COMPRESS that were already read (they are compressed) */
    pending: Buffer,
  ) {
    super();
    this.inflate = createInflateRaw();
    this.deflate = createDeflateRaw({ level: 6 });
    this.inflate.on('data', (d: Buffer) => this.push(d));
    this.inflate.on('error', (e) => this.destroy(e));
    this.deflate.on('data', (d: Buffer) => {
      if (!this.raw.destroyed) this.raw.write(d);
    });
    this.deflate.on('error', (e) => this.destroy(e));
    this.raw.on('data', this.onRaw);
    this.raw.once('end', () => this.push(null));
    this.raw.once('close', () => this.destroy());
    this.raw.on('error', (e) => this.destroy(e));
    if (pending.length) this.inflate.write(pending);
  }

  private onRaw = (d: Buffer): void => {
    this.inflate.write(d);
  };

  override _read(): void {
    // data is pushed as it is inflated
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.deflate.write(chunk);
    this.deflate.flush(constants.Z_SYNC_FLUSH, () => {
      if (this.raw.writableNeedDrain && !this.raw.destroyed) this.raw.once('drain', () => cb());
      else cb();
    });
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.deflate.end(() => {
      this.raw.end();
      cb();
    });
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.raw.off('data', this.onRaw);
    this.inflate.destroy();
    this.deflate.destroy();
    this.raw.destroy();
    cb(err);
  }

  override pause(): this {
    this.raw.pause();
    return super.pause();
  }

  override resume(): this {
    this.raw.resume();
    return super.resume();
  }
}
