/**
 * Sieve lexer and parser (RFC 5228 section 8): script text → syntax tree.
 *
 * Owns: tokens (identifier, :tag, number with K/M/G, "quoted", text: multi-line strings,
 * brackets, # and bracketed comments) and the generic command/test grammar:
 *   command   = identifier arguments ( ";" / block )
 *   arguments = *argument [ test / test-list ]
 *   argument  = string-list / number / tag
 *   test      = identifier arguments
 * Nothing here knows which commands exist: that is `checker.ts`. Errors are `SieveSyntaxError`
 * with a 1-based line and column. The parser is bounded by the script size limit enforced by
 * callers (sieve_maxscriptsize) and by a nesting depth limit here.
 *
 * Imports: nothing.
 */

export interface Pos {
  line: number;
  col: number;
}

export type Arg =
  | { kind: 'string'; value: string; pos: Pos }
  | { kind: 'list'; values: string[]; pos: Pos }
  | { kind: 'number'; value: number; pos: Pos }
  | { kind: 'tag'; name: string; pos: Pos };

export interface Test {
  name: string;
  args: Arg[];
  tests: Test[];
  pos: Pos;
}

export interface Command {
  name: string;
  args: Arg[];
  tests: Test[];
  block: Command[] | null;
  pos: Pos;
}

export class SieveSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'SieveSyntaxError';
  }
}

/** Nesting limit for blocks and test lists: deeper scripts are refused, not stack-overflowed. */
export const MAX_NESTING = 64;

type Tok =
  | { t: 'id'; v: string; pos: Pos }
  | { t: 'tag'; v: string; pos: Pos }
  | { t: 'num'; v: number; pos: Pos }
  | { t: 'str'; v: string; pos: Pos }
  | { t: 'punct'; v: string; pos: Pos }
  | { t: 'eof'; pos: Pos };

/** Split a script into tokens. */
export function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const pos = (): Pos => ({ line, col: i - lineStart + 1 });
  const fail = (msg: string, p: Pos = pos()): never => {
    throw new SieveSyntaxError(msg, p.line, p.col);
  };
  const newline = (at: number): void => {
    line++;
    lineStart = at + 1;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      newline(i);
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const p = pos();
      i += 2;
      while (i < src.length && !(src[i] === '*' && src[i + 1] === '/')) {
        if (src[i] === '\n') newline(i);
        i++;
      }
      if (i >= src.length) fail('unterminated comment', p);
      i += 2;
      continue;
    }
    const p = pos();
    if ('[](){},;{}'.includes(c)) {
      toks.push({ t: 'punct', v: c, pos: p });
      i++;
      continue;
    }
    if (c === '"') {
      i++;
      let v = '';
      for (;;) {
        if (i >= src.length) fail('unterminated string', p);
        const d = src[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\') {
          // RFC 5228 2.4.2: "\\" and "\"" are escapes; any other "\x" is "x"
          i++;
          if (i >= src.length) fail('unterminated string', p);
          if (src[i] === '\n') newline(i);
          v += src[i];
          i++;
          continue;
        }
        if (d === '\n') newline(i);
        v += d;
        i++;
      }
      toks.push({ t: 'str', v, pos: p });
      continue;
    }
    if (c === ':') {
      i++;
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 256));
      if (!m) fail('bad tag');
      i += m![0].length;
      toks.push({ t: 'tag', v: m![0].toLowerCase(), pos: p });
      continue;
    }
    if (c >= '0' && c <= '9') {
      const m = /^([0-9]+)([KkMmGg]?)/.exec(src.slice(i, i + 64))!;
      i += m[0].length;
      let n = Number(m[1]);
      const q = m[2]!.toUpperCase();
      if (q === 'K') n *= 1024;
      else if (q === 'M') n *= 1024 * 1024;
      else if (q === 'G') n *= 1024 * 1024 * 1024;
      if (!Number.isSafeInteger(n)) fail('number too large', p);
      toks.push({ t: 'num', v: n, pos: p });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 256))!;
      const word = m[0];
      // multi-line string: "text:" *(SP / HTAB) (hash-comment / CRLF) lines "." CRLF
      if (word.toLowerCase() === 'text' && src[i + 4] === ':') {
        i += 5;
        while (src[i] === ' ' || src[i] === '\t') i++;
        if (src[i] === '#') while (i < src.length && src[i] !== '\n') i++;
        if (src[i] === '\r') i++;
        if (src[i] !== '\n') fail('expected end of line after text:');
        newline(i);
        i++;
        const lines: string[] = [];
        for (;;) {
          if (i >= src.length) fail('unterminated multi-line string', p);
          let end = src.indexOf('\n', i);
          if (end < 0) end = src.length;
          let l = src.slice(i, end);
          if (l.endsWith('\r')) l = l.slice(0, -1);
          newline(end);
          i = end + 1;
          if (l === '.') break;
          lines.push(l.startsWith('..') ? l.slice(1) : l);
        }
        toks.push({ t: 'str', v: lines.map((l) => l + '\r\n').join(''), pos: p });
        continue;
      }
      i += word.length;
      toks.push({ t: 'id', v: word.toLowerCase(), pos: p });
      continue;
    }
    fail(`unexpected character '${c}'`);
  }
  toks.push({ t: 'eof', pos: pos() });
  return toks;
}

/** Parse a whole script into its top-level commands. Throws SieveSyntaxError. */
export function parseScript(src: string): Command[] {
  const toks = tokenize(src);
  let k = 0;
  const peek = (): Tok => toks[k]!;
  const fail = (msg: string, tok: Tok = peek()): never => {
    throw new SieveSyntaxError(msg, tok.pos.line, tok.pos.col);
  };
  const isPunct = (v: string): boolean => {
    const t = peek();
    return t.t === 'punct' && t.v === v;
  };
  const expect = (v: string): void => {
    if (!isPunct(v)) fail(`syntax error, expected '${v}'`);
    k++;
  };

  const parseArgs = (depth: number): { args: Arg[]; tests: Test[] } => {
    const args: Arg[] = [];
    for (;;) {
      const t = peek();
      if (t.t === 'str') {
        args.push({ kind: 'string', value: t.v, pos: t.pos });
        k++;
      } else if (t.t === 'num') {
        args.push({ kind: 'number', value: t.v, pos: t.pos });
        k++;
      } else if (t.t === 'tag') {
        args.push({ kind: 'tag', name: t.v, pos: t.pos });
        k++;
      } else if (t.t === 'punct' && t.v === '[') {
        k++;
        const values: string[] = [];
        for (;;) {
          const s = peek();
          if (s.t !== 'str') fail('syntax error, expected a string in a string list');
          values.push((s as { v: string }).v);
          k++;
          if (isPunct(',')) {
            k++;
            continue;
          }
          expect(']');
          break;
        }
        args.push({ kind: 'list', values, pos: t.pos });
      } else break;
    }
    const tests: Test[] = [];
    const t = peek();
    if (t.t === 'id') tests.push(parseTest(depth + 1));
    else if (t.t === 'punct' && t.v === '(') {
      k++;
      for (;;) {
        tests.push(parseTest(depth + 1));
        if (isPunct(',')) {
          k++;
          continue;
        }
        expect(')');
        break;
      }
    }
    return { args, tests };
  };

  const parseTest = (depth: number): Test => {
    if (depth > MAX_NESTING) fail('nesting too deep');
    const t = peek();
    if (t.t !== 'id') fail('syntax error, expected a test');
    k++;
    const { args, tests } = parseArgs(depth);
    return { name: (t as { v: string }).v, args, tests, pos: t.pos };
  };

  const parseCommands = (depth: number, inBlock: boolean): Command[] => {
    const cmds: Command[] = [];
    for (;;) {
      const t = peek();
      if (t.t === 'eof') {
        if (inBlock) fail("syntax error, expected '}'");
        return cmds;
      }
      if (t.t === 'punct' && t.v === '}' && inBlock) return cmds;
      if (t.t !== 'id') fail('syntax error, expected a command');
      k++;
      const { args, tests } = parseArgs(depth);
      let block: Command[] | null = null;
      if (isPunct('{')) {
        if (depth >= MAX_NESTING) fail('nesting too deep');
        k++;
        block = parseCommands(depth + 1, true);
        expect('}');
      } else expect(';');
      cmds.push({ name: (t as { v: string }).v, args, tests, block, pos: t.pos });
    }
  };
  return parseCommands(0, false);
}
