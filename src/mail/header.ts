/**
 * RFC 5322 header blocks and MIME structured header values (RFC 2045, RFC 2183, RFC 2231).
 *
 * Owns: splitting a raw header block into fields (unfolded, raw values), and parsing
 * Content-Type / Content-Disposition into a value plus parameters, with RFC 2231
 * continuations and charset'language'%XX values decoded. Never throws: junk is skipped.
 */
import { bytesToString, decodeCharset } from './decode.js';

export interface HeaderField {
  /** lower-case field name */
  name: string;
  /** raw value: text after the colon, unfolded (CRLF removed, the folding blank kept), trimmed */
  value: string;
}

/**
 * Splits a header block (without the blank line) into fields. Lines without a colon that
 * are not continuations are ignored (as Cyrus does); 8-bit bytes go through `bytesToString`.
 */
export function splitHeader(block: Buffer): HeaderField[] {
  const fields: HeaderField[] = [];
  const n = block.length;
  let i = 0;
  let cur: { name: string; parts: string[] } | null = null;
  const finish = (): void => {
    if (cur) fields.push({ name: cur.name, value: cur.parts.join('').trim() });
    cur = null;
  };
  while (i < n) {
    let eol = block.indexOf(10, i);
    if (eol < 0) eol = n;
    let end = eol;
    if (end > i && block[end - 1] === 0x0d) end--;
    const c = block[i];
    if (c === 0x20 || c === 0x09) {
      // continuation: keep the folding whitespace (RFC 5322 2.2.3 unfolding)
      if (cur) (cur as { parts: string[] }).parts.push(bytesToString(block.subarray(i, end)));
    } else {
      finish();
      const colon = block.indexOf(0x3a, i);
      if (colon >= 0 && colon < end) {
        let ne = colon;
        while (ne > i && (block[ne - 1] === 0x20 || block[ne - 1] === 0x09)) ne--;
        if (ne > i) {
          const name = block.toString('latin1', i, ne).toLowerCase();
          cur = { name, parts: [bytesToString(block.subarray(colon + 1, end))] };
        }
      }
    }
    i = eol + 1;
  }
  finish();
  return fields;
}

/** First value of a field, or null. */
export function firstField(fields: HeaderField[], name: string): string | null {
  for (const f of fields) if (f.name === name) return f.value;
  return null;
}

// ---- structured values: tokens of RFC 2045 with quoted strings and comments ----

/** Removes RFC 5322 comments (nested, with quoted-pairs) outside quoted strings. */
export function stripComments(s: string): string {
  if (s.indexOf('(') < 0) return s;
  let out = '';
  let depth = 0;
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (depth === 0 && c === '"') inQuote = !inQuote;
    if (inQuote) {
      out += c;
      if (c === '\\' && i + 1 < s.length) out += s[++i];
      continue;
    }
    if (c === '\\' && depth > 0) {
      i++;
      continue;
    }
    if (c === '(') {
      depth++;
      continue;
    }
    if (c === ')' && depth > 0) {
      depth--;
      if (depth === 0) out += ' ';
      continue;
    }
    if (depth === 0) out += c;
  }
  return out;
}

export interface MimeValue {
  /** the main value (e.g. "text/plain", "attachment"), lower-case, '' if missing */
  value: string;
  /** parameters in order of first appearance, names lower-case, RFC 2231 decoded */
  params: [string, string][];
}

interface RawParam {
  name: string;
  section: number;
  extended: boolean;
  value: string;
}

/** Parses `value *(";" name "=" (token | quoted-string))` as in Content-Type and -Disposition. */
export function parseMimeValue(raw: string): MimeValue {
  const s = stripComments(raw);
  let i = 0;
  const n = s.length;
  const skipWs = (): void => {
    while (i < n && (s[i] === ' ' || s[i] === '\t' || s[i] === '\r' || s[i] === '\n')) i++;
  };
  skipWs();
  let start = i;
  while (i < n && s[i] !== ';') i++;
  const value = s.slice(start, i).replace(/\s+/g, '').toLowerCase();
  const raws: RawParam[] = [];
  while (i < n) {
    if (s[i] === ';') i++;
    skipWs();
    start = i;
    while (i < n && s[i] !== '=' && s[i] !== ';') i++;
    const name = s.slice(start, i).trim().toLowerCase();
    if (i >= n || s[i] === ';') continue; // a parameter without a value: ignored
    i++; // '='
    skipWs();
    let val = '';
    if (s[i] === '"') {
      i++;
      while (i < n && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < n) i++;
        val += s[i++];
      }
      i++; // closing quote (or end)
      while (i < n && s[i] !== ';') i++; // junk after the quoted string
    } else {
      start = i;
      while (i < n && s[i] !== ';') i++;
      val = s.slice(start, i).trim();
    }
    if (!name) continue;
    const m = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(name);
    if (m)
      raws.push({
        name: m[1],
        section: m[2] === undefined ? -1 : Number(m[2]),
        extended: !!m[3],
        value: val,
      });
    else raws.push({ name, section: -1, extended: false, value: val });
  }
  return { value, params: combineParams(raws) };
}

/** RFC 2231: joins name*0, name*1 ... continuations and decodes charset'lang'%XX values. */
function combineParams(raws: RawParam[]): [string, string][] {
  const order: string[] = [];
  const groups = new Map<string, RawParam[]>();
  for (const p of raws) {
    let g = groups.get(p.name);
    if (!g) {
      g = [];
      groups.set(p.name, g);
      order.push(p.name);
    }
    g.push(p);
  }
  const out: [string, string][] = [];
  for (const name of order) {
    const g = groups.get(name)!;
    const plain = g.find((p) => p.section < 0 && !p.extended);
    const ext = g.find((p) => p.section < 0 && p.extended);
    const sections = g.filter((p) => p.section >= 0).sort((a, b) => a.section - b.section);
    if (ext) {
      out.push([name, decode2231(ext.value, true).text]);
    } else if (sections.length && sections[0].section === 0) {
      // continuations must be consecutive from 0; stop at the first gap
      let charset: string | null = null;
      const bytes: Buffer[] = [];
      let expect = 0;
      for (const p of sections) {
        if (p.section !== expect) {
          if (p.section < expect) continue; // duplicate section
          break;
        }
        expect++;
        if (p.extended) {
          if (p.section === 0) {
            const d = decode2231(p.value, true);
            charset = d.charset;
            bytes.push(d.bytes);
          } else bytes.push(percentDecode(p.value));
        } else bytes.push(Buffer.from(p.value, 'utf8'));
      }
      out.push([name, decodeCharset(Buffer.concat(bytes), charset)]);
    } else if (plain) {
      out.push([name, plain.value]);
    } else if (sections.length) {
      out.push([name, sections.map((p) => p.value).join('')]);
    }
  }
  return out;
}

function percentDecode(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) out.push(c);
    else for (const b of Buffer.from(s[i], 'utf8')) out.push(b);
  }
  return Buffer.from(out);
}

function decode2231(v: string, first: boolean): { charset: string | null; bytes: Buffer; text: string } {
  let charset: string | null = null;
  let rest = v;
  if (first) {
    const q1 = v.indexOf("'");
    const q2 = q1 >= 0 ? v.indexOf("'", q1 + 1) : -1;
    if (q2 >= 0) {
      charset = v.slice(0, q1) || null;
      rest = v.slice(q2 + 1);
    }
  }
  const bytes = percentDecode(rest);
  return { charset, bytes, text: decodeCharset(bytes, charset) };
}

/** Parses Content-Language: a comma-separated list of tags; null if empty. */
export function parseLanguage(raw: string | null): string[] | null {
  if (raw === null) return null;
  const tags = stripComments(raw)
    .split(/[,\s]+/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  return tags.length ? tags : null;
}

/** Strips comments and blanks from a single-token header (Content-Transfer-Encoding, Content-Location). */
export function cleanToken(raw: string | null): string | null {
  if (raw === null) return null;
  const v = stripComments(raw).replace(/\s+/g, '');
  return v.length ? v : null;
}
