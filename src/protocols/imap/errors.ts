/**
 * The one place where errors become IMAP replies (RFC 5530 response codes).
 *
 * Owns: MailError kind → `NO [CODE] text`; anything unexpected → `NO [SERVERBUG]` with the
 * session id for the administrator, and the details in the log only. A missing right reads
 * like a missing mailbox (the store already throws notFound for that), so a client cannot
 * probe for names it may not see.
 * Imports: store/api.ts (MailError), args.ts (ImapSyntaxError).
 */
import { MailError, type MailErrorKind } from '../../store/api.js';
import { ImapSyntaxError } from './args.js';

export interface Reply {
  status?: 'OK' | 'NO' | 'BAD';
  code?: string;
  text?: string;
  /** the command already sent its tagged reply (STARTTLS) */
  silent?: boolean;
}

/** Thrown by commands for a NO/BAD with a chosen code and text. */
export class ImapReplyError extends Error {
  constructor(
    readonly status: 'NO' | 'BAD',
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ImapReplyError';
  }
}

const KIND: Record<MailErrorKind, { code: string; text: string }> = {
  notFound: { code: 'NONEXISTENT', text: 'Mailbox does not exist' },
  exists: { code: 'ALREADYEXISTS', text: 'Mailbox already exists' },
  perm: { code: 'NOPERM', text: 'Permission denied' },
  overQuota: { code: 'OVERQUOTA', text: 'Over quota' },
  tooBig: { code: 'TOOBIG', text: 'Message too large' },
  inUse: { code: 'INUSE', text: 'Mailbox is in use' },
  expunged: { code: 'EXPUNGEISSUED', text: 'Some of the requested messages no longer exist' },
  limit: { code: 'LIMIT', text: 'Over a server limit' },
  badName: { code: 'CANNOT', text: 'Invalid mailbox name' },
  temp: { code: 'UNAVAILABLE', text: 'Temporary failure, try again later' },
};

/** Map any thrown value to a reply; `internal` is called with details for unexpected errors. */
export function replyFor(err: unknown, sessionId: string, internal: (detail: string) => void): Reply {
  if (err instanceof ImapSyntaxError) return { status: 'BAD', text: err.message };
  if (err instanceof ImapReplyError) return { status: err.status, code: err.code, text: err.message };
  if (err instanceof MailError) {
    const k = KIND[err.kind];
    if (k) return { status: 'NO', code: k.code, text: k.text };
  }
  internal(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return { status: 'NO', code: 'SERVERBUG', text: `Internal error, session ${sessionId}` };
}
