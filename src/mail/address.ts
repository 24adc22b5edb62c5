/**
 * RFC 5322 address lists (section 3.4, with the obsolete forms of 4.4) to IMAP ENVELOPE
 * address structures (RFC 3501 7.4.2): [name, adl, mailbox, host].
 *
 * Owns: a tolerant tokenizer and list parser. Handles display names, angle addresses,
 * quoted local parts (kept quoted, as written), comments (a comment is the name when there
 * is no phrase), obsolete source routes (`<@a,@b:user@host>` gives adl "@a,@b"), groups
 * (start: mailbox = group name, host null; end: all null), and broken input the way IMAP
 * servers do: a missing domain becomes "unspecified-domain" (Cyrus), an unterminated group
 * is closed, stray specials are skipped. Values stay raw (encoded-words are not decoded).
 */
import type { EnvelopeAddress } from './api.js';

/** Host used when an address has no domain part (Cyrus's choice). */
export const MISSING_HOST = 'unspecified-domain';

type TokType = 'atom' | 'quoted' | 'comment' | 'special';
interface Tok {
  t: TokType;
  /** text: atom as written, quoted string unescaped, comment content, or the special char */
  v: string;
  /** the quoted string as written (with quotes), for local parts */
  raw?: string;
}

const SPECIALS = '<>@,;:';

function tokenize(s: string): Tok[] {
  const toks: Tok[] = [];
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
    } else if (c === '(') {
      let depth = 1;
      let v = '';
      i++;
      while (i < n && depth > 0) {
        const d = s[i];
        if (d === '\\' && i + 1 < n) {
          v += s[i + 1];
          i += 2;
          continue;
        }
        if (d === '(') depth++;
        else if (d === ')') {
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
        }
        v += d;
        i++;
      }
      toks.push({ t: 'comment', v: v.trim() });
    } else if (c === '"') {
      const start = i;
      let v = '';
      i++;
      while (i < n && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < n) i++;
        v += s[i++];
      }
      i++;
      toks.push({ t: 'quoted', v, raw: s.slice(start, Math.min(i, n)) + (i > n ? '"' : '') });
    } else if (c === '[') {
      const end = s.indexOf(']', i);
      const stop = end < 0 ? n : end + 1;
      toks.push({ t: 'atom', v: s.slice(i, stop) + (end < 0 ? ']' : '') });
      i = stop;
    } else if (SPECIALS.includes(c)) {
      toks.push({ t: 'special', v: c });
      i++;
    } else if (c === ')' || c === ']') {
      i++; // stray closer: skipped
    } else {
      const start = i;
      while (i < n && !' \t\r\n()"[]<>@,;:'.includes(s[i])) i++;
      toks.push({ t: 'atom', v: s.slice(start, i) });
    }
  }
  return toks;
}

function phraseText(words: Tok[]): string | null {
  const parts = words.filter((w) => w.t === 'atom' || w.t === 'quoted').map((w) => w.v);
  if (!parts.length) return null;
  return parts.join(' ');
}

/** Joins the tokens of a local part or domain: atoms and dots without blanks, quotes kept. */
function joinSpec(words: Tok[]): string {
  let s = '';
  for (const w of words) {
    if (w.t === 'atom') s += w.v;
    else if (w.t === 'quoted') s += w.raw ?? `"${w.v}"`;
  }
  return s;
}

function firstComment(words: Tok[]): string | null {
  for (const w of words) if (w.t === 'comment' && w.v) return w.v;
  return null;
}

/** Parses an address-list header value; null for an empty or absent value. */
export function parseAddressList(value: string | null): EnvelopeAddress[] | null {
  if (value === null) return null;
  const toks = tokenize(value);
  const out: EnvelopeAddress[] = [];
  let inGroup = false;
  let pendingName: string | null = null;
  let i = 0;
  const n = toks.length;
  while (i < n) {
    // collect words up to a special
    const words: Tok[] = [];
    while (i < n && toks[i].t !== 'special') words.push(toks[i++]);
    const sp = i < n ? toks[i].v : '';
    if (sp === ':' && !inGroup) {
      i++;
      out.push({ name: null, adl: null, mailbox: phraseText(words) ?? '', host: null });
      inGroup = true;
      continue;
    }
    if (sp === '<') {
      i++;
      // obsolete route: @a,@b:
      const inner: Tok[] = [];
      while (i < n && toks[i].v !== '>' && !(toks[i].t === 'special' && toks[i].v === '<'))
        inner.push(toks[i++]);
      if (i < n && toks[i].v === '>') i++;
      let adl: string | null = null;
      let spec = inner;
      const colon = inner.findIndex((t) => t.t === 'special' && t.v === ':');
      if (colon >= 0 && inner[0]?.t === 'special' && inner[0].v === '@') {
        adl = inner
          .slice(0, colon)
          .filter((t) => t.t !== 'comment')
          .map((t) => t.v)
          .join('');
        spec = inner.slice(colon + 1);
      }
      // trailing words/comments after '>' up to the separator
      const after: Tok[] = [];
      while (i < n && toks[i].t !== 'special') after.push(toks[i++]);
      const name = phraseText(words) ?? pendingName ?? firstComment(after) ?? firstComment(inner);
      pendingName = null;
      out.push(addrSpec(spec, name, adl));
    } else if (sp === '@') {
      // addr-spec without angle brackets: words are the local part
      i++;
      const domain: Tok[] = [];
      while (
        i < n &&
        !(toks[i].t === 'special' && (toks[i].v === ',' || toks[i].v === ';' || toks[i].v === '<'))
      )
        domain.push(toks[i++]);
      if (i < n && toks[i].v === '<') {
        // "a@b <c@d>": the first is the display name (broken, but common)
        pendingName = `${joinSpec(words)}@${joinSpec(domain)}`;
        continue;
      }
      const local = words.filter((w) => w.t !== 'comment');
      const name = firstComment(words) ?? firstComment(domain);
      out.push({
        name,
        adl: null,
        mailbox: joinSpec(local),
        host: joinSpec(domain.filter((w) => w.t !== 'comment' && !(w.t === 'special'))) || MISSING_HOST,
      });
    } else {
      // ',' ';' ':' (inside a group) '>' or end
      const local = words.filter((w) => w.t === 'atom' || w.t === 'quoted');
      if (local.length) {
        out.push({
          name: firstComment(words),
          adl: null,
          mailbox: local.map((w) => (w.t === 'quoted' ? (w.raw ?? w.v) : w.v)).join(' '),
          host: MISSING_HOST,
        });
      }
      if (i < n) i++;
      if (sp === ';' && inGroup) {
        out.push({ name: null, adl: null, mailbox: null, host: null });
        inGroup = false;
      }
      continue;
    }
    // after an address: expect ',' or ';'
    if (i < n && toks[i].t === 'special') {
      if (toks[i].v === ';' && inGroup) {
        out.push({ name: null, adl: null, mailbox: null, host: null });
        inGroup = false;
        i++;
      } else if (toks[i].v === ',') i++;
    }
  }
  if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
  return out.length ? out : null;
}

function addrSpec(spec: Tok[], name: string | null, adl: string | null): EnvelopeAddress {
  const at = spec.findIndex((t) => t.t === 'special' && t.v === '@');
  const clean = (ts: Tok[]): Tok[] => ts.filter((t) => t.t === 'atom' || t.t === 'quoted');
  if (at < 0) {
    const local = joinSpec(clean(spec));
    if (!local) return { name, adl, mailbox: '', host: '' }; // "<>" (null reverse-path)
    return { name, adl, mailbox: local, host: MISSING_HOST };
  }
  const local = joinSpec(clean(spec.slice(0, at)));
  const host = joinSpec(clean(spec.slice(at + 1)));
  return { name, adl, mailbox: local, host: host || MISSING_HOST };
}

/** Formats an address for display/sorting: "name <mailbox@host>" style pieces. */
export function addressMailbox(a: EnvelopeAddress): string {
  if (a.mailbox === null) return '';
  return a.host ? `${a.mailbox}@${a.host}` : a.mailbox;
}
