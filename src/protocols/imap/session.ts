/**
 * One IMAP connection: the session state machine and the command dispatcher.
 *
 * Owns: the typed state (not authenticated → authenticated → selected → logout, with the
 * waiting states AUTHENTICATE, literal and IDLE expressed as awaits on `readLine`/`waitInput`),
 * the read loop over the incremental parser, the dispatcher's common checks (known command,
 * state, UID prefix, grammar errors → BAD, ten bad commands in a row → BYE), the untagged
 * EXISTS/EXPUNGE/FETCH updates taken from MailboxView.sync() after each command, followed by
 * the ADDTO/REMOVEFROM updates of live search contexts (context.ts, RFC 5267 §4), timeouts
 * (`timeout`, `imapidletimeout`), and the greeting.
 *
 * Every log line carries `session=<id>`; passwords and AUTHENTICATE data are never logged.
 * Imports: store/auth/config contracts, the IMAP modules beside it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { readLimits, type Limits } from '../../net/limits.js';
import { channelBindings, externalIdentity } from '../../net/tls.js';
import type { ImapdConf } from '../../config/api.js';
import type { Logger } from '../../log/logger.js';
import type { Authenticator } from '../../auth/api.js';
import type { Identity, MailboxView, Store } from '../../store/api.js';
import type { Namespace } from '../../store/namespace.js';
import type { ProcEntry } from '../../master/procfile.js';
import { encodeMailboxName, decodeMailboxName } from '../../mail/utf7.js';
import { ArgReader, ImapSyntaxError, indexOfUid } from './args.js';
import { capabilities } from './capabilities.js';
import type { CommandContext } from './command.js';
import { COMMANDS } from './commands/index.js';
import { SearchContexts } from './context.js';
import { replyFor, type Reply } from './errors.js';
import { disposeTokens, ImapParser, type ParserLimits } from './parser.js';
import { astr, endGracefully, Output, str } from './response.js';
import { SessionLog } from './session-log.js';

/**
 * What the connection is waiting for, besides the state above: a command line, the rest of a
 * literal after `+ go ahead`, an AUTHENTICATE response line, or IDLE's DONE.
 */
export type WaitingFor = 'command' | 'literal' | 'authenticate' | 'idle';

export type SessionState =
  | { kind: 'notAuthenticated' }
  | { kind: 'authenticated'; who: Identity }
  | { kind: 'selected'; who: Identity; view: MailboxView; mailbox: string; readOnly: boolean }
  | { kind: 'logout' };

/** What a session needs from the worker: shared by every connection of the service. */
export interface SessionDeps {
  conf: ImapdConf;
  service: string;
  log: Logger;
  store: Store;
  auth: Authenticator;
  ns: Namespace;
  /** the namespace administrators see (never the alternate one, as Cyrus); defaults to `ns` */
  adminNs?: Namespace;
  /** STARTTLS: wrap the socket (null when TLS is not configured) */
  startTls: ((sock: Duplex) => Promise<Duplex>) | null;
  /** the connection is already TLS (imapd -s) */
  implicitTls: boolean;
  /** -N: skip password checks (testing only, as Cyrus's imapd -N) */
  noPasswordCheck?: boolean;
  /** the worker is stopping */
  signal?: AbortSignal;
  /** a private directory for APPEND messages while they arrive (big ones never sit in memory) */
  spoolDir?: string;
  /** the connection's proc file under master (`cyr_info proc`), if any */
  proc?: ProcEntry;
}

const MAX_BAD = 10;

/**
 * Limits read once per configuration and shared by its sessions (imapd.conf is fixed at load
 * time): an idle connection should not carry its own copies (issue #5).
 */
const sharedLimits = new WeakMap<ImapdConf, { limits: Limits; parser: ParserLimits }>();

function limitsFor(conf: ImapdConf, spoolDir: string | null): { limits: Limits; parser: ParserLimits } {
  const hit = sharedLimits.get(conf);
  if (hit && hit.parser.spoolDir === spoolDir) return hit;
  const limits = readLimits(conf);
  const parser: ParserLimits = {
    maxWord: limits.maxWord,
    maxQuoted: limits.maxQuoted,
    maxLiteral: limits.maxLiteral,
    maxMessage: limits.maxMessageSize,
    maxArgs: limits.maxArgsSize,
    literalMinus: conf.getSwitch('literalminus'),
    spoolDir,
    spoolOver: 256 * 1024,
  };
  const entry = { limits, parser };
  if (!hit) sharedLimits.set(conf, entry);
  return entry;
}

export class ImapSession {
  state: SessionState = { kind: 'notAuthenticated' };
  waiting: WaitingFor = 'command';
  readonly id = randomBytes(6).toString('hex');
  readonly log: Logger;
  readonly parser: ImapParser;
  /** parser limits and timeouts, from imapd.conf via net/limits.ts */
  readonly limits: Limits;
  out: Output;
  secure: boolean;
  /** ENABLEd extensions (CONDSTORE, QRESYNC, IMAP4rev2, UTF8=ACCEPT) */
  get enabled(): Set<string> {
    return (this.enabledSet ??= new Set());
  }
  private enabledSet: Set<string> | null = null;
  /** the client's saved search result ($) */
  savedSearch: number[] = [];
  /** live SEARCH/SORT RETURN (UPDATE) contexts of the selected mailbox; made when first needed */
  contexts: SearchContexts | null = null;
  /** messages count last announced with EXISTS */
  announcedExists = 0;
  /** expunges seen by sync() but not yet announced (during FETCH/STORE/SEARCH); made when needed */
  private pendingExpunge: Set<number> | null = null;
  /** flag changes this session made and already reported (uid → modseq) */
  get selfChanged(): Map<number, number> {
    return (this.selfChangedMap ??= new Map());
  }
  private selfChangedMap: Map<number, number> | null = null;
  /** COMPRESS=DEFLATE is active */
  compressed = false;
  /** the TLS socket under any compression layer (channel bindings, client certificate) */
  tlsSocket: TLSSocket | null = null;
  private badInRow = 0;
  private closed = false;
  private inputWaiter: (() => void) | null = null;
  private remote: string;

  constructor(
    public sock: Duplex,
    readonly deps: SessionDeps,
  ) {
    this.log = new SessionLog(deps.log, `session=${this.id} `);
    this.out = this.makeOutput(sock);
    this.secure = deps.implicitTls;
    if (sock instanceof TLSSocket) this.tlsSocket = sock;
    const shared = limitsFor(deps.conf, deps.spoolDir ?? null);
    this.limits = shared.limits;
    this.parser = new ImapParser(shared.parser);
    const s = sock as Duplex & { remoteAddress?: string; remotePort?: number };
    this.remote = s.remoteAddress ? `[${s.remoteAddress}]:${s.remotePort ?? ''}` : 'local';
  }

  get conf(): ImapdConf {
    return this.deps.conf;
  }
  get store(): Store {
    return this.deps.store;
  }

  // ---- state helpers used by commands ----------------------------------------------------

  /** the namespace of this session's user: admins get Cyrus's admin view (see Namespace) */
  get ns(): Namespace {
    const st = this.state;
    const admin = (st.kind === 'authenticated' || st.kind === 'selected') && st.who.isAdmin;
    return admin ? (this.deps.adminNs ?? this.deps.ns) : this.deps.ns;
  }

  who(): Identity {
    if (this.state.kind !== 'authenticated' && this.state.kind !== 'selected')
      throw new Error('not authenticated');
    return this.state.who;
  }

  selected(): Extract<SessionState, { kind: 'selected' }> {
    if (this.state.kind !== 'selected') throw new Error('no mailbox selected');
    return this.state;
  }

  view(): MailboxView {
    return this.selected().view;
  }

  /** mailbox names and quoted strings may be UTF-8 (UTF8=ACCEPT, or IMAP4rev2: RFC 9051 §5.1) */
  get utf8(): boolean {
    const e = this.enabledSet;
    return !!e && (e.has('UTF8=ACCEPT') || e.has('IMAP4REV2'));
  }

  /** RFC 9051 behaviour was ENABLEd */
  get rev2(): boolean {
    return !!this.enabledSet?.has('IMAP4REV2');
  }

  /** wire bytes of a mailbox argument → internal name (throws MailError badName) */
  mailboxIn(raw: Buffer): string {
    let ext = raw.toString('utf8');
    if (!this.utf8) {
      try {
        ext = decodeMailboxName(raw.toString('latin1'));
      } catch {
        // not valid modified UTF-7: take it as typed (Cyrus accepts it too)
      }
    }
    return this.ns.toInternal(ext, this.who().userid);
  }

  /** internal name → the name this user sees (unencoded), or null */
  externalName(internal: string): string | null {
    return this.ns.toExternal(internal, this.who().userid);
  }

  /** external (unencoded) name → wire form (mUTF-7 unless UTF8=ACCEPT), quoted as needed */
  wireName(external: string): string {
    return astr(this.utf8 ? external : encodeMailboxName(external), this.utf8);
  }

  /** wire form of an external name as a quoted string (LIST always quotes in Cyrus style) */
  wireQuoted(external: string): string {
    return str(this.utf8 ? external : encodeMailboxName(external), this.utf8);
  }

  /** What SASL may know about this connection: TLS channel bindings, certificate identity, peer. */
  saslContext(): {
    service: string;
    secure: boolean;
    serverName: string;
    remote: string;
    channelBindings?: { type: string; data: Buffer }[];
    externalId?: string;
  } {
    const ctx: ReturnType<ImapSession['saslContext']> = {
      service: this.deps.service,
      secure: this.secure,
      serverName: this.serverName(),
      // the authenticator logs failures with this: it carries our session id
      remote: this.logRemote(),
    };
    const t = this.sock instanceof TLSSocket ? this.sock : this.tlsSocket;
    if (t) {
      try {
        ctx.channelBindings = channelBindings(t);
        ctx.externalId = externalIdentity(t);
      } catch {
        // no bindings available: -PLUS and EXTERNAL are simply not offered
      }
    }
    return ctx;
  }

  logRemote(): string {
    return `${this.remote} session=${this.id}`;
  }

  mechanisms(): string[] {
    const ctx = this.saslContext();
    return this.deps.auth.mechanisms({
      secure: this.secure,
      hasExternal: !!ctx.externalId,
      hasChannelBinding: !!ctx.channelBindings?.length,
    });
  }

  /** `full`: CAPABILITY's answer (the whole list even before login, as Cyrus) */
  capabilities(opts: { full?: boolean } = {}): string[] {
    const authed = this.state.kind === 'authenticated' || this.state.kind === 'selected';
    return capabilities(
      this.conf,
      {
        authenticated: authed,
        secure: this.secure,
        tlsAvailable: !!this.deps.startTls,
        mechanisms: authed ? [] : this.mechanisms(),
        plaintextAllowed: this.deps.auth.plaintextAllowed(this.secure),
        compressed: this.compressed,
      },
      opts,
    );
  }

  untagged(line: string): void {
    this.out.write(`* ${line}\r\n`);
  }

  // ---- the read loop ---------------------------------------------------------------------

  /** Run the connection until it ends. Never throws. */
  async run(): Promise<void> {
    this.attach(this.sock);
    this.log.info(`accepted connection from ${this.remote}${this.secure ? ' tls' : ''}`);
    try {
      this.greet();
      // the command loop inline: one suspended async frame less per idle connection
      while (this.state.kind !== 'logout') {
        if (this.deps.signal?.aborted) {
          this.untagged('BYE Server shutting down');
          return;
        }
        const r = this.parser.next();
        if (r.kind === 'more') {
          if (this.closed) return;
          if (!(await this.waitInput(this.timeoutMs()))) {
            this.untagged('BYE Autologout; idle for too long');
            this.log.info(`autologout (waiting for ${this.waiting})`);
            return;
          }
          continue;
        }
        if (r.kind === 'goAhead') {
          this.waiting = 'literal';
          this.out.write('+ go ahead\r\n');
          this.out.flush();
          continue;
        }
        this.waiting = 'command';
        if (r.kind === 'error') {
          if (r.fatal) {
            this.untagged(`BYE ${r.code ? `[${r.code}] ` : ''}${r.text}`);
            this.log.notice(`fatal protocol error: ${r.text}`);
            return;
          }
          this.tagged(r.tag, { status: r.status, code: r.code, text: r.text });
          if (r.status === 'BAD' && this.countBad()) return;
          continue;
        }
        try {
          await this.dispatch(r.tag, r.name, r.uid, r);
        } finally {
          disposeTokens(r.args);
          this.waiting = 'command';
        }
        await this.out.drain();
      }
    } catch (e) {
      this.log.error(`session failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    } finally {
      this.parser.dispose();
      this.closeMailbox();
      this.out.flush();
      // the last responses may still be inside a TLS or DEFLATE layer: let them out
      await endGracefully(this.sock);
      this.log.info('connection closed');
    }
  }

  // the socket's listeners: three closures per connection, made once
  private readonly onData = (chunk: Buffer): void => {
    this.parser.push(chunk);
    // do not let a fast client pile up input while a command runs
    if (this.parser.buffered() > 1024 * 1024) this.sock.pause();
    this.wake();
  };
  private readonly onEnd = (): void => {
    this.closed = true;
    this.wake();
  };
  private readonly onError = (e: Error): void => {
    this.log.debug(`socket error: ${e.message}`);
    this.onEnd();
  };

  /** listen to a transport (the socket, or the TLS/COMPRESS layer that replaces it) */
  attach(s: Duplex): void {
    s.on('data', this.onData);
    s.on('end', this.onEnd);
    s.on('close', this.onEnd);
    s.on('error', this.onError);
  }

  /** stop listening to a replaced transport (its errors are still caught) */
  detach(s: Duplex): void {
    s.off('data', this.onData);
    s.off('end', this.onEnd);
    s.off('close', this.onEnd);
  }

  private greet(): void {
    const shutdown = this.msgFile('shutdown');
    if (shutdown !== null) {
      this.untagged(`BYE ${shutdown}`);
      this.state = { kind: 'logout' };
      return;
    }
    // serverinfo: on/min name the product (we have no version worth hiding); off says only "server ready"
    const product = this.conf.getEnum('serverinfo') === 'off' ? 'server ready' : 'Cyrus-TS IMAP server ready';
    this.untagged(`OK [CAPABILITY ${this.capabilities().join(' ')}] ${this.serverName()} ${product}`);
    const motd = this.msgFile('motd');
    if (motd !== null) this.untagged(`OK [ALERT] ${motd}`);
  }

  serverName(): string {
    return this.conf.getString('servername') ?? hostname();
  }

  /** first line of {configdirectory}/msg/<name>, or null */
  private msgFile(name: string): string | null {
    for (const f of [
      join(this.conf.configDirectory, 'msg', `${name}.${this.deps.service}`),
      join(this.conf.configDirectory, 'msg', name),
    ]) {
      try {
        if (existsSync(f)) return (readFileSync(f, 'utf8').split(/\r?\n/)[0] ?? '').slice(0, 1000);
      } catch {
        // unreadable: ignore
      }
    }
    return null;
  }

  private wake(): void {
    const w = this.inputWaiter;
    this.inputWaiter = null;
    w?.();
  }

  /** Wait for more input or the end; false on timeout. */
  waitInput(ms: number, extra?: (wake: () => void) => void): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    this.out.flush();
    this.parser.release();
    if (this.sock.isPaused?.()) this.sock.resume();
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => {
        this.inputWaiter = null;
        resolve(false);
      }, ms);
      this.inputWaiter = () => {
        clearTimeout(t);
        resolve(true);
      };
      extra?.(() => this.wake());
    });
  }

  /** Raw line for AUTHENTICATE and IDLE; null when the connection ended or timed out. */
  async readLine(timeoutMs = this.timeoutMs()): Promise<Buffer | null> {
    this.waiting = 'authenticate';
    for (;;) {
      const l = this.parser.nextLine(this.limits.maxSaslLine);
      if (l instanceof Error) return null;
      if (l) return l;
      if (this.closed) return null;
      if (!(await this.waitInput(timeoutMs))) return null;
    }
  }

  /** autologout: `timeout`, at least 30 minutes (RFC 3501 §5.4), see net/limits.ts */
  timeoutMs(): number {
    return this.limits.timeouts.imap * 1000;
  }

  isClosed(): boolean {
    return this.closed;
  }

  /** true when the session must end (too many BADs in a row) */
  private countBad(): boolean {
    this.badInRow++;
    if (this.badInRow >= MAX_BAD) {
      this.untagged('BYE Too many protocol errors');
      this.log.notice('too many bad commands, closing');
      this.state = { kind: 'logout' };
      return true;
    }
    return false;
  }

  tagged(tag: string | null, reply: Reply): void {
    if (reply.silent) return;
    const status = reply.status ?? 'OK';
    const code = reply.code ? `[${reply.code}] ` : '';
    this.out.write(`${tag ?? '*'} ${status} ${code}${reply.text ?? 'Completed'}\r\n`);
  }

  private async dispatch(
    tag: string,
    name: string,
    uid: boolean,
    parsed: { args: import('./parser.js').Token[] },
  ): Promise<void> {
    const cmd = COMMANDS.get(name);
    const authed = this.state.kind === 'authenticated' || this.state.kind === 'selected';
    const pretty = (uid ? 'UID ' : '') + name.charAt(0) + name.slice(1).toLowerCase();
    let reply: Reply;
    if (!cmd || (uid && !cmd.uid)) {
      reply = { status: 'BAD', text: !authed && !cmd ? 'Please login first' : 'Unrecognized command' };
    } else if (!cmd.states.includes(this.state.kind as 'notAuthenticated')) {
      const st = this.state.kind;
      reply = {
        status: 'BAD',
        text:
          st === 'notAuthenticated'
            ? 'Please login first'
            : cmd.states.length === 1 && cmd.states[0] === 'notAuthenticated'
              ? 'Already logged in'
              : 'Please select a mailbox first',
      };
    } else {
      const ctx: CommandContext = { session: this, tag, name, uid };
      const started = Date.now();
      try {
        reply = (await cmd.run(ctx, new ArgReader(parsed.args, pretty))) ?? {};
      } catch (e) {
        reply = replyFor(e, this.id, (d) => this.log.error(`${name} failed: ${d}`));
        if (e instanceof ImapSyntaxError) reply.text = e.message;
      }
      const ms = Date.now() - started;
      this.recordProc(name);
      if (ms > 5000) this.log.notice(`slow command ${name}: ${ms} ms`);
      if (this.state.kind === 'logout') {
        this.tagged(tag, reply);
        return;
      }
      if (this.state.kind === 'selected' && reply.status !== 'BAD') {
        this.sendUpdates(!cmd.noExpungeUnlessUid || uid);
      }
    }
    this.tagged(tag, reply);
    if (reply.status === 'BAD') {
      this.countBad();
    } else this.badInRow = 0;
  }

  // ---- mailbox updates -------------------------------------------------------------------

  /**
   * Take other sessions' changes from the view and send them: EXPUNGE (or VANISHED with
   * QRESYNC) when allowed, EXISTS/RECENT, and FETCH FLAGS for changed messages.
   */
  sendUpdates(expungeAllowed: boolean): void {
    if (this.state.kind !== 'selected') return;
    const view = this.state.view;
    let sync;
    try {
      sync = view.sync();
    } catch (e) {
      this.log.error(`sync failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (sync.expunged.length) {
      const pending = (this.pendingExpunge ??= new Set());
      for (const u of sync.expunged) pending.add(u);
    }
    const pending = this.pendingExpunge;
    if (expungeAllowed && pending?.size) this.announceExpunges([...pending]);
    const count = view.uids().length;
    if (count !== this.announcedExists) {
      this.untagged(`${count} EXISTS`);
      if (!this.rev2) this.untagged(`${view.recentCount()} RECENT`);
      this.announcedExists = count;
    }
    const changed = pending?.size ? sync.changed.filter((u) => !pending.has(u)) : sync.changed;
    if (changed.length) {
      const uids = view.uids();
      for (const rec of view.records(changed)) {
        if (this.selfChangedMap?.get(rec.uid) === rec.modseq) continue;
        const seq = indexOfUid(uids, rec.uid) + 1;
        if (seq <= 0) continue;
        const modseq = this.enabled.has('CONDSTORE') ? ` MODSEQ (${rec.modseq})` : '';
        this.untagged(`${seq} FETCH (UID ${rec.uid} FLAGS (${rec.flags.join(' ')})${modseq})`);
      }
    }
    const self = this.selfChangedMap;
    this.selfChangedMap = null;
    // live contexts: re-evaluated on what arrived or changed, by others (sync) or by this
    // session's own STORE/FETCH (selfChanged); pending expunges wait their turn
    if (this.contexts?.size) {
      const touched = [...sync.added, ...changed, ...(self?.keys() ?? [])].filter((u) => !pending?.has(u));
      try {
        this.contexts.update(view, touched, (l) => this.untagged(l));
      } catch (e) {
        this.log.error(`context update failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** send EXPUNGE (or VANISHED) for uids still in the view, then drop them from it */
  announceExpunges(list: number[]): void {
    if (this.state.kind !== 'selected') return;
    const view = this.state.view;
    const uids = view.uids();
    const present = list.filter((u) => indexOfUid(uids, u) >= 0).sort((a, b) => a - b);
    if (present.length) {
      if (this.enabled.has('QRESYNC')) {
        this.untagged(`VANISHED ${formatSet(present)}`);
      } else {
        // highest sequence numbers first, so each number is still right when the client applies it
        for (let k = present.length - 1; k >= 0; k--)
          this.untagged(`${indexOfUid(uids, present[k]!) + 1} EXPUNGE`);
      }
      this.contexts?.expunged(present, (l) => this.untagged(l));
      view.applyExpunges(present);
    }
    this.announcedExists = view.uids().length;
    const pending = this.pendingExpunge;
    if (pending) for (const u of list) pending.delete(u);
    if (pending?.size === 0) this.pendingExpunge = null;
  }

  /** leave the selected state (CLOSE, UNSELECT, SELECT of another mailbox) */
  closeMailbox(): void {
    if (this.state.kind === 'selected') {
      try {
        this.state.view.close();
      } catch (e) {
        this.log.error(`close failed: ${String(e)}`);
      }
      this.state = { kind: 'authenticated', who: this.state.who };
    }
    this.pendingExpunge = null;
    this.selfChangedMap = null;
    this.announcedExists = 0;
    this.savedSearch = [];
    // RFC 5267 §4: contexts end with the selected state
    this.contexts = null;
  }

  private makeOutput(s: Duplex): Output {
    const o = new Output(s);
    o.log = this.log;
    return o;
  }

  /** keep the proc file (who, which mailbox, last command) current */
  recordProc(command: string): void {
    const proc = this.deps.proc;
    if (!proc) return;
    const st = this.state;
    const user = st.kind === 'authenticated' || st.kind === 'selected' ? st.who.userid : '';
    proc.update({ user, mailbox: st.kind === 'selected' ? st.mailbox : '', command });
  }

  /** replace the transport after STARTTLS */
  replaceSocket(s: Duplex, how: { compressed?: boolean } = {}): void {
    this.detach(this.sock);
    this.sock = s;
    this.out = this.makeOutput(s);
    this.attach(s);
    if (how.compressed) this.compressed = true;
    else this.secure = true;
  }
}

function formatSet(nums: number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < nums.length) {
    const a = nums[i]!;
    let b = a;
    while (i + 1 < nums.length && nums[i + 1] === b + 1) b = nums[++i]!;
    parts.push(a === b ? `${a}` : `${a}:${b}`);
    i++;
  }
  return parts.join(',');
}
