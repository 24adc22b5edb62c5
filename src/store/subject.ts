/**
 * RFC 5256 section 2.1 base subject, for SORT SUBJECT (and THREAD=ORDEREDSUBJECT).
 * Input is the decoded Subject; output is compared with i;ascii-casemap, so it is
 * returned lower-cased.
 */

const TRAILER = /(\s*\(fwd\))+\s*$|\s+$/i;
const BLOB = /^\[[^[\]]*\]\s*/;
const REFWD = /^(re|fwd?)\s*(\[[^[\]]*\]\s*)*:\s*/i;

export function baseSubject(subject: string): string {
  let s = subject
    .replace(/[\t\r\n]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
  for (;;) {
    let changed = true;
    // (2) trailing (fwd) and whitespace
    while (TRAILER.test(s) && s.replace(TRAILER, '') !== s) s = s.replace(TRAILER, '');
    // (3)-(4) leading subj-refwd and subj-blob, repeatedly
    while (changed) {
      changed = false;
      const r = s.match(REFWD);
      if (r) {
        s = s.slice(r[0].length);
        changed = true;
      }
      const b = s.match(BLOB);
      if (b && s.length > b[0].length) {
        s = s.slice(b[0].length);
        changed = true;
      }
      s = s.trimStart();
    }
    // (6) [fwd: ... ] wrapper
    const m = s.match(/^\[fwd:\s*(.*)\]$/i);
    if (m) {
      s = m[1]!.trim();
      continue;
    }
    break;
  }
  return s.toLowerCase();
}
