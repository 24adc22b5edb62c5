/**
 * IMAP modified UTF-7 mailbox names (RFC 3501 section 5.1.3).
 *
 * Owns: `encodeMailboxName` (UTF-8 string to modified UTF-7) and `decodeMailboxName` (back,
 * strict: throws on anything RFC 3501 forbids, so a client cannot smuggle names that would
 * not round-trip). Printable US-ASCII except '&' stands for itself, '&' is "&-", other
 * characters are UTF-16 in modified BASE64 (',' for '/', no padding) between '&' and '-'.
 */

const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const VAL = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) VAL[ALPHA.charCodeAt(i)] = i;

/** Encodes a mailbox name to modified UTF-7. */
export function encodeMailboxName(name: string): string {
  let out = '';
  let i = 0;
  const n = name.length;
  while (i < n) {
    const c = name.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      out += c === 0x26 ? '&-' : name[i];
      i++;
      continue;
    }
    // a run of non-printable-ASCII UTF-16 code units
    const units: number[] = [];
    while (i < n) {
      const d = name.charCodeAt(i);
      if (d >= 0x20 && d <= 0x7e) break;
      units.push(d);
      i++;
    }
    out += '&';
    let bits = 0;
    let nbits = 0;
    for (const u of units) {
      bits = (bits << 16) | u;
      nbits += 16;
      while (nbits >= 6) {
        nbits -= 6;
        out += ALPHA[(bits >> nbits) & 0x3f];
      }
      bits &= (1 << nbits) - 1;
    }
    if (nbits > 0) out += ALPHA[(bits << (6 - nbits)) & 0x3f];
    out += '-';
  }
  return out;
}

/** Decodes a modified UTF-7 mailbox name; throws Error on invalid input. */
export function decodeMailboxName(s: string): string {
  let out = '';
  let i = 0;
  let prevEncodedEnd = -1;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new Error('invalid mailbox name: non-ASCII or control character');
    if (c !== 0x26) {
      out += s[i++];
      continue;
    }
    const end = s.indexOf('-', i + 1);
    if (end < 0) throw new Error('invalid mailbox name: unterminated &-sequence');
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      continue;
    }
    let bits = 0;
    let nbits = 0;
    const units: number[] = [];
    for (let k = i + 1; k < end; k++) {
      const code = s.charCodeAt(k);
      const v = code < 128 ? VAL[code] : -1;
      if (v < 0) throw new Error('invalid mailbox name: bad modified BASE64');
      bits = ((bits << 6) | v) & 0xffffff;
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        units.push((bits >> nbits) & 0xffff);
      }
    }
    // leftover bits must be zero padding, fewer than 6 of them
    if (nbits >= 6 || (bits & ((1 << nbits) - 1)) !== 0)
      throw new Error('invalid mailbox name: bad BASE64 padding');
    if (units.length === 0) throw new Error('invalid mailbox name: empty &-sequence');
    let decoded = '';
    for (let k = 0; k < units.length; k++) {
      const u = units[k];
      if (u >= 0xd800 && u <= 0xdbff) {
        const lo = units[k + 1];
        if (lo === undefined || lo < 0xdc00 || lo > 0xdfff)
          throw new Error('invalid mailbox name: bad surrogate');
        decoded += String.fromCharCode(u, lo);
        k++;
      } else if (u >= 0xdc00 && u <= 0xdfff) throw new Error('invalid mailbox name: bad surrogate');
      else if (u >= 0x20 && u <= 0x7e) throw new Error('invalid mailbox name: encoded printable ASCII');
      else decoded += String.fromCharCode(u);
    }
    // two adjacent encoded runs are not allowed ("&AOQ-&APY-" must be one run)
    if (i === prevEncodedEnd) throw new Error('invalid mailbox name: adjacent encoded sequences');
    out += decoded;
    i = end + 1;
    prevEncodedEnd = i;
  }
  return out;
}
