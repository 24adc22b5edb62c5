/**
 * ACL arithmetic (RFC 4314) with Cyrus's conventions.
 *
 * Owns: parsing and printing Cyrus ACL strings (`id\trights\tid\trights\t`), rights strings
 * (letters `lrswipkxtecdan` plus custom `0`-`9`; legacy `c` = k+x and `d` = t+e+x as Cyrus
 * expands them), negative entries (`-id`), the identifiers `anyone` and `anonymous`, owner
 * implicit rights (implicit_owner_rights) and admins (all rights).
 * Imports: ./api types.
 */
import { MailError, type Identity } from './api.js';

/** canonical order of the RFC 4314 rights, then Cyrus's custom digits */
const ORDER = 'lrswipkxtean0123456789';
export const ALL_RIGHTS = 'lrswipkxtecdan';

/** a rights string → set of canonical letters (c and d expanded); unknown letters throw MailError('badName') */
export function parseRights(rights: string): Set<string> {
  const out = new Set<string>();
  for (const ch of rights) {
    if (ch === 'c') {
      out.add('k');
      out.add('x');
    } else if (ch === 'd') {
      out.add('t');
      out.add('e');
      out.add('x');
    } else if (ORDER.includes(ch)) out.add(ch);
    else throw new MailError('badName', `invalid right '${ch}'`);
  }
  return out;
}

/** set → canonical string, with the legacy `c` (k and x) and `d` (t and e) shown as Cyrus does */
export function formatRights(set: Set<string>): string {
  let s = '';
  for (const ch of 'lrswipkxte') {
    if (set.has(ch)) s += ch;
  }
  if (set.has('k') && set.has('x')) s += 'c';
  if (set.has('t') && set.has('e')) s += 'd';
  for (const ch of 'an0123456789') if (set.has(ch)) s += ch;
  return s;
}

export type AclEntries = Map<string, string>;

/** parse `id\trights\t...` into identifier → rights (negative ids keep their '-') */
export function parseAcl(acl: string): AclEntries {
  const m: AclEntries = new Map();
  const parts = acl.split('\t');
  for (let i = 0; i + 1 < parts.length; i += 2) {
    if (parts[i]) m.set(parts[i]!, parts[i + 1]!);
  }
  return m;
}

export function formatAcl(m: AclEntries): string {
  let s = '';
  for (const [id, r] of m) s += `${id}\t${r}\t`;
  return s;
}

/** `defaultacl` style "anyone lrs fred lrswipkxtecdan" → Cyrus ACL string */
export function aclFromPairs(text: string): string {
  const w = text.trim().split(/\s+/).filter(Boolean);
  const m: AclEntries = new Map();
  for (let i = 0; i + 1 < w.length; i += 2) m.set(w[i]!, formatRights(parseRights(w[i + 1]!)));
  return formatAcl(m);
}

/** identifiers an identity answers to */
function identifiers(who: Identity): Set<string> {
  const ids = new Set<string>(['anyone', who.userid, ...who.groups]);
  return ids;
}

/**
 * Effective rights of `who` on a mailbox with this ACL and owner: admins have all; else the
 * union of matching entries (anyone, the userid, groups; `anonymous` only matches the anonymous
 * user), plus implicit owner rights, minus matching negative entries.
 */
export function effectiveRights(
  who: Identity,
  acl: string,
  owner: string | null,
  implicitOwnerRights: string,
): string {
  if (who.isAdmin) return ALL_RIGHTS;
  const ids = identifiers(who);
  const pos = new Set<string>();
  const neg = new Set<string>();
  for (const [id, r] of parseAcl(acl)) {
    const negative = id.startsWith('-');
    const name = negative ? id.slice(1) : id;
    if (!ids.has(name)) continue;
    let set: Set<string>;
    try {
      set = parseRights(r);
    } catch {
      continue;
    }
    for (const ch of set) (negative ? neg : pos).add(ch);
  }
  if (owner !== null && owner === who.userid) {
    for (const ch of parseRights(implicitOwnerRights)) pos.add(ch);
  }
  for (const ch of neg) pos.delete(ch);
  return formatRights(pos);
}

/**
 * Apply a SETACL: `rights` may start with '+' (add) or '-' (remove); null deletes the entry.
 * Returns the new ACL string.
 */
export function applyAcl(acl: string, identifier: string, rights: string | null): string {
  const m = parseAcl(acl);
  if (rights === null) {
    m.delete(identifier);
    return formatAcl(m);
  }
  let mode: 'set' | 'add' | 'remove' = 'set';
  let r = rights;
  if (r.startsWith('+')) {
    mode = 'add';
    r = r.slice(1);
  } else if (r.startsWith('-')) {
    mode = 'remove';
    r = r.slice(1);
  }
  const change = parseRights(r);
  const cur = mode === 'set' ? new Set<string>() : parseRights(m.get(identifier) ?? '');
  for (const ch of change) {
    if (mode === 'remove') cur.delete(ch);
    else cur.add(ch);
  }
  if (cur.size === 0) m.delete(identifier);
  else m.set(identifier, formatRights(cur));
  return formatAcl(m);
}
