/**
 * Content decoding for mail: transfer encodings (base64, quoted-printable; RFC 2045 6.7/6.8),
 * RFC 2047 encoded-words in headers, and charsets to UTF-8 (TextDecoder with aliases and a
 * best-effort fallback).
 *
 * Owns: incremental byte decoders (`Base64Decoder`, `QpDecoder`) that never need the whole
 * input, the stream `decoderFor(encoding)` used by IMAP BINARY[] to decode a part while it is
 * streamed from the message file, and string helpers for header text. Nothing here throws on
 * malformed input: bad bytes are skipped or kept literally.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { TextDecoder } from 'node:util';

/** An incremental byte decoder: feed chunks, get decoded chunks. */
export interface ByteDecoder {
  update(chunk: Buffer): Buffer;
  end(): Buffer;
}

const B64 = new Int16Array(256).fill(-1);
{
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < 64; i++) B64[alphabet.charCodeAt(i)] = i;
  // URL-safe alphabet, seen in the wild
  B64[0x2d] = 62;
  B64[0x5f] = 63;
}

/** Base64 (RFC 2045 6.8): characters outside the alphabet are ignored; '=' ends a quantum. */
export class Base64Decoder implements ByteDecoder {
  private acc = 0;
  private n = 0;

  update(chunk: Buffer): Buffer {
    const out = Buffer.allocUnsafe(((chunk.length + 4) * 3) >> 2);
    let o = 0;
    let acc = this.acc;
    let n = this.n;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      const v = B64[c];
      if (v >= 0) {
        acc = (acc << 6) | v;
        if (++n === 4) {
          out[o++] = (acc >> 16) & 0xff;
          out[o++] = (acc >> 8) & 0xff;
          out[o++] = acc & 0xff;
          acc = 0;
          n = 0;
        }
      } else if (c === 0x3d && n > 0) {
        // '=' padding: flush the partial quantum
        if (n === 2) out[o++] = (acc >> 4) & 0xff;
        else if (n === 3) {
          out[o++] = (acc >> 10) & 0xff;
          out[o++] = (acc >> 2) & 0xff;
        }
        acc = 0;
        n = 0;
      }
    }
    this.acc = acc;
    this.n = n;
    return out.subarray(0, o);
  }

  end(): Buffer {
    const acc = this.acc;
    const n = this.n;
    this.acc = this.n = 0;
    if (n === 2) return Buffer.from([(acc >> 4) & 0xff]);
    if (n === 3) return Buffer.from([(acc >> 10) & 0xff, (acc >> 2) & 0xff]);
    return Buffer.alloc(0);
  }
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Quoted-printable (RFC 2045 6.7): `=XX` octets, `=` + line end is a soft line break, trailing
 * blanks of a line are transport padding. A broken `=` is kept literally. Works line by line,
 * holding back at most one incomplete line (bounded: a line longer than 8 KiB is flushed).
 */
export class QpDecoder implements ByteDecoder {
  private pending: Buffer | null = null;

  update(chunk: Buffer): Buffer {
    let data = chunk;
    if (this.pending) {
      data = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let cut = data.lastIndexOf(10) + 1;
    if (data.length - cut > 8192) {
      // a long line: decode all but what the next bytes could change (a split "=XX" or
      // soft break, trailing blanks that may be transport padding)
      cut = data.length;
      const eq = data.lastIndexOf(0x3d, cut - 1);
      if (eq >= 0 && eq >= cut - 3) cut = eq;
      while (cut > 0 && (data[cut - 1] === 0x20 || data[cut - 1] === 0x09 || data[cut - 1] === 0x0d)) cut--;
      if (data.length - cut > 65536) cut = data.length; // pathological blank run: give up exactness
    }
    if (cut < data.length) this.pending = Buffer.from(data.subarray(cut));
    return qpDecodeRange(data, 0, cut);
  }

  end(): Buffer {
    const p = this.pending;
    this.pending = null;
    return p ? qpDecodeRange(p, 0, p.length) : Buffer.alloc(0);
  }
}

/** Decodes quoted-printable bytes [start, end) of `src`. */
export function qpDecodeRange(src: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  let o = 0;
  let lineOut = 0; // output index where blanks at end of line may be trimmed back to
  let i = start;
  while (i < end) {
    const c = src[i];
    if (c === 0x3d) {
      const h1 = i + 1 < end ? hexVal(src[i + 1]) : -1;
      const h2 = i + 2 < end ? hexVal(src[i + 2]) : -1;
      if (h1 >= 0 && h2 >= 0) {
        out[o++] = (h1 << 4) | h2;
        lineOut = o;
        i += 3;
        continue;
      }
      // soft line break: '=' [blanks] (CRLF | LF | end)
      let j = i + 1;
      while (j < end && (src[j] === 0x20 || src[j] === 0x09)) j++;
      if (j >= end) {
        i = end;
        continue;
      }
      if (src[j] === 0x0d && j + 1 < end && src[j + 1] === 0x0a) {
        i = j + 2;
        continue;
      }
      if (src[j] === 0x0a) {
        i = j + 1;
        continue;
      }
      out[o++] = c;
      lineOut = o;
      i++;
      continue;
    }
    if (c === 0x0a) {
      // hard line break: drop transport padding before it
      let t = o;
      const cr = t > lineOut && out[t - 1] === 0x0d;
      if (cr) t--;
      while (t > lineOut && (out[t - 1] === 0x20 || out[t - 1] === 0x09)) t--;
      o = t;
      if (cr) out[o++] = 0x0d;
      out[o++] = 0x0a;
      lineOut = o;
      i++;
      continue;
    }
    out[o++] = c;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) lineOut = o;
    i++;
  }
  return out.subarray(0, o);
}

/** Normalises a Content-Transfer-Encoding value: lower case, no blanks or comments. */
export function normalizeEncoding(enc: string | null | undefined): string {
  if (!enc) return '7bit';
  return enc
    .replace(/\(.*?\)/g, '')
    .trim()
    .toLowerCase();
}

/** An incremental decoder for a transfer encoding, or null for identity encodings. */
export function byteDecoderFor(encoding: string): ByteDecoder | null {
  const e = normalizeEncoding(encoding);
  if (e === 'base64') return new Base64Decoder();
  if (e === 'quoted-printable') return new QpDecoder();
  return null;
}

/**
 * A Transform decoding a Content-Transfer-Encoding while streaming (IMAP BINARY[]), or null
 * when the encoding needs no decoding (7bit, 8bit, binary) or is unknown (the caller answers
 * UNKNOWN-CTE for unknown ones: see `isKnownEncoding`).
 */
export function decoderFor(encoding: string): Transform | null {
  const d = byteDecoderFor(encoding);
  if (!d) return null;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      const out = d.update(chunk);
      cb(null, out.length ? out : undefined);
    },
    flush(cb: TransformCallback) {
      const out = d.end();
      cb(null, out.length ? out : undefined);
    },
  });
}

/** True for the encodings IMAP BINARY can decode (RFC 3516: otherwise NO [UNKNOWN-CTE]). */
export function isKnownEncoding(encoding: string): boolean {
  const e = normalizeEncoding(encoding);
  return e === '7bit' || e === '8bit' || e === 'binary' || e === 'base64' || e === 'quoted-printable';
}

/** Decodes a whole buffer of the given transfer encoding. */
export function decodeTransfer(data: Buffer, encoding: string): Buffer {
  const d = byteDecoderFor(encoding);
  if (!d) return data;
  const a = d.update(data);
  const b = d.end();
  return b.length ? Buffer.concat([a, b]) : a;
}

// ---- charsets ----

const CHARSET_ALIASES: Record<string, string> = {
  // declared ASCII with 8-bit bytes is nowadays mostly UTF-8 (UTF-8, else latin1, one-shot)
  ascii: 'utf-8',
  'us-ascii': 'utf-8',
  'ansi_x3.4-1968': 'utf-8',
  latin1: 'windows-1252',
  'iso-8859-1': 'windows-1252',
  'shift-jis': 'shift_jis',
  sjis: 'shift_jis',
  'x-sjis': 'shift_jis',
  euc_jp: 'euc-jp',
  'x-euc-jp': 'euc-jp',
  'ks_c_5601-1987': 'euc-kr',
  ks_c_5601: 'euc-kr',
  cp949: 'euc-kr',
  'x-gbk': 'gbk',
  cp936: 'gbk',
  'gb_2312-80': 'gbk',
  'big5-hkscs': 'big5',
  cp932: 'shift_jis',
  'windows-31j': 'shift_jis',
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'x-unknown': 'utf-8',
  unknown: 'utf-8',
  'unknown-8bit': 'utf-8',
  default: 'utf-8',
  'utf-7': 'utf-7',
  'unicode-1-1-utf-7': 'utf-7',
};

const labelCache = new Map<string, string | null>();

function tryLabel(label: string): boolean {
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
}

/** Maps a MIME charset name to a TextDecoder label, or null when nothing fits. */
export function charsetLabel(charset: string): string | null {
  const key = charset.trim().toLowerCase().replace(/^"|"$/g, '');
  const cached = labelCache.get(key);
  if (cached !== undefined) return cached;
  let label: string | null = CHARSET_ALIASES[key] ?? null;
  if (!label) {
    const candidates = [key, key.replace(/_/g, '-'), key.replace(/^x-/, '')];
    let m = /^(?:cp|win|windows)[-_]?(125\d|874)$/.exec(key);
    if (m) candidates.push(`windows-${m[1]}`);
    m = /^iso[-_ ]?8859[-_ ]?(\d+)/.exec(key);
    if (m) candidates.push(`iso-8859-${m[1]}`);
    m = /^(?:cp|ibm)[-_]?(866)$/.exec(key);
    if (m) candidates.push('ibm866');
    for (const c of candidates) {
      if (c && tryLabel(c)) {
        label = c;
        break;
      }
    }
  }
  if (labelCache.size < 1000) labelCache.set(key, label);
  return label;
}

let utf8Fatal: TextDecoder | null = null;
const latin1Decoder = new TextDecoder('windows-1252');

/** Bytes of unknown charset to a string: ASCII fast path, UTF-8 if valid, else windows-1252. */
export function bytesToString(b: Buffer | Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    if (b[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
  utf8Fatal ??= new TextDecoder('utf-8', { fatal: true });
  try {
    return utf8Fatal.decode(b);
  } catch {
    return latin1Decoder.decode(b);
  }
}

/** Decodes bytes in a named charset; unknown charsets go to UTF-8-or-latin1 best effort. */
export function decodeCharset(b: Buffer | Uint8Array, charset: string | null | undefined): string {
  if (!charset) return bytesToString(b);
  const label = charsetLabel(charset);
  if (!label || label === 'utf-8') return bytesToString(b);
  if (label === 'utf-7') return decodeUtf7Charset(Buffer.from(b).toString('latin1'));
  const d = oneShotDecoder(label);
  return d ? d.decode(b) : bytesToString(b);
}

// TextDecoder construction is costly (an ICU converter): keep them. One-shot decoders are
// stateless between calls; streaming ones are lent out by `CharsetStream` and given back.
const oneShot = new Map<string, TextDecoder | null>();
const streamPool = new Map<string, TextDecoder[]>();

function oneShotDecoder(label: string): TextDecoder | null {
  let d = oneShot.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label);
    } catch {
      d = null;
    }
    oneShot.set(label, d);
  }
  return d;
}

/**
 * Streaming charset decoding of a body to a string: `decode(chunk)` as bytes arrive, `end()`
 * once. Unknown charsets decode as UTF-8 (invalid bytes become U+FFFD).
 */
export class CharsetStream {
  private readonly label: string;
  private dec: TextDecoder | null;

  constructor(charset: string | null | undefined) {
    let label = (charset && charsetLabel(charset)) || 'utf-8';
    if (label === 'utf-7' || !oneShotDecoder(label)) label = 'utf-8';
    this.label = label;
    this.dec = streamPool.get(label)?.pop() ?? new TextDecoder(label);
  }

  decode(chunk: Uint8Array): string {
    return this.dec ? this.dec.decode(chunk, { stream: true }) : '';
  }

  /** Flushes and gives the decoder back to the pool. */
  end(): string {
    const d = this.dec;
    if (!d) return '';
    this.dec = null;
    const rest = d.decode();
    let pool = streamPool.get(this.label);
    if (!pool) streamPool.set(this.label, (pool = []));
    if (pool.length < 8) pool.push(d);
    return rest;
  }
}

/** Plain UTF-7 (RFC 2152), still used by a few old mailers as a MIME charset. */
export function decodeUtf7Charset(s: string): string {
  return s.replace(/\+([A-Za-z0-9+/]*)-?/g, (all, b64: string) => {
    if (b64 === '') return all === '+-' ? '+' : all;
    const bytes = Buffer.from(b64, 'base64');
    let out = '';
    for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode((bytes[i] << 8) | bytes[i + 1]);
    return out;
  });
}

// ---- RFC 2047 encoded-words ----

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

function decodeQWord(text: string): Buffer {
  const bytes = Buffer.from(text.replace(/_/g, ' '), 'latin1');
  return qpDecodeRange(bytes, 0, bytes.length);
}

/**
 * Decodes RFC 2047 encoded-words in a header value (unstructured text or a phrase).
 * Adjacent encoded-words separated only by whitespace are joined (the whitespace dropped);
 * adjacent words in the same charset are decoded together so multibyte characters split
 * across words survive. Raw 8-bit text is expected already converted to a string.
 */
export function decodeWords(value: string): string {
  if (value.indexOf('=?') < 0) return value;
  let out = '';
  let last = 0;
  let pendingCharset: string | null = null;
  let pendingBytes: Buffer[] = [];
  const flush = (): void => {
    if (pendingCharset !== null) {
      out += decodeCharset(Buffer.concat(pendingBytes), pendingCharset);
      pendingCharset = null;
      pendingBytes = [];
    }
  };
  ENCODED_WORD.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = ENCODED_WORD.exec(value)) !== null) {
    const between = value.slice(last, m.index);
    const adjacent = pendingCharset !== null && /^[ \t\r\n]*$/.test(between);
    if (!adjacent) {
      flush();
      out += between;
    }
    // RFC 2231 section 5: charset*language
    const charset = m[1].replace(/\*.*$/, '');
    const bytes = m[2] === 'b' || m[2] === 'B' ? Buffer.from(m[3], 'base64') : decodeQWord(m[3]);
    if (pendingCharset !== null && pendingCharset.toLowerCase() !== charset.toLowerCase()) flush();
    pendingCharset = charset;
    pendingBytes.push(bytes);
    last = m.index + m[0].length;
  }
  flush();
  out += value.slice(last);
  return out;
}

/** Case-folds text for search: NFC, then lower case. */
export function foldCase(s: string): string {
  // ASCII text needs no normalisation
  return NON_ASCII.test(s) ? s.normalize('NFC').toLowerCase() : s.toLowerCase();
}
const NON_ASCII = /[^\x00-\x7f]/;
