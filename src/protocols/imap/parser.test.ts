import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesOf, ImapParser, type ParseResult, type ParserLimits, type Token } from './parser.js';

/** Feed `input` split at `cut`, collecting every result until 'more'. */
function run(input: Buffer, cuts: number[], limits: Partial<ParserLimits> = {}): ParseResult[] {
  const p = new ImapParser(limits);
  const out: ParseResult[] = [];
  let prev = 0;
  for (const c of [...cuts, input.length]) {
    p.push(input.subarray(prev, c));
    prev = c;
    for (;;) {
      const r = p.next();
      if (r.kind === 'more') break;
      out.push(r);
      if (r.kind === 'error' && r.fatal) return out;
    }
  }
  return out;
}

/** a readable form of the results, for comparing splits */
function show(rs: ParseResult[]): string {
  const tok = (t: Token): string =>
    t.t === 'atom'
      ? t.v
      : t.t === 'list'
        ? `(${t.v.map(tok).join(' ')})`
        : `${t.literal ? (t.binary ? '~' : '') + 'L' : 'Q'}"${bytesOf(t).toString('latin1')}"`;
  return rs
    .map((r) =>
      r.kind === 'command'
        ? `${r.tag} ${r.uid ? 'UID ' : ''}${r.name} [${r.args.map(tok).join(' ')}]`
        : r.kind === 'error'
          ? `ERR ${r.tag}${r.fatal ? ' FATAL' : ''} ${r.status}${r.code ? ` [${r.code}]` : ''} ${r.text}`
          : r.kind,
    )
    .join('\n');
}

/** the same results whatever the split: whole, and cut at every single byte offset */
function everyOffset(input: string | Buffer, limits: Partial<ParserLimits> = {}): string {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1');
  const whole = show(run(buf, [], limits));
  for (let i = 1; i < buf.length; i++) {
    assert.equal(show(run(buf, [i], limits)), whole, `split at ${i}`);
  }
  // and one byte at a time
  assert.equal(
    show(
      run(
        buf,
        Array.from({ length: buf.length - 1 }, (_, i) => i + 1),
        limits,
      ),
    ),
    whole,
    'byte by byte',
  );
  return whole;
}

test('simple commands, atoms, quoted strings, lists at every offset', () => {
  const r = everyOffset(
    'a1 NOOP\r\na2 LOGIN "fred \\"x\\"" sec\\ret\r\nA3 uid fetch 1:*,5 (FLAGS BODY.PEEK[HEADER.FIELDS (From "To")]<0.100>)\r\n',
  );
  assert.equal(
    r,
    'a1 NOOP []\na2 LOGIN [Q"fred "x"" sec\\ret]\nA3 UID FETCH [1:*,5 (FLAGS BODY.PEEK[HEADER.FIELDS (From "To")]<0.100>)]',
  );
});

test('synchronising literal: go ahead before the data, none for LITERAL+', () => {
  const r = everyOffset('a LOGIN {4}\r\nfred {3+}\r\nabc\r\nb NOOP\r\n');
  assert.equal(r, 'goAhead\na LOGIN [L"fred" L"abc"]\nb NOOP []');
});

test('literal8 and empty literal', () => {
  const r = everyOffset('a APPEND INBOX (\\Seen) ~{3+}\r\n\x00\x01\x02 {0+}\r\n\r\n');
  assert.equal(r, 'a APPEND [INBOX (\\Seen) ~L"\x00\x01\x02" L""]');
});

test('nested lists and search keys', () => {
  const r = everyOffset('s SEARCH OR (FROM "a b" SUBJECT x) NOT (SEEN (DELETED))\r\n');
  assert.equal(r, 's SEARCH [OR (FROM Q"a b" SUBJECT x) NOT (SEEN (DELETED))]');
});

test('bad tag, empty line and a tag alone are `* BAD Invalid tag` (as Cyrus), session continues', () => {
  const r = everyOffset('\r\n+ NOOP\r\na3\r\na4 NOOP\r\n');
  assert.equal(r, 'ERR null BAD Invalid tag\nERR null BAD Invalid tag\nERR null BAD Invalid tag\na4 NOOP []');
});

test('unbalanced parentheses', () => {
  assert.equal(
    everyOffset('b6 FETCH 1 (FLAGS\r\nb7 NOOP\r\n'),
    'ERR b6 BAD Missing close parenthesis in Fetch\nb7 NOOP []',
  );
  assert.match(everyOffset('b8 FETCH 1 FLAGS)\r\n'), /^ERR b8 BAD Unexpected close parenthesis in Fetch$/);
});

test('literal limit judged at {N}: exactly at the limit passes, one over is NO [TOOBIG]', () => {
  const lim = { maxLiteral: 10 };
  assert.equal(everyOffset('c1 LOGIN {10}\r\n0123456789 x\r\n', lim), 'goAhead\nc1 LOGIN [L"0123456789" x]');
  assert.equal(
    everyOffset('c1 LOGIN {11}\r\nc2 NOOP\r\n', lim),
    'ERR c1 NO [TOOBIG] Literal size exceeds fixed limit in Login\nc2 NOOP []',
  );
});

test('non-synchronising literal over the limit is fatal (BYE), nothing parsed after', () => {
  const r = run(Buffer.from('c1 SELECT {200000+}\r\nxxxx\r\nc2 NOOP\r\n'), []);
  assert.equal(show(r), 'ERR c1 FATAL BAD [TOOBIG] Literal size exceeds fixed limit');
});

test('APPEND message over maxmessagesize: bytes dropped, NO [TOOBIG], next command parsed', () => {
  const lim = { maxMessage: 5 };
  assert.equal(
    everyOffset('a APPEND INBOX {6+}\r\n123456\r\nb NOOP\r\n', lim),
    'ERR a NO [TOOBIG] Message too large\nb NOOP []',
  );
  assert.equal(
    everyOffset('a APPEND INBOX {6}\r\nb NOOP\r\n', lim),
    'ERR a NO [TOOBIG] Literal size exceeds fixed limit in Append\nb NOOP []',
  );
  assert.equal(everyOffset('a APPEND INBOX {5}\r\n12345\r\n', lim), 'goAhead\na APPEND [INBOX L"12345"]');
});

test('literal size not a number', () => {
  assert.equal(
    everyOffset('c4 APPEND INBOX {5000000000}\r\nc5 NOOP\r\n'),
    'ERR c4 BAD Literal size not a number\nc5 NOOP []',
  );
  assert.equal(
    show(run(Buffer.from('c6 APPEND INBOX {4294967296+}\r\n'), [])),
    'ERR c6 FATAL BAD Literal size not a number',
  );
});

test('LITERAL-: a non-synchronising literal above 4096 octets is fatal', () => {
  const r = run(Buffer.from('a APPEND INBOX {4097+}\r\n'), [], { literalMinus: true });
  assert.equal(r.length, 1);
  assert.ok(r[0]!.kind === 'error' && r[0]!.fatal && r[0]!.code === 'TOOBIG');
  assert.equal(
    everyOffset('a APPEND INBOX {4+}\r\nabcd\r\n', { literalMinus: true }),
    'a APPEND [INBOX L"abcd"]',
  );
});

test('maxword and maxquoted: at the limit passes, one over fails; the line is skipped', () => {
  const lim = { maxWord: 8, maxQuoted: 5 };
  assert.equal(everyOffset('a NOOP 12345678\r\n', lim), 'a NOOP [12345678]');
  assert.equal(
    everyOffset('a NOOP 123456789\r\nb NOOP\r\n', lim),
    'ERR a BAD Word too long in Noop\nb NOOP []',
  );
  assert.equal(everyOffset('a NOOP "12345"\r\n', lim), 'a NOOP [Q"12345"]');
  assert.equal(
    everyOffset('a NOOP "123456"\r\nb NOOP\r\n', lim),
    'ERR a BAD Quoted string too long in Noop\nb NOOP []',
  );
});

test('a skipped line with a non-synchronising literal skips the literal too', () => {
  const r = everyOffset('a NOOP "1234567" {5+}\r\nb NOO\r\nc NOOP\r\n', { maxQuoted: 5 });
  assert.equal(r, 'ERR a BAD Quoted string too long in Noop\nc NOOP []');
});

test('maxargssize counts all arguments', () => {
  assert.equal(everyOffset('a NOOP abc def\r\n', { maxArgs: 6 }), 'a NOOP [abc def]');
  assert.equal(
    everyOffset('a NOOP abc defg\r\nb NOOP\r\n', { maxArgs: 6 }),
    'ERR a NO [TOOBIG] Arguments too long in Noop\nb NOOP []',
  );
});

test('quoted string with CR is BAD', () => {
  assert.equal(
    everyOffset('a LOGIN "fr\red" x\r\nb NOOP\r\n'),
    'ERR a BAD Missing required argument to Login\nb NOOP []',
  );
});

test('raw lines for AUTHENTICATE / IDLE', () => {
  const p = new ImapParser();
  p.push(Buffer.from('dGVz'));
  assert.equal(p.nextLine(), null);
  p.push(Buffer.from('dA==\r\nDONE\r\n'));
  assert.equal(String(p.nextLine()), 'dGVzdA==');
  assert.equal(String(p.nextLine()), 'DONE');
  assert.equal(p.nextLine(), null);
});

test('a huge line without CRLF is not buffered while skipped', () => {
  const p = new ImapParser({ maxWord: 100 });
  p.push(Buffer.from('a NOOP '));
  for (let i = 0; i < 100; i++) {
    p.push(Buffer.alloc(10000, 0x61));
    const r = p.next();
    if (i > 0) assert.equal(r.kind, 'more');
    assert.ok(p.buffered() < 20000, `buffered ${p.buffered()}`);
  }
  p.push(Buffer.from('\r\nb NOOP\r\n'));
  const r1 = p.next();
  assert.ok(r1.kind === 'error' && r1.text.startsWith('Word too long'));
  const r2 = p.next();
  assert.ok(r2.kind === 'command' && r2.name === 'NOOP' && r2.tag === 'b');
});

test('fuzz: random bytes in random pieces never throw and never grow memory past the limits', () => {
  // xorshift32, seeded: the same inputs every run
  let x = 0x9e3779b9;
  const rnd = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const alphabet = Buffer.from('a1 {}()[]<>"\\*%+~.:,-\r\n\r\nUID FETCH APPEND LOGIN 0123456789\x00\xff');
  for (let round = 0; round < 300; round++) {
    const p = new ImapParser({ maxWord: 64, maxQuoted: 64, maxLiteral: 64, maxMessage: 256, maxArgs: 512 });
    const len = 1 + rnd(400);
    const input = Buffer.alloc(len);
    for (let i = 0; i < len; i++) input[i] = rnd(4) === 0 ? rnd(256) : alphabet[rnd(alphabet.length)]!;
    let pos = 0;
    while (pos < len) {
      const n = 1 + rnd(20);
      p.push(input.subarray(pos, pos + n));
      pos += n;
      for (let k = 0; k < 1000; k++) {
        const r = p.next();
        if (r.kind === 'more') break;
        if (r.kind === 'error' && r.fatal) break;
      }
      assert.ok(p.buffered() <= 600, `buffered ${p.buffered()}`);
    }
  }
});
