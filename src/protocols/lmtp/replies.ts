/**
 * Every LMTP reply line in one table, and the one place store errors become LMTP replies
 * (STYLE.md: errors mapped once per protocol). Texts follow Cyrus 3.6 where it was observed
 * (cyrus-observed.md §2, §6); enhanced codes from RFC 3463.
 */
import { MailError, type MailErrorKind } from '../../store/api.js';

export interface Reply {
  code: number;
  /** enhanced status code, or null where RFC 2034 has none (greeting, LHLO) */
  enhanced: string | null;
  text: string;
}

const r = (code: number, enhanced: string | null, text: string): Reply => ({ code, enhanced, text });

export const R = {
  ok: r(250, '2.0.0', 'ok'),
  senderOk: r(250, '2.1.0', 'ok'),
  rcptOk: r(250, '2.1.5', 'ok'),
  reset: r(250, '2.0.0', 'ok'),
  bye: r(221, '2.0.0', 'bye'),
  goAhead: r(354, null, 'go ahead'),
  vrfy: r(252, '2.3.3', 'try RCPT to attempt delivery'),
  syntax: r(500, '5.5.2', 'Syntax error'),
  unknownCommand: r(500, '5.5.2', 'Unrecognized command'),
  lineTooLong: r(500, '5.5.2', 'Line too long'),
  paramSyntax: r(501, '5.5.4', 'Syntax error in parameters'),
  unknownParams: r(501, '5.5.4', 'Unrecognized parameters'),
  needLhlo: r(503, '5.5.1', 'Need LHLO command'),
  nestedMail: r(503, '5.5.1', 'Nested MAIL command'),
  needMail: r(503, '5.5.1', 'Need MAIL command'),
  noRecipients: r(503, '5.5.1', 'No recipients'),
  tooManyRecipients: r(452, '4.5.3', 'Too many recipients'),
  authRequired: r(430, null, 'Authentication required'),
  authRequiredPerm: r(530, '5.7.0', 'Authentication required'),
  alreadyAuth: r(503, '5.5.0', 'already authenticated'),
  authOk: r(235, null, 'Authenticated!'),
  authFailed: r(501, '5.5.4', 'authentication failure'),
  authCancelled: r(501, '5.5.4', 'client canceled authentication'),
  authNotAllowed: r(501, '5.7.0', 'only administrators may authenticate to LMTP'),
  mechUnknown: r(504, '5.5.4', 'Unrecognized authentication type'),
  tlsGo: r(220, '2.0.0', 'Ready to start TLS'),
  tlsUnavailable: r(454, '4.7.0', 'TLS not available'),
  tlsAlready: r(454, '4.7.0', 'TLS already active'),
  sizeExceeded: r(552, '5.3.4', 'Message size exceeds fixed maximum message size'),
  invalidHeader: r(554, '5.6.0', 'Message contains invalid header'),
  nul: r(554, '5.6.0', 'Message contains NUL characters'),
  eightBitHeader: r(554, '5.6.0', 'Message contains non-ASCII characters in headers'),
  userUnknown: r(550, '5.1.1', 'User unknown'),
  badMailboxName: r(550, '5.1.3', 'Invalid mailbox name'),
  overQuotaTemp: r(452, '4.2.2', 'Over quota'),
  overQuotaPerm: r(552, '5.2.2', 'Over quota'),
  permission: r(550, '5.7.1', 'Permission denied'),
  temp: r(451, '4.3.0', 'Temporary failure, try again later'),
  shuttingDown: r(421, '4.3.2', 'Server shutting down'),
  timeout: r(421, '4.4.2', 'Idle timeout, closing connection'),
} as const;

/** Cyrus's long text before `550 5.1.1 User unknown` (cyrus-observed.md §6). */
export const USER_UNKNOWN_PREAMBLE = [
  'Mailbox unknown.  Either there is no mailbox associated with this',
  'name or you do not have authorization to see it.',
];

/** Format one (possibly multi-line) reply. */
export function formatReply(rep: Reply, extra?: string, preamble: string[] = []): string {
  const lines = [...preamble.map((t) => `${rep.code}-${t}`)];
  const text = rep.enhanced ? `${rep.enhanced} ${rep.text}` : rep.text;
  lines.push(`${rep.code} ${text}${extra ? ' ' + extra : ''}`);
  return lines.join('\r\n') + '\r\n';
}

/**
 * The reply for a store error kind at RCPT or after DATA. `notFound` and `perm` on a mailbox
 * read alike (no existence leaks); overQuota is 4xx unless lmtp_over_quota_perm_failure.
 */
export function replyForKind(kind: MailErrorKind, overQuotaPerm: boolean): Reply {
  switch (kind) {
    case 'notFound':
    case 'perm':
      return R.userUnknown;
    case 'overQuota':
      return overQuotaPerm ? R.overQuotaPerm : R.overQuotaTemp;
    case 'tooBig':
      return R.sizeExceeded;
    case 'badName':
      return R.badMailboxName;
    case 'exists':
    case 'inUse':
    case 'expunged':
    case 'limit':
    case 'temp':
      return R.temp;
  }
}

/** Any thrown value → a reply; unexpected errors (not MailError) are temporary failures. */
export function replyForError(err: unknown, overQuotaPerm: boolean): { reply: Reply; internal: boolean } {
  if (err instanceof MailError) return { reply: replyForKind(err.kind, overQuotaPerm), internal: false };
  return { reply: R.temp, internal: true };
}
