/**
 * One LMTP session (RFC 2033) over a pair of byte streams: a socket from lmtpd, or
 * stdin/stdout for `cyr_deliver -l`.
 *
 * Owns: the session state (named phases, the current transaction), the command loop and the
 * checks common to every command (line length, LHLO first, authentication required for the
 * mail transaction). Each command lives in commands/<verb>.ts and only does what it means.
 * Replies come back in order: with PIPELINING the client's commands wait in the reader's
 * buffer. The replies to a run of pipelined MAIL/RCPT/DATA (RFC 2920's batch) are gathered and
 * go out in one write with DATA's 354 (`flush`), not one write each.
 */
import type { Duplex } from 'node:stream';
import type { Authenticator } from '../../auth/api.js';
import type { Identity } from '../../store/api.js';
import type { DeliverDeps } from './deliver.js';
import { LineReader } from '../../net/lines.js';
import { ReplyBatch } from '../../net/reply-batch.js';
import type { ResolvedRecipient } from './recipient.js';
import type { SpoolWriter } from './spool.js';
import { formatReply, R, type Reply } from './replies.js';
import { COMMANDS } from './commands/index.js';

/** RFC 5321 4.5.3.1.4 says 512; Cyrus accepts longer, and AUTH responses can be long. */
export const MAX_COMMAND_LINE = 16 * 1024;
/** RFC 5321 4.5.3.1.8: at least 100 recipients must be accepted */
export const MAX_RECIPIENTS = 1000;

export interface LmtpDeps extends DeliverDeps {
  auth: Authenticator | null;
  /** upgrade the connection to TLS (STARTTLS); null when TLS is not configured */
  startTls: ((socket: Duplex) => Promise<Duplex>) | null;
  serverName: string;
  /** greeting/Received product string, per serverinfo */
  product: string;
}

export interface LmtpConnection {
  /** the connection (socket, or stdin+stdout joined for `cyr_deliver -l`) */
  stream: Duplex;
  /** unix-socket peer or lmtpd -a: pre-authorised as postman */
  preauth: boolean;
  /** TLS already active (implicit TLS) */
  secure: boolean;
  /** "[127.0.0.1]:port" or "unix" */
  remote: string;
  sessionId: string;
  /** the connection's proc file under cyr_master (cyr_info proc), when there is one */
  proc?: { update(fields: { user?: string; mailbox?: string; command?: string }): void };
}

export interface Transaction {
  from: string;
  /** SIZE= announced, 0 when absent */
  size: number;
  body: '7BIT' | '8BITMIME' | 'BINARYMIME';
  rcpts: ResolvedRecipient[];
  /** the spool being filled by BDAT chunks (RFC 3030), once the first BDAT arrived */
  chunks?: SpoolWriter;
}

export type Phase = 'greeted' | 'ready' | 'closed';

/**
 * Commands whose replies may wait while more pipelined commands are read (RFC 2920 3.1: the
 * server may hold replies of a group). None of them waits for the client, except DATA,
 * which flushes before reading the message.
 */
const CORKABLE = new Set(['MAIL', 'RCPT', 'RSET', 'NOOP', 'VRFY', 'DATA']);

export class LmtpSession {
  /** the command last written to the proc file */
  #procCommand = '';
  readonly deps: LmtpDeps;
  readonly conn: LmtpConnection;
  readonly reader: LineReader;
  #output: Duplex;
  phase: Phase = 'greeted';
  lhloHost = '';
  secure: boolean;
  /** authenticated (or pre-authorised) LMTP identity; null = must AUTH first */
  identity: Identity | null;
  /** authenticated through AUTH (not just pre-authorised): AUTH no longer offered */
  authenticated = false;
  txn: Transaction | null = null;

  constructor(deps: LmtpDeps, conn: LmtpConnection) {
    this.deps = deps;
    this.conn = conn;
    this.secure = conn.secure;
    this.#output = conn.stream;
    this.reader = new LineReader(conn.stream, { maxLine: MAX_COMMAND_LINE });
    this.identity = conn.preauth ? { userid: 'postman', isAdmin: false, groups: [] } : null;
  }

  get log(): DeliverDeps['log'] {
    return this.deps.log;
  }

  send(rep: Reply, extra?: string, preamble?: string[]): void {
    this.write(formatReply(rep, extra, preamble));
  }

  write(text: string): void {
    if (this.phase === 'closed') return;
    this.#output.write(text);
  }

  /** replies of a pipelined batch, sent in one write */
  readonly #batch = new ReplyBatch();

  /** send the replies gathered so far (before waiting for the client) */
  flush(): void {
    this.#batch.release();
  }

  /** after STARTTLS: continue on the TLS stream (the reader was detached before the handshake) */
  switchStream(tls: Duplex): void {
    this.flush();
    this.reader.attach(tls);
    this.#output = tls;
    this.secure = true;
  }

  close(): void {
    this.phase = 'closed';
  }

  resetTransaction(): void {
    // an unfinished BDAT spool is removed (RSET, LHLO, new transaction, end of session)
    if (this.txn?.chunks) void this.txn.chunks.abort();
    this.txn = null;
  }

  /** Run until QUIT or end of input. Never throws. */
  async run(): Promise<void> {
    this.write(
      `220 ${[this.deps.serverName, this.deps.product, 'server ready'].filter(Boolean).join(' ')}\r\n`,
    );
    try {
      while (this.phase !== 'closed') {
        const got = await this.reader.readLine();
        if (got === null) break;
        if ('tooLong' in got) {
          this.send(R.lineTooLong);
          continue;
        }
        const line = got.line.toString('latin1');
        if (CORKABLE.has(line.slice(0, 4).toUpperCase()) && (this.#batch.holding || this.reader.buffered > 0))
          this.#batch.hold(this.#output);
        else this.flush();
        await this.dispatch(line);
        if (this.reader.buffered === 0) this.flush();
      }
    } catch (e) {
      this.log.error(`session failed: ${String(e)}`);
      this.write(formatReply(R.temp));
    }
    this.flush();
    this.resetTransaction();
    this.phase = 'closed';
  }

  async dispatch(line: string): Promise<void> {
    const sp = line.indexOf(' ');
    const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? '' : line.slice(sp + 1);
    const cmd = COMMANDS.get(verb);
    // the proc file is rewritten only when the command changes, and in a pipelined batch
    // (MAIL, RCPT..., DATA sent together) only for its last command
    if (verb !== this.#procCommand && this.reader.buffered === 0) {
      this.#procCommand = verb;
      this.conn.proc?.update({ command: verb });
    }
    if (!cmd) {
      this.send(verb === 'HELO' || verb === 'EHLO' ? R.syntax : R.unknownCommand);
      return;
    }
    if (cmd.needsLhlo && this.phase !== 'ready') {
      this.send(R.needLhlo);
      return;
    }
    if (cmd.needsAuth && this.identity === null) {
      this.send(this.deps.conf.getSwitch('soft_noauth') ? R.authRequired : R.authRequiredPerm);
      return;
    }
    await cmd.run(this, arg);
  }
}
