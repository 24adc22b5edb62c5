/**
 * One ManageSieve connection (RFC 5804), as Cyrus 3.6's timsieved answers it
 * (cyrus-observed.md: greeting, `NO (NONEXISTENT) "Script does not exist"`, errors as a
 * literal after NO, `OK "Logout Complete"`).
 *
 * States: unauthenticated → (STARTTLS) → authenticated (scripts of the user; an admin with no
 * authorisation identity manages the global scripts) → LOGOUT. Commands:
 *   AUTHENTICATE mech [initial]  STARTTLS  CAPABILITY  LOGOUT  NOOP [tag]  UNAUTHENTICATE
 *   HAVESPACE name size  PUTSCRIPT name script  CHECKSCRIPT script  LISTSCRIPTS
 *   SETACTIVE name  GETSCRIPT name  DELETESCRIPT name  RENAMESCRIPT old new
 * Limits: command lines and SASL responses (net/limits maxSaslLine), scripts
 * (sieve_maxscriptsize, judged at the literal's "{N}"), sieve_maxscripts; 25 bad commands in
 * a row end the session with BYE.
 *
 * Imports: net (lines, tls, limits), auth api, sieve (store, checker, extensions).
 */
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { ImapdConf } from '../../config/api.js';
import type { Logger } from '../../log/logger.js';
import type { Authenticator, SaslExchange } from '../../auth/api.js';
import { SaslFailure } from '../../auth/api.js';
import { LineReader } from '../../net/lines.js';
import { startTls, tlsAvailable, channelBindings, externalIdentity } from '../../net/tls.js';
import { readLimits } from '../../net/limits.js';
import { SieveStore, SieveStoreError, validScriptName } from '../../sieve/store.js';
import { checkScript } from '../../sieve/checker.js';
import { sieveCapability, MAX_REDIRECTS } from '../../sieve/extensions.js';
import { readCommand, ReadError, sieveString, type Token } from './reader.js';

export const IMPLEMENTATION = 'Cyrus timsieved (cyrus-ts) 0.1.0';
const MAX_BAD_COMMANDS = 25;

export interface SessionDeps {
  conf: ImapdConf;
  log: Logger;
  auth: Authenticator;
  service: string;
  signal?: AbortSignal;
  /** timsieved refuses a user without an INBOX ("Authentication Error"); null = no check */
  inboxExists?: ((userid: string) => boolean) | null;
}

interface State {
  /** userid (canonical) once authenticated */
  user: string | null;
  /** script owner: userid, or null for an admin managing global scripts */
  owner: string | null;
  secure: boolean;
  tls: TLSSocket | null;
}

export async function runSession(socket: Duplex, deps: SessionDeps): Promise<void> {
  const { conf, log } = deps;
  const limits = readLimits(conf);
  const store = new SieveStore(conf);
  const reader = new LineReader(socket, { maxLine: limits.maxSaslLine });
  let out: Duplex = socket;
  const st: State = { user: null, owner: null, secure: false, tls: null };
  let bad = 0;
  let timer: NodeJS.Timeout | null = null;
  const idle = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      write('BYE "Idle timeout"\r\n');
      out.end();
      reader.socket?.destroy();
    }, limits.timeouts.sieve * 1000);
    timer.unref?.();
  };

  const write = (...parts: (string | Buffer)[]): void => {
    if (!out.destroyed)
      out.write(
        parts.length === 1
          ? parts[0]!
          : Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))),
      );
  };
  const ok = (text?: string, code?: string): void =>
    write(`OK${code ? ` (${code})` : ''}${text !== undefined ? ` ${quote(text)}` : ''}\r\n`);
  const no = (text: string, code?: string): void => write(`NO${code ? ` (${code})` : ''} ${quote(text)}\r\n`);
  const noLiteral = (text: string, code?: string): void =>
    write(Buffer.from(`NO${code ? ` (${code})` : ''} `), toBuf(sieveString(text)), Buffer.from('\r\n'));

  const capabilities = (): void => {
    const lines: string[] = [`"IMPLEMENTATION" ${quote(IMPLEMENTATION)}`, '"VERSION" "1.0"'];
    if (!st.user) {
      const mechs = deps.auth.mechanisms({
        secure: st.secure,
        hasExternal: !!(st.tls && externalIdentity(st.tls)),
      });
      lines.push(`"SASL" ${quote(mechs.join(' '))}`);
    }
    lines.push(`"SIEVE" ${quote(sieveCapability(store.enabled))}`);
    if (!st.secure && !st.user && tlsAvailable(conf)) lines.push('"STARTTLS"');
    lines.push(`"MAXREDIRECTS" "${MAX_REDIRECTS}"`);
    if (store.enabled.has('enotify')) lines.push('"NOTIFY" "mailto"');
    if (st.user) lines.push(`"OWNER" ${quote(st.user)}`);
    lines.push('"UNAUTHENTICATE"');
    write(lines.join('\r\n') + '\r\n');
  };

  const str = (t: Token | undefined): string | null =>
    t && t.kind === 'string' ? t.value.toString('utf8') : null;
  const literalLimit = (cmd: string, argIndex: number): number => {
    const { maxSize } = store.limits();
    if ((cmd === 'PUTSCRIPT' && argIndex === 1) || (cmd === 'CHECKSCRIPT' && argIndex === 0)) return maxSize;
    return limits.maxSaslLine;
  };

  capabilities();
  ok();
  idle();

  try {
    for (;;) {
      if (deps.signal?.aborted) {
        write('BYE "Server shutting down"\r\n');
        break;
      }
      let tokens: Token[] | null;
      try {
        tokens = await readCommand(reader, literalLimit);
      } catch (e) {
        if (!(e instanceof ReadError)) throw e;
        if (e.kind === 'fatal') {
          write(`BYE (QUOTA/MAXSIZE) ${quote(e.message)}\r\n`);
          break;
        }
        if (e.kind === 'toobig') {
          const { maxSize } = store.limits();
          if (e.command === 'PUTSCRIPT' || e.command === 'CHECKSCRIPT')
            no(`Script size is too large. Max script size is ${maxSize} bytes`, 'QUOTA/MAXSIZE');
          else no(e.message);
        } else no(e.message);
        if (++bad >= MAX_BAD_COMMANDS) {
          write('BYE "Too many protocol errors"\r\n');
          break;
        }
        continue;
      }
      if (tokens === null) break;
      idle();
      const head = tokens[0];
      if (!head || head.kind !== 'atom') {
        no('Expected a command. Got something else.');
        if (++bad >= MAX_BAD_COMMANDS) {
          write('BYE "Too many protocol errors"\r\n');
          break;
        }
        continue;
      }
      const cmd = head.value.toUpperCase();
      const args = tokens.slice(1);
      const r = await dispatch(cmd, args);
      if (r === 'bad') {
        if (++bad >= MAX_BAD_COMMANDS) {
          write('BYE "Too many protocol errors"\r\n');
          break;
        }
      } else bad = 0;
      if (r === 'logout') break;
    }
  } catch (e) {
    log.error(`sieve session failed: ${(e as Error).message}`);
  } finally {
    if (timer) clearTimeout(timer);
    out.end();
    reader.socket?.destroy();
    if (out !== socket) socket.destroy();
  }

  // ---- commands -------------------------------------------------------------------------

  async function dispatch(cmd: string, args: Token[]): Promise<'ok' | 'bad' | 'logout'> {
    const argc = (n: number, m = n): boolean => args.length >= n && args.length <= m;
    const needAuth = (): boolean => {
      if (st.user) return true;
      no('Authenticate first');
      return false;
    };
    switch (cmd) {
      case 'LOGOUT':
        ok('Logout Complete');
        return 'logout';
      case 'CAPABILITY':
        if (!argc(0)) break;
        capabilities();
        ok();
        return 'ok';
      case 'NOOP': {
        if (!argc(0, 1)) break;
        const tag = args[0];
        if (tag && tag.kind !== 'string') break;
        if (tag) write(Buffer.from('OK (TAG '), toBuf(sieveString(tag.value)), Buffer.from(') "Done"\r\n'));
        else ok('Done');
        return 'ok';
      }
      case 'STARTTLS': {
        if (!argc(0)) break;
        if (st.secure || st.user || !tlsAvailable(conf)) {
          no('STARTTLS not available');
          return 'bad';
        }
        ok('Begin TLS negotiation now');
        const raw = reader.detach();
        try {
          const t = await startTls(raw, conf, { log, timeoutMs: limits.timeouts.handshake * 1000 });
          st.tls = t;
          st.secure = true;
          out = t;
          reader.attach(t);
        } catch (e) {
          log.notice(`STARTTLS failed: ${(e as Error).message}`);
          return 'logout';
        }
        // RFC 5804 2.2: capabilities again after a successful negotiation
        capabilities();
        ok();
        return 'ok';
      }
      case 'AUTHENTICATE': {
        if (!argc(1, 2) || args.some((a) => a.kind !== 'string')) break;
        if (st.user) {
          no('Already authenticated');
          return 'bad';
        }
        return authenticate(
          str(args[0])!.toUpperCase(),
          args[1] ? (args[1] as { value: Buffer }).value : null,
        );
      }
      case 'UNAUTHENTICATE':
        if (!argc(0)) break;
        if (!needAuth()) return 'bad';
        st.user = null;
        st.owner = null;
        ok();
        return 'ok';
      case 'HAVESPACE': {
        if (!argc(2) || args[0]!.kind !== 'string' || args[1]!.kind !== 'number') break;
        if (!needAuth()) return 'bad';
        const name = str(args[0])!;
        const size = (args[1] as { value: number }).value;
        if (!validScriptName(name)) return (no('Invalid script name'), 'ok');
        if (quotaCheck(name, size)) ok();
        return 'ok';
      }
      case 'PUTSCRIPT': {
        if (!argc(2) || args.some((a) => a.kind !== 'string')) break;
        if (!needAuth()) return 'bad';
        const name = str(args[0])!;
        const body = (args[1] as { value: Buffer }).value;
        if (!validScriptName(name)) return (no('Invalid script name'), 'ok');
        if (!quotaCheck(name, body.length)) return 'ok';
        const errs = checkScript(body.toString('utf8'), store.enabled);
        if (errs.length) {
          noLiteral(errs.join('\r\n') + '\r\n');
          return 'ok';
        }
        try {
          store.put(st.owner, name, body);
        } catch (e) {
          log.error(`PUTSCRIPT ${name} for ${st.user}: ${(e as Error).message}`);
          no('Could not store script', 'TRYLATER');
          return 'ok';
        }
        log.info(`sieve: ${st.user} stored script ${name}`);
        ok();
        return 'ok';
      }
      case 'CHECKSCRIPT': {
        if (!argc(1) || args[0]!.kind !== 'string') break;
        if (!needAuth()) return 'bad';
        const errs = checkScript(str(args[0])!, store.enabled);
        if (errs.length) noLiteral(errs.join('\r\n') + '\r\n');
        else ok();
        return 'ok';
      }
      case 'LISTSCRIPTS': {
        if (!argc(0)) break;
        if (!needAuth()) return 'bad';
        const lines = store.list(st.owner).map((s) => `${quote(s.name)}${s.active ? ' ACTIVE' : ''}\r\n`);
        write(lines.join('') + 'OK\r\n');
        return 'ok';
      }
      case 'SETACTIVE': {
        if (!argc(1) || args[0]!.kind !== 'string') break;
        if (!needAuth()) return 'bad';
        try {
          store.setActive(st.owner, str(args[0])!);
          ok();
        } catch (e) {
          storeError(e);
        }
        return 'ok';
      }
      case 'GETSCRIPT': {
        if (!argc(1) || args[0]!.kind !== 'string') break;
        if (!needAuth()) return 'bad';
        const src = store.get(st.owner, str(args[0])!);
        if (!src) no('Script does not exist', 'NONEXISTENT');
        else write(Buffer.from(`{${src.length}}\r\n`), src, Buffer.from('\r\nOK\r\n'));
        return 'ok';
      }
      case 'DELETESCRIPT': {
        if (!argc(1) || args[0]!.kind !== 'string') break;
        if (!needAuth()) return 'bad';
        try {
          store.delete(st.owner, str(args[0])!);
          ok();
        } catch (e) {
          storeError(e);
        }
        return 'ok';
      }
      case 'RENAMESCRIPT': {
        if (!argc(2) || args.some((a) => a.kind !== 'string')) break;
        if (!needAuth()) return 'bad';
        try {
          store.rename(st.owner, str(args[0])!, str(args[1])!);
          ok();
        } catch (e) {
          storeError(e);
        }
        return 'ok';
      }
      default:
        no('Expected a command. Got something else.');
        return 'bad';
    }
    no(`Wrong arguments for ${cmd}`);
    return 'bad';
  }

  /** HAVESPACE / PUTSCRIPT limits; answers NO itself and returns false when over */
  function quotaCheck(name: string, size: number): boolean {
    const { maxScripts, maxSize } = store.limits();
    if (size > maxSize) {
      no(`Script size is too large. Max script size is ${maxSize} bytes`, 'QUOTA/MAXSIZE');
      return false;
    }
    if (!store.exists(st.owner, name) && store.usage(st.owner).count >= maxScripts) {
      no(`You are only allowed ${maxScripts} scripts.`, 'QUOTA/MAXSCRIPTS');
      return false;
    }
    return true;
  }

  function storeError(e: unknown): void {
    if (e instanceof SieveStoreError) {
      if (e.code === 'BADNAME') no(e.message);
      else no(e.message, e.code);
      return;
    }
    log.error(`sieve store error for ${st.user}: ${(e as Error).message}`);
    no('Internal error', 'TRYLATER');
  }

  async function authenticate(mech: string, initial: Buffer | null): Promise<'ok' | 'bad' | 'logout'> {
    const offered = deps.auth.mechanisms({
      secure: st.secure,
      hasExternal: !!(st.tls && externalIdentity(st.tls)),
    });
    if (!offered.includes(mech)) {
      no('Authentication mechanism not available');
      return 'bad';
    }
    let ex: SaslExchange;
    try {
      const ctx = {
        service: 'sieve',
        secure: st.secure,
        serverName: conf.getString('servername') ?? 'localhost',
        ...(st.tls
          ? { channelBinding: channelBindings(st.tls)[0], externalId: externalIdentity(st.tls) }
          : {}),
      };
      ex = deps.auth.start(mech, ctx);
    } catch {
      no('Authentication mechanism not available');
      return 'bad';
    }
    let response = initial === null ? Buffer.alloc(0) : decode64(initial);
    if (response === null) {
      no('Invalid base64 in initial response');
      return 'bad';
    }
    try {
      for (;;) {
        const step = await ex.step(response);
        if ('done' in step) {
          const identity = deps.auth.identityFor(step.done.authcid, step.done.authzid);
          if (!identity.isAdmin && deps.inboxExists && !deps.inboxExists(identity.userid)) {
            log.notice(`badlogin: ${identity.userid} ${mech}: Mailbox does not exist`);
            no('Authentication Error');
            return 'bad';
          }
          st.user = identity.userid;
          st.owner = identity.isAdmin && !step.done.authzid ? null : identity.userid;
          log.notice(`login: ${st.user} ${mech}${st.owner === null ? ' (global scripts)' : ''}`);
          const fin = step.done.final ? ` (SASL ${quote(step.done.final.toString('base64'))})` : '';
          write(`OK${fin}\r\n`);
          if (conf.getSwitch('sieve_sasl_send_unsolicited_capability')) {
            capabilities();
            ok();
          }
          return 'ok';
        }
        // as timsieved: a challenge goes out as a literal (sivtest's client expects one), "" when empty
        const b64 = step.challenge.toString('base64');
        write(b64 === '' ? '""\r\n' : `{${b64.length}}\r\n${b64}\r\n`);
        let tokens: Token[] | null;
        try {
          tokens = await readCommand(reader, () => limits.maxSaslLine);
        } catch (e) {
          if (e instanceof ReadError && e.kind === 'fatal') return 'logout';
          no('Bad SASL response');
          return 'bad';
        }
        if (tokens === null) return 'logout';
        const t = tokens[0];
        if (tokens.length !== 1 || !t || t.kind !== 'string') {
          no('Bad SASL response');
          return 'bad';
        }
        const text = t.value.toString('latin1');
        if (text === '*') {
          no('Authentication aborted');
          return 'bad';
        }
        const d = decode64(t.value);
        if (d === null) {
          no('Invalid base64 in response');
          return 'bad';
        }
        response = d;
      }
    } catch (e) {
      if (e instanceof SaslFailure) {
        log.notice(`badlogin: ${mech} ${e.reason}`);
        no('Authentication Error');
        return 'bad';
      }
      throw e;
    }
  }
}

function decode64(b: Buffer): Buffer | null {
  const s = b.toString('latin1');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) return null;
  return Buffer.from(s, 'base64');
}

function toBuf(x: string | Buffer): Buffer {
  return typeof x === 'string' ? Buffer.from(x) : x;
}

/** a quoted string for response text (never a literal: texts are short, CR/LF dropped) */
function quote(s: string): string {
  return `"${s.replace(/[\r\n]+/g, ' ').replace(/[\\"]/g, '\\$&')}"`;
}
