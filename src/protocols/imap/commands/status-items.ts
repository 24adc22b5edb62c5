/**
 * The STATUS data items (RFC 3501 §6.3.10, STATUS=SIZE RFC 8438, CONDSTORE HIGHESTMODSEQ,
 * OBJECTID MAILBOXID RFC 8474, DELETED RFC 9051), shared by STATUS and LIST RETURN (STATUS).
 */
import type { Token } from '../parser.js';
import { ImapSyntaxError } from '../args.js';
import type { MailboxStatus } from '../../../store/api.js';

export const STATUS_ITEMS = [
  'MESSAGES',
  'RECENT',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
  'SIZE',
  'DELETED',
  'HIGHESTMODSEQ',
  'MAILBOXID',
] as const;
export type StatusItem = (typeof STATUS_ITEMS)[number];

export function parseStatusItems(list: Token[]): StatusItem[] {
  const out: StatusItem[] = [];
  for (const t of list) {
    const w = t.t === 'atom' ? t.v.toUpperCase() : '';
    if (!(STATUS_ITEMS as readonly string[]).includes(w)) {
      throw new ImapSyntaxError(
        `Invalid Status attributes ${t.t === 'atom' ? t.v.toLowerCase() : ''}`.trim(),
      );
    }
    if (!out.includes(w as StatusItem)) out.push(w as StatusItem);
  }
  return out;
}

export function formatStatus(st: MailboxStatus, items: StatusItem[]): string {
  const v: Record<StatusItem, string> = {
    MESSAGES: `${st.messages}`,
    RECENT: `${st.recent}`,
    UIDNEXT: `${st.uidNext}`,
    UIDVALIDITY: `${st.uidValidity}`,
    UNSEEN: `${st.unseen}`,
    SIZE: `${st.size}`,
    DELETED: `${st.deleted}`,
    HIGHESTMODSEQ: `${st.highestModseq}`,
    MAILBOXID: `(${st.mailboxId})`,
  };
  return items.map((i) => `${i} ${v[i]}`).join(' ');
}
