/**
 * LMTP envelope grammar (RFC 5321 4.1.2 as used by RFC 2033): `MAIL FROM:<path> params` and
 * `RCPT TO:<path> params`, and Cyrus's recipient forms (services.md §4):
 *
 *   user            → INBOX of `user`
 *   user+detail     → INBOX.detail of `user` (when it exists and may be posted to)
 *   user@domain     → with virtdomains the user `user@domain`, else the domain is dropped
 *   +shared.folder  → the shared mailbox `shared.folder`
 *   postuser+shared.folder → the same, when `postuser` is set
 *
 * Owns: parsing only (pure, no store access). Strings here are envelope addresses, which RFC
 * 5321 limits to 256 octets of ASCII; the caller bounds the line before we see it.
 */

export interface EsmtpParams {
  /** parameter name upper-cased → value (null for a bare keyword) */
  [name: string]: string | null;
}

export type PathResult =
  { ok: true; address: string; params: EsmtpParams } | { ok: false; reason: 'syntax' | 'params' };

/**
 * Parse the argument of MAIL/RCPT after the verb: `FROM:<a@b> SIZE=10` (`keyword` = 'FROM').
 * Accepts an optional space after the colon (common client slip), and the null path `<>`.
 * Returns the address without angle brackets (quotes kept) and the parameters.
 */
export function parsePath(arg: string, keyword: 'FROM' | 'TO'): PathResult {
  const head = arg.slice(0, keyword.length + 1).toUpperCase();
  if (head !== `${keyword}:`) return { ok: false, reason: 'syntax' };
  let rest = arg.slice(keyword.length + 1).replace(/^ +/, '');
  if (!rest.startsWith('<')) return { ok: false, reason: 'syntax' };
  // find the closing '>' outside a quoted string
  let i = 1;
  let inQuote = false;
  for (; i < rest.length; i++) {
    const c = rest[i];
    if (inQuote) {
      if (c === '\\') i++;
      else if (c === '"') inQuote = false;
    } else if (c === '"') inQuote = true;
    else if (c === '>') break;
    else if (c === '<' || c === ' ') return { ok: false, reason: 'syntax' };
  }
  if (i >= rest.length) return { ok: false, reason: 'syntax' };
  let address = rest.slice(1, i);
  // RFC 5321 source routes (@a,@b:user@c) are obsolete: drop them
  const route = /^@[^:]*:/.exec(address);
  if (route) address = address.slice(route[0].length);
  rest = rest.slice(i + 1);
  const params: EsmtpParams = {};
  if (rest.length > 0) {
    if (!rest.startsWith(' ')) return { ok: false, reason: 'syntax' };
    for (const word of rest.split(' ')) {
      if (word === '') continue;
      const m = /^([A-Za-z0-9][A-Za-z0-9-]*)(?:=([\x21-\x3c\x3e-\x7e]+))?$/.exec(word);
      if (!m) return { ok: false, reason: 'params' };
      params[m[1]!.toUpperCase()] = m[2] ?? null;
    }
  }
  return { ok: true, address, params };
}

export type Recipient =
  | {
      kind: 'user';
      /** local part without detail, as it will be looked up (downcased per lmtp_downcase_rcpt) */
      user: string;
      /** text after '+', or null when absent; '' when the address ends in '+' */
      detail: string | null;
      /** domain part when virtdomains keeps it, else null */
      domain: string | null;
    }
  | { kind: 'shared'; folder: string };

export interface RecipientOptions {
  /** lmtp_downcase_rcpt: lower-case the local part up to '+' */
  downcase: boolean;
  /** virtdomains is not `off`: keep the domain */
  virtdomains: boolean;
  /** `postuser` option ('' = unset) */
  postuser: string;
  /** defaultdomain: a domain equal to it is dropped */
  defaultDomain?: string | null;
}

export type RecipientResult = { ok: true; rcpt: Recipient } | { ok: false; reason: 'empty' | 'badName' };

/** Turn an envelope address into a Cyrus recipient. `""`-quoted local parts are unquoted. */
export function parseRecipient(address: string, opts: RecipientOptions): RecipientResult {
  if (address === '') return { ok: false, reason: 'empty' };
  let local: string;
  let domain: string | null = null;
  if (address.startsWith('"')) {
    const end = findQuoteEnd(address);
    if (end < 0) return { ok: false, reason: 'badName' };
    local = address.slice(1, end).replace(/\\(.)/g, '$1');
    const after = address.slice(end + 1);
    if (after.startsWith('@')) domain = after.slice(1);
    else if (after !== '') return { ok: false, reason: 'badName' };
  } else {
    const at = address.lastIndexOf('@');
    if (at >= 0) {
      local = address.slice(0, at);
      domain = address.slice(at + 1);
    } else local = address;
  }
  if (domain !== null) {
    domain = domain.toLowerCase();
    if (
      domain === '' ||
      !opts.virtdomains ||
      (opts.defaultDomain && domain === opts.defaultDomain.toLowerCase())
    )
      domain = null;
  }
  // characters a Cyrus mailbox name cannot carry in a user name
  if (local === '' && domain === null) return { ok: false, reason: 'empty' };
  if (/[\x00-\x20\x7f"\\/]/.test(local)) return { ok: false, reason: 'badName' };
  const plus = local.indexOf('+');
  let user = plus >= 0 ? local.slice(0, plus) : local;
  const detail = plus >= 0 ? local.slice(plus + 1) : null;
  if (opts.downcase) user = user.toLowerCase();
  if (detail !== null && (user === '' || (opts.postuser !== '' && user === opts.postuser))) {
    if (detail === '') return { ok: false, reason: 'badName' };
    return { ok: true, rcpt: { kind: 'shared', folder: domain ? `${domain}!${detail}` : detail } };
  }
  if (user === '') return { ok: false, reason: 'empty' };
  return { ok: true, rcpt: { kind: 'user', user, detail, domain } };
}

function findQuoteEnd(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

/** `user`, `user@domain`: the canonical userid a Recipient names. */
export function recipientUserid(r: Extract<Recipient, { kind: 'user' }>): string {
  return r.domain ? `${r.user}@${r.domain}` : r.user;
}
