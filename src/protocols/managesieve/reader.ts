/**
 * ManageSieve command reader (RFC 5804 section 4 grammar):
 *   command  = command-name *(SP argument) CRLF
 *   argument = string / number
 *   string   = quoted / literal-c2s
 *   quoted   = DQUOTE *QUOTED-CHAR DQUOTE        ; \" and \\ escapes, at most 1024 octets
 *   literal-c2s = "{" number "+}" CRLF *OCTET     ; "{N}" (no '+') accepted too, as Cyrus does
 * A command may span lines through literals. Limits are enforced before memory is spent:
 * lines through the LineReader's maxLine, literal sizes judged at "{N}" by a callback that
 * knows the command (a script may be sieve_maxscriptsize, anything else is small). An
 * over-size literal is read and thrown away (up to MAX_DISCARD), then reported, so the
 * connection stays in step; beyond that the connection must end.
 *
 * Owns: `readCommand`, `Token`, `ReadError`. Imports: net/lines.
 */
import type { LineReader } from '../../net/lines.js';

export type Token =
  { kind: 'atom'; value: string } | { kind: 'string'; value: Buffer } | { kind: 'number'; value: number };

export class ReadError extends Error {
  constructor(
    message: string,
    /** 'syntax' = answer NO and go on; 'toobig' = literal was discarded, answer NO (QUOTA/MAXSIZE); 'fatal' = BYE */
    readonly kind: 'syntax' | 'toobig' | 'fatal',
    /** for toobig: the command name, if it was read */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'ReadError';
  }
}

/** RFC 5804: quoted strings are at most 1024 octets */
export const MAX_QUOTED = 1024;
/** an over-size literal up to this many bytes is skipped to stay in step; beyond, BYE */
export const MAX_DISCARD = 16 * 1024 * 1024;

async function readExactly(r: LineReader, n: number, keep: boolean): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let got = 0;
  while (got < n) {
    const chunk = await r.readRaw();
    if (chunk === null) return null;
    const need = n - got;
    if (chunk.length > need) {
      r.unread(chunk.subarray(need));
      if (keep) parts.push(chunk.subarray(0, need));
      got = n;
    } else {
      if (keep) parts.push(chunk);
      got += chunk.length;
    }
  }
  return keep ? Buffer.concat(parts, n) : Buffer.alloc(0);
}

/**
 * Read one command. Returns null at end of input. `literalLimit(command, argIndex)` gives the
 * largest literal accepted for that argument.
 * Throws ReadError.
 */
export async function readCommand(
  r: LineReader,
  literalLimit: (command: string, argIndex: number) => number,
): Promise<Token[] | null> {
  const tokens: Token[] = [];
  let first = true;
  for (;;) {
    const res = await r.readLine();
    if (res === null) return null;
    if ('tooLong' in res) throw new ReadError('Line too long', 'syntax');
    const line = res.line;
    if (first && line.length === 0) continue; // empty lines between commands are harmless
    first = false;
    let i = 0;
    let literal: { size: number } | null = null;
    while (i < line.length) {
      const c = line[i]!;
      if (c === 0x20 || c === 0x09) {
        i++;
        continue;
      }
      if (c === 0x22) {
        // quoted
        const bytes: number[] = [];
        i++;
        for (;;) {
          if (i >= line.length) throw new ReadError('Unterminated quoted string', 'syntax');
          const d = line[i]!;
          if (d === 0x22) {
            i++;
            break;
          }
          if (d === 0x5c) {
            i++;
            if (i >= line.length) throw new ReadError('Unterminated quoted string', 'syntax');
          }
          bytes.push(line[i]!);
          if (bytes.length > MAX_QUOTED) throw new ReadError('Quoted string too long', 'syntax');
          i++;
        }
        tokens.push({ kind: 'string', value: Buffer.from(bytes) });
        continue;
      }
      if (c === 0x7b) {
        // literal: must end the line
        const m = /^\{([0-9]{1,20})(\+?)\}$/.exec(line.subarray(i).toString('latin1'));
        if (!m) throw new ReadError('Bad literal', 'syntax');
        literal = { size: Number(m[1]) };
        i = line.length;
        break;
      }
      if (c >= 0x30 && c <= 0x39) {
        let j = i;
        while (j < line.length && line[j]! >= 0x30 && line[j]! <= 0x39) j++;
        const n = Number(line.subarray(i, j).toString('latin1'));
        if (j - i > 15 || !Number.isSafeInteger(n)) throw new ReadError('Number too large', 'syntax');
        tokens.push({ kind: 'number', value: n });
        i = j;
        continue;
      }
      let j = i;
      while (j < line.length && line[j] !== 0x20 && line[j] !== 0x22 && line[j] !== 0x7b) j++;
      tokens.push({ kind: 'atom', value: line.subarray(i, j).toString('latin1') });
      i = j;
    }
    if (!literal) return tokens;
    const cmd = tokens[0]?.kind === 'atom' ? tokens[0].value.toUpperCase() : '';
    const limit = literalLimit(cmd, tokens.length - 1);
    if (!Number.isSafeInteger(literal.size) || literal.size > limit) {
      if (literal.size > MAX_DISCARD) throw new ReadError('Literal too large', 'fatal', cmd);
      const skipped = await readExactly(r, literal.size, false);
      if (skipped === null) return null;
      // skip the rest of the command line
      const rest = await r.readLine();
      if (rest === null) return null;
      throw new ReadError(`Literal of ${literal.size} octets is over the limit of ${limit}`, 'toobig', cmd);
    }
    const data = await readExactly(r, literal.size, true);
    if (data === null) return null;
    tokens.push({ kind: 'string', value: data });
  }
}

/** A string for the wire: quoted when short and plain, else a literal {N}. */
export function sieveString(s: string | Buffer): string | Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  if (b.length <= MAX_QUOTED && !b.includes(0x0d) && !b.includes(0x0a) && !b.includes(0)) {
    return `"${b.toString('utf8').replace(/[\\"]/g, '\\$&')}"`;
  }
  return Buffer.concat([Buffer.from(`{${b.length}}\r\n`), b]);
}
