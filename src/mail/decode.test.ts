import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import {
  Base64Decoder,
  QpDecoder,
  bytesToString,
  charsetLabel,
  decodeCharset,
  decodeTransfer,
  decodeWords,
  decoderFor,
  foldCase,
  isKnownEncoding,
} from './decode.js';
import { htmlToText } from './html.js';

const b64word = (charset: string, bytes: number[]): string =>
  `=?${charset}?B?${Buffer.from(bytes).toString('base64')}?=`;

test('RFC 2047 encoded-words in several charsets', () => {
  assert.equal(decodeWords(b64word('koi8-r', [0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4])), 'Привет');
  assert.equal(decodeWords(b64word('windows-1251', [0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2])), 'Привет');
  assert.equal(
    decodeWords(b64word('ISO-2022-JP', [0x1b, 0x24, 0x42, 0x46, 0x7c, 0x4b, 0x5c, 0x1b, 0x28, 0x42])),
    '日本',
  );
  assert.equal(decodeWords(b64word('shift_jis', [0x93, 0xfa, 0x96, 0x7b])), '日本');
  assert.equal(decodeWords(b64word('euc-jp', [0xc6, 0xfc, 0xcb, 0xdc])), '日本');
  assert.equal(decodeWords(b64word('gb2312', [0xd6, 0xd0, 0xce, 0xc4])), '中文');
  assert.equal(decodeWords(b64word('gb18030', [0xd6, 0xd0, 0xce, 0xc4])), '中文');
  assert.equal(decodeWords(b64word('big5', [0xa4, 0xa4, 0xa4, 0xe5])), '中文');
  assert.equal(decodeWords('=?iso-8859-2?Q?=A3=F3d=BC?='), 'Łódź');
  assert.equal(decodeWords('=?ISO-8859-15?q?=A4_100?='), '€ 100');
  assert.equal(decodeWords('=?utf-8*en?q?hi?='), 'hi');
});

test('RFC 2047 whitespace rules, split multibyte characters, malformed words', () => {
  // whitespace between adjacent encoded-words is dropped, elsewhere kept
  assert.equal(decodeWords('=?utf-8?q?a?= =?utf-8?q?b?='), 'ab');
  assert.equal(decodeWords('=?utf-8?q?a?=\r\n =?utf-8?q?b?= c'), 'ab c');
  assert.equal(decodeWords('x =?utf-8?q?a_b?= y'), 'x a b y');
  // a UTF-8 character split over two words survives
  assert.equal(decodeWords('=?utf-8?Q?caf=C3?= =?utf-8?Q?=A9?='), 'café');
  assert.equal(decodeWords('=?UTF-8?B?w6k=?= =?ISO-8859-1?Q?=E9?='), 'éé');
  // not encoded-words: left alone
  assert.equal(decodeWords('=?utf-8?x?abc?='), '=?utf-8?x?abc?=');
  assert.equal(decodeWords('=?utf-8?q?no end'), '=?utf-8?q?no end');
  assert.equal(decodeWords('plain'), 'plain');
  // unknown charset: best effort
  assert.equal(decodeWords('=?x-unknown-cs?q?caf=C3=A9?='), 'café');
  assert.equal(decodeWords('=?x-unknown-cs?q?caf=E9?='), 'café');
});

test('charset labels: aliases and fallback', () => {
  assert.equal(charsetLabel('cp1252'), 'cp1252');
  assert.equal(charsetLabel('win-1251'), 'windows-1251');
  assert.equal(decodeCharset(Buffer.from([0xb3]), 'ISO8859_2'), 'ł');
  assert.equal(decodeCharset(Buffer.from([0xe9]), 'x-cp1252'), 'é');
  assert.equal(charsetLabel('shift-jis'), 'shift_jis');
  assert.equal(charsetLabel('no-such-thing'), null);
  assert.equal(decodeCharset(Buffer.from([0xe9]), 'no-such-thing'), 'é');
  assert.equal(decodeCharset(Buffer.from('é'), null), 'é');
  assert.equal(decodeCharset(Buffer.from('+AGEAYg-', 'latin1'), 'utf-7'), 'ab');
  assert.equal(bytesToString(Buffer.from([0x41, 0xff])), 'Aÿ');
  assert.equal(foldCase('ÉCOLE Straße'), 'école straße');
  assert.equal(foldCase('E\u0301'), '\u00e9');
});

test('quoted-printable: octets, soft breaks, transport padding, broken =', () => {
  const qp = (s: string): string =>
    decodeTransfer(Buffer.from(s, 'latin1'), 'quoted-printable').toString('latin1');
  assert.equal(qp('a=3Db=\r\nc'), 'a=bc');
  assert.equal(qp('soft=  \r\nbreak'), 'softbreak');
  assert.equal(qp('lf soft=\nbreak'), 'lf softbreak');
  assert.equal(qp('trailing   \r\nnext'), 'trailing\r\nnext');
  assert.equal(qp('kept=20\r\n'), 'kept \r\n');
  assert.equal(qp('bad=ZZ and =4'), 'bad=ZZ and =4');
  assert.equal(qp('lower=e9'), 'lower\xe9');
  // every split gives the same bytes
  const src = Buffer.from('Gr=C3=BC=C3=9Fe =\r\nsoft  \r\nline=3D=\nend=', 'latin1');
  const whole = decodeTransfer(src, 'quoted-printable');
  assert.equal(whole.toString('utf8'), 'Grüße soft\r\nline=end');
  for (let k = 0; k <= src.length; k++) {
    const d = new QpDecoder();
    const out = Buffer.concat([d.update(src.subarray(0, k)), d.update(src.subarray(k)), d.end()]);
    assert.deepEqual(out, whole, `split at ${k}`);
  }
});

test('base64: ignores junk, handles padding, incremental at every split', () => {
  const data = Buffer.from('The quick brown fox jumps over the lazy dog!');
  const enc = data.toString('base64').replace(/.{10}/g, '$&\r\n');
  assert.deepEqual(decodeTransfer(Buffer.from(enc), 'BASE64'), data);
  assert.deepEqual(decodeTransfer(Buffer.from('YW*Jj!'), 'base64'), Buffer.from('abc'));
  assert.deepEqual(decodeTransfer(Buffer.from('YQ==YmM='), 'base64'), Buffer.from('abc'));
  assert.deepEqual(decodeTransfer(Buffer.from('YWI'), 'base64'), Buffer.from('ab'));
  const src = Buffer.from(enc);
  for (let k = 0; k <= src.length; k++) {
    const d = new Base64Decoder();
    const out = Buffer.concat([d.update(src.subarray(0, k)), d.update(src.subarray(k)), d.end()]);
    assert.deepEqual(out, data, `split at ${k}`);
  }
});

test('decoderFor: a Transform for BINARY[] fetch, null for identity encodings', async () => {
  assert.equal(decoderFor('7bit'), null);
  assert.equal(decoderFor('8BIT'), null);
  assert.equal(decoderFor('binary'), null);
  assert.equal(isKnownEncoding('x-uuencode'), false);
  assert.equal(isKnownEncoding('Quoted-Printable'), true);
  const data = Buffer.alloc(5000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
  const enc = Buffer.from(data.toString('base64').replace(/.{76}/g, '$&\r\n'));
  const chunks: Buffer[] = [];
  for (let o = 0; o < enc.length; o += 333) chunks.push(enc.subarray(o, o + 333));
  const t = decoderFor('base64')!;
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(t)) out.push(c as Buffer);
  assert.deepEqual(Buffer.concat(out), data);
  const q = decoderFor('quoted-printable')!;
  const qo: Buffer[] = [];
  for await (const c of Readable.from([Buffer.from('a=3'), Buffer.from('Db=\r\n'), Buffer.from('c')]).pipe(q))
    qo.push(c as Buffer);
  assert.equal(Buffer.concat(qo).toString(), 'a=bc');
});

test('HTML to text', () => {
  assert.equal(
    htmlToText(
      '<html><head><title>t</title><style>p{}</style></head><body><p>A &amp; B&nbsp;&#233;&#x41;</p><!-- c --><script>x<y</script>end</body>',
    ),
    '\nA & B\u00a0éA\nend',
  );
  assert.equal(htmlToText('no tags &bogus;'), 'no tags &bogus;');
  assert.equal(htmlToText('unclosed <b'), 'unclosed ');
});
