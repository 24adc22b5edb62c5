/**
 * Sieve at delivery: find the user's active script, run it against the message, perform the
 * side effects (redirect, vacation, enotify mailto, reject MDN) through `sendmail`, and return
 * what LMTP must store (`SieveDeliveryPlan`, see api.ts).
 *
 * Rules: a script that fails to load or errors at run time gives implicit keep (INBOX) and the
 * error in `errors` (and the log) -- a broken script never loses mail. fileinto into a missing
 * mailbox creates it only with `:create` (RFC 5490), `autocreate_sieve_folders` or
 * `anysievefolder`, else the message goes to INBOX. A redirect that cannot be sent, or that
 * would loop (our X-Sieve-Redirected-From header naming this recipient already, or
 * MAX_REDIRECTS such headers), keeps the message instead. Vacation (RFC 5230/6131) answers a
 * sender once per period, tracked in deliver.db, and never answers the null sender, lists,
 * auto-submitted mail, the user's own address, or mail not addressed to the user.
 *
 * Imports: config/log/mail/store(namespace)/db(duplicate) contracts, sieve modules.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { openSync, readSync, closeSync } from 'node:fs';
import type { ImapdConf } from '../config/api.js';
import { Namespace } from '../store/namespace.js';
import { DuplicateDb } from '../db/duplicate.js';
import type { SieveDelivery, SieveDeliveryInput, SieveDeliveryPlan } from './api.js';
import { SieveStore, homeScript } from './store.js';
import {
  runScript,
  SieveRuntimeError,
  type Action,
  type Fcc,
  type SieveEnv,
  type SieveResult,
} from './interpreter.js';
import {
  decodeHeader,
  parseAddresses,
  parseHeaders,
  readHeaderBlock,
  splitAddress,
  type HeaderField,
} from './message.js';
import { MAX_REDIRECTS } from './extensions.js';
import { sendMail } from './sendmail.js';
import { bodyParts } from './body.js';
import { decodeMailboxName } from '../mail/utf7.js';

export type { SieveDeliveryInput, SieveDeliveryPlan } from './api.js';

export const REDIRECT_HEADER = 'X-Sieve-Redirected-From';
/** bytes of raw body offered to `body :raw` */
const MAX_RAW_BODY = 1024 * 1024;

/** Strip "+detail" from the local part. */
function baseAddress(addr: string): string {
  const { local, domain } = splitAddress(addr);
  const k = local.indexOf('+');
  const l = k < 0 ? local : local.slice(0, k);
  return domain ? `${l}@${domain}` : l;
}

/** a header value on one line: script- or URL-supplied text must not add header fields */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

function encodeWord(s: string): string {
  return /^[\x20-\x7e]*$/.test(s) ? s : `=?utf-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}

function rfc5322Date(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const mons = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${mons[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(
    d.getUTCMinutes(),
  )}:${p(d.getUTCSeconds())} +0000`;
}

function header(headers: HeaderField[], name: string): string | undefined {
  const n = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === n)?.value;
}

function readRawBody(path: string, offset: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(MAX_RAW_BODY);
    const n = readSync(fd, buf, 0, MAX_RAW_BODY, offset);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function serverName(conf: ImapdConf): string {
  return conf.getString('servername') ?? hostname();
}

/** Run the user's active script; null when there is none. Never throws for script problems. */
export async function sieveForDelivery(input: SieveDeliveryInput): Promise<SieveDeliveryPlan | null> {
  const { conf, log, userid } = input;
  const store = SieveStore.for(conf);
  const ns = new Namespace(conf);
  const inbox = ns.inbox(userid);
  const keepPlan = (errors: string[]): SieveDeliveryPlan => ({
    deliveries: [{ mailbox: inbox, flags: [] }],
    discard: false,
    errors,
  });

  // sieveusehomedir: ~user/.sieve instead of sievedir (local accounts only)
  const useHome = conf.getSwitch('sieveusehomedir');
  const activeName = useHome ? '~/.sieve' : store.activeName(userid);
  if (activeName === null) return null;
  let script;
  try {
    script = useHome
      ? homeScript(userid, store.enabled, input.passwdFile)
      : store.compiled(userid, activeName);
  } catch (e) {
    const msg = `sieve: script ${activeName} of ${userid} does not compile: ${(e as Error).message}`;
    log.error(msg);
    return keepPlan([msg]);
  }
  if (!script) return null;

  const nowMs = input.now?.() ?? Date.now();
  let headers: HeaderField[];
  try {
    headers = parseHeaders(readHeaderBlock(input.messagePath));
  } catch (e) {
    const msg = `sieve: cannot read message ${input.messagePath}: ${(e as Error).message}`;
    log.error(msg);
    return keepPlan([msg]);
  }
  const originalHeaders = headers.map((h) => ({ ...h }));
  const own = new Set<string>(
    [input.envelopeTo, baseAddress(input.envelopeTo), input.originalRecipient ?? '']
      .filter(Boolean)
      .map((a) => a.toLowerCase()),
  );
  if (!input.envelopeTo.includes('@'))
    own.add(`${baseAddress(input.envelopeTo)}@${serverName(conf)}`.toLowerCase());

  let dup = null as DuplicateDb | null;
  const dupDb = (): DuplicateDb => (dup ??= DuplicateDb.open(conf));
  const trackRcpt = `.${userid}.sieve.`;
  const maxDupSeconds = conf.getDuration('sieve_duplicate_max_expiration');

  const toInternal = (name: string): string | null => {
    let n = name;
    if (!conf.getSwitch('sieve_utf8fileinto')) {
      try {
        n = decodeMailboxName(name);
      } catch {
        n = name; // not modified UTF-7 (e.g. already UTF-8): take it as written
      }
    }
    try {
      if (/^inbox([./].+)?$/i.test(n) && n.length > 6)
        return `${inbox}.${n.slice(6).split(/[./]/).join('.')}`;
      return ns.toInternal(n, userid);
    } catch {
      return null;
    }
  };

  const env: SieveEnv = {
    enabled: store.enabled,
    envelopeFrom: input.envelopeFrom,
    envelopeTo: input.envelopeTo,
    headers,
    size: input.parsed.size,
    bodyText: input.parsed.searchBody,
    rawBody: () => readRawBody(input.messagePath, input.parsed.headerSize),
    bodyParts: (types) => bodyParts(input.messagePath, input.parsed.body, types),
    now: new Date(nowMs),
    environment: {
      domain: serverName(conf).split('.').slice(1).join('.') || serverName(conf),
      host: serverName(conf),
      location: 'MDA',
      name: 'Cyrus-TS',
      phase: 'during',
      version: '0.1.0',
      ...(input.environment ?? {}),
    },
    mailboxExists: (name) => {
      const internal = toInternal(name);
      return internal !== null && input.mailboxExists(internal);
    },
    mailboxIdExists: (id) => input.mailboxById?.(id) !== undefined,
    specialUseExists: (uses, mailbox) => {
      if (!input.mailboxesWithSpecialUse) return false;
      const target = mailbox === undefined ? null : toInternal(mailbox);
      return uses.every((u) => {
        const boxes = input.mailboxesWithSpecialUse!(u);
        return target === null ? boxes.length > 0 : boxes.includes(target);
      });
    },
    metadata: (mailbox, entry) => {
      if (!input.getMetadata) return undefined;
      if (mailbox === null) return input.getMetadata(null, entry);
      const internal = toInternal(mailbox);
      return internal === null ? undefined : input.getMetadata(internal, entry);
    },
    duplicate: (id, handle, seconds, last) => {
      const key = `.duplicate.${createHash('sha1').update(`${handle}\0${id}`).digest('hex')}`;
      const period = Math.min(seconds, maxDupSeconds);
      const now = Math.floor(nowMs / 1000);
      const mark = dupDb().check(key, trackRcpt);
      const seen = !!mark && now - mark.time < period;
      if (!seen || last) dupDb().mark(key, trackRcpt, 0, now);
      return seen;
    },
    log: (text) => log.info(`sieve log: ${userid}: ${text}`),
    include: (name, global) => (useHome && !global ? null : store.compiled(global ? null : userid, name)),
    messageId: header(headers, 'message-id'),
  };

  let result: SieveResult;
  try {
    result = runScript(script, env);
  } catch (e) {
    dup?.close();
    const msg =
      e instanceof SieveRuntimeError
        ? `sieve runtime error for ${userid}: ${e.message}`
        : `sieve: ${String(e)}`;
    log.error(msg);
    return keepPlan([msg]);
  }

  const errors: string[] = [];
  const deliveries: SieveDelivery[] = [];
  const deliver = (mailbox: string, flags: string[], specialUse?: string): void => {
    const existing = deliveries.find((d) => d.mailbox === mailbox);
    if (existing) {
      for (const f of flags)
        if (!existing.flags.some((x) => x.toLowerCase() === f.toLowerCase())) existing.flags.push(f);
      return;
    }
    const d: SieveDelivery = { mailbox, flags: [...flags] };
    if (specialUse) d.specialUse = specialUse;
    deliveries.push(d);
  };
  let implicitKeep = result.implicitKeep;
  let reject: SieveDeliveryPlan['reject'];
  const autoFolders = (conf.getString('autocreate_sieve_folders') ?? '')
    .split('|')
    .map((s) => s.trim())
    .filter(Boolean);
  const anyFolder = conf.getSwitch('anysievefolder');

  try {
    for (const a of result.actions) {
      switch (a.type) {
        case 'keep':
          deliver(inbox, a.flags);
          break;
        case 'fileinto':
          fileinto(a);
          break;
        case 'redirect':
          if (!(await redirect(a))) implicitKeep = true;
          break;
        case 'reject':
          if (a.ereject || conf.getSwitch('sieve_use_lmtp_reject'))
            reject = { reason: a.reason, ereject: a.ereject };
          else await rejectMdn(a.reason);
          break;
        case 'vacation':
          await vacation(a);
          break;
        case 'notify':
          await notify(a);
          break;
        case 'discard':
          break;
      }
    }
  } finally {
    dup?.close();
  }
  if (implicitKeep && !reject) deliver(inbox, result.implicitKeepFlags);
  for (const e of errors) log.warning(e);
  const plan: SieveDeliveryPlan = { deliveries, discard: deliveries.length === 0 && !reject, errors };
  if (reject) plan.reject = reject;
  if (result.edits.length) plan.headerEdits = result.edits;
  return plan;

  // ---- actions with effects outside the plan -------------------------------------------

  function fileinto(a: Extract<Action, { type: 'fileinto' }>): void {
    if (a.specialUse && input.mailboxesWithSpecialUse) {
      const box = input.mailboxesWithSpecialUse(a.specialUse)[0];
      if (box) return deliver(box, a.flags, a.specialUse);
    }
    // RFC 9042: an existing mailbox with the id wins over the name
    const byId = a.mailboxId !== undefined ? input.mailboxById?.(a.mailboxId) : undefined;
    const internal = byId ?? toInternal(a.mailbox);
    if (internal === null) {
      errors.push(`sieve: fileinto "${a.mailbox}": invalid mailbox name, kept in INBOX`);
      return deliver(inbox, a.flags);
    }
    const rel = internal.startsWith(inbox + '.') ? internal.slice(inbox.length + 1) : null;
    if (internal !== inbox && rel === null && !(input.mayPost?.(internal) ?? false)) {
      // another user's or a shared mailbox needs the 'p' right; never reveal whether it exists
      errors.push(`sieve: fileinto "${a.mailbox}": no permission to post to ${internal}, kept in INBOX`);
      return deliver(inbox, a.flags);
    }
    if (!input.mailboxExists(internal)) {
      const mayCreate =
        rel !== null &&
        (a.create || anyFolder || autoFolders.some((f) => f.toLowerCase() === rel.toLowerCase()));
      if (mayCreate && input.createMailbox) {
        try {
          input.createMailbox(internal);
        } catch (e) {
          errors.push(
            `sieve: fileinto "${a.mailbox}": cannot create ${internal}: ${(e as Error).message}, kept in INBOX`,
          );
          return deliver(inbox, a.flags);
        }
      } else {
        errors.push(`sieve: fileinto "${a.mailbox}": mailbox ${internal} does not exist, kept in INBOX`);
        return deliver(inbox, a.flags);
      }
    }
    deliver(internal, a.flags, a.specialUse);
  }

  async function redirect(a: Extract<Action, { type: 'redirect' }>): Promise<boolean> {
    const address = a.address;
    const dsn = [...(a.dsnNotify ? ['-N', a.dsnNotify] : []), ...(a.dsnRet ? ['-R', a.dsnRet] : [])];
    const me = baseAddress(input.envelopeTo).toLowerCase();
    const marks = originalHeaders.filter((h) => h.name.toLowerCase() === REDIRECT_HEADER.toLowerCase());
    if (marks.some((h) => h.value.toLowerCase() === me) || marks.length >= MAX_REDIRECTS) {
      errors.push(`sieve: redirect to ${address} refused: mail loop (${REDIRECT_HEADER})`);
      return false;
    }
    // RFC 5293: a redirected copy carries the header as editheader left it
    const edited = result.edits.length > 0;
    const head = Buffer.from(
      `${REDIRECT_HEADER}: ${me}\r\n` +
        (edited ? headers.map((h) => `${h.name}: ${h.value}\r\n`).join('') + '\r\n' : ''),
      'utf8',
    );
    const r = await sendMail(
      conf,
      input.envelopeFrom || '<>',
      address,
      head,
      input.messagePath,
      edited ? input.parsed.headerSize : 0,
      dsn,
    );
    if (!r.ok) {
      errors.push(`sieve: redirect to ${address} failed: ${r.error}`);
      return false;
    }
    log.info(`sieve redirected: ${userid} -> ${address}`);
    return true;
  }

  /** RFC 8580: file a generated message; failures are reported, never fatal */
  async function fcc(target: Fcc, message: Buffer): Promise<void> {
    if (!input.fileCopy) {
      errors.push(`sieve: :fcc "${target.mailbox}" not supported here`);
      return;
    }
    let box: string | null | undefined = target.specialUse
      ? input.mailboxesWithSpecialUse?.(target.specialUse)[0]
      : undefined;
    box ??= toInternal(target.mailbox);
    if (box === null) {
      errors.push(`sieve: :fcc "${target.mailbox}": invalid mailbox name`);
      return;
    }
    const own = box === inbox || box.startsWith(inbox + '.');
    if (!own && !(input.mayPost?.(box) ?? false)) {
      errors.push(`sieve: :fcc "${target.mailbox}": no permission to post to ${box}`);
      return;
    }
    try {
      if (!input.mailboxExists(box)) {
        if (!target.create || !input.createMailbox || !own || box === inbox) {
          errors.push(`sieve: :fcc mailbox ${box} does not exist`);
          return;
        }
        input.createMailbox(box);
      }
      await input.fileCopy(box, message, target.flags);
    } catch (e) {
      errors.push(`sieve: :fcc into ${box} failed: ${(e as Error).message}`);
    }
  }

  async function rejectMdn(reason: string): Promise<void> {
    const sender = input.envelopeFrom;
    if (!sender) return;
    const postmaster = conf.getString('postmaster') ?? 'postmaster';
    const from = postmaster.includes('@') ? postmaster : `${postmaster}@${serverName(conf)}`;
    const boundary = `${randomBytes(8).toString('hex')}/${serverName(conf)}`;
    const origSubject = decodeHeader(header(originalHeaders, 'subject') ?? '');
    const msg =
      `From: Mail Sieve Subsystem <${from}>\r\nTo: <${sender}>\r\nSubject: ${encodeWord(`Automatically rejected mail${origSubject ? `: ${origSubject}` : ''}`)}\r\n` +
      `Date: ${rfc5322Date(new Date(nowMs))}\r\nMessage-ID: <sieve-reject-${randomBytes(8).toString('hex')}@${serverName(conf)}>\r\n` +
      `Auto-Submitted: auto-replied (rejected)\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: multipart/report; report-type=disposition-notification; boundary="${boundary}"\r\n\r\n` +
      `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour message was automatically rejected by Sieve:\r\n\r\n${reason}\r\n` +
      `--${boundary}\r\nContent-Type: message/disposition-notification\r\n\r\n` +
      `Reporting-UA: ${serverName(conf)}; Cyrus-TS Sieve\r\nFinal-Recipient: rfc822; ${input.envelopeTo}\r\n` +
      `Disposition: automatic-action/MDN-sent-automatically; deleted\r\n\r\n--${boundary}--\r\n`;
    const r = await sendMail(conf, '<>', sender, Buffer.from(msg));
    if (!r.ok) errors.push(`sieve: reject MDN to ${sender} failed: ${r.error}`);
  }

  async function vacation(a: Extract<Action, { type: 'vacation' }>): Promise<void> {
    const sender = input.envelopeFrom;
    const why = (s: string): void =>
      log.debug(`sieve vacation for ${userid}: not replying to ${sender || '<>'}: ${s}`);
    if (!sender) return why('null sender');
    const s = sender.toLowerCase();
    const mine = new Set([...own, ...a.addresses.map((x) => x.toLowerCase())]);
    if (a.from) for (const f of parseAddresses(a.from)) mine.add(f.toLowerCase());
    if (mine.has(s)) return why('own address');
    const local = splitAddress(s).local;
    if (/^(owner-.*|.*-request|mailer-daemon|listserv|majordomo|.*-owner)$/.test(local))
      return why('list or daemon sender');
    const auto = header(originalHeaders, 'auto-submitted');
    if (auto && auto.toLowerCase().trim() !== 'no') return why('auto-submitted');
    if (
      originalHeaders.some((h) => /^list-(id|help|subscribe|unsubscribe|post|owner|archive)$/i.test(h.name))
    )
      return why('mailing list');
    if (/^(bulk|list|junk)$/i.test((header(originalHeaders, 'precedence') ?? '').trim()))
      return why('precedence');
    const recipients = originalHeaders
      .filter((h) => /^(resent-)?(to|cc|bcc)$/i.test(h.name))
      .flatMap((h) => parseAddresses(h.value).map((x) => x.toLowerCase()));
    if (!recipients.some((r) => mine.has(r) || mine.has(baseAddress(r))))
      return why('not addressed to the user');

    const minP = conf.getDuration('sieve_vacation_min_response');
    const maxP = conf.getDuration('sieve_vacation_max_response');
    const period = a.seconds === 0 ? 0 : Math.min(maxP, Math.max(minP, a.seconds));
    const key = `.vacation.${createHash('sha1').update(a.handle).digest('hex')}.${s}`;
    const now = Math.floor(nowMs / 1000);
    const mark = dupDb().check(key, trackRcpt);
    if (mark && now - mark.time < period) return why('already replied in this period');

    const origSubject = decodeHeader(header(originalHeaders, 'subject') ?? '');
    const subject = a.subject ?? `Auto: ${origSubject}`;
    const from =
      a.from ??
      `<${baseAddress(input.envelopeTo)}${input.envelopeTo.includes('@') ? '' : '@' + serverName(conf)}>`;
    const msgId = header(originalHeaders, 'message-id');
    const refs = [header(originalHeaders, 'references'), msgId].filter(Boolean).join(' ');
    let msg =
      `From: ${oneLine(from)}\r\nTo: <${sender}>\r\nSubject: ${encodeWord(subject)}\r\nDate: ${rfc5322Date(new Date(nowMs))}\r\n` +
      `Message-ID: <sieve-vacation-${randomBytes(8).toString('hex')}@${serverName(conf)}>\r\n` +
      (msgId ? `In-Reply-To: ${msgId}\r\n` : '') +
      (refs ? `References: ${refs}\r\n` : '') +
      `Auto-Submitted: auto-replied (vacation)\r\nMIME-Version: 1.0\r\n`;
    if (a.mime) msg += a.reason.replace(/\r?\n/g, '\r\n');
    else
      msg += `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${a.reason.replace(/\r?\n/g, '\r\n')}\r\n`;
    const r = await sendMail(conf, '<>', sender, Buffer.from(msg, 'utf8'));
    if (!r.ok) {
      errors.push(`sieve: vacation reply to ${sender} failed: ${r.error}`);
      return;
    }
    if (a.fcc) await fcc(a.fcc, Buffer.from(msg, 'utf8'));
    dupDb().mark(key, trackRcpt, 0, now);
    log.info(`sieve vacation: ${userid} replied to ${sender}`);
  }

  async function notify(a: Extract<Action, { type: 'notify' }>): Promise<void> {
    const auto = header(originalHeaders, 'auto-submitted');
    if (auto && auto.toLowerCase().trim() !== 'no') return; // RFC 5436 2.7
    const url = new URL(a.method);
    const to = decodeURIComponent(url.pathname);
    const params = url.searchParams;
    const rcpts = [to, ...(params.get('to') ?? '').split(',')].map((x) => x.trim()).filter(Boolean);
    const origSubject = decodeHeader(header(originalHeaders, 'subject') ?? '');
    const origFrom = decodeHeader(header(originalHeaders, 'from') ?? input.envelopeFrom);
    const subject = params.get('subject') ?? a.message ?? `[SIEVE] New mail from ${origFrom}: ${origSubject}`;
    const body = params.get('body') ?? a.message ?? `${origFrom}: ${origSubject}`;
    const fromAddr = a.from ?? `${conf.getString('postmaster') ?? 'postmaster'}@${serverName(conf)}`;
    const importance = a.importance === '1' ? 'High' : a.importance === '3' ? 'Low' : 'Normal';
    for (const rcpt of rcpts) {
      if (!/^[^\s@<>]+@[^\s@<>]+$/.test(rcpt)) {
        errors.push(`sieve: notify: invalid recipient "${oneLine(rcpt)}"`);
        continue;
      }
      const msg =
        `From: ${oneLine(fromAddr)}\r\nTo: <${rcpt}>\r\nSubject: ${encodeWord(subject)}\r\nDate: ${rfc5322Date(new Date(nowMs))}\r\n` +
        `Message-ID: <sieve-notify-${randomBytes(8).toString('hex')}@${serverName(conf)}>\r\n` +
        `Auto-Submitted: auto-notified\r\nImportance: ${importance}\r\nMIME-Version: 1.0\r\n` +
        `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${body}\r\n`;
      const r = await sendMail(conf, '<>', rcpt, Buffer.from(msg, 'utf8'));
      if (!r.ok) errors.push(`sieve: notify ${rcpt} failed: ${r.error}`);
      else if (a.fcc) await fcc(a.fcc, Buffer.from(msg, 'utf8'));
    }
  }
}
