/**
 * The maildrop of one POP3 session (RFC 1939 5): a numbered snapshot of the mailbox taken at
 * login, the "deleted" marks of this session, UIDLs, and the UPDATE state that expunges the
 * marked messages at QUIT (and only then).
 *
 * Owns: message numbering and the session's deletions. Holds numbers and sizes only, never
 * message contents. UIDL formats (`uidl_format`, imapd-conf.md §2.6): `cyrus` (default,
 * `<uidvalidity>.<uid>`, e.g. `1795875925.2`), `uidonly` (`<uid>`), `dovecot`
 * (`%08x%08x` of uid and uidvalidity), `courier` (`<uidvalidity>-<uid>`). All are stable
 * across sessions because uid and uidvalidity are.
 */
import type { MailboxView } from '../../store/api.js';
import type { PopLock } from './lock.js';

export interface MaildropOptions {
  /** popuseimapflags: hide \Deleted messages, set \Seen on RETR */
  useImapFlags: boolean;
  uidlFormat: string;
}

export interface DropMessage {
  uid: number;
  size: number;
  deleted: boolean;
}

export class Maildrop {
  readonly view: MailboxView;
  readonly #lock: PopLock | null;
  readonly #msgs: DropMessage[];
  readonly #uidValidity: number;
  readonly #format: string;
  readonly useImapFlags: boolean;

  constructor(view: MailboxView, lock: PopLock | null, opts: MaildropOptions) {
    this.view = view;
    this.#lock = lock;
    this.#format = opts.uidlFormat;
    this.useImapFlags = opts.useImapFlags;
    this.#uidValidity = view.info.uidValidity;
    const records = view.records(view.uids());
    this.#msgs = records
      .filter((r) => !(opts.useImapFlags && r.flags.includes('\\Deleted')))
      .map((r) => ({ uid: r.uid, size: r.size, deleted: false }));
  }

  /** messages not marked deleted, and their octets (STAT) */
  stat(): { count: number; octets: number } {
    let count = 0;
    let octets = 0;
    for (const m of this.#msgs) {
      if (m.deleted) continue;
      count++;
      octets += m.size;
    }
    return { count, octets };
  }

  /** number of messages in the snapshot, deleted or not (the highest valid msg number) */
  get size(): number {
    return this.#msgs.length;
  }

  /** message `n` (1-based) when it exists and is not marked deleted */
  get(n: number): DropMessage | null {
    const m = Number.isInteger(n) && n >= 1 ? this.#msgs[n - 1] : undefined;
    return m && !m.deleted ? m : null;
  }

  uidl(m: DropMessage): string {
    const v = this.#uidValidity;
    switch (this.#format) {
      case 'uidonly':
        return String(m.uid);
      case 'dovecot':
        return m.uid.toString(16).padStart(8, '0') + v.toString(16).padStart(8, '0');
      case 'courier':
        return `${v}-${m.uid}`;
      default:
        return `${v}.${m.uid}`;
    }
  }

  /** RSET: unmark every message */
  reset(): void {
    for (const m of this.#msgs) m.deleted = false;
  }

  /** UPDATE state (RFC 1939 6): expunge the marked messages; returns how many. */
  commit(): number {
    const uids = this.#msgs.filter((m) => m.deleted).map((m) => m.uid);
    if (uids.length === 0) return 0;
    this.view.storeFlags(uids, 'add', ['\\Deleted']);
    return this.view.expunge(uids).length;
  }

  close(): void {
    try {
      this.view.close();
    } finally {
      this.#lock?.release();
    }
  }
}
