/**
 * Sieve interpreter: runs a compiled script against one message and returns the actions.
 *
 * Owns: evaluation of every test and command of the checker's table, variables (RFC 5229),
 * imap4flags' internal flag variable (RFC 5232), include/return/global (RFC 6609), editheader
 * (RFC 5293) on the interpreter's view of the header, and the action list with RFC 5228 4/2.10.2
 * implicit-keep rules. It performs no I/O: everything outside the message comes through
 * `SieveEnv` callbacks, so `deliver.ts` decides what a mailbox name means and sends mail.
 * A runtime error throws `SieveRuntimeError`; the caller then keeps the message (never loses it).
 *
 * Imports: checker.ts (types), match.ts, message.ts, extensions.ts.
 */
import type { CNode, Compiled, Val } from './checker.js';
import { matchValues, type MatchSpec } from './match.js';
import { addressPart, decodeHeader, parseAddresses, type HeaderField } from './message.js';
import { MAX_REDIRECTS } from './extensions.js';
import type { HeaderEdit } from './api.js';

export class SieveRuntimeError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line ? `line ${line}: ${message}` : message);
    this.name = 'SieveRuntimeError';
  }
}

export type Action =
  | { type: 'keep'; flags: string[] }
  | {
      type: 'fileinto';
      mailbox: string;
      flags: string[];
      create: boolean;
      specialUse?: string;
      /** RFC 9042 :mailboxid: file here when a mailbox with this id exists */
      mailboxId?: string;
      copy: boolean;
    }
  | {
      type: 'redirect';
      address: string;
      copy: boolean;
      /** RFC 6009 redirect-dsn: "NEVER" or a comma list of SUCCESS, FAILURE, DELAY */
      dsnNotify?: string;
      /** RFC 6009: "FULL" or "HDRS" */
      dsnRet?: string;
    }
  | { type: 'discard' }
  | { type: 'reject'; reason: string; ereject: boolean }
  | {
      type: 'vacation';
      reason: string;
      subject?: string;
      from?: string;
      addresses: string[];
      mime: boolean;
      handle: string;
      seconds: number;
      fcc?: Fcc;
    }
  | {
      type: 'notify';
      method: string;
      from?: string;
      importance: string;
      options: string[];
      message?: string;
      fcc?: Fcc;
      /** legacy notify (draft-martin-sieve-notify) :id, for denotify */
      id?: string;
    };

/** RFC 8580: where to file a copy of a generated message */
export interface Fcc {
  mailbox: string;
  create: boolean;
  flags: string[];
  specialUse?: string;
}

export interface SieveResult {
  actions: Action[];
  /** true when no action cancelled the implicit keep */
  implicitKeep: boolean;
  /** flags for the implicit keep (imap4flags internal variable at the end) */
  implicitKeepFlags: string[];
  edits: HeaderEdit[];
}

export interface SieveEnv {
  /** capabilities enabled (for ihave) */
  enabled: Set<string>;
  envelopeFrom: string;
  envelopeTo: string;
  /** mutable copy of the header fields; editheader changes it */
  headers: HeaderField[];
  size: number;
  /** decoded text of the text parts (body :text) */
  bodyText: string;
  /** decoded parts for body :text (types null) / :content types; optional (else bodyText) */
  bodyParts?(types: string[] | null): string[];
  /** the raw body, bounded (body :raw); optional */
  rawBody?: () => string;
  now: Date;
  environment: Record<string, string>;
  mailboxExists(name: string): boolean;
  /** RFC 9042: does a mailbox of the user have this MAILBOXID */
  mailboxIdExists?(id: string): boolean;
  specialUseExists?(uses: string[], mailbox?: string): boolean;
  metadata?(mailbox: string | null, entry: string): string | undefined;
  /** duplicate test (RFC 7352): true when the id was seen; records it (unless `last` semantics say otherwise) */
  duplicate?(id: string, handle: string, seconds: number, last: boolean): boolean;
  /** the compiled script `name` (personal or global), or null when it does not exist */
  include?(name: string, global: boolean): Compiled | null;
  /** vnd.cyrus.log: a line for the server log */
  log?(text: string): void;
  /** Message-ID (for duplicate) */
  messageId?: string;
}

/** Most nested includes (RFC 6609 leaves it to the implementation). */
export const MAX_INCLUDE_DEPTH = 5;
/** Longest variable value (RFC 5229 5: values may be truncated; at least 4000 octets) */
export const MAX_VARIABLE = 64 * 1024;
/** Most actions/loop iterations in one run: a script can never make delivery spin. */
const MAX_ACTIONS = 1000;

class Stop {
  constructor(readonly all: boolean) {}
}

interface Frame {
  script: Compiled;
  locals: Map<string, string>;
  globalNames: Set<string>;
  has(ext: string): boolean;
}

export function runScript(script: Compiled, env: SieveEnv): SieveResult {
  const actions: Action[] = [];
  const edits: HeaderEdit[] = [];
  const globals = new Map<string, string>();
  let implicitKeep = true;
  let flags: string[] = [];
  let matchVars: string[] = [];
  let redirects = 0;
  let steps = 0;
  const included = new Set<string>();

  const fail = (line: number, msg: string): never => {
    throw new SieveRuntimeError(msg, line);
  };

  // ---- variables --------------------------------------------------------------------
  const lookupVar = (f: Frame, name: string): string => {
    const n = name.toLowerCase();
    if (/^[0-9]+$/.test(n)) return matchVars[Number(n)] ?? '';
    if (n.startsWith('global.')) return globals.get(n.slice(7)) ?? '';
    if (f.globalNames.has(n)) return globals.get(n) ?? '';
    return f.locals.get(n) ?? '';
  };
  const setVar = (f: Frame, name: string, full: string): void => {
    const value = full.length > MAX_VARIABLE ? full.slice(0, MAX_VARIABLE) : full;
    const n = name.toLowerCase();
    if (n.startsWith('global.')) globals.set(n.slice(7), value);
    else if (f.globalNames.has(n)) globals.set(n, value);
    else f.locals.set(n, value);
  };
  const expand = (f: Frame, s: string): string => {
    if (!f.has('variables') || !s.includes('${')) return s;
    const out = s.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|[0-9]+)\}/g,
      (_w, name: string) => lookupVar(f, name),
    );
    return out.length > MAX_VARIABLE ? out.slice(0, MAX_VARIABLE) : out;
  };
  const str = (f: Frame, v: Val | true | undefined): string =>
    typeof v === 'string'
      ? expand(f, v)
      : Array.isArray(v)
        ? expand(f, v[0] ?? '')
        : v === undefined || v === true
          ? ''
          : String(v);
  const list = (f: Frame, v: Val | true | undefined): string[] =>
    Array.isArray(v) ? v.map((x) => expand(f, x)) : typeof v === 'string' ? [expand(f, v)] : [];

  // ---- flags (RFC 5232) -------------------------------------------------------------
  const splitFlags = (vals: string[]): string[] => {
    const out: string[] = [];
    for (const v of vals)
      for (const fl of v.split(/\s+/))
        if (fl && !out.some((o) => o.toLowerCase() === fl.toLowerCase())) out.push(fl);
    return out;
  };
  const getFlags = (f: Frame, varName: string | null): string[] =>
    varName === null ? flags : splitFlags([lookupVar(f, varName)]);
  const putFlags = (f: Frame, varName: string | null, v: string[]): void => {
    if (varName === null) flags = v;
    else setVar(f, varName, v.join(' '));
  };

  // ---- match helpers ------------------------------------------------------------------
  const matchSpec = (f: Frame, n: CNode): MatchSpec => {
    const t = n.tags;
    const type = t.is
      ? 'is'
      : t.contains
        ? 'contains'
        : t.matches
          ? 'matches'
          : t.regex
            ? 'regex'
            : t.value
              ? 'value'
              : t.count
                ? 'count'
                : 'is';
    const op = typeof t.value === 'string' ? t.value : typeof t.count === 'string' ? t.count : undefined;
    return {
      type,
      op: op ? expand(f, op) : undefined,
      comparator: typeof t.comparator === 'string' ? t.comparator.toLowerCase() : 'i;ascii-casemap',
    };
  };
  const doMatch = (f: Frame, n: CNode, values: string[], keys: string[]): boolean => {
    const spec = matchSpec(f, n);
    if (spec.type === 'regex' && f.has('variables')) {
      /* keys may contain variables: already expanded by list() */
    }
    const r = matchValues(values, keys, spec);
    if (r.ok && r.captures && f.has('variables')) matchVars = r.captures.slice(0, 10);
    return r.ok;
  };
  const headerValues = (names: string[], n: CNode): string[] => {
    const out: string[] = [];
    for (const name of names) {
      const lname = name.toLowerCase();
      let vals = env.headers.filter((h) => h.name.toLowerCase() === lname).map((h) => h.value);
      if (typeof n.tags.index === 'number') {
        const idx = n.tags.index;
        const pick = n.tags.last ? vals[vals.length - idx] : vals[idx - 1];
        vals = pick === undefined ? [] : [pick];
      }
      out.push(...vals);
    }
    return out;
  };
  const addrPart = (n: CNode): string =>
    n.tags.localpart
      ? 'localpart'
      : n.tags.domain
        ? 'domain'
        : n.tags.user
          ? 'user'
          : n.tags.detail
            ? 'detail'
            : 'all';

  // ---- tests --------------------------------------------------------------------------
  const test = (f: Frame, n: CNode): boolean => {
    if (++steps > MAX_ACTIONS * 10) fail(n.line, 'script too complex');
    switch (n.name) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'not':
        return !test(f, n.tests[0]!);
      case 'allof':
        return n.tests.every((t) => test(f, t));
      case 'anyof':
        return n.tests.some((t) => test(f, t));
      case 'exists':
        return list(f, n.pos[0]).every((h) =>
          env.headers.some((x) => x.name.toLowerCase() === h.toLowerCase()),
        );
      case 'size':
        return n.tags.over ? env.size > (n.pos[0] as number) : env.size < (n.pos[0] as number);
      case 'header': {
        const vals = headerValues(list(f, n.pos[0]), n).map(decodeHeader);
        return doMatch(f, n, vals, list(f, n.pos[1]));
      }
      case 'address': {
        const part = addrPart(n);
        const vals: string[] = [];
        for (const v of headerValues(list(f, n.pos[0]), n))
          for (const a of parseAddresses(v)) {
            const p = addressPart(a, part);
            if (p !== null) vals.push(p);
          }
        return doMatch(f, n, vals, list(f, n.pos[1]));
      }
      case 'envelope': {
        const part = addrPart(n);
        const vals: string[] = [];
        for (const which of list(f, n.pos[0])) {
          const w = which.toLowerCase();
          const addr = w === 'from' ? env.envelopeFrom : w === 'to' ? env.envelopeTo : null;
          if (addr === null) continue;
          const p = addressPart(addr, part);
          if (p !== null) vals.push(p);
        }
        return doMatch(f, n, vals, list(f, n.pos[1]));
      }
      case 'body': {
        // RFC 5173: the same match types as header, default :is; any part may match
        let texts: string[];
        if (n.tags.raw) texts = [env.rawBody?.() ?? env.bodyText];
        else {
          const types = n.tags.content !== undefined ? list(f, n.tags.content) : null;
          if (env.bodyParts) texts = env.bodyParts(types);
          else if (types && !types.some((t) => t === '' || /^text(\/|$)/i.test(t))) texts = [];
          else texts = [env.bodyText];
        }
        return doMatch(f, n, texts, list(f, n.pos[0]));
      }
      case 'date':
      case 'currentdate': {
        let date: Date | null;
        let zone: string | null = null;
        let partArg: Val;
        let keysArg: Val;
        if (n.name === 'date') {
          const vals = headerValues([str(f, n.pos[0])], n);
          const raw = vals[0];
          if (raw === undefined) return false;
          const parsed = parseRfc5322Date(raw);
          if (!parsed) return false;
          date = parsed.date;
          if (n.tags.originalzone) zone = parsed.zone;
          partArg = n.pos[1]!;
          keysArg = n.pos[2]!;
        } else {
          date = env.now;
          partArg = n.pos[0]!;
          keysArg = n.pos[1]!;
        }
        if (typeof n.tags.zone === 'string') zone = expand(f, n.tags.zone);
        if (zone === null) zone = localZone(date);
        const v = datePart(date, zone, str(f, partArg).toLowerCase());
        if (v === null) return false;
        return doMatch(f, n, [v], list(f, keysArg));
      }
      case 'string': {
        const vals = list(f, n.pos[0]);
        const spec = matchSpec(f, n);
        return doMatch(f, n, spec.type === 'count' ? vals.filter((v) => v !== '') : vals, list(f, n.pos[1]));
      }
      case 'hasflag': {
        const vars = n.pos.length === 2 ? list(f, n.pos[0]) : null;
        const keys = list(f, n.pos[n.pos.length - 1]);
        const have = vars ? splitFlags(vars.map((v) => lookupVar(f, v))) : flags;
        return doMatch(f, n, have, keys);
      }
      case 'mailboxexists':
        return list(f, n.pos[0]).every((m) => env.mailboxExists(m));
      case 'mailboxidexists':
        return list(f, n.pos[0]).every((id) => env.mailboxIdExists?.(id) ?? false);
      case 'metadata': {
        const v = env.metadata?.(str(f, n.pos[0]), str(f, n.pos[1]));
        return v !== undefined && doMatch(f, n, [v], list(f, n.pos[2]));
      }
      case 'metadataexists': {
        const mb = str(f, n.pos[0]);
        return list(f, n.pos[1]).every((e) => env.metadata?.(mb, e) !== undefined);
      }
      case 'servermetadata': {
        const v = env.metadata?.(null, str(f, n.pos[0]));
        return v !== undefined && doMatch(f, n, [v], list(f, n.pos[1]));
      }
      case 'servermetadataexists':
        return list(f, n.pos[0]).every((e) => env.metadata?.(null, e) !== undefined);
      case 'duplicate': {
        let id: string | undefined;
        if (typeof n.tags.uniqueid === 'string') id = expand(f, n.tags.uniqueid);
        else {
          const hname = typeof n.tags.header === 'string' ? expand(f, n.tags.header) : 'message-id';
          id = env.headers.find((h) => h.name.toLowerCase() === hname.toLowerCase())?.value;
          if (hname.toLowerCase() === 'message-id') id = id?.trim();
        }
        if (id === undefined || id === '') return false;
        const handle = typeof n.tags.handle === 'string' ? expand(f, n.tags.handle) : '';
        const seconds = typeof n.tags.seconds === 'number' ? n.tags.seconds : 7 * 86400;
        return env.duplicate ? env.duplicate(id, handle, seconds, !!n.tags.last) : false;
      }
      case 'valid_notify_method':
        return list(f, n.pos[0]).every((u) => validMailto(u));
      case 'notify_method_capability': {
        const uri = str(f, n.pos[0]);
        const cap = str(f, n.pos[1]).toLowerCase();
        if (!validMailto(uri) || cap !== 'online') return false;
        return doMatch(f, n, ['maybe'], list(f, n.pos[2]));
      }
      case 'spamtest': {
        const v = spamValue(env.headers, !!n.tags.percent);
        return doMatch(f, n, [v], [str(f, n.pos[0])]);
      }
      case 'virustest':
        return doMatch(f, n, [virusValue(env.headers)], [str(f, n.pos[0])]);
      case 'specialuse_exists': {
        const uses = list(f, n.pos[n.pos.length - 1]);
        const mb = n.pos.length === 2 ? str(f, n.pos[0]) : undefined;
        return env.specialUseExists ? env.specialUseExists(uses, mb) : false;
      }
      case 'ihave':
        return list(f, n.pos[0]).every((c) => env.enabled.has(c.toLowerCase()));
      case 'environment': {
        const v = env.environment[str(f, n.pos[0]).toLowerCase()];
        return v !== undefined && doMatch(f, n, [v], list(f, n.pos[1]));
      }
    }
    return fail(n.line, `unknown test ${n.name}`);
  };

  // ---- actions ------------------------------------------------------------------------
  const fccOf = (f: Frame, t: CNode['tags']): Fcc => {
    const out: Fcc = {
      mailbox: str(f, t.fcc),
      create: !!t.create,
      flags: t.flags !== undefined ? splitFlags(list(f, t.flags)) : [],
    };
    if (typeof t.specialuse === 'string') out.specialUse = expand(f, t.specialuse);
    return out;
  };
  const hasAction = (t: Action['type']): boolean => actions.some((a) => a.type === t);
  const addAction = (n: CNode, a: Action): void => {
    if (actions.length >= MAX_ACTIONS) fail(n.line, 'too many actions');
    const rejecting = hasAction('reject');
    if (
      a.type === 'reject' &&
      (hasAction('keep') ||
        hasAction('fileinto') ||
        hasAction('redirect') ||
        hasAction('vacation') ||
        rejecting)
    )
      fail(n.line, 'reject cannot be used with keep, fileinto, redirect, vacation or another reject');
    if (
      rejecting &&
      (a.type === 'keep' || a.type === 'fileinto' || a.type === 'redirect' || a.type === 'vacation')
    )
      fail(n.line, `${a.type} cannot be used with reject`);
    if (a.type === 'vacation' && hasAction('vacation')) fail(n.line, 'only one vacation action per script');
    actions.push(a);
  };

  const exec = (f: Frame, cmds: CNode[]): void => {
    let lastIf: boolean | null = null;
    for (const n of cmds) {
      if (++steps > MAX_ACTIONS * 10) fail(n.line, 'script too complex');
      switch (n.name) {
        case 'if':
          lastIf = test(f, n.tests[0]!);
          if (lastIf) exec(f, n.block ?? []);
          continue;
        case 'elsif':
          if (lastIf === false) {
            lastIf = test(f, n.tests[0]!);
            if (lastIf) exec(f, n.block ?? []);
          }
          continue;
        case 'else':
          if (lastIf === false) exec(f, n.block ?? []);
          lastIf = null;
          continue;
      }
      lastIf = null;
      switch (n.name) {
        case 'stop':
          throw new Stop(true);
        case 'return':
          throw new Stop(false);
        case 'keep': {
          const fl = n.tags.flags !== undefined ? splitFlags(list(f, n.tags.flags)) : [...flags];
          addAction(n, { type: 'keep', flags: fl });
          implicitKeep = false;
          break;
        }
        case 'discard':
          addAction(n, { type: 'discard' });
          implicitKeep = false;
          break;
        case 'fileinto': {
          const fl = n.tags.flags !== undefined ? splitFlags(list(f, n.tags.flags)) : [...flags];
          const a: Action = {
            type: 'fileinto',
            mailbox: str(f, n.pos[0]),
            flags: fl,
            create: !!n.tags.create,
            copy: !!n.tags.copy,
          };
          if (typeof n.tags.specialuse === 'string') a.specialUse = expand(f, n.tags.specialuse);
          if (typeof n.tags.mailboxid === 'string') a.mailboxId = expand(f, n.tags.mailboxid);
          addAction(n, a);
          if (!n.tags.copy) implicitKeep = false;
          break;
        }
        case 'redirect': {
          const address = str(f, n.pos[0]).trim();
          if (!/^[^\s@<>]+@[^\s@<>]+$/.test(address)) fail(n.line, `invalid redirect address "${address}"`);
          const dup = actions.some(
            (a) => a.type === 'redirect' && a.address.toLowerCase() === address.toLowerCase(),
          );
          if (!dup) {
            if (++redirects > MAX_REDIRECTS) fail(n.line, `too many redirect actions (max ${MAX_REDIRECTS})`);
            const a: Action = { type: 'redirect', address, copy: !!n.tags.copy };
            if (n.tags.notify !== undefined) {
              const v = str(f, n.tags.notify).toUpperCase();
              const parts = v.split(',').map((p) => p.trim());
              const ok =
                v === 'NEVER' ||
                (parts.length > 0 && parts.every((p) => ['SUCCESS', 'FAILURE', 'DELAY'].includes(p)));
              if (!ok) fail(n.line, `invalid :notify value "${v}"`);
              a.dsnNotify = parts.join(',');
            }
            if (n.tags.ret !== undefined) {
              const v = str(f, n.tags.ret).toUpperCase();
              if (v !== 'FULL' && v !== 'HDRS') fail(n.line, `invalid :ret value "${v}"`);
              a.dsnRet = v;
            }
            addAction(n, a);
          }
          if (!n.tags.copy) implicitKeep = false;
          break;
        }
        case 'reject':
        case 'ereject':
          addAction(n, { type: 'reject', reason: str(f, n.pos[0]), ereject: n.name === 'ereject' });
          implicitKeep = false;
          break;
        case 'vacation': {
          const t = n.tags;
          let seconds =
            typeof t.seconds === 'number'
              ? t.seconds
              : typeof t.days === 'number'
                ? t.days * 86400
                : 7 * 86400;
          if (typeof t.days === 'number' && t.days === 0) seconds = 0;
          const reason = str(f, n.pos[0]);
          const a: Action = {
            type: 'vacation',
            reason,
            addresses: list(f, t.addresses),
            mime: !!t.mime,
            handle: typeof t.handle === 'string' ? expand(f, t.handle) : '',
            seconds,
          };
          if (typeof t.subject === 'string') a.subject = expand(f, t.subject);
          if (typeof t.from === 'string') a.from = expand(f, t.from);
          if (typeof t.fcc === 'string') a.fcc = fccOf(f, t);
          // RFC 5230 4.2: without :handle the reason, subject and from identify the response
          if (!a.handle) a.handle = `${a.subject ?? ''}\0${a.from ?? ''}\0${reason}`;
          addAction(n, a);
          break;
        }
        case 'notify': {
          const t = n.tags;
          const method = str(f, n.pos[0]);
          if (!validMailto(method)) fail(n.line, `unsupported notification method "${method}"`);
          const a: Action = {
            type: 'notify',
            method,
            importance: typeof t.importance === 'string' ? expand(f, t.importance) : '2',
            options: list(f, t.options),
          };
          if (typeof t.from === 'string') a.from = expand(f, t.from);
          if (typeof t.message === 'string') a.message = expand(f, t.message);
          if (typeof t.fcc === 'string') a.fcc = fccOf(f, t);
          addAction(n, a);
          break;
        }
        case 'notify_legacy': {
          // draft-martin-sieve-notify: only the mailto method, to the :options addresses
          const t = n.tags;
          const method = (typeof t.method === 'string' ? expand(f, t.method) : 'mailto').toLowerCase();
          const to = list(f, t.options);
          if (method !== 'mailto' || to.length === 0) {
            env.log?.(`notify method "${method}" without addresses is not supported; ignored`);
            break;
          }
          const hdr = (name: string): string =>
            decodeHeader(env.headers.find((h) => h.name.toLowerCase() === name)?.value ?? '');
          const raw = typeof t.message === 'string' ? expand(f, t.message) : '$from$: $subject$';
          const message = raw
            .replace(/\$from\$/gi, hdr('from'))
            .replace(/\$env-from\$/gi, env.envelopeFrom)
            .replace(/\$subject\$/gi, hdr('subject'))
            .replace(/\$text(\[\d+\])?\$/gi, '');
          const a: Action = {
            type: 'notify',
            method: `mailto:${to[0]}${to.length > 1 ? `?to=${to.slice(1).map(encodeURIComponent).join(',')}` : ''}`,
            importance: t.high ? '1' : t.low ? '3' : '2',
            options: [],
            message,
          };
          if (typeof t.id === 'string') a.id = expand(f, t.id);
          addAction(n, a);
          break;
        }
        case 'denotify': {
          const t = n.tags;
          const type =
            t.is !== undefined
              ? 'is'
              : t.contains !== undefined
                ? 'contains'
                : t.matches !== undefined
                  ? 'matches'
                  : t.regex !== undefined
                    ? 'regex'
                    : null;
          const key = type ? str(f, t[type]) : '';
          const prio = t.high ? '1' : t.low ? '3' : t.normal ? '2' : null;
          const spec: MatchSpec = {
            type: type ?? 'is',
            comparator: typeof t.comparator === 'string' ? t.comparator.toLowerCase() : 'i;ascii-casemap',
          };
          for (let i = actions.length - 1; i >= 0; i--) {
            const a = actions[i]!;
            if (a.type !== 'notify' || a.id === undefined) continue;
            if (prio && a.importance !== prio) continue;
            if (type && !matchValues([a.id], [key], spec).ok) continue;
            actions.splice(i, 1);
          }
          break;
        }
        case 'setflag':
        case 'addflag':
        case 'removeflag': {
          const varName = n.pos.length === 2 ? str(f, n.pos[0]) : null;
          const given = splitFlags(list(f, n.pos[n.pos.length - 1]));
          const cur = getFlags(f, varName);
          let next: string[];
          if (n.name === 'setflag') next = given;
          else if (n.name === 'addflag') next = splitFlags([...cur, ...given]);
          else next = cur.filter((c) => !given.some((g) => g.toLowerCase() === c.toLowerCase()));
          putFlags(f, varName, next);
          break;
        }
        case 'set': {
          let v = str(f, n.pos[1]);
          const t = n.tags;
          if (t.lower) v = v.toLowerCase();
          if (t.upper) v = v.toUpperCase();
          if (t.lowerfirst) v = v.slice(0, 1).toLowerCase() + v.slice(1);
          if (t.upperfirst) v = v.slice(0, 1).toUpperCase() + v.slice(1);
          if (t.quotewildcard) v = v.replace(/[*?\\]/g, '\\$&');
          if (t.quoteregex) v = v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          if (t.encodeurl)
            v = encodeURIComponent(v).replace(
              /[!'()*]/g,
              (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
            );
          if (t.length) v = String([...v].length);
          setVar(f, n.pos[0] as string, v);
          break;
        }
        case 'global':
          for (const name of list(f, n.pos[0])) f.globalNames.add(name.toLowerCase());
          break;
        case 'include': {
          const name = str(f, n.pos[0]);
          const global = !!n.tags.global;
          const key = `${global ? 'g' : 'p'}:${name}`;
          if (n.tags.once && included.has(key)) break;
          included.add(key);
          if (depth >= MAX_INCLUDE_DEPTH) fail(n.line, 'includes nested too deeply');
          const sub = env.include?.(name, global) ?? null;
          if (!sub) {
            if (n.tags.optional) break;
            fail(n.line, `included script "${name}" does not exist`);
          }
          depth++;
          try {
            run(sub!);
          } finally {
            depth--;
          }
          break;
        }
        case 'addheader': {
          const name = str(f, n.pos[0]);
          const value = str(f, n.pos[1]);
          if (!/^[!-9;-~]+$/.test(name)) fail(n.line, `invalid header name "${name}"`);
          const last = !!n.tags.last;
          if (last) env.headers.push({ name, value });
          else env.headers.unshift({ name, value });
          edits.push({ op: 'add', name, value, last });
          break;
        }
        case 'deleteheader': {
          const name = str(f, n.pos[0]);
          const lname = name.toLowerCase();
          if (lname === 'received' || lname === 'auto-submitted') break; // RFC 5293 7: MUST NOT
          const patterns = n.pos.length === 2 ? list(f, n.pos[1]) : null;
          const idxs = env.headers
            .map((h, i) => (h.name.toLowerCase() === lname ? i : -1))
            .filter((i) => i >= 0);
          let targets = idxs;
          if (typeof n.tags.index === 'number') {
            const k = n.tags.index;
            const pick = n.tags.last ? idxs[idxs.length - k] : idxs[k - 1];
            targets = pick === undefined ? [] : [pick];
          }
          if (patterns)
            targets = targets.filter((i) => doMatch(f, n, [decodeHeader(env.headers[i]!.value)], patterns));
          const values = targets.map((i) => env.headers[i]!.value);
          for (const i of [...targets].sort((a, b) => b - a)) env.headers.splice(i, 1);
          if (targets.length) edits.push({ op: 'delete', name, values });
          break;
        }
        case 'log':
          env.log?.(str(f, n.pos[0]));
          break;
        case 'error':
          fail(n.line, `script error: ${str(f, n.pos[0])}`);
          break;
        default:
          fail(n.line, `unknown command ${n.name}`);
      }
    }
  };

  let depth = 0;
  const run = (s: Compiled): void => {
    const req = new Set(s.requires);
    const frame: Frame = { script: s, locals: new Map(), globalNames: new Set(), has: (e) => req.has(e) };
    try {
      exec(frame, s.commands);
    } catch (e) {
      if (e instanceof Stop && !e.all) return;
      throw e;
    }
  };

  try {
    run(script);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  return { actions, implicitKeep, implicitKeepFlags: [...flags], edits };
}

// ---- helpers -------------------------------------------------------------------------

function validMailto(uri: string): boolean {
  return /^mailto:[^\s?]*@[^\s?]+(\?.*)?$/i.test(uri) || /^mailto:\?to=/i.test(uri);
}

/** RFC 5235 spamtest value from the usual scanner headers: "0" = not tested, "1".."10". */
function spamValue(headers: HeaderField[], percent: boolean): string {
  const get = (n: string): string | undefined => headers.find((h) => h.name.toLowerCase() === n)?.value;
  let score: number | null = null;
  const s = get('x-spam-score');
  if (s && /^-?[0-9.]+/.test(s.trim())) score = parseFloat(s);
  const st = get('x-spam-status');
  const m = st ? /score=(-?[0-9.]+)/i.exec(st) : null;
  if (score === null && m) score = parseFloat(m[1]!);
  if (score === null) {
    const flag = get('x-spam-flag');
    if (flag === undefined) return '0';
    score = /yes/i.test(flag) ? 10 : 0;
  }
  // threshold 5 = "probably spam" (SpamAssassin's default): 0..10 maps to 1..10 / 0..100 %
  const pct = Math.max(0, Math.min(100, Math.round(score * 10)));
  if (percent) return String(pct);
  return String(Math.max(1, Math.min(10, 1 + Math.floor(pct / 11))));
}

/** RFC 5235 virustest: 0 not tested, 1 clean, 5 infected. */
function virusValue(headers: HeaderField[]): string {
  const st = headers.find(
    (h) => h.name.toLowerCase() === 'x-virus-status' || h.name.toLowerCase() === 'x-virus-scanned',
  )?.value;
  if (st === undefined) return '0';
  if (/infected|yes|virus/i.test(st) && !/clean|no/i.test(st)) return '5';
  return '1';
}

const MONTH = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const ZONES: Record<string, string> = {
  ut: '+0000',
  utc: '+0000',
  gmt: '+0000',
  z: '+0000',
  est: '-0500',
  edt: '-0400',
  cst: '-0600',
  cdt: '-0500',
  mst: '-0700',
  mdt: '-0600',
  pst: '-0800',
  pdt: '-0700',
};

/** Parse an RFC 5322 date-time; returns the instant and the zone as written (+hhmm). */
export function parseRfc5322Date(s: string): { date: Date; zone: string } | null {
  const m =
    /^\s*(?:[A-Za-z]{3},?\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[A-Za-z]+)?/.exec(
      s.replace(/\([^)]*\)/g, ' '),
    );
  if (!m) return null;
  const mon = MONTH.indexOf(m[2]!.toLowerCase());
  if (mon < 0) return null;
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  let zone = m[7] ?? '+0000';
  if (!/^[+-]\d{4}$/.test(zone)) zone = ZONES[zone.toLowerCase()] ?? '+0000';
  const off = zoneMinutes(zone);
  const utc = Date.UTC(year, mon, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)) - off * 60000;
  return { date: new Date(utc), zone };
}

function zoneMinutes(zone: string): number {
  const sign = zone[0] === '-' ? -1 : 1;
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
}

function localZone(d: Date): string {
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return `${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}${String(a % 60).padStart(2, '0')}`;
}

/** RFC 5260 4.2 date-part of `d` seen in `zone`, or null for an unknown part / bad zone. */
export function datePart(d: Date, zone: string, part: string): string | null {
  if (!/^[+-]\d{4}$/.test(zone)) return null;
  const t = new Date(d.getTime() + zoneMinutes(zone) * 60000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const Y = String(t.getUTCFullYear()).padStart(4, '0');
  const M = p2(t.getUTCMonth() + 1);
  const D = p2(t.getUTCDate());
  const h = p2(t.getUTCHours());
  const mi = p2(t.getUTCMinutes());
  const s = p2(t.getUTCSeconds());
  switch (part) {
    case 'year':
      return Y;
    case 'month':
      return M;
    case 'day':
      return D;
    case 'date':
      return `${Y}-${M}-${D}`;
    case 'julian':
      return String(
        Math.floor(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()) / 86400000) + 40587,
      );
    case 'hour':
      return h;
    case 'minute':
      return mi;
    case 'second':
      return s;
    case 'time':
      return `${h}:${mi}:${s}`;
    case 'iso8601':
      return `${Y}-${M}-${D}T${h}:${mi}:${s}${zone.slice(0, 3)}:${zone.slice(3)}`;
    case 'std11': {
      const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
      const mon = MONTH[t.getUTCMonth()]!;
      return `${days[t.getUTCDay()]}, ${D} ${mon[0]!.toUpperCase()}${mon.slice(1)} ${Y} ${h}:${mi}:${s} ${zone}`;
    }
    case 'zone':
      return zone;
    case 'weekday':
      return String(t.getUTCDay());
  }
  return null;
}
