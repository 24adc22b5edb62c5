/**
 * deliver.db: duplicate-delivery suppression (and Sieve vacation/redirect tracking).
 *
 * Owns: the record layout. Key `<id>\0<recipient>\0` where id is a Message-ID (or a Sieve
 * tracking id) and recipient a mailbox name or uniqueid; value JSON `{"t": <unix seconds>,
 * "uid": <uid>}`. Ephemeral: recreated when missing (ARCHITECTURE decision 4).
 * Imports: ./index (cyrusdb), config types.
 */
import type { ImapdConf } from '../config/api.js';
import { openConfDb, type CyrusDb } from './index.js';

export interface DuplicateMark {
  /** when it was recorded, unix seconds */
  time: number;
  /** uid it was delivered as (0 if unknown) */
  uid: number;
}

/** the stored value of a mark */
function value(m: DuplicateMark): string {
  return JSON.stringify({ t: m.time, uid: m.uid });
}

function key(id: string, recipient: string): Buffer {
  return Buffer.concat([
    Buffer.from(id, 'utf8'),
    Buffer.from([0]),
    Buffer.from(recipient, 'utf8'),
    Buffer.from([0]),
  ]);
}

export class DuplicateDb {
  constructor(
    readonly db: CyrusDb,
    /** told when a deferred mark (markSoon) could not be written */
    readonly onError: (e: unknown) => void = () => undefined,
  ) {}

  static open(conf: ImapdConf, onError?: (e: unknown) => void): DuplicateDb {
    // Ephemeral (recreated when missing): losing the last marks on power failure only lets a
    // duplicate through, so commits need no fsync (synchronous=NORMAL in WAL mode); a delivery
    // that is acknowledged is durable through the mail store, not through this database.
    return new DuplicateDb(openConfDb(conf, 'duplicate', { durable: false }), onError);
  }

  /** marks made by markSoon and not written yet, by `id\0recipient` */
  readonly #soon = new Map<string, { id: string; recipient: string; mark: DuplicateMark }>();

  /** has `id` already been delivered to `recipient`? (case-sensitive, as Cyrus) */
  check(id: string, recipient: string): DuplicateMark | undefined {
    const soon = this.#soon.get(`${id}\0${recipient}`);
    if (soon) return soon.mark;
    const v = this.db.fetch(key(id, recipient));
    if (!v) return undefined;
    try {
      const o = JSON.parse(v.toString('utf8')) as { t?: number; uid?: number };
      return { time: o.t ?? 0, uid: o.uid ?? 0 };
    } catch {
      return { time: 0, uid: 0 };
    }
  }

  /** record a delivery */
  mark(id: string, recipient: string, uid = 0, time = Math.floor(Date.now() / 1000)): void {
    this.db.store(key(id, recipient), value({ time, uid }));
  }

  /**
   * Record a delivery once the current event-loop turn is over (lmtpd: after its reply went
   * out), with the other marks of that turn in one transaction. `check` sees it at once.
   */
  markSoon(id: string, recipient: string, uid = 0, time = Math.floor(Date.now() / 1000)): void {
    if (this.#soon.size === 0) setImmediate(() => this.flush());
    this.#soon.set(`${id}\0${recipient}`, { id, recipient, mark: { time, uid } });
  }

  /** write the marks markSoon still holds */
  flush(): void {
    if (this.#soon.size === 0) return;
    const marks = [...this.#soon.values()];
    this.#soon.clear();
    try {
      if (marks.length === 1) {
        const m = marks[0]!;
        return this.db.store(key(m.id, m.recipient), value(m.mark));
      }
      const txn = this.db.begin();
      try {
        for (const m of marks) this.db.store(key(m.id, m.recipient), value(m.mark), txn);
        this.db.commit(txn);
      } catch (e) {
        if (txn.active) this.db.abort(txn);
        throw e;
      }
    } catch (e) {
      this.onError(e);
    }
  }

  /** every record, in key order (for `ctl_deliver -d`) */
  foreach(cb: (id: string, recipient: string, mark: DuplicateMark) => void): void {
    this.db.foreach('', (k, v) => {
      const parts = k.toString('utf8').split('\0');
      let m: DuplicateMark = { time: 0, uid: 0 };
      try {
        const o = JSON.parse(v.toString('utf8')) as { t?: number; uid?: number };
        m = { time: o.t ?? 0, uid: o.uid ?? 0 };
      } catch {
        /* keep zero mark */
      }
      cb(parts[0] ?? '', parts[1] ?? '', m);
    });
  }

  /** drop records older than `cutoff` (unix seconds); returns how many were removed */
  prune(cutoff: number): number {
    const old: Buffer[] = [];
    this.db.foreach('', (k, v) => {
      let t = 0;
      try {
        t = (JSON.parse(v.toString('utf8')) as { t?: number }).t ?? 0;
      } catch {
        /* unreadable: prune */
      }
      if (t < cutoff) old.push(Buffer.from(k));
    });
    if (old.length === 0) return 0;
    const txn = this.db.begin();
    try {
      for (const k of old) this.db.delete(k, txn);
      this.db.commit(txn);
    } catch (e) {
      if (txn.active) this.db.abort(txn);
      throw e;
    }
    return old.length;
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}
