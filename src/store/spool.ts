/**
 * Spooling an incoming message: stream it to a temp file while normalising bare LF to CRLF,
 * counting bytes against the size limit and feeding the parser, then fsync.
 *
 * Owns: the byte path of APPEND/delivery. The message is never held in memory: each chunk is
 * normalised, written (awaiting the write, so a fast producer is paced by the disk) and parsed.
 * Past the limit the rest of the stream is read and dropped, and the caller answers tooBig
 * after the end (STYLE: answer size errors after the data, never mid-message).
 * Imports: node built-ins, mail parser, ./api.
 */
import { open, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ParsedMessage } from '../mail/api.js';
import { MessageParser, type ParsedMessageExtras } from '../mail/parse.js';

export type Parsed = ParsedMessage & Partial<ParsedMessageExtras>;

export interface SpoolResult {
  /** octets written (after CRLF normalisation), or counted when too big */
  size: number;
  tooBig: boolean;
  parsed: Parsed | null;
}

const CR = 0x0d;
const LF = 0x0a;

/** Converts bare LF to CRLF across chunk boundaries. */
export class CrlfNormaliser {
  /** last byte of the previous chunk (-1 at the start) */
  #prev = -1;
  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    const prev = this.#prev;
    this.#prev = chunk[chunk.length - 1]!;
    let extra = 0;
    for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) {
      if ((i === 0 ? prev : chunk[i - 1]) !== CR) extra++;
    }
    if (extra === 0) return chunk;
    const out = Buffer.allocUnsafe(chunk.length + extra);
    let o = 0;
    let from = 0;
    for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) {
      if ((i === 0 ? prev : chunk[i - 1]) !== CR) {
        o += chunk.copy(out, o, from, i);
        out[o++] = CR;
        from = i;
      }
    }
    o += chunk.copy(out, o, from);
    return out;
  }
}

/** bytes gathered before one write(v) call */
const WRITE_BATCH = 256 * 1024;

/**
 * Write `input` to `tmpPath` (created exclusively), fsync it, and parse it.
 * `limit` is in octets after normalisation; 0 = unlimited. On tooBig the temp file is removed.
 */
export async function spoolMessage(
  input: Readable | Buffer,
  tmpPath: string,
  limit: number,
  opts: { maxSearchText?: number } = {},
): Promise<SpoolResult> {
  const fh = await open(tmpPath, 'wx', 0o600);
  const parser = new MessageParser({ maxSearchText: opts.maxSearchText });
  const norm = new CrlfNormaliser();
  let size = 0;
  let tooBig = false;
  let ok = false;
  try {
    const take = async (raw: Buffer): Promise<void> => {
      const chunk = norm.push(raw);
      size += chunk.length;
      if (tooBig) return;
      if (limit > 0 && size > limit) {
        tooBig = true;
        return;
      }
      parser.write(chunk);
      // small stream chunks (64 KiB from a file) are gathered: one write call per WRITE_BATCH
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= WRITE_BATCH) await flush();
    };
    const pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      let { bytesWritten } = await fh.writev(pending);
      // a short write (rare on files): finish the rest piece by piece
      for (const b of pending) {
        if (bytesWritten >= b.length) {
          bytesWritten -= b.length;
          continue;
        }
        let off = bytesWritten;
        bytesWritten = 0;
        while (off < b.length) off += (await fh.write(b, off, b.length - off)).bytesWritten;
      }
      pending.length = 0;
      pendingBytes = 0;
    };
    if (Buffer.isBuffer(input)) await take(input);
    else for await (const c of input) await take(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    if (!tooBig) {
      await flush();
      await fh.sync();
    }
    ok = true;
  } finally {
    await fh.close();
    if (!ok || tooBig) await unlink(tmpPath).catch(() => undefined);
  }
  return { size, tooBig, parsed: tooBig ? null : (parser.end() as Parsed) };
}
