/**
 * Sieve :regex (draft-ietf-sieve-regex): POSIX extended regular expressions, run on V8's
 * linear-time engine (the `l` flag) so that a user's pattern can never make delivery spin
 * (no catastrophic backtracking: `(a+)+$` costs the same as `a+$`).
 *
 * The linear engine has no `i` flag, so for i;ascii-casemap the pattern itself is made
 * case-blind (`caselessPattern`); match variables keep the original text. ERE has no
 * back-references or look-around, which the linear engine refuses anyway: such patterns are
 * invalid at upload.
 *
 * Owns: `posixToJs`, `caselessPattern`, `compileSieveRegex`. Imports: node:v8.
 */
import { setFlagsFromString } from 'node:v8';

// Enabling the engine only makes the `l` flag available; other RegExps are unaffected.
setFlagsFromString('--enable-experimental-regexp-engine');

/** POSIX bracket classes ([:alpha:] ...) → JavaScript class contents. */
export function posixToJs(re: string): string {
  const classes: Record<string, string> = {
    alpha: 'A-Za-z',
    digit: '0-9',
    alnum: 'A-Za-z0-9',
    upper: 'A-Z',
    lower: 'a-z',
    space: ' \\t\\r\\n\\v\\f',
    punct: '!-\\/:-@\\[-`{-~',
    xdigit: '0-9A-Fa-f',
    blank: ' \\t',
    cntrl: '\\x00-\\x1f\\x7f',
    print: '\\x20-\\x7e',
    graph: '\\x21-\\x7e',
    word: 'A-Za-z0-9_',
  };
  return re.replace(/\[:([a-z]+):\]/g, (w, n: string) => classes[n] ?? w);
}

const isLower = (c: string): boolean => c >= 'a' && c <= 'z';
const isUpper = (c: string): boolean => c >= 'A' && c <= 'Z';
const swap = (c: string): string => (isLower(c) ? c.toUpperCase() : c.toLowerCase());

/**
 * A pattern that matches ASCII letters of either case (the linear engine has no `i` flag):
 * a letter `x` becomes `[xX]`, a bracket class gains the other case of its letters and
 * letter ranges. Escapes (`\S`, `\w`, `\x41`) are left alone.
 */
export function caselessPattern(p: string): string {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\' && i + 1 < p.length) {
      out += c + p[++i];
      continue;
    }
    if (c === '[') {
      let j = i + 1;
      if (p[j] === '^') j++;
      if (p[j] === ']') j++;
      while (j < p.length && p[j] !== ']') j += p[j] === '\\' ? 2 : 1;
      const body = p.slice(i + 1, j);
      let extra = '';
      for (let k = 0; k < body.length; k++) {
        const a = body[k]!;
        if (a === '\\') {
          k++;
          continue;
        }
        const b = body[k + 2];
        if (
          body[k + 1] === '-' &&
          b !== undefined &&
          ((isLower(a) && isLower(b)) || (isUpper(a) && isUpper(b)))
        ) {
          extra += `${swap(a)}-${swap(b)}`;
          k += 2;
        } else if (isLower(a) || isUpper(a)) extra += swap(a);
      }
      // keep a leading '^' first and any ']' that opened the class
      out += `[${body}${extra}]`;
      i = j;
      continue;
    }
    out += isLower(c) || isUpper(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c;
  }
  return out;
}

const cache = new Map<string, RegExp | null>();

/** The compiled pattern, or null when it is not a valid (linear-time) expression. */
export function compileSieveRegex(src: string, caseless: boolean): RegExp | null {
  const key = (caseless ? 'i' : 's') + src;
  let r = cache.get(key);
  if (r === undefined) {
    const js = posixToJs(src);
    try {
      // 'l' (linear engine) is a V8 flag eslint does not know
      // eslint-disable-next-line no-invalid-regexp
      r = new RegExp(caseless ? caselessPattern(js) : js, 'l');
    } catch {
      r = null;
    }
    if (cache.size > 1000) cache.clear();
    cache.set(key, r);
  }
  return r;
}
