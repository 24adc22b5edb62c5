/**
 * RFC 5256 threading: ORDEREDSUBJECT and REFERENCES (§2.1-2.2), and the THREAD response
 * format (§4). Pure functions over a small per-message summary; the THREAD command gathers
 * the summaries (envelope from the cache, References from the header).
 *
 * Owns: `orderedSubject`, `references`, `formatThreads`.
 * Imports: nothing.
 */

export interface ThreadMsg {
  /** the number to report (sequence number or UID) */
  id: number;
  /** sent date (Date: header, else internal date), ms; ties broken by `id` */
  date: number;
  /** RFC 5256 base subject, upper-cased for comparison */
  base: string;
  /** subject had a reply/forward marker */
  reply: boolean;
  messageId: string | null;
  /** References msg-ids (or the first In-Reply-To msg-id), oldest first */
  refs: string[];
}

/** A thread node: a message (`id`) or a dummy (id null) with children. */
export interface ThreadNode {
  id: number | null;
  date: number;
  children: ThreadNode[];
}

const byDate = (a: { date: number; id: number | null }, b: { date: number; id: number | null }): number =>
  a.date - b.date || (a.id ?? 0) - (b.id ?? 0);

/** ORDEREDSUBJECT: group by base subject; the first (by date) is the parent of the others. */
export function orderedSubject(msgs: ThreadMsg[]): ThreadNode[] {
  const groups = new Map<string, ThreadMsg[]>();
  for (const m of [...msgs].sort(byDate)) {
    const g = groups.get(m.base);
    if (g) g.push(m);
    else groups.set(m.base, [m]);
  }
  const roots: ThreadNode[] = [];
  for (const g of groups.values()) {
    const [first, ...rest] = g;
    roots.push({
      id: first!.id,
      date: first!.date,
      children: rest.map((m) => ({ id: m.id, date: m.date, children: [] })),
    });
  }
  return roots.sort(byDate);
}

interface Container {
  msg: ThreadMsg | null;
  parent: Container | null;
  children: Container[];
}

function isAncestor(a: Container, b: Container): boolean {
  // is `a` an ancestor of `b` (or b itself)?
  for (let c: Container | null = b; c; c = c.parent) if (c === a) return true;
  return false;
}

function unlink(c: Container): void {
  if (c.parent) c.parent.children = c.parent.children.filter((x) => x !== c);
  c.parent = null;
}

function link(parent: Container, child: Container): void {
  if (child.parent === parent || isAncestor(child, parent)) return;
  unlink(child);
  child.parent = parent;
  parent.children.push(child);
}

/** the date a container sorts by: its message's, or its first child's (RFC 5256 §2.2 (4)) */
function dateOf(c: Container): { date: number; id: number | null } {
  if (c.msg) return { date: c.msg.date, id: c.msg.id };
  const kids = c.children.map(dateOf).sort(byDate);
  return kids[0] ?? { date: 0, id: 0 };
}

/** REFERENCES threading (RFC 5256 §2.2, after JWZ). */
export function references(msgs: ThreadMsg[]): ThreadNode[] {
  const table = new Map<string, Container>();
  const get = (id: string): Container => {
    let c = table.get(id);
    if (!c) table.set(id, (c = { msg: null, parent: null, children: [] }));
    return c;
  };
  let unique = 0;
  // (1) containers and links
  for (const m of msgs) {
    let c = m.messageId ? table.get(m.messageId) : undefined;
    if (!c || c.msg) {
      // no Message-ID, or a duplicate: a container of its own
      c = get(m.messageId && !c ? m.messageId : `\u0000unique${unique++}`);
    }
    c.msg = m;
    let prev: Container | null = null;
    for (const r of m.refs) {
      const rc = get(r);
      if (prev && !rc.parent) link(prev, rc);
      prev = rc;
    }
    // (1C) the last reference is this message's parent
    if (prev && prev !== c && !isAncestor(c, prev)) link(prev, c);
    else if (!prev) unlink(c);
  }
  // (2) the root set
  let roots = [...table.values()].filter((c) => !c.parent && (c.msg || c.children.length));
  // (3) prune dummies
  const prune = (list: Container[], atRoot: boolean): Container[] => {
    const out: Container[] = [];
    for (const c of list) {
      c.children = prune(c.children, false);
      for (const k of c.children) k.parent = c;
      if (!c.msg && c.children.length === 0) continue;
      if (!c.msg && (!atRoot || c.children.length === 1)) {
        for (const k of c.children) k.parent = null;
        out.push(...c.children);
        continue;
      }
      out.push(c);
    }
    return out;
  };
  roots = prune(roots, true);
  for (const r of roots) r.parent = null;
  // (4) sort the root set by date
  roots.sort((a, b) => byDate(dateOf(a), dateOf(b)));
  // (5) merge threads with the same base subject
  const subjectOf = (c: Container): ThreadMsg | null =>
    c.msg ?? c.children.map((k) => k.msg).find((m) => m) ?? null;
  const subjects = new Map<string, Container>();
  for (const r of roots) {
    const m = subjectOf(r);
    if (!m || !m.base) continue;
    const cur = subjects.get(m.base);
    // prefer a dummy, else a non-reply
    if (!cur || (!r.msg && cur.msg) || (cur.msg && cur.msg.reply && !m.reply && r.msg))
      subjects.set(m.base, r);
  }
  const merged: Container[] = [];
  for (const r of roots) {
    const m = subjectOf(r);
    const target = m && m.base ? subjects.get(m.base) : undefined;
    if (!target || target === r) {
      merged.push(r);
      continue;
    }
    if (!target.msg && !r.msg) {
      for (const k of r.children) link(target, k);
    } else if (!target.msg) {
      link(target, r);
    } else if (r.msg && r.msg.reply && !target.msg.reply) {
      link(target, r);
    } else {
      // both real and neither a reply of the other: a new dummy holds both
      const d: Container = { msg: null, parent: null, children: [] };
      const idx = merged.indexOf(target);
      link(d, target);
      link(d, r);
      if (idx >= 0) merged[idx] = d;
      subjects.set(m!.base, d);
    }
  }
  // (6) sort children by date, recursively
  const toNode = (c: Container): ThreadNode => {
    const kids = c.children.map(toNode).sort(byDate);
    const d = dateOf(c);
    return { id: c.msg ? c.msg.id : null, date: d.date, children: kids };
  };
  return merged.map(toNode).sort(byDate);
}

/** thread-list as IMAP text: `(1 2 (3)(4 5))` */
export function formatThreads(roots: ThreadNode[]): string {
  const fmt = (n: ThreadNode, top: boolean): string => {
    const parts: string[] = [];
    let cur: ThreadNode | null = n;
    // a chain of single children is written flat: (1 2 3)
    while (cur) {
      if (cur.id !== null) parts.push(String(cur.id));
      if (cur.children.length === 1) cur = cur.children[0]!;
      else {
        if (cur.children.length > 1) parts.push(cur.children.map((k) => fmt(k, false)).join(''));
        cur = null;
      }
    }
    const body = parts.join(' ');
    void top;
    return `(${body})`;
  };
  return roots.map((r) => fmt(r, true)).join('');
}
