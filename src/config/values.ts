/**
 * Value parsers for imapd.conf's option types, exactly as Cyrus 3.6 reads them (BYTESIZE as 3.8).
 *
 * Owns: turning one option's text into a typed value, or a message saying what was expected.
 * Each parser returns `{ ok: true, value }` or `{ ok: false, expected }`; the reader turns a
 * failure into a ConfigError with file, line and key.
 *
 * Imports: the option table types only.
 */
import type { OptionSpec, OptionUnit } from './imapoptions.js';
import { allowedValues } from './imapoptions.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

/** C `strtol(s, base 0)` with the whole string consumed: `0x1F` hex, `017` octal, `-5`. */
export function parseCInt(text: string): Parsed<number> {
  const s = text.trim();
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return { ok: false, expected: 'an integer (decimal, 0x hex or 0 octal)' };
  const body = m[2]!;
  let n: number;
  if (/^0[xX]/.test(body)) n = parseInt(body.slice(2), 16);
  else if (body.length > 1 && body.startsWith('0')) n = parseInt(body.slice(1), 8);
  else n = parseInt(body, 10);
  return { ok: true, value: m[1] === '-' ? -n : n };
}

/**
 * SWITCH: `1`/`y`/`t`/`on` ⇒ true, `0`/`n`/`f`/`of(f)` ⇒ false: first letters, lower case only,
 * exactly as Cyrus (`Yes` is refused by Cyrus, so by us too).
 */
export function parseSwitch(text: string): Parsed<boolean> {
  const s = text.trim();
  const c = s[0];
  if (c === '1' || c === 'y' || c === 't' || s.startsWith('on')) return { ok: true, value: true };
  if (c === '0' || c === 'n' || c === 'f' || s.startsWith('of')) return { ok: true, value: false };
  return { ok: false, expected: 'a switch (yes/no, on/off, true/false, 1/0)' };
}

const DURATION_SECONDS: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };

/**
 * DURATION: `[-]` then `<digits><unit>` groups (`1h30m`), units d/h/m/s. As in Cyrus, a value
 * that ends in a digit gets the option's legacy unit appended, so `90` and `1h30` both work
 * (`1h30` on a minutes option = 1h30m). Result in seconds.
 */
export function parseDuration(text: string, unit: OptionUnit = 's'): Parsed<number> {
  const expected = 'a duration (e.g. 90, 30s, 10m, 1h30m, 7d)';
  const mult = DURATION_SECONDS[unit];
  if (mult === undefined) return { ok: false, expected };
  const m = /^(-?)(.*)$/.exec(text.trim())!;
  const sign = m[1] === '-' ? -1 : 1;
  let body = m[2]!;
  if (/[0-9]$/.test(body)) body += unit;
  if (!/^([0-9]+[dhms])+$/.test(body)) return { ok: false, expected };
  let total = 0;
  for (const g of body.matchAll(/([0-9]+)([dhms])/g)) total += parseInt(g[1]!, 10) * DURATION_SECONDS[g[2]!]!;
  return { ok: true, value: sign * total };
}

const BYTE_MULT: Record<string, number> = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/**
 * BYTESIZE: `<int>[K|M|G][i][B]`, 1024-based (`128K`, `10MiB`, `4G`, `512B`); a bare number uses
 * the option's legacy unit. Result in bytes. Negative numbers are kept as -1 (Cyrus's "off").
 */
export function parseBytesize(text: string, unit: OptionUnit = 'B'): Parsed<number> {
  const s = text.trim();
  const m = /^(-?[0-9]+)\s*(?:([KMGkmg])([iI])?([Bb])?|([Bb]))?$/.exec(s);
  if (!m) return { ok: false, expected: 'a size (e.g. 1024, 512B, 64K, 10M, 2G)' };
  const n = parseInt(m[1]!, 10);
  if (n < 0) return { ok: true, value: -1 };
  let mult: number;
  if (m[2]) mult = BYTE_MULT[m[2].toUpperCase()]!;
  else if (m[5]) mult = 1;
  else mult = BYTE_MULT[unit] ?? 1;
  return { ok: true, value: n * mult };
}

/**
 * ENUM / STRINGLIST: one of the listed values (aliases map to the canonical name). For ENUMs that
 * offer `on`/`off`, `1/yes/t/true` read as `on` and `0/no/f/false` as `off`, as in Cyrus.
 */
export function parseChoice(text: string, spec: OptionSpec): Parsed<string> {
  const s = text.trim();
  const vals = allowedValues(spec);
  for (const v of vals)
    if (v.canonical === s || v.aliases.includes(s)) return { ok: true, value: v.canonical };
  const names = vals.map((v) => v.canonical);
  if (spec.type === 'enum') {
    if (names.includes('on') && ['1', 'yes', 't', 'true'].includes(s)) return { ok: true, value: 'on' };
    if (names.includes('off') && ['0', 'no', 'f', 'false'].includes(s)) return { ok: true, value: 'off' };
  }
  return { ok: false, expected: `one of: ${names.join(', ')}` };
}

/** BITFIELD: whitespace-separated members of the list (aliases map to canonical names). */
export function parseBits(text: string, spec: OptionSpec): Parsed<string[]> {
  const vals = allowedValues(spec);
  const out: string[] = [];
  for (const word of text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '')) {
    const v = vals.find((x) => x.canonical === word || x.aliases.includes(word));
    if (!v) return { ok: false, expected: `words from: ${vals.map((x) => x.canonical).join(' ')}` };
    if (!out.includes(v.canonical)) out.push(v.canonical);
  }
  return { ok: true, value: out };
}

/** Check a value against its option type (used at load time so errors are fatal early). */
export function checkValue(text: string, spec: OptionSpec): Parsed<unknown> {
  switch (spec.type) {
    case 'string':
    case 'path':
      return { ok: true, value: text };
    case 'int':
      return parseCInt(text);
    case 'switch':
      return parseSwitch(text);
    case 'enum':
    case 'stringlist':
      return parseChoice(text, spec);
    case 'bitfield':
      return parseBits(text, spec);
    case 'duration':
      return parseDuration(text, spec.unit);
    case 'bytesize':
      return parseBytesize(text, spec.unit);
  }
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
