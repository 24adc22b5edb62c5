/**
 * The Sieve DeliveryPlanner for lmtpd / cyr_deliver: adapts `sieveForDelivery` (deliver.ts)
 * to the LMTP hook `DeliveryPlanner` (src/protocols/lmtp/deliver.ts).
 *
 * Only personal recipients run Sieve (shared folders have no script). A user without an
 * active script costs one readlink; only then is the spool parsed (the planner input carries
 * no ParsedMessage). Implicit keep for `user+detail` goes to the +detail mailbox, as Cyrus
 * files it. Mailboxes created by `fileinto :create` are made with the owner's rights.
 *
 * Imports: lmtp deliver types (type only), store api, mail parser, sieve deliver/store.
 */
import type { DeliveryPlan, DeliveryPlanner, PlannerInput } from '../protocols/lmtp/deliver.js';
import { parseMessage } from '../mail/parse.js';
import { sieveForDelivery } from './deliver.js';
import { SieveStore } from './store.js';

export const sievePlanner: DeliveryPlanner = async (input: PlannerInput): Promise<DeliveryPlan> => {
  const r = input.recipient;
  const fallback: DeliveryPlan = { targets: [{ mailbox: r.mailbox, flags: [] }] };
  if (!r.userid || !r.inbox) return fallback;
  if (!input.conf.getSwitch('sieveusehomedir') && SieveStore.for(input.conf).activeName(r.userid) === null)
    return fallback;
  const parsed = await parseMessage(input.spool.content());
  // the owner acts with administrative power inside their own hierarchy (as lmtpd appends);
  // outside it, fileinto needs the user's own 'p' right (mayPost)
  const owner = { userid: r.userid, isAdmin: true, groups: [] as string[] };
  const user = { userid: r.userid, isAdmin: false, groups: [] as string[] };
  const plan = await sieveForDelivery({
    conf: input.conf,
    log: input.log,
    userid: r.userid,
    envelopeFrom: input.envelope.from,
    envelopeTo: r.address,
    messagePath: input.spool.path(),
    parsed,
    mailboxExists: (name) => input.store.lookup(name) !== undefined,
    mayPost: (name) => {
      try {
        return input.store.rights(user, name).includes('p');
      } catch {
        return false;
      }
    },
    createMailbox: (name) => void input.store.createMailbox(owner, name),
    mailboxesWithSpecialUse: (use) =>
      input.store
        .list(owner, r.inbox!)
        .filter((m) => m.specialUse.some((u) => u.toLowerCase() === use.toLowerCase()))
        .map((m) => m.name),
    fileCopy: async (name, message, flags) => {
      await input.store.append(owner, name, message, { flags });
    },
    mailboxById: (id) => input.store.list(owner, r.inbox!).find((m) => m.uniqueId === id)?.name,
    getMetadata: (mailbox, entry) => {
      try {
        return input.store.getAnnotation(
          owner,
          mailbox ?? '',
          entry.replace(/^\/(private|shared)/, ''),
          entry.startsWith('/shared'),
        );
      } catch {
        return undefined;
      }
    },
  });
  if (!plan) return fallback;
  if (plan.reject) return { targets: [], reject: plan.reject.reason };
  if (plan.discard) return { targets: [], discard: true };
  return {
    targets: plan.deliveries.map((d) => ({
      mailbox: d.mailbox === r.inbox ? r.mailbox : d.mailbox,
      flags: d.flags,
    })),
  };
};
