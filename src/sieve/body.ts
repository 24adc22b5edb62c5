/**
 * The body test's view of a message (RFC 5173): the decoded content of the MIME parts a
 * `body :text` or `body :content <types>` test looks at, read from the message file by the
 * offsets the parser recorded (ParsedMessage.body), transfer-decoded and, for text/*,
 * charset-decoded -- case preserved, so i;octet compares what the sender wrote.
 *
 * Bounded: at most `MAX_BODY_BYTES` of part data are read per message (a body test is about
 * content, not about reading a 50 MB attachment into memory).
 *
 * Owns: `bodyParts`. Imports: mail api (types), mail/decode, node fs.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { BodyPart } from '../mail/api.js';
import { decodeCharset, decodeTransfer } from '../mail/decode.js';

export const MAX_BODY_BYTES = 1024 * 1024;

/** does a part of type/subtype match a :content item ("", "text", "text/plain") */
function typeMatches(type: string, subtype: string, want: string): boolean {
  if (want === '') return true;
  const slash = want.indexOf('/');
  if (slash < 0) return type === want;
  return type === want.slice(0, slash) && subtype === want.slice(slash + 1);
}

/**
 * Decoded contents of the leaf parts whose type matches `types` (null = :text, i.e. text/*),
 * in message order. Parts of an encapsulated message/rfc822 are included.
 */
export function bodyParts(path: string, root: BodyPart, types: string[] | null): string[] {
  const want = types?.map((t) => t.toLowerCase()) ?? ['text'];
  const out: string[] = [];
  let budget = MAX_BODY_BYTES;
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const visit = (p: BodyPart): void => {
      if (budget <= 0) return;
      if (p.parts) {
        for (const c of p.parts) visit(c);
        return;
      }
      const type = p.type.toLowerCase();
      const subtype = p.subtype.toLowerCase();
      if (p.message && type === 'message' && !want.some((w) => typeMatches(type, subtype, w))) {
        visit(p.message.body);
        return;
      }
      if (!want.some((w) => typeMatches(type, subtype, w))) return;
      const len = Math.max(0, Math.min(p.bodyEnd - p.bodyStart, budget));
      const buf = Buffer.alloc(len);
      const n = len ? readSync(fd!, buf, 0, len, p.bodyStart) : 0;
      budget -= n;
      const data = decodeTransfer(buf.subarray(0, n), p.encoding);
      const charset = p.params.find(([k]) => k === 'charset')?.[1] ?? null;
      out.push(type === 'text' ? decodeCharset(data, charset) : data.toString('latin1'));
    };
    visit(root);
  } catch {
    /* unreadable file: the test sees no parts */
  } finally {
    if (fd !== null) closeSync(fd);
  }
  return out;
}
