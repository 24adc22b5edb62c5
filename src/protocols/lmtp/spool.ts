/**
 * DATA goes to ONE spool (STYLE.md "streams for message bodies"): the dot-decoded, filtered
 * bytes are kept in memory up to `MEMORY_SPOOL` (256 KiB) and past that written to
 * `<temp_path>/lmtp.<pid>.<random>` (synchronously); every recipient's copy is then appended
 * from it. Keeping small messages in memory saves creating, reading back and removing a file
 * per message: creating an inode right after the previous delivery's fsyncs waits for the
 * ext4 journal (~0.1 ms, measured in lmtpd's profile). Memory stays bounded: at most
 * MEMORY_SPOOL per connection. Past the size limit the reader keeps consuming until the
 * final dot; the verdict says what went wrong.
 *
 * Owns: the spool's life (`SpooledMessage`: in memory or a file, written to a file on demand
 * for Sieve's redirect/vacation), the reading loop of DATA and the piecewise writer BDAT uses.
 */
import { closeSync, createReadStream, openSync, rmSync, writeFileSync, writeSync, writevSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { DotDecoder } from './dot-decoder.js';
import { MessageFilter, type FilterOptions, type FilterVerdict } from './message-filter.js';
import type { LineReader } from '../../net/lines.js';
import type { StagedMessage, Store } from '../../store/api.js';

/** a message up to this size is spooled in memory */
export const MEMORY_SPOOL = 256 * 1024;

/**
 * Stages a message in the store while it arrives (Store.stage): a message past MEMORY_SPOOL
 * goes straight into the store's stage file (written, parsed and fsynced once there) instead of
 * a temp file that every append would read back.
 */
export type Stager = (input: Readable) => Promise<StagedMessage>;

/** A spooled message: its bytes in memory, a file under temp_path, or staged in the store. */
export class SpooledMessage {
  #data: Buffer | null;
  #path: string | null;
  readonly #tempDir: string;
  /** staged while it arrived (large message with a stager); `message` null if that failed */
  readonly #early: { message: StagedMessage | null } | null;

  constructor(
    tempDir: string,
    data: Buffer | null,
    path: string | null,
    staged: Promise<StagedMessage> | null = null,
    early: { message: StagedMessage | null } | null = null,
  ) {
    this.#tempDir = tempDir;
    this.#data = data;
    this.#path = path;
    this.#staged = staged;
    this.#early = early;
  }

  /** already staged in the store: every append should link it (appendStaged) */
  get isStaged(): boolean {
    return this.#early !== null;
  }

  /** the bytes for one append: the buffer itself, or a fresh stream of the file */
  content(): Buffer | Readable {
    if (this.#early) return createReadStream(this.#stagedPath());
    return this.#data ?? createReadStream(this.#path!);
  }

  #stagedPath(): string {
    if (!this.#early!.message) throw new Error('the message could not be staged');
    return this.#early!.message.path;
  }

  /** a file holding the message (written now when it was kept in memory) */
  path(): string {
    if (this.#early) return this.#stagedPath();
    if (this.#path === null) {
      const path = spoolPath(this.#tempDir);
      writeFileSync(path, this.#data!, { flag: 'wx', mode: 0o600 });
      this.#path = path;
    }
    return this.#path;
  }

  #staged: Promise<StagedMessage> | null;

  /**
   * The message staged in the store once (parsed, written, fsynced), for several appends
   * (singleinstancestore): every later call gets the same staged message.
   */
  staged(store: Store): Promise<StagedMessage> {
    return (this.#staged ??= store.stage(this.content()));
  }

  /** remove the file and the staged copy, if there are (idempotent) */
  remove(): void {
    if (this.#path !== null) rmSync(this.#path, { force: true });
    this.#path = null;
    this.#data = null;
    this.#staged?.then(
      (s) => s.release(),
      () => undefined,
    );
    this.#staged = null;
  }
}

export interface SpoolResult {
  spool: SpooledMessage;
  verdict: FilterVerdict;
  /** false when the input ended before the final dot (connection lost) */
  complete: boolean;
}

function spoolPath(tempDir: string): string {
  return join(tempDir, `lmtp.${process.pid}.${randomBytes(8).toString('hex')}`);
}

/**
 * Read a dot-terminated DATA block from `reader` into a new spool (a file under `tempDir` when large).
 * `prefix` (trace headers: Return-Path, Received) is written first and is not counted against
 * the size limit. Bytes after the final dot are put back into the reader.
 */
export async function spoolData(
  reader: LineReader,
  tempDir: string,
  prefix: Buffer,
  opts: FilterOptions,
  stager?: Stager,
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
  const r = await spoolMessage(decoded(), tempDir, prefix, opts, stager);
  return { ...r, complete };
}

/**
 * Write a plain message (no dot-stuffing: `cyr_deliver` reading stdin) through the same checks
 * into a new spool. `complete` is always true.
 */
export async function spoolStream(
  source: AsyncIterable<Buffer>,
  tempDir: string,
  prefix: Buffer,
  opts: FilterOptions,
  stager?: Stager,
): Promise<SpoolResult> {
  return { ...(await spoolMessage(source, tempDir, prefix, opts, stager)), complete: true };
}

async function spoolMessage(
  source: AsyncIterable<Buffer>,
  tempDir: string,
  prefix: Buffer,
  opts: FilterOptions,
  stager?: Stager,
): Promise<{ spool: SpooledMessage; verdict: FilterVerdict }> {
  const w = await SpoolWriter.open(tempDir, prefix, opts, stager);
  try {
    for await (const chunk of source) await w.write(chunk);
    const verdict = await w.finish();
    return { spool: w.spooled(), verdict };
  } catch (e) {
    await w.abort();
    throw e;
  }
}

/**
 * A spool being filled piece by piece (BDAT chunks arrive in several commands): every piece
 * goes through the same MessageFilter; the bytes stay in memory until they pass MEMORY_SPOOL,
 * then go to the store's stage file through `stager` (or, without one, to a temp file).
 * `finish` gives the verdict, `spooled` the result, `abort` drops it.
 */
export class SpoolWriter {
  readonly #tempDir: string;
  readonly #stager: Stager | undefined;
  /** the temp file once spilled, and its open descriptor (-1 once closed or before spilling) */
  #path: string | null = null;
  #fd = -1;
  /** the stream into the store's stage once spilled there, and the staging under way */
  #pipe: PassThrough | null = null;
  #staging: Promise<StagedMessage> | null = null;
  #stageError: unknown = null;
  #staged: StagedMessage | null = null;
  /** pieces kept in memory (before spilling) */
  #mem: Buffer[] = [];
  #memBytes = 0;
  readonly #filter: MessageFilter;

  private constructor(tempDir: string, filter: MessageFilter, stager: Stager | undefined) {
    this.#tempDir = tempDir;
    this.#filter = filter;
    this.#stager = stager;
  }

  static async open(
    tempDir: string,
    prefix: Buffer,
    opts: FilterOptions,
    stager?: Stager,
  ): Promise<SpoolWriter> {
    const w = new SpoolWriter(tempDir, new MessageFilter(opts), stager);
    w.#put([prefix]);
    return Promise.resolve(w);
  }

  /**
   * Synchronous writes on purpose: into the page cache they take microseconds, while a
   * write stream's thread-pool round trips (open, each write, close) each cost a hand-off to
   * another thread, measured ~0.2 ms on a loaded machine. The temp spool is never fsynced
   * (the store's own copy is), so nothing here waits for the disk. Returns false when the
   * stage stream wants the writer to wait for 'drain'.
   */
  #put(bufs: Buffer[]): boolean {
    if (bufs.length === 0) return true;
    if (this.#path === null && this.#pipe === null) {
      let n = 0;
      for (const b of bufs) n += b.length;
      if (this.#memBytes + n <= MEMORY_SPOOL) {
        // copies: the reader's chunks may be views of a buffer it reuses
        for (const b of bufs) if (b.length) this.#mem.push(Buffer.from(b));
        this.#memBytes += n;
        return true;
      }
      // too big for memory: everything so far goes to the stage (or a file), the rest after it
      const held = this.#mem;
      this.#mem = [];
      this.#memBytes = 0;
      if (this.#stager) {
        const pipe = new PassThrough({ highWaterMark: 256 * 1024 });
        this.#pipe = pipe;
        this.#staging = this.#stager(pipe);
        this.#staging.then(
          (st) => (this.#staged = st),
          (e: unknown) => {
            // e.g. past maxmessagesize: the verdict says so; the rest of the input is dropped
            this.#stageError = e;
            pipe.destroy();
          },
        );
        return this.#pipeWrite(held) && this.#pipeWrite(bufs);
      }
      this.#path = spoolPath(this.#tempDir);
      this.#fd = openSync(this.#path, 'wx', 0o600);
      this.#writeFile(held);
    }
    if (this.#pipe) return this.#pipeWrite(bufs);
    this.#writeFile(bufs);
    return true;
  }

  #pipeWrite(bufs: Buffer[]): boolean {
    let ok = true;
    if (this.#stageError !== null || this.#pipe!.destroyed) return true;
    for (const b of bufs) if (b.length) ok = this.#pipe!.write(b) && ok;
    return ok;
  }

  #writeFile(bufs: Buffer[]): void {
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
    if (this.#put(this.#filter.push(chunk))) return;
    // the store is behind: wait for it (or for its failure, after which input is dropped)
    const pipe = this.#pipe!;
    await Promise.race([
      new Promise<void>((resolve) => {
        pipe.once('drain', resolve);
        pipe.once('close', resolve);
      }),
      this.#staging!.then(
        () => undefined,
        () => undefined,
      ),
    ]);
  }

  async finish(): Promise<FilterVerdict> {
    const last = this.#filter.end();
    this.#put(last.out);
    this.#close();
    if (this.#pipe) {
      this.#pipe.end();
      await this.#staging!.catch(() => undefined);
    }
    return last.verdict;
  }

  /** the finished spool (after `finish`) */
  spooled(): SpooledMessage {
    if (this.#staging) {
      const p = this.#staged ? Promise.resolve(this.#staged) : Promise.reject(this.#stageError);
      p.catch(() => undefined); // asked for only when there is something to deliver
      return new SpooledMessage(this.#tempDir, null, null, p, { message: this.#staged });
    }
    return new SpooledMessage(
      this.#tempDir,
      this.#path === null ? Buffer.concat(this.#mem, this.#memBytes) : null,
      this.#path,
    );
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
    if (this.#path !== null) rmSync(this.#path, { force: true });
    this.#mem = [];
    if (this.#pipe) {
      this.#pipe.destroy();
      await this.#staging!.then(
        (st) => st.release(),
        () => undefined,
      );
    }
  }
}
