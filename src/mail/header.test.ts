import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanToken, parseLanguage, parseMimeValue, splitHeader, stripComments } from './header.js';

test('splitHeader: unfolding, names, 8-bit values, junk lines', () => {
  const block = Buffer.concat([
    Buffer.from('Subject: a\r\n  folded\r\n\tline\r\nX-Empty:\r\nnot a header line\r\nTo : someone\r\n'),
    Buffer.from('X-Utf8: Grüße\r\n'),
    Buffer.from('X-Latin1: Gr\xfc\xdfe\r\n', 'latin1'),
    Buffer.from('X-Last: no newline'),
  ]);
  assert.deepEqual(splitHeader(block), [
    { name: 'subject', value: 'a  folded\tline' },
    { name: 'x-empty', value: '' },
    { name: 'to', value: 'someone' },
    { name: 'x-utf8', value: 'Grüße' },
    { name: 'x-latin1', value: 'Grüße' },
    { name: 'x-last', value: 'no newline' },
  ]);
  assert.deepEqual(splitHeader(Buffer.from('Subject: lf\nX: y\n')), [
    { name: 'subject', value: 'lf' },
    { name: 'x', value: 'y' },
  ]);
});

test('Content-Type values and parameters', () => {
  assert.deepEqual(parseMimeValue('Text/Plain; Charset="UTF-8"; format=flowed'), {
    value: 'text/plain',
    params: [
      ['charset', 'UTF-8'],
      ['format', 'flowed'],
    ],
  });
  assert.deepEqual(parseMimeValue('text/plain (a comment) ; charset = us-ascii (Plain text)'), {
    value: 'text/plain',
    params: [['charset', 'us-ascii']],
  });
  assert.deepEqual(parseMimeValue('multipart/mixed; boundary="a;b \\"c\\""; junk; x='), {
    value: 'multipart/mixed',
    params: [
      ['boundary', 'a;b "c"'],
      ['x', ''],
    ],
  });
  assert.deepEqual(parseMimeValue(''), { value: '', params: [] });
});

test('RFC 2231: continuations, charsets, languages, precedence', () => {
  // the RFC's examples
  assert.deepEqual(
    parseMimeValue(
      'message/external-body; access-type=URL; URL*0="ftp://"; URL*1="cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"',
    ).params,
    [
      ['access-type', 'URL'],
      ['url', 'ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar'],
    ],
  );
  assert.deepEqual(
    parseMimeValue("application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A").params,
    [['title', 'This is ***fun***']],
  );
  assert.deepEqual(
    parseMimeValue(
      "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"",
    ).params,
    [['title', "This is even more ***fun*** isn't it!"]],
  );
  // out-of-order sections are sorted; a gap ends the value
  assert.deepEqual(parseMimeValue('a/b; n*1=B; n*0=A; n*3=D').params, [['n', 'AB']]);
  // the extended form wins over a plain one
  assert.deepEqual(parseMimeValue('a/b; filename="plain.txt"; filename*=utf-8\'\'%C3%A9t%C3%A9.txt').params, [
    ['filename', 'été.txt'],
  ]);
  // other charsets
  assert.deepEqual(parseMimeValue("a/b; filename*=koi8-r''%F0%D2%C9%D7%C5%D4.txt").params, [
    ['filename', 'Привет.txt'],
  ]);
  assert.deepEqual(parseMimeValue("a/b; filename*=iso-8859-1''caf%E9").params, [['filename', 'café']]);
  // broken: bad percent, no quotes part
  assert.deepEqual(parseMimeValue('a/b; f*=100%zz').params, [['f', '100%zz']]);
});

test('comments, languages, tokens', () => {
  assert.equal(stripComments('a (b (nested) c) d "(not)"'), 'a   d "(not)"');
  assert.deepEqual(parseLanguage('en, de-CH (Swiss)'), ['en', 'de-CH']);
  assert.equal(parseLanguage(''), null);
  assert.equal(parseLanguage(null), null);
  assert.equal(cleanToken(' BASE64 (encoded) '), 'BASE64');
  assert.equal(cleanToken('   '), null);
});
