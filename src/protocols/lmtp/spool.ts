/**
 * DATA goes straight to ONE spool file (STYLE.md "streams for message bodies"): the dot-decoded,
 * filtered bytes are written to `<temp_path>/lmtp.<pid>.<random>` (synchronously), and every
 * recipient's copy is then appended from that file. Past the size limit the reader keeps
 * consuming until the final dot; the verdict says what went wrong.
 *
 * Owns: the spool file's life (create, write, remove), the reading loop of DATA and the
 * piecewise writer BDAT uses.
 */
import { closeSync, openSync, rmSync, writeSync, writevSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DotDecoder } from './dot-decoder.js';
import { MessageFilter, type FilterOptions, type FilterVerdict } from './message-filter.js';
import type { LineReader } from '../../net/lines.js';

export interface SpoolResult {
  path: string;
  verdict: FilterVerdict;
  /** false when the input ended before the final dot (connection lost) */
  complete: boolean;
}

export function spoolPath(tempDir: string): string {
  return join(tempDir, `lmtp.${process.pid}.${randomBytes(8).toString('hex')}`);
}

/**
 * Read a dot-terminated DATA block from `reader` into a new spool file under `tempDir`.
 * `prefix` (trace headers: Return-Path, Received) is written first and is not counted against
 * the size limit. Bytes after the final dot are put back into the reader.
 */
export async function spoolData(
  reader: LineReader,
  tempDir: string,
  prefix: Buffer,
  opts: FilterOptions,
): Promise<SpoolResult> {
  const decoder = new DotDecoder();
  let complete = false;
  async function* decoded(): AsyncGenerator<Buffer> {
    for (;;) {
      const chunk = await reader.readRaw();
      if (chunk === null) return;
      const fed = decoder.feed(chunk);
      yield* fed.out;
      if (fed.done) {
        reader.unread(fed.rest);
        complete = true;
        return;
      }
    }
  }
  const r = await spoolMessage(decoded(), tempDir, prefix, opts);
  return { ...r, complete };
}

/**
 * Write a plain message (no dot-stuffing: `cyr_deliver` reading stdin) through the same checks
 * into a new spool file. `complete` is always true.
 */
export async function spoolStream(
  source: AsyncIterable<Buffer>,
  tempDir: string,
  prefix: Buffer,
  opts: FilterOptions,
): Promise<SpoolResult> {
  return { ...(await spoolMessage(source, tempDir, prefix, opts)), complete: true };
}

async function spoolMessage(
  source: AsyncIterable<Buffer>,
  tempDir: string,
  prefix: Buffer,
  opts: FilterOptions,
): Promise<{ path: string; verdict: FilterVerdict }> {
  const w = await SpoolWriter.open(tempDir, prefix, opts);
  try {
    for await (const chunk of source) await w.write(chunk);
    return { path: w.path, verdict: await w.finish() };
  } catch (e) {
    await w.abort();
    throw e;
  }
}

/**
 * A spool file being filled piece by piece (BDAT chunks arrive in several commands):
 * every piece goes through the same MessageFilter; `finish` closes the file and gives the
 * verdict, `abort` removes it.
 */
export class SpoolWriter {
  readonly path: string;
  /** the open file, -1 once closed */
  #fd: number;
  readonly #filter: MessageFilter;

  private constructor(path: string, fd: number, filter: MessageFilter) {
    this.path = path;
    this.#fd = fd;
    this.#filter = filter;
  }

  static async open(tempDir: string, prefix: Buffer, opts: FilterOptions): Promise<SpoolWriter> {
    const path = spoolPath(tempDir);
    const w = new SpoolWriter(path, openSync(path, 'wx', 0o600), new MessageFilter(opts));
    try {
      w.#put([prefix]);
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w;
  }

  /**
   * Synchronous writes on purpose: into the page cache they take microseconds, while a
   * write stream's thread-pool round trips (open, each write, close) each cost a hand-off to
   * another thread, measured ~0.2 ms on a loaded machine. The spool is never fsynced (the
   * store's own copy is), so nothing here waits for the disk.
   */
  #put(bufs: Buffer[]): void {
    if (bufs.length === 0) return;
    let written = writevSync(this.#fd, bufs);
    for (const b of bufs) {
      if (written >= b.length) {
        written -= b.length;
        continue;
      }
      let off = written;
      written = 0;
      while (off < b.length) off += writeSync(this.#fd, b, off, b.length - off);
    }
  }

  async write(chunk: Buffer): Promise<void> {
    this.#put(this.#filter.push(chunk));
    return Promise.resolve();
  }

  async finish(): Promise<FilterVerdict> {
    const last = this.#filter.end();
    this.#put(last.out);
    this.#close();
    return Promise.resolve(last.verdict);
  }

  #close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeSync(fd);
  }

  async abort(): Promise<void> {
    try {
      this.#close();
    } catch {
      /* already unusable: removing the file is what matters */
    }
    await removeSpool(this.path);
  }
}

export async function removeSpool(path: string): Promise<void> {
  rmSync(path, { force: true });
  return Promise.resolve();
}
