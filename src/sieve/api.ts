/**
 * The Sieve contract other folders use: the delivery entry point's input and result.
 *
 * Owns: types only. `deliver.ts` implements `sieveForDelivery`, which LMTP (and cyr_deliver)
 * call once per recipient after the message is spooled and parsed. Mailbox names in a plan
 * are *internal* names (`user.fred.Junk`); INBOX is `user.fred`.
 */
import type { ImapdConf } from '../config/api.js';
import type { Logger } from '../log/logger.js';
import type { ParsedMessage } from '../mail/api.js';

export interface SieveDeliveryInput {
  conf: ImapdConf;
  log: Logger;
  /** canonical userid of the recipient (`fred`, or `fred@example.com` with virtdomains) */
  userid: string;
  /** MAIL FROM address, without angle brackets ('' for the null sender) */
  envelopeFrom: string;
  /** RCPT TO address as given (may carry +detail) */
  envelopeTo: string;
  /** RFC 3461 ORCPT, when known */
  originalRecipient?: string;
  /** the spooled message file (header block is read from here, bounded) */
  messagePath: string;
  parsed: ParsedMessage;
  /** does this internal mailbox name exist (for fileinto and mailboxexists) */
  mailboxExists: (internalName: string) => boolean;
  /**
   * May the recipient's script file into this mailbox outside the user's own hierarchy
   * (Cyrus: the user holds the 'p' right on it)? Absent = only the user's own mailboxes.
   */
  mayPost?: (internalName: string) => boolean;
  /** create an internal mailbox (fileinto :create; only ever asked for the user's own hierarchy) */
  createMailbox?: (internalName: string) => void;
  /** RFC 8579: internal names of the user's mailboxes carrying a special-use attribute (`\\Junk`) */
  mailboxesWithSpecialUse?: (use: string) => string[];
  /** RFC 9042: the internal name of the user's mailbox with this MAILBOXID (Cyrus uniqueid) */
  mailboxById?: (id: string) => string | undefined;
  /** RFC 5490 metadata: value of `entry` on an internal mailbox name, or on the server (mailbox null) */
  getMetadata?: (mailbox: string | null, entry: string) => string | undefined;
  /**
   * RFC 8580 :fcc: store a copy of a message Sieve generated (vacation reply, notification)
   * in an internal mailbox. Absent = fcc is logged and skipped.
   */
  fileCopy?: (internalName: string, message: Buffer, flags: string[]) => Promise<void>;
  /** SIEVE `environment` extras such as remote-host / remote-ip (RFC 5183) */
  environment?: Record<string, string>;
  /** passwd file for sieveusehomedir look-ups (tests); default /etc/passwd */
  passwdFile?: string;
  /** clock for tests (vacation periods, currentdate); default Date.now */
  now?: () => number;
}

export interface SieveDelivery {
  /** internal mailbox name, e.g. `user.fred.Junk` */
  mailbox: string;
  /** IMAP flags to set on the delivered copy (`\\Seen`, `$Junk`, ...) */
  flags: string[];
  /** RFC 8579 :specialuse attribute the script asked for (deliver there if a mailbox has it) */
  specialUse?: string;
}

export interface SieveDeliveryPlan {
  /** where to store the message; implicit keep is a delivery to the user's INBOX */
  deliveries: SieveDelivery[];
  /**
   * nothing is stored locally: the script discarded the message, or redirected it without
   * keeping a copy (deliveries is then empty). false whenever deliveries is non-empty.
   */
  discard: boolean;
  /** reject/ereject: LMTP should answer 550 5.7.1 with this reason (ereject: must not MDN) */
  reject?: { reason: string; ereject: boolean };
  /**
   * Header edits from editheader (RFC 5293) to apply to the stored copies, in order.
   * Empty when the script edited nothing.
   */
  headerEdits?: HeaderEdit[];
  /** runtime errors (logged too); with an error the plan is implicit keep */
  errors: string[];
}

export type HeaderEdit =
  | { op: 'add'; name: string; value: string; last: boolean }
  | { op: 'delete'; name: string; index?: number; last?: boolean; values?: string[] };

export type SieveForDelivery = (input: SieveDeliveryInput) => Promise<SieveDeliveryPlan | null>;
