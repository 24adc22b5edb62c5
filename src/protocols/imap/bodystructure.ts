/**
 * ENVELOPE, BODY and BODYSTRUCTURE as IMAP text (RFC 3501 §7.4.2, RFC 9051 §7.5.2), built from
 * the parser's cached `Envelope` and `BodyPart` (src/mail/api.ts) without touching the message.
 *
 * Owns: those three encoders, and `findPart`, which resolves a section part number
 * ("1.2.3") to the byte ranges FETCH streams.
 * Imports: mail/api.ts types, response.ts.
 */
import type { BodyPart, Envelope, EnvelopeAddress } from '../../mail/api.js';
import { nstr, str } from './response.js';

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

function isMessage(p: BodyPart): boolean {
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

/** A part addressed by a section number, with what HEADER/TEXT/MIME mean for it. */
export interface PartRef {
  part: BodyPart;
  /** the message whose HEADER/TEXT a sub-section names (top message, or an encapsulated one) */
  msg: { headerStart: number; bodyStart: number; bodyEnd: number; body: BodyPart } | null;
}

/**
 * Resolve "1.2.3" against the top-level body. Part 1 of a non-multipart message is its body;
 * a part of a message/rfc822 part numbers the encapsulated message's parts.
 * Returns null when the part does not exist.
 */
export function findPart(top: BodyPart, path: number[], size: number): PartRef | null {
  let cur: BodyPart = top;
  let msg: PartRef['msg'] = {
    headerStart: top.headerStart,
    bodyStart: top.bodyStart,
    bodyEnd: size,
    body: top,
  };
  for (const n of path) {
    // descending into a message/rfc822 part: number inside its message
    let container = cur;
    if (isMessage(container) && container !== top) container = container.message!.body;
    if (container.parts && container.parts.length) {
      const next = container.parts[n - 1];
      if (!next) return null;
      cur = next;
    } else {
      if (n !== 1) return null;
      cur = container;
    }
    msg = isMessage(cur)
      ? {
          headerStart: cur.message!.headerStart,
          bodyStart: cur.message!.bodyStart,
          bodyEnd: cur.bodyEnd,
          body: cur.message!.body,
        }
      : null;
  }
  return { part: cur, msg };
}
