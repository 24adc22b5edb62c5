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
import { effectiveRights } from '../../store/acl.js';
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

/**
 * `detail` as written in an address → candidate internal name suffixes, best first. With
 * unixhierarchysep ('/' separator) `a/b` is the hierarchy and '.' is a character ('^'), but
 * MTA configurations and Cyrus's own docs write `+shared.folder`, so the '.'-hierarchy reading
 * is tried second.
 */
function detailCandidates(detail: string, conf: ImapdConf): string[] {
  const out = [conf.getSwitch('unixhierarchysep') ? detail.replace(/\./g, '^').replace(/\//g, '.') : detail];
  if (!out.includes(detail) && !detail.includes('/')) out.push(detail);
  return out;
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
  // Store.rights() hides mailboxes the poster cannot see ('l'/'r'), but a folder open to
  // `anyone p` only is the normal way to accept mail: judge the raw ACL, as Cyrus's lmtpd does
  const implicit = ctx.conf.getString('implicit_owner_rights') ?? 'lkxan';
  return effectiveRights(ctx.poster, box.acl, box.owner, implicit).includes('p');
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
    const box = detailCandidates(rcpt.folder, ctx.conf)
      .map((n) => ctx.store.lookup(n))
      .find((b) => b !== undefined);
    if (!box || !canPost(ctx, box)) throw new MailError('notFound', `no shared mailbox ${rcpt.folder}`);
    resolved = { address, rcpt, userid: null, mailbox: box.name, inbox: null, ignoreQuota: opts.ignoreQuota };
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
    if (rcpt.detail) {
      for (const d of detailCandidates(rcpt.detail, ctx.conf)) {
        const hit = findDetailFolder(ctx, inbox, d);
        if (hit) {
          mailbox = hit;
          break;
        }
      }
    }
    resolved = { address, rcpt, userid, mailbox, inbox, ignoreQuota: opts.ignoreQuota };
  }
  if (!opts.ignoreQuota)
    checkQuota(ctx, resolved.mailbox, ctx.conf.getSwitch('lmtp_strict_quota') ? (opts.sizeHint ?? 0) : 0);
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
    // a root without limits (autocreate_quota 0) never refuses: skip adding up its usage
    const lim = ctx.store.quotaLimits(root);
    if (!lim || (lim.storage === null && lim.message === null)) continue;
    const q = ctx.store.getQuota(root);
    if (!q) continue;
    const extraMsgs = extraBytes > 0 ? 1 : 0;
    if (q.storageLimit !== null && q.storageUsed * 1024 + extraBytes > q.storageLimit * 1024)
      throw new MailError('overQuota', `quota root ${root} over its storage limit`);
    if (q.messageLimit !== null && q.messageUsed + extraMsgs > q.messageLimit)
      throw new MailError('overQuota', `quota root ${root} over its message limit`);
  }
}
