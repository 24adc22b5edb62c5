/**
 * IMAP section numbers (RFC 3501 6.4.5 / RFC 9051 6.4.5) to byte ranges of the message file,
 * from the cached `BodyPart` tree: what FETCH BODY[1.2.HEADER], BODY[1.TEXT], BODY[1.MIME],
 * BODY[2] and BINARY[1] stream.
 *
 * Owns: `findPart(body, path)` and `sectionRange(body, size, path, spec)`. Rules: in a
 * non-multipart message, part 1 is the body itself; after a message/rfc822 part, further
 * numbers address parts of the encapsulated message; HEADER and TEXT after a part number are
 * only valid for message/rfc822 parts; MIME needs a part number.
 */
import type { BodyPart } from './api.js';

export type SectionSpec = '' | 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';

export interface ByteRange {
  start: number;
  end: number;
}

function isMessage(p: BodyPart): boolean {
  return !!p.message;
}

/** The part for a section path like [1, 2] (1-based), or null if there is none. */
export function findPart(body: BodyPart, path: number[]): BodyPart | null {
  let ctx = body; // the body of the message (or a multipart) the next number indexes into
  let part: BodyPart | null = null;
  for (let k = 0; k < path.length; k++) {
    const n = path[k];
    if (!Number.isInteger(n) || n < 1) return null;
    if (ctx.parts) part = ctx.parts[n - 1] ?? null;
    else part = n === 1 ? ctx : null;
    if (!part) return null;
    if (k + 1 < path.length) {
      if (part.message) ctx = part.message.body;
      else if (part.parts) ctx = part;
      else return null;
    }
  }
  return part;
}

/**
 * The byte range of a section. `size` is the message size. HEADER.FIELDS(.NOT) give the
 * header range that the caller filters. Null when the section does not exist.
 */
export function sectionRange(
  body: BodyPart,
  size: number,
  path: number[],
  spec: SectionSpec,
): ByteRange | null {
  if (path.length === 0) {
    if (spec === '') return { start: 0, end: size };
    if (spec === 'HEADER' || spec === 'HEADER.FIELDS' || spec === 'HEADER.FIELDS.NOT')
      return { start: 0, end: body.bodyStart };
    if (spec === 'TEXT') return { start: body.bodyStart, end: size };
    return null; // MIME needs a part
  }
  const part = findPart(body, path);
  if (!part) return null;
  switch (spec) {
    case '':
      return { start: part.bodyStart, end: part.bodyEnd };
    case 'MIME':
      return { start: part.headerStart, end: part.bodyStart };
    case 'HEADER':
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT':
      if (!isMessage(part)) return null;
      return { start: part.message!.headerStart, end: part.message!.bodyStart };
    case 'TEXT':
      if (!isMessage(part)) return null;
      return { start: part.message!.bodyStart, end: part.bodyEnd };
  }
  return null;
}
