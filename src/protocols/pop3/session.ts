/**
 * One POP3 session (RFC 1939, with RFC 2449 CAPA, RFC 5034 AUTH, RFC 2595 STLS, RFC 3206
 * response codes) over a pair of byte streams.
 *
 * Owns: the named states (AUTHORIZATION, TRANSACTION, closed; UPDATE happens inside QUIT),
 * the command loop with its shared checks (line length, state), login (lock + open of the
 * maildrop) and the streamed multi-line output. Commands are in commands/<verb>.ts.
 */
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import type { ImapdConf } from '../../config/api.js';
import type { Authenticator } from '../../auth/api.js';
import type { Logger } from '../../log/logger.js';
import { MailError, type Identity, type Store } from '../../store/api.js';
import { Namespace } from '../../store/namespace.js';
import { LineReader } from '../../net/lines.js';
import { ReplyBatch } from '../../net/reply-batch.js';
import { PopLock } from './lock.js';
import { Maildrop } from './maildrop.js';
import { E, errorLine } from './replies.js';
import { PopStuffer } from './stuffer.js';
import { COMMANDS } from './commands/index.js';

/** commands whose replies may wait in a corked output while more pipelined commands run */
const CORKABLE = new Set(['RETR', 'TOP ', 'LIST', 'UIDL', 'STAT', 'DELE', 'NOOP', 'RSET']);

/** messages up to this size are read whole for RETR/TOP (see sendMessage) */
const SMALL_MESSAGE = 256 * 1024;

/** RFC 2449 4: 255 octets per command; SASL responses (RFC 5034 4) may be much longer */
export const MAX_COMMAND_LINE = 16 * 1024;

export interface PopDeps {
  conf: ImapdConf;
  log: Logger;
  store: Store;
  auth: Authenticator;
  startTls: ((socket: Duplex) => Promise<Duplex>) | null;
  serverName: string;
  /** "Cyrus POP3 <version>" per serverinfo, '' when off */
  product: string;
  /** APOP may be offered (allowapop and a store with cleartext) */
  apop: boolean;
  /** directory for lock and last-login files (mboxname_lockpath) */
  lockDir: string;
}

export interface PopConnection {
  stream: Duplex;
  secure: boolean;
  remote: string;
  sessionId: string;
  /** the connection's proc file under cyr_master (cyr_info proc), when there is one */
  proc?: { update(fields: { user?: string; mailbox?: string; command?: string }): void };
}

export type PopState =
  | { kind: 'authorization'; user: string | null }
  | { kind: 'transaction'; identity: Identity; drop: Maildrop }
  | { kind: 'closed' };

export class PopSession {
  /** the command last written to the proc file */
  #procCommand = '';
  readonly deps: PopDeps;
  readonly conn: PopConnection;
  readonly reader: LineReader;
  #output: Duplex;
  state: PopState = { kind: 'authorization', user: null };
  secure: boolean;
  /** the APOP timestamp of the greeting, or null when APOP is not offered */
  readonly apopBanner: string | null;

  constructor(deps: PopDeps, conn: PopConnection) {
    this.deps = deps;
    this.conn = conn;
    this.secure = conn.secure;
    this.#output = conn.stream;
    this.reader = new LineReader(conn.stream, { maxLine: MAX_COMMAND_LINE });
    // tls_required: no authentication of any kind (APOP included) before TLS
    const apopNow = deps.apop && (conn.secure || !deps.conf.getSwitch('tls_required'));
    this.apopBanner = apopNow
      ? `<${process.pid}.${Date.now()}.${conn.sessionId.slice(-8)}@${deps.serverName || 'localhost'}>`
      : null;
  }

  get log(): Logger {
    return this.deps.log;
  }

  write(text: string): void {
    if (this.state.kind === 'closed' && !text.startsWith('+OK')) return;
    this.#output.write(text);
  }

  line(text: string): void {
    this.write(text + '\r\n');
  }

  /** replies of a run of pipelined commands, sent in one write */
  readonly #batch = new ReplyBatch();

  /** send what a run of pipelined replies gathered (before streaming, STLS, waiting or closing) */
  #uncork(): void {
    this.#batch.release();
  }

  /** after STLS: continue on the TLS stream (the reader was detached before the handshake) */
  switchStream(tls: Duplex): void {
    this.reader.attach(tls);
    this.#output = tls;
    this.secure = true;
  }

  async run(): Promise<void> {
    const name = this.deps.serverName ? `${this.deps.serverName} ` : '';
    const product = this.deps.product ? `${this.deps.product} ` : '';
    this.line(`+OK ${name}${product}server ready${this.apopBanner ? ' ' + this.apopBanner : ''}`);
    try {
      while (this.state.kind !== 'closed') {
        const got = await this.reader.readLine();
        if (got === null) break;
        if ('tooLong' in got) {
          this.line(E.lineTooLong);
          continue;
        }
        const line = got.line.toString('latin1');
        // pipelined commands already read (a client's window of RETRs): their replies are
        // gathered and sent with one write when the last of them is done. Only commands that
        // never wait for the client are held back (AUTH's challenges, STLS's +OK must go out).
        if (this.reader.buffered > 0 && CORKABLE.has(line.slice(0, 4).toUpperCase()))
          this.#batch.hold(this.#output);
        else this.#uncork();
        await this.dispatch(line);
        if (this.reader.buffered === 0) this.#uncork();
      }
    } catch (e) {
      this.log.error(`session failed: ${e instanceof Error ? e.stack : String(e)}`);
      this.line(E.temp);
    } finally {
      this.#uncork();
      this.end();
    }
  }

  /** leave without UPDATE (connection lost, timeout, shutdown): nothing is expunged */
  end(): void {
    if (this.state.kind === 'transaction') this.state.drop.close();
    this.state = { kind: 'closed' };
  }

  async dispatch(line: string): Promise<void> {
    const parts = line.split(' ');
    const verb = (parts[0] ?? '').toUpperCase();
    const args = parts.slice(1);
    const cmd = COMMANDS.get(verb);
    if (!cmd) return this.line(E.unknownCommand);
    // the proc file is rewritten only when the command changes (pipelined RETR/DATA runs)
    if (verb !== this.#procCommand) {
      this.#procCommand = verb;
      this.conn.proc?.update({ command: verb });
    }
    if (!cmd.states.includes(this.state.kind as 'authorization' | 'transaction')) {
      return this.line(this.state.kind === 'authorization' ? E.notLoggedIn : E.alreadyLoggedIn);
    }
    if (cmd.args !== undefined) {
      const [min, max] = cmd.args;
      if (args.length < min || args.length > max || args.some((a) => a === '')) return this.line(E.syntax);
    }
    await cmd.run(this, args, line);
  }

  /** message number argument → message, or send -ERR and return null */
  message(arg: string | undefined): ReturnType<Maildrop['get']> {
    if (this.state.kind !== 'transaction') return null;
    const n = arg !== undefined && /^[0-9]{1,10}$/.test(arg) ? Number(arg) : NaN;
    const m = this.state.drop.get(n);
    if (!m) this.line(E.noSuchMessage);
    return m;
  }

  /**
   * Finish a successful authentication: find the maildrop (`user+folder` with popsubfolders),
   * enforce popminpoll, lock it, open it. Sends the +OK or -ERR line.
   */
  async login(identity: Identity, folder: string | null): Promise<boolean> {
    const { conf, store } = this.deps;
    try {
      const ns = new Namespace(conf);
      const inbox = ns.inbox(identity.userid);
      if (!store.lookup(inbox)) {
        // Cyrus autocreates the INBOX at login only when autocreate_quota is 0 or more
        if (conf.getBytes('autocreate_quota') < 0)
          throw new MailError('notFound', `no INBOX for ${identity.userid}`);
        store.ensureInbox(identity.userid);
      }
      let name = inbox;
      if (folder) {
        name = `${inbox}.${conf.getSwitch('unixhierarchysep') ? folder.replace(/\./g, '^').replace(/\//g, '.') : folder}`;
        if (!store.lookup(name)) throw new MailError('notFound', `no folder ${name}`);
      }
      const minPoll = conf.getDuration('popminpoll');
      if (minPoll > 0 && !this.#pollAllowed(name, minPoll)) {
        this.line(E.loginDelay(Math.ceil(minPoll / 60)));
        return false;
      }
      const lock = PopLock.acquire(this.deps.lockDir, name);
      if (!lock) {
        this.log.notice(`${identity.userid}: maildrop ${name} in use`);
        this.line(E.inUse);
        return false;
      }
      let drop: Maildrop;
      try {
        // popuseacl off (Cyrus's default): the user's own maildrop is theirs whatever its ACL
        // says, so it is opened with administrative power (seen state stays the user's);
        // popuseacl on: the ACL decides ('r' to read, 't' to DELE, see dele.ts)
        const useAcl = conf.getSwitch('popuseacl');
        const view = store.open(useAcl ? identity : { ...identity, isAdmin: true }, name, {
          readOnly: false,
        });
        drop = new Maildrop(view, lock, {
          useImapFlags: conf.getSwitch('popuseimapflags'),
          uidlFormat: conf.getEnum('uidl_format'),
        });
      } catch (e) {
        lock.release();
        throw e;
      }
      this.state = { kind: 'transaction', identity, drop };
      this.conn.proc?.update({ user: identity.userid, mailbox: name });
      if (minPoll > 0) this.#recordLogin(name);
      this.log.notice(
        `login: ${this.conn.remote} ${identity.userid} ${name} User logged in SESSIONID=<${this.conn.sessionId}>`,
      );
      this.line(`+OK Mailbox locked and ready SESSIONID=<${this.conn.sessionId}>`);
      return true;
    } catch (e) {
      const { line, internal } = errorLine(e);
      if (internal)
        this.log.error(`login of ${identity.userid} failed: ${e instanceof Error ? e.stack : String(e)}`);
      this.line(line);
      return false;
    }
  }

  #lastLoginPath(name: string): string {
    return join(this.deps.lockDir, 'pop3', `${Buffer.from(name, 'utf8').toString('hex')}.last`);
  }

  #pollAllowed(name: string, minPoll: number): boolean {
    try {
      const last = statSync(this.#lastLoginPath(name)).mtimeMs;
      return Date.now() - last >= minPoll * 1000;
    } catch {
      return true;
    }
  }

  #recordLogin(name: string): void {
    const p = this.#lastLoginPath(name);
    try {
      mkdirSync(join(this.deps.lockDir, 'pop3'), { recursive: true });
      writeFileSync(p, '');
      const now = new Date();
      utimesSync(p, now, now);
    } catch (e) {
      this.log.warning(`cannot record POP login time: ${String(e)}`);
    }
  }

  /**
   * Send a message as a multi-line response (RETR, TOP). Messages up to SMALL_MESSAGE bytes
   * are read with one synchronous read and sent with one write (most mail: a stream per message costs
   * more than the message); larger ones are streamed from the store with back-pressure.
   */
  async sendMessage(uid: number, first: string, bodyLines?: number, size = Infinity): Promise<void> {
    if (this.state.kind !== 'transaction') return;
    if (size <= SMALL_MESSAGE) {
      let data: Buffer | null = null;
      try {
        // synchronous on purpose: four thread-pool round trips (open, fstat, read, close) cost
        // far more than reading a small file, and pipelined RETRs wait on each other
        data = readFileSync(this.state.drop.view.path(uid));
      } catch (e) {
        if (!(e instanceof MailError) && (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      if (data === null) return this.line(E.noSuchMessage);
      const stuffer = new PopStuffer(bodyLines);
      const body = stuffer.push(data);
      this.#output.write(Buffer.concat([Buffer.from(first + '\r\n'), ...body, stuffer.end()]));
      return;
    }
    // a large message is streamed with backpressure: nothing may stay corked behind it
    this.#uncork();
    let stream: Readable;
    try {
      stream = this.state.drop.view.open(uid);
    } catch (e) {
      // expunged by another session (IMAP) since the maildrop was opened
      const { line, internal } = errorLine(e);
      if (internal) this.log.error(`message ${uid} could not be opened: ${String(e)}`);
      return this.line(line);
    }
    const stuffer = new PopStuffer(bodyLines);
    const out = this.#output;
    const put = async (bufs: Buffer[]): Promise<void> => {
      let ok = true;
      for (const b of bufs) ok = out.write(b) && ok;
      if (!ok) await new Promise<void>((resolve) => out.once('drain', resolve));
    };
    let started = false;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (!started) {
          out.write(first + '\r\n');
          started = true;
        }
        await put(stuffer.push(chunk));
        if (stuffer.finished) break;
      }
    } catch (e) {
      if (!started) {
        this.log.warning(`message ${uid} could not be read: ${String(e)}`);
        return this.line(E.temp);
      }
      // the status line is out: the only honest thing left is to drop the connection
      this.log.error(`message ${uid} could not be read: ${String(e)}`);
      this.#output.end();
      this.end();
      return;
    } finally {
      stream.destroy();
    }
    if (!started) out.write(first + '\r\n');
    out.write(stuffer.end());
  }
}
