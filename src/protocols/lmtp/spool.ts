/**
 * DATA goes straight to ONE spool file (STYLE.md "streams for message bodies"): the dot-decoded,
 * filtered bytes are written to `<temp_path>/lmtp.<pid>.<random>` with back-pressure, and every
 * recipient's copy is then appended from that file. Past the size limit the reader keeps
 * consuming until the final dot; the verdict says what went wrong.
 *
 * Owns: the spool file's life (create, write, remove) and the reading loop of DATA.
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
  const path = spoolPath(tempDir);
  const ws = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  const failed = new Promise<never>((_, reject) => ws.once('error', reject));
  failed.catch(() => undefined);
  const filter = new MessageFilter(opts);
  try {
    await Promise.race([write(ws, [prefix]), failed]);
    for await (const chunk of source) {
      const out = filter.push(chunk);
      if (out.length > 0) await Promise.race([write(ws, out), failed]);
    }
    const last = filter.end();
    if (last.out.length > 0) await Promise.race([write(ws, last.out), failed]);
    ws.end();
    await Promise.race([once(ws, 'finish'), failed]);
    return { path, verdict: last.verdict };
  } catch (e) {
    ws.destroy();
    await removeSpool(path);
    throw e;
  }
}

export async function removeSpool(path: string): Promise<void> {
  await rm(path, { force: true });
}
