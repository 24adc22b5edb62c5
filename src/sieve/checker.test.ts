/**
 * Parser and checker: error positions, extension rules, argument checks. Issue #8.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScript, SieveSyntaxError, tokenize, MAX_NESTING } from './parser.js';
import { checkScript, compileScript, decodeEncodedCharacters } from './checker.js';
import { enabledExtensions, sieveCapability } from './extensions.js';
import { ALL } from './test-helpers.js';
import { parseImapdConf } from '../config/imapd-conf.js';

function syntaxError(src: string): SieveSyntaxError {
  try {
    parseScript(src);
  } catch (e) {
    if (e instanceof SieveSyntaxError) return e;
    throw e;
  }
  assert.fail(`no error for ${JSON.stringify(src)}`);
}

test('parser: error line and column', () => {
  let e = syntaxError('keep;\nif true {\n  discard\n}\n');
  assert.deepEqual([e.line, e.col], [4, 1]);
  assert.equal(e.message, "line 4: syntax error, expected ';'");
  e = syntaxError('keep;\r\n  "stray";');
  assert.deepEqual([e.line, e.col], [2, 3]);
  e = syntaxError('if header :is "a" "b\n\n');
  assert.deepEqual([e.line, e.col], [1, 19]);
  assert.match(e.message, /unterminated string/);
  e = syntaxError('/* open comment\n\nkeep;');
  assert.deepEqual([e.line, e.col], [1, 1]);
  e = syntaxError('keep; @');
  assert.deepEqual([e.line, e.col], [1, 7]);
  e = syntaxError('if anyof (true, ) { keep; }');
  assert.match(e.message, /expected a test/);
  e = syntaxError('reject ["a",];');
  assert.match(e.message, /expected a string in a string list/);
});

test('parser: tokens, numbers with quantifiers, text: strings, comments', () => {
  const cmds = parseScript(
    '# comment\nif size :over 2K { /* c */ discard; }\nreject text: # trailing comment\nhello\n..world\n.\n;\n',
  );
  assert.equal(cmds.length, 2);
  assert.deepEqual(cmds[0]!.tests[0]!.args[1], { kind: 'number', value: 2048, pos: { line: 2, col: 15 } });
  assert.deepEqual(cmds[1]!.args[0], {
    kind: 'string',
    value: 'hello\r\n.world\r\n',
    pos: { line: 3, col: 8 },
  });
  assert.equal(tokenize('1G').length, 2);
  assert.equal((tokenize('1G')[0] as { v: number }).v, 1024 ** 3);
  assert.equal((tokenize('"a\\"b\\\\c\\d"')[0] as { v: string }).v, 'a"b\\cd');
});

test('parser: nesting deeper than MAX_NESTING is refused, not a stack overflow', () => {
  const deep = 'if true {'.repeat(MAX_NESTING + 1) + '}'.repeat(MAX_NESTING + 1);
  assert.match(syntaxError(deep).message, /nesting too deep/);
  const tests = 'if ' + 'not '.repeat(200) + 'true { keep; }';
  assert.match(syntaxError(tests).message, /nesting too deep/);
});

test('checker: unknown command and test, with line numbers', () => {
  assert.deepEqual(checkScript('keep;\nfrobnicate;\nif blah { keep; }', ALL), [
    'line 2: unknown command "frobnicate"',
    'line 3: unknown test "blah"',
  ]);
});

test('checker: extensions must be required, and enabled', () => {
  assert.deepEqual(checkScript('fileinto "x";', ALL), [
    'line 1: command "fileinto" requires the "fileinto" extension (missing require)',
  ]);
  assert.deepEqual(checkScript('redirect :copy "a@b.c";', ALL), [
    'line 1: ":copy" requires the "copy" extension (missing require)',
  ]);
  assert.deepEqual(checkScript('if header :regex "a" "b" { keep; }', ALL), [
    'line 1: ":regex" requires the "regex" extension (missing require)',
  ]);
  assert.deepEqual(checkScript('require "nosuch";', ALL), ['line 1: Unsupported feature "nosuch"']);
  const conf = parseImapdConf('configdirectory: /tmp/x\nsieve_extensions: fileinto\n', {
    path: '(t)',
    service: 'sieve',
    warn: () => undefined,
  });
  const en = enabledExtensions(conf);
  assert.deepEqual(checkScript('require "vacation";', en), ['line 1: Unsupported feature "vacation"']);
  assert.deepEqual(checkScript('require "fileinto"; fileinto "a";', en), []);
  assert.equal(
    sieveCapability(en),
    'encoded-character comparator-i;ascii-numeric fileinto spamtest spamtestplus virustest',
  );
  // imapflags is the old name of imap4flags
  assert.deepEqual(checkScript('require "imapflags"; setflag "\\\\Seen";', ALL), []);
});

test('checker: require only at the top, before other commands', () => {
  assert.deepEqual(checkScript('keep;\nrequire "fileinto";', ALL), [
    'line 2: require must come before any other command',
  ]);
  assert.deepEqual(checkScript('if true { require "fileinto"; }', ALL), [
    'line 1: require must come before any other command',
  ]);
});

test('checker: argument types and counts, tags, groups', () => {
  assert.deepEqual(checkScript('redirect;', ALL), [
    'line 1: wrong number of arguments for command "redirect"',
  ]);
  assert.deepEqual(checkScript('redirect ["a@b.c", "d@e.f"];', ALL), [
    'line 1: command "redirect": expected a string, got a string list',
  ]);
  assert.deepEqual(checkScript('if size 100 { keep; }', ALL), ['line 1: size needs :over or :under']);
  assert.deepEqual(checkScript('if size :over "x" { keep; }', ALL), [
    'line 1: test "size": expected a number',
  ]);
  assert.deepEqual(checkScript('if header :is :contains "a" "b" { keep; }', ALL), [
    'line 1: ":contains" conflicts with ":is"',
  ]);
  assert.deepEqual(checkScript('if header :bogus "a" "b" { keep; }', ALL), [
    'line 1: unknown tag ":bogus" for test "header"',
  ]);
  assert.deepEqual(checkScript('if header :comparator "i;nope" "a" "b" { keep; }', ALL), [
    'line 1: unknown comparator "i;nope"',
  ]);
  assert.deepEqual(checkScript('if header :comparator "i;ascii-numeric" "a" "b" { keep; }', ALL), [
    'line 1: comparator "i;ascii-numeric" requires "comparator-i;ascii-numeric" (missing require)',
  ]);
  assert.deepEqual(checkScript('require "relational"; if header :value "xx" "a" "b" { keep; }', ALL), [
    'line 1: invalid relational operator "xx"',
  ]);
  assert.deepEqual(checkScript('require "regex"; if header :regex "a" "(" { keep; }', ALL), [
    'line 1: invalid regular expression "("',
  ]);
  assert.deepEqual(checkScript('require "date"; if currentdate "fortnight" "1" { keep; }', ALL), [
    'line 1: unknown date-part "fortnight"',
  ]);
  assert.deepEqual(checkScript('else { keep; }', ALL), ['line 1: else without a preceding if']);
  assert.deepEqual(checkScript('if true keep;', ALL), [
    'line 1: if needs a block',
    'line 1: test "true" takes no test',
    'line 1: unknown test "keep"',
  ]);
  assert.deepEqual(checkScript('require "variables"; set "1bad" "x";', ALL), [
    'line 1: invalid variable name "1bad"',
  ]);
  assert.deepEqual(checkScript('require "index"; if header :last "a" "b" { keep; }', ALL), [
    'line 1: :last requires :index',
  ]);
  assert.deepEqual(checkScript('keep { stop; }', ALL), ['line 1: keep takes no block']);
});

test('checker: compiled form is plain JSON that survives a round trip', () => {
  const c = compileScript(
    'require ["fileinto", "imap4flags"];\nif header :contains "subject" "x" { fileinto :flags "\\\\Seen" "a"; }',
    ALL,
  );
  assert.deepEqual(JSON.parse(JSON.stringify(c)), c);
  assert.deepEqual(c.requires.sort(), ['fileinto', 'imap4flags']);
  assert.equal(c.commands[0]!.tests[0]!.tags.contains, true);
  assert.deepEqual(c.commands[0]!.block![0]!.tags.flags, ['\\Seen']);
});

test('encoded-character: hex and unicode, malformed sequences kept', () => {
  assert.equal(decodeEncodedCharacters('${hex:48 65 6c6c 6f}'), '${hex:48 65 6c6c 6f}');
  assert.equal(decodeEncodedCharacters('${hex: 48 65 6C 6c 6f }'), 'Hello');
  assert.equal(decodeEncodedCharacters('${unicode:1F600}x${unicode:}'), '\u{1F600}x');
  assert.equal(decodeEncodedCharacters('${hex:zz}'), '${hex:zz}');
  assert.deepEqual(
    checkScript('require ["encoded-character", "imap4flags"]; keep :flags "${unicode:D800}";', ALL),
    ['line 1: invalid unicode code point'],
  );
});

test('fuzz: random scripts and mutations give a result or a positioned error, never a crash', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = [
    'if',
    'header',
    ':is',
    ':matches',
    '"a"',
    '"${1}"',
    '[',
    ']',
    '(',
    ')',
    '{',
    '}',
    ';',
    ',',
    'allof',
    'not',
    'require',
    '"variables"',
    'set',
    'fileinto',
    'keep',
    'text:\n.\n',
    '10K',
    '#c\n',
    '/*x*/',
    ' ',
    '\n',
    ':comparator',
    '"i;octet"',
    '"',
  ];
  const base =
    'require ["fileinto", "variables"];\nif header :matches "subject" "*x*" { set "a" "${1}"; fileinto "${a}"; } else { keep; }\n';
  for (let i = 0; i < 2000; i++) {
    let src: string;
    if (i % 2) {
      src = Array.from({ length: 1 + rnd(30) }, () => pieces[rnd(pieces.length)]).join(' ');
    } else {
      const at = rnd(base.length);
      src = base.slice(0, at) + pieces[rnd(pieces.length)] + base.slice(at + rnd(3));
    }
    try {
      compileScript(src, ALL);
    } catch (e) {
      const ok = e instanceof SieveSyntaxError || (e as Error).name === 'SieveCheckError';
      assert.ok(ok, `${String(e)} for ${JSON.stringify(src)}`);
      assert.match((e as Error).message, /^line \d+: /);
    }
  }
});

test('regex: back-references and look-around are refused at upload (not POSIX ERE, not linear)', () => {
  assert.deepEqual(checkScript('require "regex"; if header :regex "a" "(x)\\\\1" { keep; }', ALL), [
    'line 1: invalid regular expression "(x)\\1"',
  ]);
  assert.deepEqual(checkScript('require "regex"; if header :regex "a" "x(?=y)" { keep; }', ALL), [
    'line 1: invalid regular expression "x(?=y)"',
  ]);
  assert.deepEqual(
    checkScript('require "regex"; if header :regex "a" "^[[:digit:]]{3}-[^x]$" { keep; }', ALL),
    [],
  );
});
