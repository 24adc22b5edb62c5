/**
 * The message as Sieve sees it: its header fields (read from the spooled file, header block
 * only, bounded), RFC 2047 decoding of header values, and RFC 5322 address-list parsing for
 * the address/envelope tests (RFC 5228 2.7.4, subaddress RFC 5233).
 *
 * Owns: `readHeaderBlock`, `parseHeaders`, `decodeHeader`, `parseAddresses`, `addressPart`.
 * Imports: node built-ins.
 */
import { openSync, readSync, closeSync } from 'node:fs';

/** Most header bytes we read from a message file; beyond this headers are ignored. */
export const MAX_HEADER_BYTES = 256 * 1024;

export interface HeaderField {
  /** name as written */
  name: string;
  /** raw value, unfolded (CRLF+WSP → WSP), leading whitespace removed */
  value: string;
}

/** Read the header block (up to `limit` bytes or the first empty line) of a message file. */
export function readHeaderBlock(path: string, limit = MAX_HEADER_BYTES): string {
  const fd = openSync(path, 'r');
  try {
    // most header blocks are a few KiB: read in growing chunks, never more than `limit`
    const chunks: Buffer[] = [];
    let n = 0;
    let size = 16 * 1024;
    while (n < limit) {
      const buf = Buffer.allocUnsafe(Math.min(size, limit - n));
      const r = readSync(fd, buf, 0, buf.length, n);
      if (r <= 0) break;
      chunks.push(buf.subarray(0, r));
      n += r;
      const text = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n);
      const end = findHeaderEnd(text);
      if (end >= 0) return text.subarray(0, end).toString('latin1');
      size *= 2;
    }
    return Buffer.concat(chunks, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

function findHeaderEnd(b: Buffer): number {
  if (b[0] === 0x0a) return 0;
  if (b[0] === 0x0d && b[1] === 0x0a) return 0;
  const a = b.indexOf('\r\n\r\n');
  const c = b.indexOf('\n\n');
  if (a >= 0 && (c < 0 || a < c)) return a + 2;
  if (c >= 0) return c + 1;
  return -1;
}

/**
 * Split a header block (latin1 string of the raw bytes) into fields. UTF-8 in header values
 * (RFC 6532) is re-decoded so that tests compare characters, not bytes.
 */
export function parseHeaders(block: string): HeaderField[] {
  const out: HeaderField[] = [];
  const lines = block.split(/\r?\n/);
  for (const line of lines) {
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && out.length) {
      out[out.length - 1]!.value += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push({ name: line.slice(0, colon).trimEnd(), value: line.slice(colon + 1) });
  }
  for (const f of out) {
    f.value = f.value.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
    if (/[\x80-\xff]/.test(f.value)) f.value = Buffer.from(f.value, 'latin1').toString('utf8');
  }
  return out;
}

function decodeCharset(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.toLowerCase().replace(/\*.*$/, '')).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** Decode RFC 2047 encoded-words in a header value (whitespace between adjacent words dropped). */
export function decodeHeader(value: string): string {
  if (!value.includes('=?')) return value;
  return value
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)/g, '$1')
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (whole, cs: string, enc: string, text: string) => {
      let bytes: Buffer;
      if (enc.toUpperCase() === 'B') bytes = Buffer.from(text, 'base64');
      else {
        const parts: number[] = [];
        for (let i = 0; i < text.length; i++) {
          const ch = text[i]!;
          if (ch === '_') parts.push(0x20);
          else if (ch === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
            parts.push(parseInt(text.slice(i + 1, i + 3), 16));
            i += 2;
          } else parts.push(ch.charCodeAt(0) & 0xff);
        }
        bytes = Buffer.from(parts);
      }
      const s = decodeCharset(bytes, cs);
      return s || whole;
    });
}

export interface ParsedAddress {
  /** the addr-spec, e.g. "fred+x@example.com" ("" for an empty group / unparsable) */
  address: string;
}

/** Parse an RFC 5322 address-list into addr-specs (display names, comments and groups dropped). */
export function parseAddresses(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  const s = value;
  let cur = '';
  let angle: string | null = null;
  const flush = (): void => {
    const a = (angle ?? cur).trim();
    if (a) out.push(angle !== null ? a : a.replace(/\s+/g, ''));
    cur = '';
    angle = null;
  };
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') {
      let j = i + 1;
      let q = '';
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\') j++;
        q += s[j] ?? '';
        j++;
      }
      cur += `"${q}"`;
      i = j + 1;
      continue;
    }
    if (c === '(') {
      let depth = 1;
      i++;
      while (i < s.length && depth) {
        if (s[i] === '\\') i++;
        else if (s[i] === '(') depth++;
        else if (s[i] === ')') depth--;
        i++;
      }
      continue;
    }
    if (c === '<') {
      const j = s.indexOf('>', i);
      const inner = s.slice(i + 1, j < 0 ? s.length : j);
      angle = inner.replace(/^@[^:]*:/, '').trim();
      i = j < 0 ? s.length : j + 1;
      continue;
    }
    if (c === ':') {
      // group start: drop the display name
      cur = '';
      i++;
      continue;
    }
    if (c === ',' || c === ';') {
      flush();
      i++;
      continue;
    }
    cur += c;
    i++;
  }
  flush();
  // a bare word with spaces is a display-name without address: keep only things that look like one
  return out.map((a) => (a.includes(' ') && !a.startsWith('"') ? (a.split(/\s+/).pop() ?? a) : a));
}

/** Split an addr-spec at its last '@' (local part may be quoted). */
export function splitAddress(addr: string): { local: string; domain: string } {
  const at = addr.lastIndexOf('@');
  if (at < 0) return { local: addr, domain: '' };
  let local = addr.slice(0, at);
  if (local.startsWith('"') && local.endsWith('"') && local.length >= 2) local = local.slice(1, -1);
  return { local, domain: addr.slice(at + 1) };
}

/** The separator between user and detail (RFC 5233); Cyrus uses '+'. */
export const SUBADDRESS_SEP = '+';

/**
 * The part of an address an address test compares (RFC 5228 2.7.4, RFC 5233).
 * Returns null when the part does not exist (":detail" of an address without a separator),
 * which makes the comparison fail for that address.
 */
export function addressPart(addr: string, part: string): string | null {
  if (addr === '') return '';
  const { local, domain } = splitAddress(addr);
  switch (part) {
    case 'localpart':
      return local;
    case 'domain':
      return domain;
    case 'user': {
      const k = local.indexOf(SUBADDRESS_SEP);
      return k < 0 ? local : local.slice(0, k);
    }
    case 'detail': {
      const k = local.indexOf(SUBADDRESS_SEP);
      return k < 0 ? null : local.slice(k + 1);
    }
    default:
      return domain ? `${local}@${domain}` : local;
  }
}
