/**
 * RFC 5256 section 2.1 base subject, for SORT SUBJECT and THREAD (ORDEREDSUBJECT,
 * REFERENCES). Input is the subject already decoded from RFC 2047 to a string.
 *
 * Owns: `baseSubject(subject)` and `isReplyOrForward(subject)` (whether extraction removed a
 * "Re:"-style prefix or "(fwd)" trailer, which THREAD=ORDEREDSUBJECT needs).
 */

const BLOB = /^\[[^[\]]*\][ \t]*/;
const REFWD = /^(?:re|fwd?)[ \t]*(?:\[[^[\]]*\][ \t]*)?:/i;

interface Extracted {
  base: string;
  reply: boolean;
}

function extract(subject: string): Extracted {
  // (1) whitespace runs to one space (tabs and folding included), trimmed at (2)
  let s = subject.replace(/[\t\r\n ]+/g, ' ');
  let reply = false;
  for (;;) {
    // (2) remove trailing subj-trailer: "(fwd)" and whitespace
    for (;;) {
      const before = s;
      s = s.replace(/[ \t]+$/, '');
      if (/\(fwd\)$/i.test(s)) {
        s = s.slice(0, -5);
        reply = true;
      }
      if (s === before) break;
    }
    // (5) loop of (3) and (4)
    for (;;) {
      const before = s;
      // (3) subj-leader: blobs and "re:" prefixes, whitespace
      for (;;) {
        const b2 = s;
        s = s.replace(/^[ \t]+/, '');
        const m = REFWD.exec(s);
        if (m) {
          s = s.slice(m[0].length);
          reply = true;
        } else {
          // a leading blob, only if something remains after it
          const bm = BLOB.exec(s);
          if (bm && s.length > bm[0].length) s = s.slice(bm[0].length);
        }
        if (s === b2) break;
      }
      // (4) a leading subj-blob when what follows is non-empty
      const bm = BLOB.exec(s);
      if (bm && s.slice(bm[0].length).length > 0) s = s.slice(bm[0].length);
      if (s === before) break;
    }
    // (6) "[fwd:" ... "]" wrapper
    const fw = /^\[fwd:(.*)\]$/i.exec(s);
    if (fw) {
      s = fw[1];
      reply = true;
      continue;
    }
    break;
  }
  return { base: s.trim(), reply };
}

/** The RFC 5256 base subject (case is kept; compare with i;unicode-casemap or upper-case). */
export function baseSubject(subject: string): string {
  return extract(subject).base;
}

/** True when the subject had a reply/forward leader or trailer (RFC 5256 ORDEREDSUBJECT). */
export function isReplyOrForward(subject: string): boolean {
  return extract(subject).reply;
}
