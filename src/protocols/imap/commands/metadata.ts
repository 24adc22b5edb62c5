/**
 * METADATA and METADATA-SERVER (RFC 5464) on the store's annotations:
 *
 *   getmetadata = "GETMETADATA" [SP getmetadata-options] SP mailbox SP entries
 *   getmetadata-options = "(" getmetadata-option *(SP getmetadata-option) ")"
 *   getmetadata-option  = "MAXSIZE" SP number / "DEPTH" SP ("0" / "1" / "infinity")
 *   entries     = entry / "(" entry *(SP entry) ")"
 *   setmetadata = "SETMETADATA" SP mailbox SP "(" entry-value *(SP entry-value) ")"
 *   entry-value = entry SP value                      ; value = nstring / literal8
 *
 *   metadata-resp = "METADATA" SP mailbox SP "(" entry-value *(SP entry-value) ")"
 *
 * Mailbox "" means the server. Entries start with /private (per user) or /shared; the store
 * keys them without that prefix, lower-cased (entry names are case-insensitive). As Cyrus
 * does for `cyradm info`, a GETMETADATA entry may end in "*" (everything below) or "%" (one
 * level). Cyrus's read-only mailbox entries (partition, size, uniqueid under
 * /shared/vendor/cmu/cyrus-imapd/) are computed; /private/specialuse maps to the mailbox's
 * RFC 6154 attributes and may be set. A requested entry without a value is returned as NIL;
 * values over MAXSIZE are left out and reported with [METADATA LONGENTRIES n].
 */
import { bytesOf, type Token } from '../parser.js';
import type { Command } from '../command.js';
import type { ArgReader } from '../args.js';
import { ImapReplyError } from '../errors.js';
import { str } from '../response.js';
import type { ImapSession } from '../session.js';

/** largest value SETMETADATA accepts (Cyrus's annotation limit) */
export const MAX_VALUE_SIZE = 65536;
/** most entries one SETMETADATA may carry */
const MAX_ENTRIES = 1000;
const VENDOR = '/shared/vendor/cmu/cyrus-imapd/';

/**
 * A valid entry name (RFC 5464 §3.2.1: /private or /shared first, printable ASCII, no "*",
 * "%" or "//", no trailing "/"). `get` also allows the bare "/private" / "/shared" (with DEPTH)
 * and a trailing "*" or "%" (Cyrus).
 */
export function validEntry(e: string, get = false): boolean {
  if (/[^\x21-\x7e]|\/\//.test(e)) return false;
  if (get && /[*%]$/.test(e)) return /^(\/((private|shared)(\/[^*%]*)?)?)?$/i.test(e.slice(0, -1));
  if (get && /^\/(private|shared)$/i.test(e)) return true;
  return /^\/(private|shared)\/[^*%]+$/i.test(e) && !e.endsWith('/');
}

/** "/shared/comment" → store key */
function split(e: string): { shared: boolean; entry: string } {
  const l = e.toLowerCase();
  const shared = l.startsWith('/shared');
  return { shared, entry: l.slice(shared ? 7 : 8) };
}

function mailboxOrServer(session: ImapSession, args: ArgReader): { name: string; wire: string } {
  const raw = args.astringBytes();
  if (raw.length === 0) return { name: '', wire: '""' };
  const name = session.mailboxIn(raw);
  return { name, wire: session.wireName(session.externalName(name) ?? raw.toString('utf8')) };
}

/** every entry of the mailbox (or server) the user may read: stored ones and computed ones */
function allEntries(session: ImapSession, name: string): Map<string, string> {
  const who = session.who();
  const out = new Map<string, string>();
  for (const a of session.store.listAnnotations(who, name, ''))
    out.set((a.shared ? '/shared' : '/private') + a.entry, a.value);
  if (name !== '') {
    const info = session.store.lookup(name);
    if (info) {
      out.set(VENDOR + 'partition', info.partition);
      out.set(VENDOR + 'uniqueid', info.uniqueId);
      if (info.specialUse.length) out.set('/private/specialuse', info.specialUse.join(' '));
      try {
        out.set(VENDOR + 'size', String(session.store.status(who, name).size));
      } catch {
        // no 'r' right: size is not shown
      }
    }
  }
  return out;
}

/** entries matching one requested name at a depth (0, 1 or Infinity) */
function matches(req: string, depth: number, name: string): boolean {
  const r = req.toLowerCase();
  if (r.endsWith('*')) return name.startsWith(r.slice(0, -1));
  if (r.endsWith('%')) {
    const base = r.slice(0, -1);
    return name.startsWith(base) && !name.slice(base.length).includes('/');
  }
  if (name === r) return true;
  if (depth === 0 || !name.startsWith(r + '/')) return false;
  return depth === Infinity || !name.slice(r.length + 1).includes('/');
}

function parseOptions(list: Token[], cmd: string): { maxSize: number; depth: number } {
  let maxSize = Infinity;
  let depth = 0;
  for (let i = 0; i < list.length; i += 2) {
    const k = list[i];
    const v = list[i + 1];
    const key = k?.t === 'atom' ? k.v.toUpperCase() : '';
    const val = v?.t === 'atom' ? v.v.toLowerCase() : '';
    if (key === 'MAXSIZE' && /^\d{1,15}$/.test(val)) maxSize = Number(val);
    else if (key === 'DEPTH' && (val === '0' || val === '1' || val === 'infinity'))
      depth = val === 'infinity' ? Infinity : Number(val);
    else throw new ImapReplyError('BAD', `Invalid ${cmd} option`);
  }
  return { maxSize, depth };
}

function entryText(t: Token | undefined, cmd: string): string {
  if (t?.t === 'atom') return t.v;
  if (t?.t === 'string') return bytesOf(t).toString('utf8');
  throw new ImapReplyError('BAD', `Missing entry name in ${cmd}`);
}

const getmetadata: Command = {
  names: ['GETMETADATA'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    const opts =
      args.peek()?.t === 'list' ? parseOptions(args.list().v, args.cmd) : { maxSize: Infinity, depth: 0 };
    const { name, wire } = mailboxOrServer(session, args);
    const first = args.take();
    const reqs =
      first.t === 'list' ? first.v.map((t) => entryText(t, args.cmd)) : [entryText(first, args.cmd)];
    // Cyrus also accepts the entries one by one without parentheses
    while (first.t !== 'list' && args.remaining > 0) reqs.push(entryText(args.take(), args.cmd));
    args.end();
    if (reqs.length === 0) throw new ImapReplyError('BAD', `Missing entry name in ${args.cmd}`);
    for (const r of reqs)
      if (!validEntry(r, true)) throw new ImapReplyError('BAD', `Invalid entry name ${r} in ${args.cmd}`);
    const have = allEntries(session, name);
    const pairs: string[] = [];
    const seen = new Set<string>();
    let longest = 0;
    for (const r of reqs) {
      let found = false;
      for (const [e, v] of have) {
        if (!matches(r, opts.depth, e)) continue;
        found = true;
        if (seen.has(e)) continue;
        seen.add(e);
        const size = Buffer.byteLength(v, 'utf8');
        if (size > opts.maxSize) {
          longest = Math.max(longest, size);
          continue;
        }
        pairs.push(`${e} ${str(v, true)}`);
      }
      const lower = r.toLowerCase();
      if (!found && !/[*%]$/.test(r) && !seen.has(lower)) {
        seen.add(lower);
        pairs.push(`${lower} NIL`);
      }
    }
    if (pairs.length) session.untagged(`METADATA ${wire} (${pairs.join(' ')})`);
    if (longest > 0) return { code: `METADATA LONGENTRIES ${longest}`, text: 'Completed' };
  },
};

const setmetadata: Command = {
  names: ['SETMETADATA'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    const { name } = mailboxOrServer(session, args);
    const list = args.list().v;
    args.end();
    if (list.length === 0 || list.length % 2 !== 0)
      throw new ImapReplyError('BAD', `Invalid entry list in ${args.cmd}`);
    if (list.length / 2 > MAX_ENTRIES) throw new ImapReplyError('NO', 'Too many entries', 'METADATA TOOMANY');
    const changes: { entry: string; value: string | null }[] = [];
    for (let i = 0; i < list.length; i += 2) {
      const entry = entryText(list[i], args.cmd);
      if (!validEntry(entry)) throw new ImapReplyError('BAD', `Invalid entry name ${entry} in ${args.cmd}`);
      const v = list[i + 1]!;
      let value: string | null;
      if (v.t === 'atom' && v.v.toUpperCase() === 'NIL') value = null;
      else if (v.t === 'string') {
        if (v.size > MAX_VALUE_SIZE)
          throw new ImapReplyError('NO', 'Value too long', `METADATA MAXSIZE ${MAX_VALUE_SIZE}`);
        value = bytesOf(v).toString('utf8');
      } else if (v.t === 'atom') value = v.v;
      else throw new ImapReplyError('BAD', `Invalid value in ${args.cmd}`);
      changes.push({ entry: entry.toLowerCase(), value });
    }
    const who = session.who();
    for (const c of changes) {
      if (c.entry.startsWith(VENDOR)) throw new ImapReplyError('NO', `${c.entry} is read-only`, 'NOPERM');
      if (c.entry === '/private/specialuse' && name !== '') {
        session.store.setSpecialUse(who, name, (c.value ?? '').split(/\s+/).filter(Boolean));
        continue;
      }
      const { shared, entry } = split(c.entry);
      session.store.setAnnotation(who, name, entry, shared, c.value);
    }
  },
};

export default [getmetadata, setmetadata];
