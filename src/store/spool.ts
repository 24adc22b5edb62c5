/**
 * Spooling an incoming message: stream it to a temp file while normalising bare LF to CRLF,
 * counting bytes against the size limit and feeding the parser, then fsync.
 *
 * Owns: the byte path of APPEND/delivery. The message is never held in memory: each chunk is
 * normalised, parsed and written (gathered up to 256 KiB per write call; writes are
 * synchronous, so a fast producer is paced by them).
 * Past the limit the rest of the stream is read and dropped, and the caller answers tooBig
 * after the end (STYLE: answer size errors after the data, never mid-message).
 * Imports: node built-ins, mail parser, ./api.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsync, mkdirSync, open, openSync, rmSync, writeSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ParsedMessage } from '../mail/api.js';
import { MessageParser, type ParsedMessageExtras } from '../mail/parse.js';

export type Parsed = ParsedMessage & Partial<ParsedMessageExtras>;

/**
 * How much search text the index keeps per message: the body's first 64 KiB (the whole text
 * of almost every message); a longer body is marked truncated and SEARCH reads the rest from
 * the message file (src/store/index-db.ts `bodymatch`). Storing a 1 MB body's text made a
 * 1 MB delivery write it three times more (WAL, checkpoint) and spend ~60% of its time in
 * SQLite and text decoding. Header text keeps the parser's 1 MiB cap.
 */
export const INDEX_TEXT_LIMITS = { maxSearchText: 64 * 1024, maxHeaderText: 1024 * 1024 };

export interface SpoolResult {
  /** octets written (after CRLF normalisation), or counted when too big */
  size: number;
  tooBig: boolean;
  parsed: Parsed | null;
  /** with `deferSync`: the file, still open and not yet fsynced (the caller fsyncs and closes it) */
  fd?: number;
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

/** an empty spool file, created exclusively and open for writing */
export interface SpoolFile {
  path: string;
  fd: number;
}

/**
 * Spool files of one stage directory, created one ahead. Creating a file (a new inode) can be
 * the slow step of an append: strace showed open(O_CREAT) at a median 0.26 ms vs 0.01 ms for
 * other opens, and on ext4 without a journal the allocator scans past every inode deleted in
 * the last minutes (up to 0.5 ms per create after a mass delete). So the next file is
 * created in the thread pool while the current message is written, fsynced and committed,
 * and an append takes a file that is already there. A file left
 * behind by a crash is an empty `<pid>-...` spool file, removed by reconstruct like any other.
 */
const PROCESS_TAG = randomBytes(6).toString('hex');
let spoolCounter = 0;

export class SpoolFiles {
  #next: Promise<SpoolFile> | null = null;
  #ready: SpoolFile | null = null;
  #closed = false;
  constructor(private readonly dir: string) {}

  #name(): string {
    // pid, a random tag drawn once per process and a counter: unique without a random draw
    // per file (files are created exclusively: a clash fails and take() makes another)
    return join(this.dir, `${process.pid}-${PROCESS_TAG}-${(spoolCounter++).toString(36)}`);
  }

  #prepare(): void {
    const path = this.#name();
    const p = new Promise<SpoolFile>((res, rej) =>
      open(path, 'wx', 0o600, (err, fd) => (err ? rej(err) : res({ path, fd }))),
    );
    this.#next = p;
    p.then(
      (f) => {
        if (this.#next !== p) return; // already taken: the taker owns it
        if (this.#closed) discard(f);
        else this.#ready = f;
      },
      () => undefined,
    );
  }

  /** a fresh spool file; the caller owns (closes and renames or removes) it */
  async take(): Promise<SpoolFile> {
    if (this.#closed) throw new Error('spool closed');
    const p = this.#next;
    this.#next = null;
    this.#ready = null;
    let f: SpoolFile | null = null;
    if (p) f = await p.catch(() => null);
    if (!f) {
      // first use, or the prepared file failed (stage directory removed...): create it now
      mkdirSync(this.dir, { recursive: true });
      const path = this.#name();
      f = { path, fd: openSync(path, 'wx', 0o600) };
    }
    if (!this.#closed && !this.#next) this.#prepare();
    return f;
  }

  /** a fresh name in the stage directory (for a hard link of a staged message) */
  newName(): string {
    mkdirSync(this.dir, { recursive: true });
    return this.#name();
  }

  /** remove the file prepared ahead (one still being created is removed when it arrives) */
  close(): void {
    this.#closed = true;
    if (this.#ready) discard(this.#ready);
    this.#ready = null;
  }
}

function discard(f: SpoolFile): void {
  try {
    closeSync(f.fd);
  } catch {
    /* already closed */
  }
  rmSync(f.path, { force: true });
}

/**
 * Write `input` to `target` (a path, created exclusively, or a file from SpoolFiles), fsync
 * it, and parse it. The file is closed on return; with `deferSync` it is neither fsynced nor
 * closed, and its descriptor is returned for the caller to fsync (Store.append does that in
 * parallel with the index's fsync).
 * `limit` is in octets after normalisation; 0 = unlimited. On tooBig the temp file is removed.
 */
export async function spoolMessage(
  input: Readable | Buffer,
  target: string | SpoolFile,
  limit: number,
  opts: { deferSync?: boolean } = {},
): Promise<SpoolResult> {
  // write and close are synchronous on purpose: into the page cache they take
  // microseconds, while each thread-pool round trip costs a hand-off to another thread
  // (measured ~0.2 ms on a loaded machine). Only the fsync, which waits for the disk, goes to
  // the thread pool, so other sessions run meanwhile.
  const tmpPath = typeof target === 'string' ? target : target.path;
  const fd = typeof target === 'string' ? openSync(tmpPath, 'wx', 0o600) : target.fd;
  const parser = new MessageParser(INDEX_TEXT_LIMITS);
  const norm = new CrlfNormaliser();
  let size = 0;
  let tooBig = false;
  let ok = false;
  let parsed: Parsed | null = null;
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = (): void => {
    if (pending.length === 0) return;
    let written = writevSync(fd, pending);
    // a short write (rare on files): finish the rest piece by piece
    for (const b of pending) {
      if (written >= b.length) {
        written -= b.length;
        continue;
      }
      let off = written;
      written = 0;
      while (off < b.length) off += writeSync(fd, b, off, b.length - off);
    }
    pending.length = 0;
    pendingBytes = 0;
  };
  const take = (raw: Buffer): void => {
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
    if (pendingBytes >= WRITE_BATCH) flush();
  };
  try {
    if (Buffer.isBuffer(input)) take(input);
    else for await (const c of input) take(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    if (!tooBig) {
      flush();
      if (!opts.deferSync)
        await new Promise<void>((res, rej) => fsync(fd, (err) => (err ? rej(err) : res())));
    }
    parsed = tooBig ? null : (parser.end() as Parsed);
    ok = true;
  } finally {
    const keep = ok && !tooBig && opts.deferSync === true;
    if (!keep) closeSync(fd);
    if (!ok || tooBig) rmSync(tmpPath, { force: true });
  }
  return { size, tooBig, parsed, ...(opts.deferSync && !tooBig ? { fd } : {}) };
}
