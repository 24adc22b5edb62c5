/**
 * From an RCPT address to the mailbox a delivery goes to, the way Cyrus lmtpd decides it:
 *
 *  - `user`: the user's INBOX; missing ⇒ created when `autocreate_post`, else delivered to
 *    `lmtp_catchall_mailbox`'s INBOX when set, else unknown (550 5.1.1).
 *  - `user+detail`: INBOX.detail when it exists and the poster (the authenticated LMTP
 *    identity, `postman` for trusted clients, plus `anyone`) holds 'p' on it; with
 *    `lmtp_fuzzy_mailbox_match` a case- and space-insensitive match, then the nearest parent;
 *    otherwise the INBOX (Cyrus: `user10+nosuchfolder` → INBOX).
 *  - `+shared.folder` / `postuser+shared.folder`: that shared mailbox, which must exist and
 *    allow posting, else unknown (no existence leak).
 *  - folders with a special-use attribute in `lmtp_exclude_specialuse` are never targets.
 *
 * Quota at RCPT (cyrus-observed.md §6): refused only when the quota root is *already* over
 * (used > limit), unless `lmtp_strict_quota`, where the announced SIZE counts too.
 *
 * Owns: resolution and the RCPT-time quota check. Throws MailError (mapped by replies.ts).
 * Imports: the store contract, address.ts.
 */
import type { ImapdConf } from '../../config/api.js';
import { MailError, type Identity, type MailboxInfo, type Store } from '../../store/api.js';
import { Namespace } from '../../store/namespace.js';
import { parseRecipient, recipientUserid, type Recipient } from './address.js';

export interface ResolvedRecipient {
  /** the RCPT TO address as given */
  address: string;
  rcpt: Recipient;
  /** owner userid for personal mailboxes, null for shared folders */
  userid: string | null;
  /** internal name of the target mailbox */
  mailbox: string;
  /** internal name of the owner's INBOX (null for shared folders) */
  inbox: string | null;
  /** IGNOREQUOTA was given (or -q for cyr_deliver) */
  ignoreQuota: boolean;
}

export interface ResolveContext {
  store: Store;
  conf: ImapdConf;
  /** who posts: the authenticated LMTP user, or postman */
  poster: Identity;
}

/** Internal name of a user's INBOX (`user.fred`, `example.com!user.fred`), per the namespace rules. */
export function inboxName(conf: ImapdConf, userid: string): string {
  return new Namespace(conf).inbox(userid);
}

/** `detail` as written in an address → internal name suffix (hierarchy separator '.'). */
function detailToInternal(detail: string, conf: ImapdConf): string {
  if (conf.getSwitch('unixhierarchysep')) return detail.replace(/\./g, '^').replace(/\//g, '.');
  return detail;
}

export function recipientOptions(conf: ImapdConf): Parameters<typeof parseRecipient>[1] {
  return {
    downcase: conf.getSwitch('lmtp_downcase_rcpt'),
    virtdomains: conf.getEnum('virtdomains') !== 'off',
    postuser: conf.getString('postuser') ?? '',
    defaultDomain: conf.getString('defaultdomain'),
  };
}

function canPost(ctx: ResolveContext, box: MailboxInfo): boolean {
  const excluded = (ctx.conf.getString('lmtp_exclude_specialuse') ?? '').split(/\s+/).filter(Boolean);
  if (box.specialUse.some((u) => excluded.some((x) => x.toLowerCase() === u.toLowerCase()))) return false;
  return ctx.store.rights(ctx.poster, box.name).includes('p');
}

/**
 * Resolve an RCPT address. Throws MailError: badName (syntax of the name), notFound (no such
 * user or shared folder), overQuota (unless ignoreQuota).
 */
export function resolveRecipient(
  address: string,
  ctx: ResolveContext,
  opts: { ignoreQuota: boolean; sizeHint?: number; /** false: never autocreate (smmapd) */ create?: boolean },
): ResolvedRecipient {
  const parsed = parseRecipient(address, recipientOptions(ctx.conf));
  if (!parsed.ok) {
    if (parsed.reason === 'empty') throw new MailError('notFound', 'empty recipient');
    throw new MailError('badName', `invalid mailbox name in ${address}`);
  }
  const rcpt = parsed.rcpt;
  let resolved: ResolvedRecipient;
  if (rcpt.kind === 'shared') {
    const name = detailToInternal(rcpt.folder, ctx.conf);
    const box = ctx.store.lookup(name);
    if (!box || !canPost(ctx, box)) throw new MailError('notFound', `no shared mailbox ${name}`);
    resolved = { address, rcpt, userid: null, mailbox: name, inbox: null, ignoreQuota: opts.ignoreQuota };
  } else {
    let userid = recipientUserid(rcpt);
    let inbox = inboxName(ctx.conf, userid);
    if (!ctx.store.lookup(inbox)) {
      const catchall = ctx.conf.getString('lmtp_catchall_mailbox');
      if (opts.create !== false && ctx.conf.getSwitch('autocreate_post')) {
        ctx.store.ensureInbox(userid);
      } else if (catchall) {
        userid = catchall;
        inbox = inboxName(ctx.conf, catchall);
        if (!ctx.store.lookup(inbox)) throw new MailError('notFound', `catch-all ${catchall} has no INBOX`);
      } else throw new MailError('notFound', `no INBOX for ${userid}`);
    }
    let mailbox = inbox;
    if (rcpt.detail) mailbox = findDetailFolder(ctx, inbox, detailToInternal(rcpt.detail, ctx.conf)) ?? inbox;
    resolved = { address, rcpt, userid, mailbox, inbox, ignoreQuota: opts.ignoreQuota };
  }
  if (!opts.ignoreQuota) checkQuota(ctx, resolved.mailbox, ctx.conf.getSwitch('lmtp_strict_quota') ? (opts.sizeHint ?? 0) : 0);
  return resolved;
}

function findDetailFolder(ctx: ResolveContext, inbox: string, detail: string): string | null {
  const exact = ctx.store.lookup(`${inbox}.${detail}`);
  if (exact) return canPost(ctx, exact) ? exact.name : null;
  if (!ctx.conf.getSwitch('lmtp_fuzzy_mailbox_match')) return null;
  // case- and space-insensitive match among the user's folders, then the nearest parent
  const norm = (s: string): string => s.toLowerCase().replace(/ /g, '');
  const owner: Identity = { userid: ctx.poster.userid, isAdmin: true, groups: ctx.poster.groups };
  const folders = ctx.store.list(owner, `${inbox}.`).filter((b) => b.name.startsWith(`${inbox}.`));
  const parts = detail.split('.');
  for (let n = parts.length; n > 0; n--) {
    const want = norm(parts.slice(0, n).join('.'));
    const hit = folders.find((b) => norm(b.name.slice(inbox.length + 1)) === want);
    if (hit && canPost(ctx, hit)) return hit.name;
  }
  return null;
}

/** Throws overQuota when a quota root of `mailbox` is over (used + extra > limit). */
export function checkQuota(ctx: { store: Store }, mailbox: string, extraBytes: number): void {
  for (const root of ctx.store.quotaRoots(mailbox)) {
    const q = ctx.store.getQuota(root);
    if (!q) continue;
    const extraMsgs = extraBytes > 0 ? 1 : 0;
    if (q.storageLimit !== null && q.storageUsed * 1024 + extraBytes > q.storageLimit * 1024)
      throw new MailError('overQuota', `quota root ${root} over its storage limit`);
    if (q.messageLimit !== null && q.messageUsed + extraMsgs > q.messageLimit)
      throw new MailError('overQuota', `quota root ${root} over its message limit`);
  }
}
