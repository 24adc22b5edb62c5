/**
 * Comparators and match types: RFC 5228 2.7.1-2.7.3, RFC 4790 (i;octet, i;ascii-casemap,
 * i;ascii-numeric), RFC 5231 relational (:value, :count), draft regex (:regex).
 *
 * Owns: `matchValues` (does any value match any key, with :matches / :regex captures for
 * variables) and the helpers it uses. Pure functions.
 */
import { caselessPattern, compileSieveRegex } from './regex.js';

export interface MatchSpec {
  /** 'is' | 'contains' | 'matches' | 'regex' | 'value' | 'count' */
  type: string;
  /** relational operator for value/count */
  op?: string;
  comparator: string;
}

export interface MatchResult {
  ok: boolean;
  /** ${0}..${9}: set after a successful :matches or :regex */
  captures?: string[];
}

function fold(s: string, comparator: string): string {
  return comparator === 'i;ascii-casemap' ? s.replace(/[A-Z]/g, (c) => c.toLowerCase()) : s;
}

/** i;ascii-numeric value of a string: leading digits, or Infinity when there are none (RFC 4790 9.1). */
function numeric(s: string): number {
  const m = /^[0-9]+/.exec(s);
  return m ? Number(m[0]) : Infinity;
}

function compareOrder(a: string, b: string, comparator: string): number {
  if (comparator === 'i;ascii-numeric') {
    const x = numeric(a);
    const y = numeric(b);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  const x = fold(a, comparator);
  const y = fold(b, comparator);
  return x === y ? 0 : x < y ? -1 : 1;
}

function relational(c: number, op: string): boolean {
  switch (op.toLowerCase()) {
    case 'gt':
      return c > 0;
    case 'ge':
      return c >= 0;
    case 'lt':
      return c < 0;
    case 'le':
      return c <= 0;
    case 'eq':
      return c === 0;
    case 'ne':
      return c !== 0;
  }
  return false;
}

const globCache = new Map<string, RegExp>();

/**
 * Glob with '*' and '?' and '\' escapes → anchored RegExp with a lazy group per wildcard
 * (RFC 5229 3.2: match variables take the leftmost-shortest match). Compiled for V8's
 * linear-time engine like :regex, so "*a*a*a*a*b" cannot backtrack exponentially. ('?' counts
 * UTF-16 code units: the linear engine has no 'u' flag.)
 */
function globToRegExp(pattern: string, caseless: boolean): RegExp {
  const key = (caseless ? 'i' : 's') + pattern;
  const hit = globCache.get(key);
  if (hit) return hit;
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else if (c === '*') re += '([\\s\\S]*?)';
    else if (c === '?') re += '([\\s\\S])';
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const src = `^${caseless ? caselessPattern(re) : re}$`;
  // eslint-disable-next-line no-invalid-regexp
  const out = new RegExp(src, 'l');
  if (globCache.size > 1000) globCache.clear();
  globCache.set(key, out);
  return out;
}

/** Match one value against one key. */
export function matchOne(value: string, key: string, m: MatchSpec): MatchResult {
  const comparator = m.comparator;
  switch (m.type) {
    case 'is':
      if (comparator === 'i;ascii-numeric') return { ok: numeric(value) === numeric(key) };
      return { ok: fold(value, comparator) === fold(key, comparator) };
    case 'contains':
      if (comparator === 'i;ascii-numeric') return { ok: false };
      return { ok: fold(value, comparator).includes(fold(key, comparator)) };
    case 'matches': {
      if (comparator === 'i;ascii-numeric') return { ok: numeric(value) === numeric(key) };
      const re = globToRegExp(key, comparator === 'i;ascii-casemap');
      const r = re.exec(value);
      if (!r) return { ok: false };
      return { ok: true, captures: [r[0], ...r.slice(1).map((x) => x ?? '')] };
    }
    case 'regex': {
      const re = compileSieveRegex(key, comparator === 'i;ascii-casemap');
      if (!re) return { ok: false };
      const r = re.exec(value);
      if (!r) return { ok: false };
      return { ok: true, captures: [...r].map((x) => x ?? '') };
    }
    case 'value':
      return { ok: relational(compareOrder(value, key, comparator), m.op ?? 'eq') };
  }
  return { ok: false };
}

/**
 * Any value matching any key (RFC 5228 2.7.1). For :count, the number of values is compared
 * with each key using the comparator (RFC 5231 4.1).
 */
export function matchValues(values: string[], keys: string[], m: MatchSpec): MatchResult {
  if (m.type === 'count') {
    const n = String(values.length);
    for (const k of keys) if (relational(compareOrder(n, k, m.comparator), m.op ?? 'eq')) return { ok: true };
    return { ok: false };
  }
  for (const v of values) {
    for (const k of keys) {
      const r = matchOne(v, k, m);
      if (r.ok) return r;
    }
  }
  return { ok: false };
}
