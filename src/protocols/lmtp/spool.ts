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
  const path = spoolPath(tempDir);
  const ws = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  const failed = new Promise<never>((_, reject) => ws.once('error', reject));
  failed.catch(() => undefined);
  const decoder = new DotDecoder();
  const filter = new MessageFilter(opts);
  let complete = false;
  try {
    await Promise.race([write(ws, [prefix]), failed]);
    for (;;) {
      const chunk = await reader.readRaw();
      if (chunk === null) break;
      const fed = decoder.feed(chunk);
      const out: Buffer[] = [];
      for (const b of fed.out) out.push(...filter.push(b));
      if (out.length > 0) await Promise.race([write(ws, out), failed]);
      if (fed.done) {
        reader.unread(fed.rest);
        complete = true;
        break;
      }
    }
    const last = filter.end();
    if (last.out.length > 0) await Promise.race([write(ws, last.out), failed]);
    ws.end();
    await Promise.race([once(ws, 'finish'), failed]);
    return { path, verdict: last.verdict, complete };
  } catch (e) {
    ws.destroy();
    await removeSpool(path);
    throw e;
  }
}

export async function removeSpool(path: string): Promise<void> {
  await rm(path, { force: true });
}
