/**
 * The IMAP text forms of a parsed message: ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 §7.4.2,
 * RFC 9051 §7.5.2) built from the parser's `Envelope` and `BodyPart`, and the IMAP string
 * encoders they use.
 *
 * Owns: `str`/`nstr` (quoted or literal), `envelopeText`, `bodyText`. They live beside the
 * parser rather than in the IMAP server because the store renders ENVELOPE and BODYSTRUCTURE
 * once at append and keeps the text in its cache (as Cyrus keeps them in cyrus.cache), so a
 * FETCH of a whole mailbox concatenates instead of decoding and re-encoding every message.
 * Imports: mail/api.ts types.
 */
import type { BodyPart, Envelope, EnvelopeAddress } from './api.js';

/**
 * string → quoted or literal, as the grammar's `string`. quoted = DQUOTE *QUOTED-CHAR DQUOTE:
 * only if no CR/LF/NUL and (unless utf8) ASCII; one scan decides that and whether `\` or `"`
 * need escaping (the common case needs none: no regex, no copy).
 */
export function str(s: string, utf8 = false): string {
  const n = s.length;
  if (n <= 1024) {
    let escapes = false;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === 0 || c === 0x0a || c === 0x0d || (c > 0x7e && !utf8)) break;
      if (c === 0x5c || c === 0x22) escapes = true;
    }
    if (i === n) return escapes ? '"' + s.replace(/[\\"]/g, '\\$&') + '"' : '"' + s + '"';
  }
  return `{${Buffer.byteLength(s, 'utf8')}}\r\n${s}`;
}

/** nstring: NIL for null */
export function nstr(s: string | null | undefined, utf8 = false): string {
  return s === null || s === undefined ? 'NIL' : str(s, utf8);
}

/**
 * Upper-cased, quoted token (type, subtype, encoding, parameter and disposition names): the same
 * few dozen values recur in every message, so their text is remembered (bounded).
 */
const upperQuoted = new Map<string, string>();
function uq(s: string): string {
  let v = upperQuoted.get(s);
  if (v === undefined) {
    v = str(s.toUpperCase());
    if (s.length <= 64 && upperQuoted.size < 4096) upperQuoted.set(s, v);
  }
  return v;
}

function addresses(list: EnvelopeAddress[] | null, utf8: boolean): string {
  if (!list || list.length === 0) return 'NIL';
  return (
    '(' +
    list
      .map(
        (a) => `(${nstr(a.name, utf8)} ${nstr(a.adl, utf8)} ${nstr(a.mailbox, utf8)} ${nstr(a.host, utf8)})`,
      )
      .join('') +
    ')'
  );
}

/** envelope = "(" date SP subject SP from SP sender SP reply-to SP to SP cc SP bcc SP in-reply-to SP message-id ")" */
export function envelopeText(e: Envelope, utf8 = false): string {
  // RFC 3501: sender and reply-to default to from when absent
  const sender = e.sender && e.sender.length ? e.sender : e.from;
  const replyTo = e.replyTo && e.replyTo.length ? e.replyTo : e.from;
  return (
    `(${nstr(e.date, utf8)} ${nstr(e.subject, utf8)} ${addresses(e.from, utf8)} ${addresses(sender, utf8)} ` +
    `${addresses(replyTo, utf8)} ${addresses(e.to, utf8)} ${addresses(e.cc, utf8)} ${addresses(e.bcc, utf8)} ` +
    `${nstr(e.inReplyTo, utf8)} ${nstr(e.messageId, utf8)})`
  );
}

function params(p: [string, string][]): string {
  if (!p.length) return 'NIL';
  return '(' + p.map(([k, v]) => `${uq(k)} ${str(v, true)}`).join(' ') + ')';
}

function disposition(d: BodyPart['disposition']): string {
  if (!d) return 'NIL';
  return `(${uq(d.type)} ${params(d.params)})`;
}

function language(l: string[] | null): string {
  if (!l || l.length === 0) return 'NIL';
  if (l.length === 1) return str(l[0]!);
  return '(' + l.map((x) => str(x)).join(' ') + ')';
}

export function isMessage(p: BodyPart): boolean {
  const t = p.type.toLowerCase();
  const s = p.subtype.toLowerCase();
  return t === 'message' && (s === 'rfc822' || s === 'global') && !!p.message;
}

/** body / body-structure: `ext` adds the extension data of BODYSTRUCTURE */
export function bodyText(p: BodyPart, ext: boolean, utf8 = false): string {
  if (p.parts && p.parts.length) {
    let s = '(' + p.parts.map((c) => bodyText(c, ext, utf8)).join('') + ' ' + uq(p.subtype);
    if (ext)
      s += ` ${params(p.params)} ${disposition(p.disposition)} ${language(p.language)} ${nstr(p.location)}`;
    return s + ')';
  }
  const type = p.type.toUpperCase();
  let s = `(${uq(p.type)} ${uq(p.subtype)} ${params(p.params)} ${nstr(p.id, utf8)} ${nstr(p.description, utf8)} ${uq(p.encoding)} ${p.size}`;
  if (isMessage(p)) {
    s += ` ${envelopeText(p.message!.envelope, utf8)} ${bodyText(p.message!.body, ext, utf8)} ${p.lines}`;
  } else if (type === 'TEXT') {
    s += ` ${p.lines}`;
  }
  if (ext) s += ` ${nstr(p.md5)} ${disposition(p.disposition)} ${language(p.language)} ${nstr(p.location)}`;
  return s + ')';
}
