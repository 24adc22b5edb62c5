/**
 * Delivering one spooled message to one resolved recipient: plan where it goes, suppress
 * duplicates, append, record. Shared by lmtpd (one call per accepted RCPT after DATA), by
 * `cyr_deliver` when it delivers directly, and by nothing else.
 *
 * THE SIEVE HOOK — `DeliveryPlanner`:
 *   Given the recipient (userid, target mailbox), the envelope and the spool file, a planner
 *   answers where to file the message (mailboxes + flags), or that it is rejected/discarded.
 *   `defaultPlanner` files into the resolved mailbox (INBOX, or the +detail folder).
 *   The Sieve engine plugs in by passing its planner as `LmtpDeps.planner` (see service.ts,
 *   `plannerFor`), e.g. one built on `sieveForDelivery` in src/sieve/deliver.ts that maps a
 *   SieveDeliveryPlan to a DeliveryPlan. A planner that throws, or answers with no targets
 *   and no discard/reject, falls back to the default (implicit keep).
 *
 * Duplicate suppression (duplicatesuppression, deliver.db): key (Message-ID, mailbox
 * uniqueid), case-sensitive; checked before and recorded after each successful append. A
 * message without Message-ID is never suppressed (Cyrus generates distinct ids for them).
 *
 * Owns: the per-recipient delivery step and the DeliveryPlanner type. Errors are MailError;
 * replies are chosen by replies.ts.
 */
import type { ImapdConf } from '../../config/api.js';
import type { DuplicateDb } from '../../db/duplicate.js';
import type { Logger } from '../../log/logger.js';
import { MailError, type Identity, type Store } from '../../store/api.js';
import type { ResolvedRecipient } from './recipient.js';
import type { SpooledMessage } from './spool.js';

export interface DeliveryEnvelope {
  /** MAIL FROM address without brackets ('' = null sender) */
  from: string;
  /** authenticated LMTP identity, or 'postman' */
  poster: string;
}

export interface PlannerInput {
  conf: ImapdConf;
  log: Logger;
  store: Store;
  recipient: ResolvedRecipient;
  envelope: DeliveryEnvelope;
  /** the spooled message (trace headers included), readable until delivery ends */
  spool: SpooledMessage;
  /** Message-ID captured at DATA, if any */
  messageId: string | null;
}

export interface DeliveryTarget {
  /** internal mailbox name */
  mailbox: string;
  flags: string[];
}

export interface DeliveryPlan {
  targets: DeliveryTarget[];
  /** the message is dropped on purpose (Sieve discard) */
  discard?: boolean;
  /** refuse the recipient with this reason (Sieve reject): 550 5.7.1 */
  reject?: string;
}

/** The Sieve hook point; see the module header. */
export type DeliveryPlanner = (input: PlannerInput) => Promise<DeliveryPlan>;

export const defaultPlanner: DeliveryPlanner = (input) =>
  Promise.resolve({ targets: [{ mailbox: input.recipient.mailbox, flags: [] }] });

export interface DeliverDeps {
  conf: ImapdConf;
  log: Logger;
  store: Store;
  dup: DuplicateDb | null;
  planner: DeliveryPlanner;
}

export type DeliveryOutcome =
  | { kind: 'delivered'; mailboxes: string[]; duplicates: string[] }
  | { kind: 'discarded' }
  | { kind: 'rejected'; reason: string };

/**
 * Who appends: lmtpd has already decided the recipient may receive (its own INBOX and
 * folders always, others only with 'p'), so the append acts with administrative power in the
 * name of the owner (or of the poster for shared folders): a user who took 'i' away from
 * their own INBOX still gets mail, as with Cyrus.
 */
export function appendIdentity(r: ResolvedRecipient, envelope: DeliveryEnvelope): Identity {
  return { userid: r.userid ?? envelope.poster, isAdmin: true, groups: [] };
}

/** Deliver the spool to one recipient. Throws MailError when nothing could be stored. */
export async function deliverOne(
  deps: DeliverDeps,
  r: ResolvedRecipient,
  envelope: DeliveryEnvelope,
  spool: SpooledMessage,
  messageId: string | null,
  /** recipients of this message in the transaction (more than one: single-instance store) */
  recipients = 1,
): Promise<DeliveryOutcome> {
  const input: PlannerInput = {
    conf: deps.conf,
    log: deps.log,
    store: deps.store,
    recipient: r,
    envelope,
    spool,
    messageId,
  };
  let plan: DeliveryPlan;
  try {
    plan = await deps.planner(input);
  } catch (e) {
    deps.log.error(`delivery planner failed for ${r.address}: ${String(e)}; implicit keep`);
    plan = await defaultPlanner(input);
  }
  if (plan.reject !== undefined) return { kind: 'rejected', reason: plan.reject };
  if (plan.discard) return { kind: 'discarded' };
  if (plan.targets.length === 0) plan = await defaultPlanner(input);

  const delivered: string[] = [];
  const duplicates: string[] = [];
  let firstError: unknown = null;
  const suppress = deps.dup !== null && messageId !== null && deps.conf.getSwitch('duplicatesuppression');
  // several copies: parse and write the message once, link it into each mailbox (Cyrus's
  // singleinstancestore); one copy is appended directly (a link would only add work)
  // (a large message was staged in the store while it arrived: every copy links it)
  const single =
    spool.isStaged ||
    (deps.conf.getSwitch('singleinstancestore') && (recipients > 1 || plan.targets.length > 1));
  for (const target of plan.targets) {
    let box = deps.store.lookup(target.mailbox);
    let name = target.mailbox;
    if (!box && r.inbox && name !== r.inbox) {
      // a planner target that does not exist: keep in INBOX instead (Cyrus does the same)
      deps.log.notice(`delivery target ${name} missing for ${r.address}; using INBOX`);
      name = r.inbox;
      box = deps.store.lookup(name);
    }
    if (!box) {
      firstError ??= new MailError('notFound', `mailbox ${name} does not exist`);
      continue;
    }
    if (delivered.includes(name) || duplicates.includes(name)) continue;
    if (suppress && deps.dup!.check(messageId, box.uniqueId)) {
      deps.log.notice(`dupelim: eliminated duplicate message to ${box.uniqueId} id ${messageId}`);
      duplicates.push(name);
      continue;
    }
    try {
      const opts = {
        flags: target.flags,
        ignoreQuota: r.ignoreQuota || !deps.conf.getSwitch('lmtp_strict_quota'),
      };
      const who = appendIdentity(r, envelope);
      const res = single
        ? await deps.store.appendStaged(who, name, await spool.staged(deps.store), opts)
        : await deps.store.append(who, name, spool.content(), opts);
      delivered.push(name);
      // recorded after the reply goes out (check sees it at once)
      if (suppress) deps.dup!.markSoon(messageId, box.uniqueId, res.uid);
      deps.log.info(`Delivered: ${messageId ?? '<nomsgid>'} to mailbox: ${name} uid=${res.uid}`);
    } catch (e) {
      firstError ??= e;
    }
  }
  if (delivered.length === 0 && duplicates.length === 0 && firstError !== null) throw firstError;
  return { kind: 'delivered', mailboxes: delivered, duplicates };
}
