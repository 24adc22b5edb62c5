/**
 * DATA goes straight to ONE spool file (STYLE.md "streams for message bodies"): the dot-decoded,
 * filtered bytes are written to `<temp_path>/lmtp.<pid>.<random>` with back-pressure, and every
 * recipient's copy is then appended from that file. Past the size limit the reader keeps
 * consuming until the final dot; the verdict says what went wrong.
 *
 * Owns: the spool file's life (create, write, remove), the reading loop of DATA and the
 * piecewise writer BDAT uses.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { once } from 'node:events';
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

async function write(ws: WriteStream, bufs: Buffer[]): Promise<void> {
  let ok = true;
  for (const b of bufs) ok = ws.write(b) && ok;
  if (!ok) await once(ws, 'drain');
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
  readonly #ws: WriteStream;
  readonly #failed: Promise<never>;
  readonly #filter: MessageFilter;

  private constructor(path: string, ws: WriteStream, filter: MessageFilter) {
    this.path = path;
    this.#ws = ws;
    this.#filter = filter;
    this.#failed = new Promise<never>((_, reject) => ws.once('error', reject));
    this.#failed.catch(() => undefined);
  }

  static async open(tempDir: string, prefix: Buffer, opts: FilterOptions): Promise<SpoolWriter> {
    const path = spoolPath(tempDir);
    const w = new SpoolWriter(
      path,
      createWriteStream(path, { flags: 'wx', mode: 0o600 }),
      new MessageFilter(opts),
    );
    try {
      await Promise.race([write(w.#ws, [prefix]), w.#failed]);
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w;
  }

  async write(chunk: Buffer): Promise<void> {
    const out = this.#filter.push(chunk);
    if (out.length > 0) await Promise.race([write(this.#ws, out), this.#failed]);
  }

  async finish(): Promise<FilterVerdict> {
    const last = this.#filter.end();
    if (last.out.length > 0) await Promise.race([write(this.#ws, last.out), this.#failed]);
    this.#ws.end();
    await Promise.race([once(this.#ws, 'finish'), this.#failed]);
    return last.verdict;
  }

  async abort(): Promise<void> {
    this.#ws.destroy();
    await removeSpool(this.path);
  }
}

export async function removeSpool(path: string): Promise<void> {
  await rm(path, { force: true });
}
