/**
 * The mail store's contract: what every protocol (IMAP, POP3, LMTP, ManageSieve, NNTP, sync)
 * calls. Protocols import only this file, `errors.ts` and `namespace.ts` of the store.
 *
 * Names: the store speaks Cyrus's *internal* mailbox names: `user.fred`, `user.fred.Sent`,
 * `shared.folder`, and with virtual domains `example.com!user.fred`. Hierarchy separator in
 * internal names is always '.', and a '.' inside a user-visible name is stored as '^'
 * (Cyrus's convention under unixhierarchysep). `namespace.ts` converts between what a
 * client sees (INBOX, INBOX.Sent or Sent with altnamespace, Other Users/..., Shared Folders/...,
 * '/' or '.' separator) and internal names. Names are UTF-8; modified UTF-7 is a protocol matter.
 *
 * Rights: every call that acts for a user takes an `Identity` and checks ACLs (RFC 4314)
 * itself; a missing 'l'/'r' right reads as notFound, never revealing that a mailbox exists.
 *
 * Durability: `append` and `copy` resolve only after message files are fsynced and the index
 * transaction committed.
 */
import type { Readable } from 'node:stream';
import type { BodyPart, Envelope } from '../mail/api.js';

/** Who is acting. `userid` is canonical (lower-cased per username_tolower, `user@domain` with virtdomains). */
export interface Identity {
  userid: string;
  isAdmin: boolean;
  /** extra ACL identifiers (e.g. `group:staff`), may be empty */
  groups: string[];
}

export type MailErrorKind =
  | 'notFound'
  | 'exists'
  | 'perm'
  | 'overQuota'
  | 'tooBig'
  | 'inUse'
  | 'expunged'
  | 'limit'
  | 'badName'
  | 'temp';

/** The only error the store throws on purpose; protocols map `kind` to their responses. */
export class MailError extends Error {
  constructor(
    readonly kind: MailErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'MailError';
  }
}

export interface MailboxInfo {
  /** internal name */
  name: string;
  /** Cyrus unique id (also RFC 8474 MAILBOXID) */
  uniqueId: string;
  partition: string;
  /** Cyrus ACL string: "id\trights\tid\trights\t" */
  acl: string;
  /** RFC 6154 attributes such as "\\Sent" */
  specialUse: string[];
  uidValidity: number;
  /** mailbox type: 'email' (default), 'netnews', 'submission', ... */
  type: string;
  /** owner userid for personal mailboxes, null for shared */
  owner: string | null;
}

export interface MailboxStatus {
  messages: number;
  recent: number;
  uidNext: number;
  uidValidity: number;
  unseen: number;
  /** RFC 8438 STATUS SIZE: total octets */
  size: number;
  /** messages with \Deleted */
  deleted: number;
  highestModseq: number;
  /** RFC 8474 */
  mailboxId: string;
}

export interface MessageRecord {
  uid: number;
  modseq: number;
  /** system flags (\Seen \Answered \Flagged \Deleted \Draft) and keywords, as seen by the session's user */
  flags: string[];
  /** ms since epoch */
  internalDate: number;
  /** ms since epoch (RFC 8514) */
  saveDate: number;
  size: number;
  /** SHA-1 hex */
  guid: string;
  /** RFC 8474 EMAILID */
  emailId: string;
  /** RFC 8474 THREADID, or null */
  threadId: string | null;
}

/**
 * What the parser cached at append: read by FETCH without touching the message file.
 * `envelope` and `body` may be decoded on first use; the `...Imap` texts are what FETCH
 * sends for ENVELOPE and BODYSTRUCTURE when UTF8=ACCEPT is off (non-ASCII as literals).
 */
export interface MessageCache {
  readonly envelope: Envelope;
  readonly body: BodyPart;
  /** ENVELOPE as IMAP text (src/mail/imap-text.ts envelopeText, ASCII form) */
  readonly envelopeImap: string;
  /** BODYSTRUCTURE as IMAP text (bodyText with extension data, ASCII form) */
  readonly bodyStructureImap: string;
  headerSize: number;
  lines: number;
  preview: string;
}

export type FlagOp = 'set' | 'add' | 'remove';

/** A search program over one mailbox: the IMAP search keys, already parsed. */
export type SearchKey =
  | { op: 'all' }
  | { op: 'and'; keys: SearchKey[] }
  | { op: 'or'; a: SearchKey; b: SearchKey }
  | { op: 'not'; key: SearchKey }
  | { op: 'uid'; uids: number[] }
  /** flag present (`\Seen`, keyword...) */
  | { op: 'flag'; flag: string }
  | { op: 'recent' }
  | { op: 'new' }
  /** internal date, day granularity in the server's zone: before/on/since; or sent date (Date: header) */
  | {
      op: 'date';
      field: 'internal' | 'sent' | 'save';
      rel: 'before' | 'on' | 'since';
      day: string; /* YYYY-MM-DD */
    }
  /** RFC 5032 WITHIN: age in seconds */
  | { op: 'age'; rel: 'older' | 'younger'; seconds: number }
  | { op: 'size'; rel: 'larger' | 'smaller'; octets: number }
  /** case-insensitive substring of a decoded header (name lower-case); empty value = header present */
  | { op: 'header'; name: string; value: string }
  | { op: 'body'; value: string }
  /** header or body */
  | { op: 'text'; value: string }
  | { op: 'modseq'; min: number }
  | { op: 'emailid'; id: string }
  | { op: 'threadid'; id: string };

export type SortKey =
  | 'arrival'
  | 'cc'
  | 'date'
  | 'from'
  | 'size'
  | 'subject'
  | 'to'
  | 'displayfrom'
  | 'displayto'
  | 'uid'
  | 'modseq';

export interface SyncResult {
  /** uids that left the mailbox since the last sync (in ascending order) */
  expunged: number[];
  /** uids that arrived (ascending) */
  added: number[];
  /** uids whose flags/modseq changed (not counting added) */
  changed: number[];
}

export interface QuotaInfo {
  root: string;
  /** KiB, null = no limit */
  storageLimit: number | null;
  /** KiB used */
  storageUsed: number;
  messageLimit: number | null;
  messageUsed: number;
}

export interface AppendOptions {
  flags?: string[];
  /** default now */
  internalDate?: Date;
  /** skip quota check (LMTP IGNOREQUOTA, admin) */
  ignoreQuota?: boolean;
}

/** A message spooled, parsed and fsynced once, for several appends (Store.stage). */
export interface StagedMessage {
  readonly size: number;
  readonly guid: string;
  /** the staged file (read-only for callers: Sieve reads the message from it) */
  readonly path: string;
  /** remove the staged file (the appended copies stay); idempotent */
  release(): void;
}

export interface AppendResult {
  uidValidity: number;
  uid: number;
  guid: string;
}

/** A selected (or examined) mailbox in one session: a view with stable sequence numbers between syncs. */
export interface MailboxView {
  readonly info: MailboxInfo;
  readonly readOnly: boolean;
  /** uids currently in the view, ascending; index+1 is the message sequence number */
  uids(): Uint32Array;
  uidNext(): number;
  highestModseq(): number;
  /** number of messages marked \Recent for this session (Cyrus: first session to see them) */
  recentCount(): number;
  /** first unseen message's sequence number (for [UNSEEN n]), 0 if none */
  firstUnseen(): number;
  /**
   * Bring the view up to date with the index (other sessions' changes). Call before sending
   * untagged updates. Does not remove expunged uids from `uids()` until `applyExpunges`.
   */
  sync(): SyncResult;
  /** drop expunged uids from the view (when the protocol may send EXPUNGE responses) */
  applyExpunges(uids: number[]): void;
  /** records for the uids (missing ones are skipped: expunged meanwhile) */
  records(uids: ArrayLike<number>): MessageRecord[];
  /** cached envelope/body structure for one message; throws expunged if gone */
  cache(uid: number): MessageCache;
  /**
   * cached data of many messages at once (one index query per chunk: FETCH of a large range);
   * expunged uids are absent from the map. Optional: callers fall back to `cache`.
   * `textOnly`: the caller wants the IMAP texts, preview and sizes; `envelope`/`body` are
   * then read (one look-up each) only if touched.
   */
  caches?(uids: ArrayLike<number>, opts?: { textOnly?: boolean }): Map<number, MessageCache>;
  /** the raw message bytes [start, end) (default whole); a fresh stream from the file */
  open(uid: number, start?: number, end?: number): Readable;
  /** where the message file is (for sendfile-style streaming) */
  path(uid: number): string;
  storeFlags(
    uids: ArrayLike<number>,
    op: FlagOp,
    flags: string[],
    opts?: { unchangedSince?: number },
  ): { changed: MessageRecord[]; failedModified: number[] };
  /** expunge \Deleted messages, limited to `uids` when given; returns expunged uids */
  expunge(uids?: ArrayLike<number>): number[];
  search(key: SearchKey): number[];
  /** RFC 5256 SORT; returns uids in order */
  sort(keys: { key: SortKey; reverse: boolean }[], search: SearchKey): number[];
  /** QRESYNC: uids expunged with modseq > since (bounded by `within` when given) */
  vanishedSince(modseq: number, within?: ArrayLike<number>): number[];
  /** copy to another mailbox (same user: no bytes copied); fsynced and committed */
  copy(uids: ArrayLike<number>, dest: string): Promise<{ uidValidity: number; src: number[]; dst: number[] }>;
  /** RFC 6851 MOVE: copy then expunge, atomically as far as other sessions can tell */
  move(uids: ArrayLike<number>, dest: string): Promise<{ uidValidity: number; src: number[]; dst: number[] }>;
  /** wake `cb` when another process changes this mailbox; returns an unsubscribe function */
  watch(cb: () => void): () => void;
  close(): void;
}

export interface Store {
  // ---- mailbox list -------------------------------------------------------------------
  createMailbox(
    who: Identity,
    name: string,
    opts?: { partition?: string; specialUse?: string[]; type?: string },
  ): MailboxInfo;
  deleteMailbox(who: Identity, name: string): void;
  /** rename; renaming INBOX moves its messages to a new mailbox (RFC 3501) */
  renameMailbox(who: Identity, from: string, to: string, opts?: { partition?: string }): void;
  /** no rights check: for internal use (delivery, admin tools) */
  lookup(name: string): MailboxInfo | undefined;
  /** every mailbox `who` may see (has 'l'), optionally under a name prefix */
  list(who: Identity, prefix?: string): MailboxInfo[];
  /** effective rights of `who` on the mailbox, as a string of RFC 4314 letters */
  rights(who: Identity, name: string): string;
  /** rights=null deletes the entry; needs 'a' */
  setAcl(who: Identity, name: string, identifier: string, rights: string | null): void;
  setSpecialUse(who: Identity, name: string, uses: string[]): void;

  // ---- per-user data ----------------------------------------------------------------
  subscriptions(userid: string): string[];
  subscribe(userid: string, name: string): void;
  unsubscribe(userid: string, name: string): void;

  // ---- quota ------------------------------------------------------------------------
  quotaRoots(name: string): string[];
  getQuota(root: string): QuotaInfo | undefined;
  /** a root's limits only (getQuota also adds up its usage); undefined when not a root */
  quotaLimits(root: string): { storage: number | null; message: number | null } | undefined;
  /** admins only; null removes a limit */
  setQuota(who: Identity, root: string, limits: { storage?: number | null; message?: number | null }): void;

  // ---- annotations (METADATA); mailbox '' = server -------------------------------------
  getAnnotation(who: Identity, mailbox: string, entry: string, shared: boolean): string | undefined;
  setAnnotation(who: Identity, mailbox: string, entry: string, shared: boolean, value: string | null): void;
  listAnnotations(
    who: Identity,
    mailbox: string,
    prefix: string,
  ): { entry: string; shared: boolean; value: string }[];

  // ---- messages ---------------------------------------------------------------------
  status(who: Identity, name: string): MailboxStatus;
  /** stream the message to a spool file, parse once, fsync, commit; needs 'i' */
  append(
    who: Identity,
    name: string,
    message: Readable | Buffer,
    opts?: AppendOptions,
  ): Promise<AppendResult>;
  /**
   * Single-instance store (`singleinstancestore`, Cyrus's default): spool and parse a message
   * once, then `appendStaged` it to several mailboxes; on the staged partition each copy is a
   * hard link of the one fsynced file (another partition gets a copy). `release()` when done.
   */
  stage(message: Readable | Buffer, partition?: string): Promise<StagedMessage>;
  /** append a staged message (as `append`: needs 'i', flags by rights, quota) */
  appendStaged(
    who: Identity,
    name: string,
    staged: StagedMessage,
    opts?: AppendOptions,
  ): Promise<AppendResult>;
  /** SELECT (readOnly false) / EXAMINE (true); needs 'r' */
  open(who: Identity, name: string, opts: { readOnly: boolean }): MailboxView;

  /** make sure the user's INBOX exists (autocreate_* options); returns it */
  ensureInbox(userid: string): MailboxInfo;

  close(): void;
}
