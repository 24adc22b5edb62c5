/**
 * QUOTA (RFC 9208; QUOTA=RES-STORAGE, QUOTA=RES-MESSAGE, QUOTASET):
 *
 *   getquota     = "GETQUOTA" SP quota-root-name
 *   getquotaroot = "GETQUOTAROOT" SP mailbox
 *   setquota     = "SETQUOTA" SP quota-root-name SP setquota-list
 *   setquota-list     = "(" [setquota-resource *(SP setquota-resource)] ")"
 *   setquota-resource = resource-name SP resource-limit
 *
 *   quota-response     = "QUOTA" SP quota-root-name SP quota-list
 *   quota-list         = "(" quota-resource *(SP quota-resource) ")"   ; "()" when no limits (Cyrus)
 *   quota-resource     = resource-name SP resource-usage SP resource-limit
 *   quotaroot-response = "QUOTAROOT" SP mailbox *(SP quota-root-name)
 *
 * Quota roots are mailboxes; their names are shown the way the user sees mailboxes ("INBOX"
 * for one's own root). STORAGE counts KiB, MESSAGE counts messages. Only administrators may
 * SETQUOTA (the store checks); a resource left out of SETQUOTA loses its limit (RFC 9208 §4.3),
 * and a limit of -1 removes it as Cyrus accepts. GETQUOTA is for administrators and for the
 * user owning the root. Refusing over-quota APPEND/COPY with [OVERQUOTA] is the store's job.
 */
import { MailError, type QuotaInfo } from '../../../store/api.js';
import type { Command } from '../command.js';
import type { Token } from '../parser.js';
import type { ImapSession } from '../session.js';
import { ImapReplyError } from '../errors.js';
import { mailboxArg } from './acl.js';

/** quota-root-name as the user sees it */
function rootName(session: ImapSession, root: string): string {
  return session.wireName(session.externalName(root) ?? root);
}

/** "(STORAGE used limit MESSAGE used limit)" with only the limited resources */
export function quotaList(q: QuotaInfo): string {
  const res: string[] = [];
  if (q.storageLimit !== null) res.push(`STORAGE ${q.storageUsed} ${q.storageLimit}`);
  if (q.messageLimit !== null) res.push(`MESSAGE ${q.messageUsed} ${q.messageLimit}`);
  return `(${res.join(' ')})`;
}

const getquota: Command = {
  names: ['GETQUOTA'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    const { name, wire } = mailboxArg(session, args);
    args.end();
    const who = session.who();
    if (!who.isAdmin) {
      const info = session.store.lookup(name);
      if (!info || info.owner !== who.userid) throw new MailError('perm', 'not the owner of the quota root');
    }
    const q = session.store.getQuota(name);
    if (!q) return { status: 'NO', code: 'NONEXISTENT', text: 'Quota root does not exist' };
    session.untagged(`QUOTA ${wire} ${quotaList(q)}`);
  },
};

const getquotaroot: Command = {
  names: ['GETQUOTAROOT'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    const { name, wire } = mailboxArg(session, args);
    args.end();
    session.store.rights(session.who(), name); // notFound unless the user may see it
    const roots = session.store.quotaRoots(name);
    session.untagged(`QUOTAROOT ${wire}${roots.map((r) => ' ' + rootName(session, r)).join('')}`);
    for (const r of roots) {
      const q = session.store.getQuota(r);
      if (q) session.untagged(`QUOTA ${rootName(session, r)} ${quotaList(q)}`);
    }
  },
};

const RESOURCES: Record<string, 'storage' | 'message'> = { STORAGE: 'storage', MESSAGE: 'message' };

/**
 * cyradm (Cyrus::IMAP's "%v") sends several resources without a space between a limit and
 * the next name: `(MESSAGE 50STORAGE 1000 )`. Such an atom is read as the two it stands for.
 */
function glued(list: Token[]): Token[] {
  const out: Token[] = [];
  for (const t of list) {
    const m = t.t === 'atom' ? /^(-?\d+)([A-Za-z][A-Za-z0-9-]*)$/.exec(t.v) : null;
    if (m) out.push({ t: 'atom', v: m[1]! }, { t: 'atom', v: m[2]! });
    else out.push(t);
  }
  return out;
}

const setquota: Command = {
  names: ['SETQUOTA'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    const { name, wire } = mailboxArg(session, args);
    const list = glued(args.list().v);
    args.end();
    if (list.length % 2 !== 0) throw new ImapReplyError('BAD', `Invalid quota list in ${args.cmd}`);
    const limits: { storage: number | null; message: number | null } = { storage: null, message: null };
    for (let i = 0; i < list.length; i += 2) {
      const r = list[i]!;
      const v = list[i + 1]!;
      if (r.t !== 'atom') throw new ImapReplyError('BAD', `Invalid quota resource in ${args.cmd}`);
      const key = RESOURCES[r.v.toUpperCase()];
      if (!key) throw new ImapReplyError('NO', `Unsupported quota resource ${r.v}`, 'CANNOT');
      if (v.t !== 'atom' || !/^(?:-1|\d{1,19})$/.test(v.v))
        throw new ImapReplyError('BAD', `Invalid quota limit in ${args.cmd}`);
      const n = Number(v.v);
      if (n > Number.MAX_SAFE_INTEGER) throw new ImapReplyError('BAD', `Invalid quota limit in ${args.cmd}`);
      limits[key] = n < 0 ? null : n;
    }
    session.store.setQuota(session.who(), name, limits);
    const q = session.store.getQuota(name);
    if (q) session.untagged(`QUOTA ${wire} ${quotaList(q)}`);
  },
};

export default [getquota, getquotaroot, setquota];
