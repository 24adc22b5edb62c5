/**
 * Quota roots and their limits (quotas.db on the cyrusdb interface).
 *
 * Owns: the limit records: key = quota root (internal name), value JSON
 * `{ "storage": KiB|null, "message": n|null }`. Usage is not stored: it is the sum of the
 * per-mailbox counters in the index databases, which change in the same transaction as the
 * messages, so it cannot drift (`cyr_quota -f` recounts those counters from the rows).
 * Imports: ../db.
 */
import type { CyrusDb } from '../db/index.js';

export interface QuotaLimits {
  storage: number | null;
  message: number | null;
}

export class QuotaDb {
  constructor(readonly db: CyrusDb) {}

  get(root: string): QuotaLimits | undefined {
    const v = this.db.fetch(root);
    if (!v) return undefined;
    const o = JSON.parse(v.toString('utf8')) as Partial<QuotaLimits>;
    return { storage: o.storage ?? null, message: o.message ?? null };
  }

  set(root: string, limits: QuotaLimits): void {
    this.db.store(root, JSON.stringify(limits));
  }

  remove(root: string): void {
    this.db.delete(root);
  }

  /** every root starting with prefix */
  roots(prefix = ''): string[] {
    const out: string[] = [];
    this.db.foreach(prefix, (k) => {
      out.push(k.toString('utf8'));
    });
    return out;
  }

  /** the quota root governing `name`: the nearest ancestor-or-self with a record */
  rootOf(name: string): string | undefined {
    const bang = name.indexOf('!');
    const domain = bang < 0 ? '' : name.slice(0, bang + 1);
    const parts = name.slice(domain.length).split('.');
    for (let n = parts.length; n > 0; n--) {
      const root = domain + parts.slice(0, n).join('.');
      if (this.db.fetch(root)) return root;
    }
    // a whole domain's root is "example.com!"
    if (domain && this.db.fetch(domain)) return domain;
    return undefined;
  }
}
