/**
 * Who a user is, in canonical form, and what they may act as.
 *
 * Owns: canonical userids (username_tolower, virtdomains, defaultdomain, loginrealms, '%' as
 * domain separator), the admin test (`admins`, service-specific through the conf's
 * `<service>_admins` override), and the authorisation rule for SASL authzids (only admins
 * and `proxyservers` may act as someone else).
 *
 * Canonical form, as Cyrus 3.6 (imap/global.c mysasl_canon_user + mboxname rules):
 *  - virtdomains off: a realm (`user@realm`) is accepted only when the realm is listed in
 *    `loginrealms`, and is then stripped; userids never carry a domain.
 *  - virtdomains userid/on: split at the last '@' or '%'; the domain is lower-cased; a domain
 *    equal to `defaultdomain` is dropped (`user@defaultdomain` is `user`). `on` would take the
 *    domain of an unqualified user from the local interface's reverse DNS; we treat it like
 *    `userid` (unqualified users stay in the default domain) — said in the report.
 *  - username_tolower (default on) lower-cases the whole userid.
 * A userid that is empty, too long, or contains control characters, spaces or a second
 * domain separator is refused (null), so it never reaches a store or a log line unescaped.
 *
 * Imports: the config contract only.
 */
import type { ImapdConf } from '../config/api.js';

/** Cyrus caps userids at MAX_MAILBOX_NAME-ish lengths; 255 bytes is generous and bounded. */
const MAX_USERID = 255;

function listOf(v: string | null | undefined): string[] {
  return (v ?? '').split(/[\s,]+/).filter(Boolean);
}

/** The canonical userid for what a client typed, or null when it can never be a valid user. */
export function canonUser(conf: ImapdConf, raw: string): string | null {
  if (raw.length === 0 || Buffer.byteLength(raw) > MAX_USERID) return null;
  if (/[\x00-\x20\x7f]/.test(raw)) return null;
  let user = raw;
  if (conf.getSwitch('username_tolower')) user = user.toLowerCase();
  const virt = conf.getEnum('virtdomains');
  const at = Math.max(user.lastIndexOf('@'), user.lastIndexOf('%'));
  if (virt === 'off') {
    if (at < 0) return user;
    const local = user.slice(0, at);
    const realm = user.slice(at + 1).toLowerCase();
    if (local.length === 0 || /[@%]/.test(local)) return null;
    const allowed = listOf(conf.getString('loginrealms')).map((r) => r.toLowerCase());
    return allowed.includes(realm) ? local : null;
  }
  if (at < 0) return user;
  const local = user.slice(0, at);
  const domain = user.slice(at + 1).toLowerCase();
  if (local.length === 0 || domain.length === 0 || /[@%]/.test(local)) return null;
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(domain)) return null;
  const def = (conf.getString('defaultdomain') ?? '').toLowerCase();
  if (def && domain === def) return local;
  return `${local}@${domain}`;
}

/** Split a canonical userid into local part and domain ('' when none). */
export function splitUser(userid: string): { local: string; domain: string } {
  const at = userid.lastIndexOf('@');
  return at < 0
    ? { local: userid, domain: '' }
    : { local: userid.slice(0, at), domain: userid.slice(at + 1) };
}

function inList(conf: ImapdConf, list: string[], userid: string): boolean {
  for (const entry of list) {
    const c = canonUser(conf, entry);
    if (c !== null && c === userid) return true;
  }
  return false;
}

/** Is this canonical userid an administrator for the conf's service (`admins`, `<service>_admins`)? */
export function isAdmin(conf: ImapdConf, userid: string): boolean {
  return inList(conf, listOf(conf.getString('admins')), userid);
}

/** Is this canonical userid allowed to act as any user (`proxyservers`)? */
export function isProxyServer(conf: ImapdConf, userid: string): boolean {
  return inList(conf, listOf(conf.getString('proxyservers')), userid);
}

/**
 * May `authcid` (canonical, proven) act as `authzid` (canonical)? Yes when they are the same
 * user, or when authcid is an admin or a proxy server (Cyrus mysasl_proxy_policy).
 */
export function mayAuthorize(conf: ImapdConf, authcid: string, authzid: string): boolean {
  if (authzid === '' || authzid === authcid) return true;
  return isAdmin(conf, authcid) || isProxyServer(conf, authcid);
}
