/**
 * Internal mailbox names: checking them and taking them apart.
 *
 * Owns: the rules for Cyrus internal names (`user.fred.Sent`, `example.com!user.fred`,
 * `shared.x`, `DELETED.user.fred.Old.5F2A3B1C`): separator '.', a '.' inside a visible
 * component stored as '^', optional `domain!` prefix. Names that could escape a partition or
 * confuse a file system or a protocol are refused with MailError('badName').
 * Imports: ./api only.
 */
import { MailError } from './api.js';

/** Cyrus's MAX_MAILBOX_NAME is 490 bytes */
export const MAX_NAME_BYTES = 490;

export interface SplitName {
  /** '' when no virtual domain */
  domain: string;
  /** the name without `domain!` */
  local: string;
}

export function splitDomain(name: string): SplitName {
  const i = name.indexOf('!');
  return i < 0 ? { domain: '', local: name } : { domain: name.slice(0, i), local: name.slice(i + 1) };
}

export function joinDomain(domain: string, local: string): string {
  return domain ? `${domain}!${local}` : local;
}

/**
 * Throw MailError('badName') unless `name` is a safe internal name: non-empty components,
 * no control characters or NUL, no '/' (a path separator on disk), no component '.'/'..',
 * at most one `domain!` prefix with a plausible domain, at most 490 bytes.
 */
export function checkInternalName(name: string): void {
  const bad = (why: string): never => {
    throw new MailError('badName', `invalid mailbox name: ${why}`);
  };
  if (name.length === 0) bad('empty');
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) bad('too long');
  if (/[\u0000-\u001f\u007f]/.test(name)) bad('control character');
  const { domain, local } = splitDomain(name);
  if (local.includes('!')) bad("more than one '!'");
  if (name.includes('!') && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(domain)) bad('bad domain');
  for (const c of local.split('.')) {
    if (c.length === 0) bad('empty hierarchy level');
    if (c === '..' || c === '^^' || c === '^') bad('dot component');
    if (c.includes('/')) bad("'/' in a name");
  }
}

/** the owner userid of a personal mailbox (also under the deleted prefix), or null for shared */
export function ownerOf(name: string, deletedPrefix = 'DELETED'): string | null {
  const { domain, local } = splitDomain(name);
  const parts = local.split('.');
  let i = 0;
  if (parts[0] === deletedPrefix && parts[1] === 'user') i = 1;
  if (parts[i] !== 'user' || parts.length < i + 2) return null;
  const localpart = parts[i + 1]!.replace(/\^/g, '.');
  return domain ? `${localpart}@${domain}` : localpart;
}

/** is `name` exactly a user's INBOX (`user.fred`, `example.com!user.fred`)? */
export function isInboxName(name: string): boolean {
  const { local } = splitDomain(name);
  const parts = local.split('.');
  return parts.length === 2 && parts[0] === 'user';
}

/** is `name` in the deleted hierarchy */
export function isDeletedName(name: string, deletedPrefix = 'DELETED'): boolean {
  return splitDomain(name).local.startsWith(deletedPrefix + '.');
}

/** parent internal name, or null at the top (the `domain!` prefix is kept) */
export function parentOf(name: string): string | null {
  const { domain, local } = splitDomain(name);
  const i = local.lastIndexOf('.');
  return i < 0 ? null : joinDomain(domain, local.slice(0, i));
}

/** does `name` equal `root` or lie below it */
export function isWithin(name: string, root: string): boolean {
  return name === root || name.startsWith(root + '.');
}

/**
 * the INBOX name of a userid: `fred` → `user.fred`, `john.doe` → `user.john^doe`,
 * `fred@example.com` (with virtual domains) → `example.com!user.fred`. `defaultDomain` users
 * get no domain prefix, as Cyrus.
 */
export function userInbox(userid: string, virtdomains: boolean, defaultDomain = ''): string {
  let local = userid;
  let domain = '';
  if (virtdomains) {
    const at = Math.max(userid.lastIndexOf('@'), userid.lastIndexOf('%'));
    if (at >= 0) {
      local = userid.slice(0, at);
      domain = userid.slice(at + 1).toLowerCase();
      if (domain === defaultDomain.toLowerCase()) domain = '';
    }
  }
  return joinDomain(domain, `user.${local.replace(/\./g, '^')}`);
}
