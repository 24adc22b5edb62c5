/**
 * cyr_deliver: deliver one message from stdin to mailboxes (Cyrus `deliver`, what sendmail's
 * `cyrus` mailer and procmail-style setups run).
 *
 *   cyr_deliver [-C imapd.conf] [-r addr | -f addr] [-m mailbox] [-a authid] [-q] [-d] [-e] [-D] userid...
 *   cyr_deliver [-C imapd.conf] -l
 *
 * The message goes over LMTP to `lmtpsocket` when lmtpd answers there (so Sieve, duplicate
 * suppression and quota are lmtpd's); when the socket is absent or refuses, it is delivered
 * directly into the store by the same code lmtpd runs (src/protocols/lmtp/deliver.ts).
 * `-l` speaks LMTP on stdin/stdout (a trusted local session, pre-authorised as postman).
 *
 * Recipients: each userid (`fred`, `fred@example.com`), or `userid+mailbox` with `-m`; with
 * `-m` and no userid, the shared mailbox `+mailbox`. `-q` delivers over quota (IGNOREQUOTA),
 * `-r`/`-f` set the envelope sender (Return-Path), `-a` the AUTH= identity of MAIL FROM.
 * `-d`, `-e` (old duplicate-elimination switch) and `-D` are accepted and ignored, as in Cyrus.
 *
 * Exit codes (sysexits.h, what an MTA expects from a local mailer): 0 every recipient
 * delivered; 75 EX_TEMPFAIL when any recipient failed temporarily (the MTA retries); else 67
 * EX_NOUSER when a recipient is unknown, 65 EX_DATAERR for a refused message, 69
 * EX_UNAVAILABLE for other permanent failures; 64 usage, 78 configuration.
 */
import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { EX_DATAERR, EX_TEMPFAIL, EX_USAGE, UsageError, loadConfigForTool } from '../config/tool.js';
import type { ImapdConf } from '../config/api.js';
import { createLogger, type Logger } from '../log/logger.js';
import { LineReader } from '../net/lines.js';
import { openStore } from '../store/index.js';
import { deliverOne } from '../protocols/lmtp/deliver.js';
import { resolveRecipient, type ResolvedRecipient } from '../protocols/lmtp/recipient.js';
import { spoolStream } from '../protocols/lmtp/spool.js';
import { receivedHeader } from '../protocols/lmtp/trace.js';
import { replyForError } from '../protocols/lmtp/replies.js';
import { newSessionId, product, serverName } from '../protocols/lmtp/identity.js';
import { LmtpSession } from '../protocols/lmtp/session.js';
import { lmtpDeps, openDuplicateDb, plannerFor } from '../protocols/lmtp/service.js';
import { PopStuffer } from '../protocols/pop3/stuffer.js';

export const EX_NOUSER = 67;
export const EX_UNAVAILABLE = 69;

const USAGE = `usage: cyr_deliver [-C imapd.conf] [-r|-f from] [-m mailbox] [-a authid] [-q] [-d] [-e] [-D] userid...
       cyr_deliver [-C imapd.conf] -l
  -r, -f addr   envelope sender (Return-Path)
  -m mailbox    deliver to this folder of each userid (or the shared +mailbox without userids)
  -a authid     authorisation id given to lmtpd (MAIL FROM AUTH=)
  -q            deliver even over quota
  -l            speak LMTP on stdin/stdout
  -d, -e, -D    accepted for compatibility, ignored
  -h            this help
`;

export interface DeliverIO {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: (text: string) => void;
}

const defaultIO: DeliverIO = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: (t) => void process.stderr.write(t),
};

export interface DeliverOptions {
  from: string;
  mailbox: string | null;
  authId: string | null;
  ignoreQuota: boolean;
  lmtp: boolean;
  users: string[];
}

/** Parse argv (after -C was taken out). Throws UsageError. */
export function parseArgs(argv: string[]): DeliverOptions | 'help' {
  const o: DeliverOptions = {
    from: '',
    mailbox: null,
    authId: null,
    ignoreQuota: false,
    lmtp: false,
    users: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      o.users.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      o.users.push(a);
      continue;
    }
    for (let k = 1; k < a.length; k++) {
      const f = a[k]!;
      const value = (): string => {
        const rest = a.slice(k + 1);
        k = a.length;
        if (rest !== '') return rest;
        const v = argv[++i];
        if (v === undefined) throw new UsageError(`option -${f} needs a value`);
        return v;
      };
      switch (f) {
        case 'h':
          return 'help';
        case 'r':
        case 'f':
          o.from = value();
          break;
        case 'm':
          o.mailbox = value();
          break;
        case 'a':
          o.authId = value();
          break;
        case 'q':
          o.ignoreQuota = true;
          break;
        case 'l':
          o.lmtp = true;
          break;
        case 'd':
        case 'e':
        case 'D':
          break;
        default:
          throw new UsageError(`unknown option -${f}`);
      }
    }
  }
  if (!o.lmtp && o.users.length === 0 && o.mailbox === null) throw new UsageError('no recipients given');
  if (/[<>\s]/.test(o.from)) throw new UsageError('invalid sender address');
  return o;
}

/** the RCPT addresses for the options */
export function recipients(o: DeliverOptions): string[] {
  if (o.users.length === 0) return [`+${o.mailbox}`];
  return o.users.map((u) => {
    if (o.mailbox === null) return u;
    const at = u.lastIndexOf('@');
    return at > 0 ? `${u.slice(0, at)}+${o.mailbox}${u.slice(at)}` : `${u}+${o.mailbox}`;
  });
}

export interface RcptResult {
  rcpt: string;
  /** SMTP-style code: 250, 4xx, 5xx */
  code: number;
  text: string;
}

/** Collapse per-recipient results into one exit code (see the module header). */
export function exitCode(results: RcptResult[]): number {
  if (results.every((r) => r.code >= 200 && r.code < 300)) return 0;
  if (results.some((r) => r.code >= 400 && r.code < 500)) return EX_TEMPFAIL;
  if (results.some((r) => /\b5\.1\.1\b/.test(r.text) || r.code === 550)) return EX_NOUSER;
  if (results.some((r) => r.code === 554)) return EX_DATAERR;
  return EX_UNAVAILABLE;
}

export async function main(argv: string[], io: DeliverIO = defaultIO): Promise<number> {
  let conf: ImapdConf;
  let opts: DeliverOptions | 'help';
  try {
    const loaded = loadConfigForTool(argv, 'cyr_deliver', {
      stderr: io.stderr,
      exit: (code) => {
        throw new ExitError(code);
      },
    });
    conf = loaded.conf;
    opts = parseArgs(loaded.rest);
  } catch (e) {
    if (e instanceof ExitError) return e.code;
    if (e instanceof UsageError) {
      io.stderr(`cyr_deliver: ${e.message}\n${USAGE}`);
      return EX_USAGE;
    }
    throw e;
  }
  if (opts === 'help') {
    io.stderr(USAGE);
    return 0;
  }
  const log = createLogger('deliver', { write: (l) => io.stderr(l + '\n'), debug: conf.getSwitch('debug') });
  if (opts.lmtp) return lmtpOnStdio(conf, log, io);

  const socketPath = conf.getString('lmtpsocket') ?? `${conf.configDirectory}/socket/lmtp`;
  const sock = await tryConnect(socketPath);
  const results = sock ? await viaLmtp(sock, opts, io.stdin) : await direct(conf, log, opts, io.stdin);
  for (const r of results) if (r.code >= 300) io.stderr(`cyr_deliver: ${r.rcpt}: ${r.code} ${r.text}\n`);
  return exitCode(results);
}

class ExitError extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function tryConnect(path: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', () => resolve(null));
  });
}

/** `-l`: one LMTP session on stdin/stdout, delivering in this process. */
async function lmtpOnStdio(conf: ImapdConf, log: Logger, io: DeliverIO): Promise<number> {
  const store = openStore(conf, { log });
  const ctx = { service: 'deliver', argv: [], config: conf, log, signal: new AbortController().signal };
  const dup = openDuplicateDb(ctx);
  try {
    const stream = Duplex.from({ readable: io.stdin, writable: io.stdout });
    const session = new LmtpSession(lmtpDeps(ctx, store, dup), {
      stream,
      preauth: true,
      secure: false,
      remote: 'stdin',
      sessionId: newSessionId(conf),
    });
    await session.run();
    return 0;
  } finally {
    dup?.close();
    store.close();
  }
}

/** Client side of one LMTP transaction over an open socket; one result per recipient. */
export async function viaLmtp(
  sock: Socket,
  o: DeliverOptions,
  message: NodeJS.ReadableStream,
): Promise<RcptResult[]> {
  const rcpts = recipients(o);
  const reader = new LineReader(sock, { maxLine: 64 * 1024 });
  sock.on('error', () => undefined);
  const reply = async (): Promise<{ code: number; text: string }> => {
    const texts: string[] = [];
    for (;;) {
      const got = await reader.readLine();
      if (got === null || 'tooLong' in got) return { code: 451, text: '4.4.2 lost connection to lmtpd' };
      const line = got.line.toString('latin1');
      const code = Number(line.slice(0, 3));
      texts.push(line.slice(4));
      if (line[3] !== '-') return { code: Number.isFinite(code) ? code : 451, text: texts.join(' ') };
    }
  };
  const fail = (r: { code: number; text: string }): RcptResult[] => rcpts.map((rcpt) => ({ rcpt, ...r }));
  try {
    const greet = await reply();
    if (greet.code !== 220) return fail(greet);
    sock.write(`LHLO ${serverNameForLhlo()}\r\n`);
    const lhlo = await reply();
    if (lhlo.code !== 250) return fail(lhlo);
    const auth = o.authId ? ` AUTH=${xtext(o.authId)}` : '';
    sock.write(
      `MAIL FROM:<${o.from}>${auth}\r\n` +
        rcpts.map((r) => `RCPT TO:<${r}>${o.ignoreQuota ? ' IGNOREQUOTA' : ''}\r\n`).join('') +
        'DATA\r\n',
    );
    const mail = await reply();
    const accepted: string[] = [];
    const results = new Map<string, RcptResult>();
    for (const r of rcpts) {
      const rr = await reply();
      if (mail.code !== 250) results.set(r, { rcpt: r, ...mail });
      else if (rr.code === 250) accepted.push(r);
      else results.set(r, { rcpt: r, ...rr });
    }
    const data = await reply();
    if (data.code !== 354) {
      for (const r of accepted) results.set(r, { rcpt: r, ...data });
      sock.end('QUIT\r\n');
      return rcpts.map((r) => results.get(r)!);
    }
    const stuffer = new PopStuffer();
    for await (const chunk of message as AsyncIterable<Buffer | string>) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      let ok = true;
      for (const b of stuffer.push(buf)) ok = sock.write(b) && ok;
      if (!ok) await new Promise<void>((r) => sock.once('drain', r));
    }
    sock.write(stuffer.end());
    for (const r of accepted) results.set(r, { rcpt: r, ...(await reply()) });
    sock.end('QUIT\r\n');
    return rcpts.map((r) => results.get(r)!);
  } finally {
    setTimeout(() => sock.destroy(), 1000).unref();
  }
}

function serverNameForLhlo(): string {
  return 'localhost';
}

/** RFC 3461 4 xtext */
function xtext(s: string): string {
  return s.replace(
    /[^\x21-\x2a\x2c-\x3c\x3e-\x7e]/g,
    (c) => '+' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'),
  );
}

/** No lmtpd reachable: deliver in this process, with lmtpd's own delivery code. */
export async function direct(
  conf: ImapdConf,
  log: Logger,
  o: DeliverOptions,
  message: NodeJS.ReadableStream,
): Promise<RcptResult[]> {
  const rcpts = recipients(o);
  const store = openStore(conf, { log });
  const ctx = { service: 'deliver', argv: [], config: conf, log, signal: new AbortController().signal };
  const dup = openDuplicateDb(ctx);
  const perm = conf.getSwitch('lmtp_over_quota_perm_failure');
  const sessionId = newSessionId(conf);
  const prefix =
    `Return-Path: <${o.from}>\r\n` +
    receivedHeader({
      lhlo: 'localhost',
      remote: 'local',
      serverName: serverName(conf),
      product: product(conf, 'LMTP'),
      secure: false,
      authenticated: false,
      sessionId,
    });
  const poster = { userid: 'postman', isAdmin: false, groups: [] };
  const results: RcptResult[] = [];
  let spool: Awaited<ReturnType<typeof spoolStream>> | null = null;
  try {
    const resolved = rcpts.map((rcpt): { ok: ResolvedRecipient } | { err: unknown } => {
      try {
        return { ok: resolveRecipient(rcpt, { store, conf, poster }, { ignoreQuota: o.ignoreQuota }) };
      } catch (e) {
        return { err: e };
      }
    });
    spool = await spoolStream(
      message as AsyncIterable<Buffer>,
      conf.getString('temp_path') ?? '/tmp',
      Buffer.from(prefix, 'latin1'),
      {
        maxSize: conf.getBytes('maxmessagesize'),
        munge8bit: conf.getSwitch('munge8bit'),
        reject8bit: conf.getSwitch('reject8bit'),
      },
      (input) => store.stage(input),
    );
    const problem = spool.verdict.problem;
    for (let i = 0; i < rcpts.length; i++) {
      const rcpt = rcpts[i]!;
      const res = resolved[i]!;
      if ('err' in res) {
        results.push({ rcpt, ...codeFor(res.err, perm) });
        continue;
      }
      const r = res.ok;
      if (problem) {
        results.push({
          rcpt,
          code: problem === 'tooBig' ? 552 : 554,
          text: `5.6.0 message refused (${problem})`,
        });
        continue;
      }
      try {
        const out = await deliverOne(
          { conf, log, store, dup, planner: plannerFor(ctx) },
          r,
          { from: o.from, poster: o.authId ?? 'postman' },
          spool.spool,
          spool.verdict.messageId,
          rcpts.length,
        );
        results.push(
          out.kind === 'rejected'
            ? { rcpt, code: 550, text: `5.7.1 ${out.reason}` }
            : { rcpt, code: 250, text: '2.1.5 ok' },
        );
      } catch (e) {
        results.push({ rcpt, ...codeFor(e, perm) });
      }
    }
    return results;
  } finally {
    spool?.spool.remove();
    dup?.close();
    store.close();
  }
}

/** a store error → the reply lmtpd would give (one mapping: src/protocols/lmtp/replies.ts) */
function codeFor(e: unknown, overQuotaPerm: boolean): { code: number; text: string } {
  const { reply } = replyForError(e, overQuotaPerm);
  return { code: reply.code, text: `${reply.enhanced ? reply.enhanced + ' ' : ''}${reply.text}` };
}
