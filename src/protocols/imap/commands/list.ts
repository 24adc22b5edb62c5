/**
 * LIST and LSUB (RFC 3501 §6.3.8-9) with LIST-EXTENDED (RFC 5258: selection options
 * SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE; return options SUBSCRIBED, CHILDREN,
 * SPECIAL-USE, STATUS (RFC 5819), MYRIGHTS (RFC 8440)), CHILDREN attributes (RFC 3348) and special-use attributes
 * (RFC 6154).
 *
 *   tag LIST [(selection-opts)] reference (pattern | (pattern...)) [RETURN (return-opts)]
 *   tag LSUB reference pattern
 *
 * `*` matches anything, `%` anything but the hierarchy separator. A parent that does not
 * exist but has matching children is listed `\Noselect` when the pattern ends in `%`.
 */
import { atomOf, textOf } from '../args.js';
import type { Command } from '../command.js';
import type { Token } from '../parser.js';
import { bytesOf } from '../parser.js';
import { decodeMailboxName } from '../../../mail/utf7.js';
import { astr } from '../response.js';
import { formatStatus, parseStatusItems, type StatusItem } from './status-items.js';

interface Entry {
  external: string;
  internal: string | null;
  exists: boolean;
  specialUse: string[];
}

function patternRegex(pattern: string, sep: string): RegExp {
  let re = '^';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '%') re += sep === '/' ? '[^/]*' : '[^.]*';
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(re + '$', 's');
}

/** INBOX is case-insensitive (RFC 3501 §5.1): match "inbox..." patterns against the canonical name */
function canonInbox(name: string, sep: string): string {
  if (name.toUpperCase() === 'INBOX') return 'INBOX';
  if (name.toUpperCase().startsWith('INBOX' + sep)) return 'INBOX' + name.slice(5);
  return name;
}

const list: Command = {
  names: ['LIST', 'LSUB'],
  states: ['authenticated', 'selected'],
  run({ session, name }, args) {
    const lsub = name === 'LSUB';
    const sel = new Set<string>();
    const ret = new Set<string>();
    let statusItems: StatusItem[] | null = null;
    if (!lsub) {
      const opts = args.optList();
      if (opts) for (const o of opts.v) sel.add((atomOf(o) ?? '').toUpperCase());
      for (const o of sel)
        if (!['SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE'].includes(o))
          return { status: 'BAD', text: 'Invalid List selection option' };
      if (sel.has('RECURSIVEMATCH') && sel.size === 1)
        return { status: 'BAD', text: 'RECURSIVEMATCH needs another selection option' };
    }
    const utf8 = session.utf8;
    const decode = (t: Token): string => {
      const raw = t.t === 'string' ? bytesOf(t) : t.t === 'atom' ? Buffer.from(t.v, 'utf8') : null;
      if (raw === null) throw new Error('bad');
      if (utf8) return raw.toString('utf8');
      try {
        return decodeMailboxName(raw.toString('latin1'));
      } catch {
        return raw.toString('utf8');
      }
    };
    const refTok = args.take();
    const patTok = args.take();
    let ref: string;
    let patterns: string[];
    try {
      ref = decode(refTok);
      patterns = patTok.t === 'list' && !lsub ? patTok.v.map(decode) : [decode(patTok)];
    } catch {
      return { status: 'BAD', text: `Invalid argument to ${lsub ? 'Lsub' : 'List'}` };
    }
    if (!lsub && args.remaining > 0) {
      const kw = args.atom().toUpperCase();
      if (kw !== 'RETURN') return { status: 'BAD', text: 'Invalid List return option' };
      const r = args.list().v;
      for (let i = 0; i < r.length; i++) {
        const o = (atomOf(r[i]) ?? '').toUpperCase();
        if (o === 'STATUS') {
          const l = r[++i];
          if (!l || l.t !== 'list') return { status: 'BAD', text: 'Missing STATUS items in List' };
          statusItems = parseStatusItems(l.v);
        } else if (['SUBSCRIBED', 'CHILDREN', 'SPECIAL-USE', 'MYRIGHTS'].includes(o)) ret.add(o);
        else return { status: 'BAD', text: 'Invalid List return option' };
      }
    }
    args.end();

    const ns = session.ns;
    const sep = ns.separator;
    const who = session.who();
    const verb = lsub ? 'LSUB' : 'LIST';

    // LIST "" "": the hierarchy delimiter and root
    if (patterns.length === 1 && patterns[0] === '') {
      session.untagged(`${verb} (\\Noselect) "${sep}" ""`);
      return;
    }

    // what exists, by external name
    const entries = new Map<string, Entry>();
    for (const mb of session.store.list(who)) {
      const ext = session.externalName(mb.name);
      if (ext === null) continue;
      entries.set(ext, { external: ext, internal: mb.name, exists: true, specialUse: mb.specialUse });
    }
    const subscribed = new Set<string>();
    if (lsub || sel.has('SUBSCRIBED') || ret.has('SUBSCRIBED')) {
      for (const s of session.store.subscriptions(who.userid)) {
        const ext = session.externalName(s);
        if (ext === null) continue;
        subscribed.add(ext);
        if (!entries.has(ext))
          entries.set(ext, { external: ext, internal: s, exists: false, specialUse: [] });
      }
    }
    // parents that only exist as hierarchy
    const hasChildren = new Set<string>();
    for (const ext of [...entries.keys()]) {
      const parts = ext.split(sep);
      for (let i = 1; i < parts.length; i++) {
        const parent = parts.slice(0, i).join(sep);
        hasChildren.add(parent);
        if (!entries.has(parent))
          entries.set(parent, { external: parent, internal: null, exists: false, specialUse: [] });
      }
    }

    const regexes = patterns.map((p) => {
      const full =
        ref && !p.startsWith(sep) ? ref + p : ref && ref.endsWith(sep) ? ref + p.slice(1) : ref + p;
      return { re: patternRegex(canonInbox(full, sep), sep), trailingPercent: full.endsWith('%') };
    });

    const names = [...entries.keys()].sort((a, b) =>
      a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : a > b ? 1 : 0,
    );
    for (const ext of names) {
      const e = entries.get(ext)!;
      const m = regexes.find((r) => r.re.test(ext));
      if (!m) continue;
      const isSub = subscribed.has(ext);
      if ((lsub || sel.has('SUBSCRIBED')) && !isSub) {
        const subChildren = [...subscribed].some((s) => s.startsWith(ext + sep));
        // LSUB: a non-subscribed parent of subscribed names shows as \Noselect for "%"
        if (lsub && m.trailingPercent && subChildren)
          session.untagged(`${verb} (\\Noselect) "${sep}" ${session.wireName(ext)}`);
        // RFC 5258 §3.5: RECURSIVEMATCH reports such parents with CHILDINFO
        else if (sel.has('RECURSIVEMATCH') && subChildren) {
          const attrs = [e.exists ? '' : '\\NonExistent', hasChildren.has(ext) ? '\\HasChildren' : '']
            .filter(Boolean)
            .join(' ');
          session.untagged(
            `${verb} (${attrs}) "${sep}" ${session.wireName(ext)} ("CHILDINFO" ("SUBSCRIBED"))`,
          );
        }
        continue;
      }
      if (!e.exists && !isSub && !(e.internal === null && m.trailingPercent)) continue;
      if (sel.has('SPECIAL-USE') && e.specialUse.length === 0) continue;
      const attrs: string[] = [];
      // RFC 9051 / 5258: a name that is only hierarchy is \NonExistent (rev1 clients know \Noselect)
      if (!e.exists)
        attrs.push(e.internal === null && !isSub && !session.rev2 ? '\\Noselect' : '\\NonExistent');
      if (!lsub) {
        attrs.push(hasChildren.has(ext) ? '\\HasChildren' : '\\HasNoChildren');
        if (isSub && (sel.has('SUBSCRIBED') || ret.has('SUBSCRIBED'))) attrs.push('\\Subscribed');
        attrs.push(...e.specialUse);
      }
      session.untagged(`${verb} (${attrs.join(' ')}) "${sep}" ${session.wireName(ext)}`);
      if (statusItems && e.exists && e.internal) {
        try {
          const st = session.store.status(who, e.internal);
          session.untagged(`STATUS ${session.wireName(ext)} (${formatStatus(st, statusItems)})`);
        } catch {
          // not selectable for this user: LIST-STATUS says skip the STATUS line
        }
      }
      // RFC 8440 LIST-MYRIGHTS
      if (ret.has('MYRIGHTS') && e.exists && e.internal) {
        const rights = session.store.rights(who, e.internal);
        session.untagged(`MYRIGHTS ${session.wireName(ext)} ${rights ? astr(rights) : '""'}`);
      }
    }
    void textOf;
  },
};
export default list;
