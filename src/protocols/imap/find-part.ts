/**
 * Section part numbers against the parser's cached `BodyPart` (src/mail/api.ts), without
 * touching the message. (The ENVELOPE/BODYSTRUCTURE encoders are in src/mail/imap-text.ts.)
 *
 * Owns: `findPart`, which resolves a section part number ("1.2.3") to the byte ranges FETCH
 * streams.
 * Imports: mail/api.ts types, mail/imap-text.ts.
 */
import type { BodyPart } from '../../mail/api.js';
import { isMessage } from '../../mail/imap-text.js';

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
