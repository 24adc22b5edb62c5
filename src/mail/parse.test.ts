import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BodyPart, ParsedMessage as ApiParsed } from './api.js';
import { MessageParser, parseMessage, MAX_DEPTH, MAX_PARTS, type ParsedMessageExtras } from './parse.js';

type ParsedMessage = ApiParsed & ParsedMessageExtras;

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

function parseChunks(msg: Buffer, cuts: number[]): ParsedMessage {
  const p = new MessageParser();
  let last = 0;
  for (const c of cuts) {
    p.write(msg.subarray(last, c));
    last = c;
  }
  p.write(msg.subarray(last));
  return p.end();
}

/** Whole, split at every offset (or many for big ones), and 1-byte chunks: all identical. */
function parseEverywhere(msg: Buffer): ParsedMessage {
  const whole = parseChunks(msg, []);
  const step = msg.length > 3000 ? Math.ceil(msg.length / 600) : 1;
  for (let k = 1; k < msg.length; k += step) {
    assert.deepEqual(parseChunks(msg, [k]), whole, `split at ${k}`);
  }
  const ones: number[] = [];
  for (let k = 1; k < msg.length; k++) ones.push(k);
  assert.deepEqual(parseChunks(msg, ones), whole, '1-byte chunks');
  assert.deepEqual(parseChunks(msg, [7, 13, 14, 200, 201, 202, 999]), whole, 'odd chunks');
  checkInvariants(msg, whole);
  return whole;
}

function countLF(b: Buffer): number {
  let n = 0;
  for (const c of b) if (c === 10) n++;
  return n;
}

function allParts(p: BodyPart, out: BodyPart[] = []): BodyPart[] {
  out.push(p);
  for (const c of p.parts ?? []) allParts(c, out);
  if (p.message) allParts(p.message.body, out);
  return out;
}

function checkInvariants(msg: Buffer, r: ParsedMessage): void {
  assert.equal(r.size, msg.length);
  assert.equal(r.guid, createHash('sha1').update(msg).digest('hex'));
  assert.equal(r.lines, countLF(msg));
  assert.equal(r.headerSize, r.body.bodyStart);
  assert.equal(r.body.headerStart, 0);
  for (const p of allParts(r.body)) {
    assert.ok(
      p.headerStart <= p.bodyStart && p.bodyStart <= p.bodyEnd && p.bodyEnd <= msg.length,
      'offsets ordered',
    );
    assert.equal(p.size, p.bodyEnd - p.bodyStart, 'size matches offsets');
    assert.equal(p.lines, countLF(msg.subarray(p.bodyStart, p.bodyEnd)), 'lines = LFs in the body');
    if (p.type === 'multipart') assert.ok(p.parts && p.parts.length > 0, 'multipart has parts');
    if (p.type === 'message' && (p.subtype === 'rfc822' || p.subtype === 'global') && p.encoding === '7bit') {
      assert.ok(p.message, 'message/rfc822 has its message');
      assert.equal(p.message.headerStart, p.bodyStart);
      assert.equal(p.message.body.bodyEnd, p.bodyEnd);
    }
  }
}

const slice = (msg: Buffer, a: number, b: number): string => msg.subarray(a, b).toString('latin1');

test('simple text message: sizes, lines, offsets, envelope, search text', () => {
  const msg = crlf([
    'Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)',
    'From: Fred Foobar <foobar@Blurdybloop.example>',
    'Subject: afternoon meeting',
    'To: mooch@owatagu.siam.edu.example',
    'Message-Id: <B27397-0100000@Blurdybloop.example>',
    'MIME-Version: 1.0',
    'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII',
    '',
    'Hello Joe, do you think we can meet at 3:30 tomorrow?',
    '',
  ]);
  const r = parseEverywhere(msg);
  const hdrEnd = msg.indexOf('\r\n\r\n') + 4;
  assert.equal(r.headerSize, hdrEnd);
  assert.equal(r.body.type, 'text');
  assert.equal(r.body.subtype, 'plain');
  assert.deepEqual(r.body.params, [['charset', 'US-ASCII']]);
  assert.equal(r.body.encoding, '7bit');
  assert.equal(r.body.size, msg.length - hdrEnd);
  assert.equal(r.body.lines, 1);
  assert.equal(r.envelope.subject, 'afternoon meeting');
  assert.equal(r.envelope.messageId, '<B27397-0100000@Blurdybloop.example>');
  assert.deepEqual(r.envelope.from, [
    { name: 'Fred Foobar', adl: null, mailbox: 'foobar', host: 'Blurdybloop.example' },
  ]);
  assert.deepEqual(r.envelope.sender, r.envelope.from);
  assert.deepEqual(r.envelope.replyTo, r.envelope.from);
  assert.deepEqual(r.envelope.to, [
    { name: null, adl: null, mailbox: 'mooch', host: 'owatagu.siam.edu.example' },
  ]);
  assert.equal(r.envelope.cc, null);
  assert.equal(r.sentDate, Date.UTC(1994, 1, 8, 5, 52, 25));
  assert.match(r.searchHeaders, /^subject: afternoon meeting$/m);
  assert.equal(r.searchBody, 'hello joe, do you think we can meet at 3:30 tomorrow?');
  assert.equal(r.preview, 'Hello Joe, do you think we can meet at 3:30 tomorrow?');
  assert.equal(r.sortSubject, 'afternoon meeting');
  assert.equal(r.sortFrom, 'foobar');
  assert.equal(r.sortTo, 'mooch');
});

test('multipart/alternative: part sizes exclude the CRLF before the boundary', () => {
  const msg = crlf([
    'From: a@example.com',
    'Subject: alt',
    'Content-Type: multipart/alternative; boundary="=_alt"',
    '',
    'This is a MIME message.',
    '--=_alt',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Gr=FC=DFe aus K=F6ln, soft=',
    'break',
    '--=_alt',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><head><style>p{color:red}</style></head><body><p>Hello &amp; <b>bye</b></p></body></html>',
    '--=_alt--',
    '',
  ]);
  const r = parseEverywhere(msg);
  assert.equal(r.body.type, 'multipart');
  assert.equal(r.body.subtype, 'alternative');
  assert.deepEqual(r.body.params, [['boundary', '=_alt']]);
  const [p1, p2] = r.body.parts!;
  assert.equal(r.body.parts!.length, 2);
  const b1 = msg.indexOf('--=_alt\r\n') + 9;
  assert.equal(p1.headerStart, b1);
  assert.equal(slice(msg, p1.bodyStart, p1.bodyEnd), 'Gr=FC=DFe aus K=F6ln, soft=\r\nbreak');
  assert.equal(p1.size, 34);
  assert.equal(p1.lines, 1);
  assert.equal(p1.encoding, 'quoted-printable');
  assert.equal(
    slice(msg, p1.headerStart, p1.bodyStart),
    'Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
  );
  assert.equal(p2.subtype, 'html');
  assert.ok(slice(msg, p2.bodyStart, p2.bodyEnd).endsWith('</html>'));
  assert.equal(p2.lines, 0);
  assert.equal(msg.subarray(p2.bodyEnd, p2.bodyEnd + 11).toString(), '\r\n--=_alt--');
  assert.equal(r.searchBody, 'grüße aus köln, softbreak\nhello & bye');
  assert.equal(r.preview, 'Grüße aus Köln, softbreak');
  // the multipart's body is everything after its header
  assert.equal(r.body.bodyEnd, msg.length);
});

test('nested multipart/mixed with base64 attachments, RFC 2231 params, disposition', () => {
  const pdf = Buffer.alloc(3000);
  for (let i = 0; i < pdf.length; i++) pdf[i] = (i * 7) & 0xff;
  const b64 = pdf.toString('base64').replace(/.{76}/g, '$&\r\n').replace(/\r\n$/, '');
  const msg = crlf([
    'From: =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk.example>',
    'To: undisclosed-recipients:;',
    'Subject: =?utf-8?B?0J/RgNC40LLQtdGC?= =?utf-8?B?INC80LjRgA==?=',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed;',
    ' boundary="outer"',
    '',
    '--outer',
    'Content-Type: multipart/alternative; boundary=inner',
    '',
    '--inner',
    'Content-Type: text/plain',
    '',
    'plain text',
    '',
    '--inner',
    'Content-Type: text/html',
    '',
    '<p>html text</p>',
    '--inner--',
    '',
    '--outer',
    'Content-Type: application/pdf; name*0*=utf-8\'\'%E2%82%AC%20rate; name*1=" report.pdf"',
    'Content-Transfer-Encoding: BASE64',
    "Content-Disposition: attachment; filename*=iso-8859-1'de'R%E9sum%E9.pdf; size=3000",
    'Content-ID: <part3@example>',
    'Content-Description: the report',
    'Content-Language: de, en (comment)',
    'Content-Location: http://example.com/ r.pdf',
    'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
    '',
    b64,
    '--outer--',
    '',
  ]);
  const r = parseEverywhere(msg);
  assert.equal(r.body.parts!.length, 2);
  const alt = r.body.parts![0];
  assert.equal(alt.subtype, 'alternative');
  assert.equal(alt.parts!.length, 2);
  const plain = alt.parts![0];
  assert.equal(slice(msg, plain.bodyStart, plain.bodyEnd), 'plain text\r\n');
  assert.equal(plain.size, 12);
  assert.equal(plain.lines, 1);
  // the inner multipart's body ends before the CRLF preceding --outer
  assert.ok(slice(msg, alt.bodyStart, alt.bodyEnd).endsWith('--inner--\r\n'));
  const att = r.body.parts![1];
  assert.equal(att.type, 'application');
  assert.equal(att.subtype, 'pdf');
  assert.deepEqual(att.params, [['name', '€ rate report.pdf']]);
  assert.equal(att.encoding, 'base64');
  assert.equal(att.id, '<part3@example>');
  assert.equal(att.description, 'the report');
  assert.deepEqual(att.language, ['de', 'en']);
  assert.equal(att.location, 'http://example.com/r.pdf');
  assert.equal(att.md5, 'Q2hlY2sgSW50ZWdyaXR5IQ==');
  assert.deepEqual(att.disposition, {
    type: 'attachment',
    params: [
      ['filename', 'Résumé.pdf'],
      ['size', '3000'],
    ],
  });
  assert.equal(slice(msg, att.bodyStart, att.bodyEnd), b64);
  assert.deepEqual(Buffer.from(slice(msg, att.bodyStart, att.bodyEnd), 'base64'), pdf);
  assert.deepEqual(r.envelope.to, [
    { name: null, adl: null, mailbox: 'undisclosed-recipients', host: null },
    { name: null, adl: null, mailbox: null, host: null },
  ]);
  assert.equal(r.envelope.from![0].name, '=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=');
  assert.equal(r.sortSubject, 'Привет мир');
  assert.match(r.searchHeaders, /^subject: привет мир$/m);
  assert.match(r.searchHeaders, /^from: keld jørn simonsen <keld@dkuug.dk.example>$/m);
  assert.equal(r.searchBody, 'plain text\nhtml text');
  assert.equal(r.preview, 'plain text');
});

test('message/rfc822 attachment: encapsulated envelope, body, lines; digest default', () => {
  const inner = [
    'From: Inner Sender <inner@example.org>',
    'Subject: inner subject',
    'Content-Type: multipart/mixed; boundary=in',
    '',
    '--in',
    '',
    'inner text',
    '--in--',
  ];
  const msg = crlf([
    'From: outer@example.org',
    'Content-Type: multipart/mixed; boundary=out',
    '',
    '--out',
    'Content-Type: message/rfc822',
    '',
    ...inner,
    '--out',
    'Content-Type: multipart/digest; boundary=dig',
    '',
    '--dig',
    '',
    'Subject: digested',
    '',
    'digest body',
    '--dig--',
    '--out--',
  ]);
  const r = parseEverywhere(msg);
  const m = r.body.parts![0];
  assert.equal(m.type, 'message');
  assert.equal(m.subtype, 'rfc822');
  assert.equal(slice(msg, m.bodyStart, m.bodyEnd), inner.join('\r\n'));
  assert.equal(m.lines, inner.length - 1);
  assert.equal(m.message!.envelope.subject, 'inner subject');
  assert.deepEqual(m.message!.envelope.from, [
    { name: 'Inner Sender', adl: null, mailbox: 'inner', host: 'example.org' },
  ]);
  const ib = m.message!.body;
  assert.equal(ib.type, 'multipart');
  assert.equal(ib.parts!.length, 1);
  assert.deepEqual(ib.parts![0].params, [['charset', 'us-ascii']]);
  assert.equal(slice(msg, ib.parts![0].bodyStart, ib.parts![0].bodyEnd), 'inner text');
  assert.equal(slice(msg, m.message!.bodyStart, ib.bodyEnd), '--in\r\n\r\ninner text\r\n--in--');
  const dig = r.body.parts![1];
  assert.equal(dig.subtype, 'digest');
  const d1 = dig.parts![0];
  assert.equal(d1.type, 'message');
  assert.equal(d1.subtype, 'rfc822');
  assert.deepEqual(d1.params, []);
  assert.equal(d1.message!.envelope.subject, 'digested');
  assert.equal(slice(msg, d1.bodyStart, d1.bodyEnd), 'Subject: digested\r\n\r\ndigest body');
  assert.equal(r.envelope.subject, null);
  // an attached message's header is body text of the outer message
  assert.equal(
    r.searchBody,
    [
      'from: inner sender <inner@example.org>',
      'subject: inner subject',
      'content-type: multipart/mixed; boundary=in',
      'inner text',
      'subject: digested',
      'digest body',
    ].join('\n'),
  );
});

test('envelope: groups, quoted local parts, comments, routes, broken addresses', () => {
  const msg = crlf([
    'From: "Smith, John" <"john smith"@example.com>',
    'To: A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;, Mary <mary@x.test>',
    'Cc: pete(his account)@silly.test (Pete Comment), <@route1.test,@route2.test:user@host.test>',
    'Bcc: no-domain, "quoted only", Empty Group:;',
    'Reply-To: broken <unterminated@x.test',
    'Sender:',
    '',
    'body',
  ]);
  const r = parseEverywhere(msg);
  assert.deepEqual(r.envelope.from, [
    { name: 'Smith, John', adl: null, mailbox: '"john smith"', host: 'example.com' },
  ]);
  assert.deepEqual(r.envelope.to, [
    { name: null, adl: null, mailbox: 'A Group', host: null },
    { name: 'Ed Jones', adl: null, mailbox: 'c', host: 'a.test' },
    { name: null, adl: null, mailbox: 'joe', host: 'where.test' },
    { name: 'John', adl: null, mailbox: 'jdoe', host: 'one.test' },
    { name: null, adl: null, mailbox: null, host: null },
    { name: 'Mary', adl: null, mailbox: 'mary', host: 'x.test' },
  ]);
  assert.deepEqual(r.envelope.cc, [
    { name: 'his account', adl: null, mailbox: 'pete', host: 'silly.test' },
    { name: null, adl: '@route1.test,@route2.test', mailbox: 'user', host: 'host.test' },
  ]);
  assert.deepEqual(r.envelope.bcc, [
    { name: null, adl: null, mailbox: 'no-domain', host: 'unspecified-domain' },
    { name: null, adl: null, mailbox: '"quoted only"', host: 'unspecified-domain' },
    { name: null, adl: null, mailbox: 'Empty Group', host: null },
    { name: null, adl: null, mailbox: null, host: null },
  ]);
  assert.deepEqual(r.envelope.replyTo, [
    { name: 'broken', adl: null, mailbox: 'unterminated', host: 'x.test' },
  ]);
  // empty Sender: defaults to From (RFC 3501 7.4.2)
  assert.deepEqual(r.envelope.sender, r.envelope.from);
  assert.equal(r.sortDisplayFrom, 'Smith, John');
});

test('missing boundaries and missing close delimiter', () => {
  // boundary never appears: one empty text/plain part, body counted in full
  const a = crlf(['Content-Type: multipart/mixed; boundary=nope', '', 'just text', 'more', '']);
  const ra = parseEverywhere(a);
  assert.equal(ra.body.parts!.length, 1);
  assert.equal(ra.body.parts![0].size, 0);
  assert.equal(ra.body.size, a.length - ra.headerSize);
  // no close delimiter: the last part runs to the end of the message
  const b = crlf([
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    '',
    'one',
    '--b',
    '',
    'two',
    'lines',
    '',
  ]);
  const rb = parseEverywhere(b);
  assert.equal(rb.body.parts!.length, 2);
  assert.equal(slice(b, rb.body.parts![1].bodyStart, rb.body.parts![1].bodyEnd), 'two\r\nlines\r\n');
  assert.equal(rb.body.parts![1].lines, 2);
  // multipart without a boundary parameter is a text/plain leaf
  const c = crlf(['Content-Type: multipart/mixed', '', '--x', 'text']);
  const rc = parseEverywhere(c);
  assert.equal(rc.body.type, 'text');
  assert.equal(rc.body.parts, undefined);
  // an inner part whose multipart never closes is ended by the outer boundary
  const d = crlf([
    'Content-Type: multipart/mixed; boundary=o',
    '',
    '--o',
    'Content-Type: multipart/mixed; boundary=i',
    '',
    '--i',
    '',
    'inner',
    '--o',
    'Content-Type: text/plain',
    '--o--',
  ]);
  const rd = parseEverywhere(d);
  assert.equal(rd.body.parts!.length, 2);
  assert.equal(slice(d, rd.body.parts![0].parts![0].bodyStart, rd.body.parts![0].parts![0].bodyEnd), 'inner');
  // a part with a header and no blank line: empty body
  const p2 = rd.body.parts![1];
  assert.equal(p2.size, 0);
  assert.equal(slice(d, p2.headerStart, p2.bodyStart), 'Content-Type: text/plain\r\n');
  // a boundary that is a prefix of the longer inner one: longest wins
  const e = crlf([
    'Content-Type: multipart/mixed; boundary=ab',
    '',
    '--ab',
    'Content-Type: multipart/mixed; boundary=abc',
    '',
    '--abc',
    '',
    'x',
    '--abc--',
    '--ab--',
  ]);
  const re = parseEverywhere(e);
  assert.equal(re.body.parts![0].parts!.length, 1);
  assert.equal(slice(e, re.body.parts![0].parts![0].bodyStart, re.body.parts![0].parts![0].bodyEnd), 'x');
});

test('8-bit headers, bad encodings and unknown charsets do not throw', () => {
  const msg = Buffer.concat([
    Buffer.from('Subject: caf\xe9 latin1 and ', 'latin1'),
    Buffer.from('ünïcode\r\n', 'utf8'),
    Buffer.from('From: J\xf6rg <j@x.test>\r\n', 'latin1'),
    Buffer.from('Content-Type: text/plain; charset=x-no-such-charset\r\n'),
    Buffer.from('Content-Transfer-Encoding: base64\r\n\r\n'),
    Buffer.from('SGVsbG8g!!!d29y\r\nbGQ=\r\n=garbage\r\n'),
  ]);
  const r = parseEverywhere(msg);
  assert.equal(r.body.encoding, 'base64');
  assert.match(r.searchBody, /^hello world/);
  // the whole header is not valid UTF-8, so it reads as latin1; From stays parseable
  assert.equal(r.envelope.from![0].mailbox, 'j');
  assert.equal(r.envelope.from![0].name, 'J\u00f6rg');
});

test('bare LF line endings: sizes count the bytes as stored', () => {
  const msg = Buffer.from(
    ['Subject: lf', 'Content-Type: multipart/mixed; boundary=z', '', '--z', '', 'a', 'b', '--z--', ''].join(
      '\n',
    ),
  );
  const r = parseEverywhere(msg);
  const p = r.body.parts![0];
  assert.equal(slice(msg, p.bodyStart, p.bodyEnd), 'a\nb');
  assert.equal(p.size, 3);
  assert.equal(p.lines, 1);
  assert.equal(r.headerSize, msg.indexOf('\n\n') + 2);
  assert.equal(r.envelope.subject, 'lf');
});

test('empty message, header-only message, empty body', () => {
  const r0 = parseChunks(Buffer.alloc(0), []);
  assert.equal(r0.size, 0);
  assert.equal(r0.body.size, 0);
  assert.equal(r0.guid, createHash('sha1').update('').digest('hex'));
  const h = crlf(['Subject: header only', 'From: x@y.test']);
  const rh = parseEverywhere(h);
  assert.equal(rh.headerSize, h.length);
  assert.equal(rh.body.size, 0);
  assert.equal(rh.envelope.subject, 'header only');
  const e = crlf(['Subject: empty body', '', '']);
  const re = parseEverywhere(e);
  assert.equal(re.body.size, 0);
  assert.equal(re.headerSize, e.length);
  assert.equal(re.preview, '');
});

test('huge header line is bounded and the body is still found', () => {
  const big = 'X-Big: ' + 'a'.repeat(3 * 1024 * 1024);
  const msg = crlf(['Subject: big', big, 'To: t@x.test', '', 'body text']);
  // a few chunkings (every offset would be slow for 3 MB)
  const whole = parseChunks(msg, []);
  for (const cuts of [
    [10],
    [5000, 5001],
    [1024 * 1024 + 3],
    Array.from({ length: 300 }, (_, k) => (k + 1) * 11111),
  ]) {
    assert.deepEqual(parseChunks(msg, cuts), whole);
  }
  checkInvariants(msg, whole);
  assert.equal(whole.envelope.to![0].mailbox, 't');
  assert.equal(slice(msg, whole.body.bodyStart, whole.body.bodyEnd), 'body text');
});

test('deep nesting is capped and does not throw', () => {
  const depth = MAX_DEPTH + 30;
  const lines: string[] = [];
  for (let d = 0; d < depth; d++) lines.push(`Content-Type: multipart/mixed; boundary=b${d}`, '', `--b${d}`);
  lines.push('', 'leaf');
  for (let d = depth - 1; d >= 0; d--) lines.push(`--b${d}--`);
  const msg = crlf(lines);
  const r = parseChunks(msg, []);
  checkInvariants(msg, r);
  let p = r.body;
  let levels = 0;
  while (p.parts) {
    p = p.parts[0];
    levels++;
  }
  assert.equal(levels, MAX_DEPTH);
  assert.deepEqual(
    parseChunks(
      msg,
      Array.from({ length: 200 }, (_, k) => k * 17 + 1),
    ),
    r,
  );
});

test('the number of parts is capped', () => {
  const lines = ['Content-Type: multipart/mixed; boundary=p', ''];
  for (let k = 0; k < MAX_PARTS + 50; k++) lines.push('--p', '', `part ${k}`);
  lines.push('--p--', 'epilogue');
  const msg = crlf(lines);
  const r = parseChunks(msg, []);
  checkInvariants(msg, r);
  // the top-level body counts as one part
  assert.equal(r.body.parts!.length, MAX_PARTS - 1);
  const last = r.body.parts![MAX_PARTS - 2];
  assert.ok(slice(msg, last.bodyStart, last.bodyEnd).endsWith(`part ${MAX_PARTS + 49}`));
  assert.deepEqual(parseChunks(msg, [1000, 50000, 100000]), r);
});

test('long lines starting with "--" are content, not boundaries; short prefixed lines are', () => {
  const long = '--bx' + 'y'.repeat(5000);
  const msg = crlf([
    'Content-Type: multipart/mixed; boundary=bx',
    '',
    '--bx',
    '',
    long,
    '--bxz',
    '',
    'two',
    '--bx--',
  ]);
  const whole = parseChunks(msg, []);
  for (const cut of [60, 100, 1100, 2000, 4000, 5060]) assert.deepEqual(parseChunks(msg, [cut]), whole);
  checkInvariants(msg, whole);
  // "--bxz" starts with "--bx": a boundary (prefix match, as Cyrus and Dovecot do)
  assert.equal(whole.body.parts!.length, 2);
  assert.equal(slice(msg, whole.body.parts![0].bodyStart, whole.body.parts![0].bodyEnd), long);
  assert.equal(slice(msg, whole.body.parts![1].bodyStart, whole.body.parts![1].bodyEnd), 'two');
});

test('parseMessage reads a stream and a search budget is honoured', async () => {
  const text = 'word '.repeat(10000);
  const msg = crlf(['Subject: s', '', text]);
  const r = await parseMessage(Readable.from([msg.subarray(0, 10), msg.subarray(10)]), {
    maxSearchText: 100,
  });
  assert.equal(r.size, msg.length);
  assert.equal(r.searchBody.length, 100);
  assert.equal(r.preview.length, 256);
  // PREVIEW counts characters, not UTF-16 units
  const emoji = await parseMessage(crlf(['Content-Type: text/plain; charset=utf-8', '', '😀'.repeat(300)]));
  assert.equal(Array.from(emoji.preview).length, 256);
  assert.equal(emoji.preview, '😀'.repeat(256));
  const r2 = await parseMessage(msg);
  assert.equal(r2.searchBody, text.trim());
});

test('malformed inputs never throw and chunking never changes the result (generated junk)', () => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const pieces = [
    '--a\r\n',
    '--a--\r\n',
    '--ab\r\n',
    '--a\n',
    '\r\n',
    '\n',
    '\r',
    'Content-Type: multipart/mixed; boundary=a\r\n',
    'Content-Type: multipart/digest; boundary=ab\r\n',
    'Content-Type: message/rfc822\r\n',
    'Content-Type: text/html; charset=koi8-r\r\n',
    'Content-Type: text/plain\r\n\r\n',
    'Content-Transfer-Encoding: base64\r\n',
    'Content-Transfer-Encoding: quoted-printable\r\n',
    'Subject: s\r\n',
    'text=\r\n',
    '=?utf-8?b?',
    '"',
    '(',
    '<',
    ':',
    ';',
    '\xff',
    '--',
    '<p>&amp;',
    '=C3',
    'QUJD',
    'x'.repeat(1100),
    '-'.repeat(1030),
    ' '.repeat(9000),
    'y'.repeat(9000) + '=3D',
  ];
  const parse = (msg: Buffer, cuts: number[]): ParsedMessage => {
    const p = new MessageParser({ maxSearchText: 300 });
    let last = 0;
    for (const c of cuts) {
      p.write(msg.subarray(last, c));
      last = c;
    }
    p.write(msg.subarray(last));
    return p.end();
  };
  for (let k = 0; k < 300; k++) {
    let s = '';
    const n = rnd() % 60;
    for (let j = 0; j < n; j++) s += pieces[rnd() % pieces.length];
    const msg = Buffer.from(s, 'latin1');
    const whole = parse(msg, []);
    checkInvariants(msg, whole);
    const cuts: number[] = [];
    for (let c = 1 + (rnd() % 40); c < msg.length; c += 1 + (rnd() % 40)) cuts.push(c);
    assert.deepEqual(parse(msg, cuts), whole, JSON.stringify(s));
  }
});

test('generated MIME trees: every part found at its offsets with its own bytes', () => {
  let seed = 777;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  interface Spec {
    type: string;
    subtype: string;
    content?: string;
    parts?: Spec[];
    message?: Spec;
  }
  let bcount = 0;
  // builds the entity (header + body) and returns its text
  const build = (spec: Spec, depth: number): string => {
    if (spec.parts) {
      const b = `b${bcount++}_${'x'.repeat(rnd(5))}`;
      let s = `Content-Type: ${spec.type}/${spec.subtype}; boundary="${b}"\r\n\r\n`;
      if (rnd(2)) s += 'preamble text\r\n';
      for (const p of spec.parts) s += `--${b}\r\n${build(p, depth + 1)}\r\n`;
      s += `--${b}--\r\n`;
      if (rnd(2)) s += 'epilogue\r\n';
      return s;
    }
    if (spec.message)
      return `Content-Type: message/rfc822\r\n\r\nSubject: m${depth}\r\n${build(spec.message, depth + 1)}`;
    return `Content-Type: ${spec.type}/${spec.subtype}\r\n\r\n${spec.content}`;
  };
  const gen = (depth: number): Spec => {
    const r = depth > 4 ? 0 : rnd(6);
    if (r === 4)
      return {
        type: 'multipart',
        subtype: 'mixed',
        parts: Array.from({ length: 1 + rnd(3) }, () => gen(depth + 1)),
      };
    if (r === 5) return { type: 'message', subtype: 'rfc822', message: gen(depth + 1) };
    const lines = Array.from({ length: rnd(4) }, (_, k) => `line ${k} ${'-'.repeat(rnd(3))}`);
    return {
      type: rnd(2) ? 'text' : 'application',
      subtype: rnd(2) ? 'plain' : 'x-data',
      content: lines.join('\r\n'),
    };
  };
  const check = (msg: Buffer, spec: Spec, part: BodyPart): void => {
    if (spec.parts) {
      assert.equal(part.type, 'multipart');
      assert.equal(part.parts!.length, spec.parts.length);
      spec.parts.forEach((s, k) => check(msg, s, part.parts![k]));
    } else if (spec.message) {
      assert.equal(part.type, 'message');
      assert.ok(part.message);
      check(msg, spec.message, part.message.body);
    } else {
      assert.equal(part.type, spec.type);
      assert.equal(part.subtype, spec.subtype);
      assert.equal(slice(msg, part.bodyStart, part.bodyEnd), spec.content);
    }
  };
  for (let k = 0; k < 150; k++) {
    const spec: Spec = { type: 'multipart', subtype: 'mixed', parts: [gen(1), gen(1)] };
    const msg = Buffer.from(`From: x@y.test\r\n${build(spec, 0)}`);
    const r = parseChunks(msg, []);
    checkInvariants(msg, r);
    check(msg, spec, r.body);
    const cuts: number[] = [];
    for (let c = 1 + rnd(50); c < msg.length; c += 1 + rnd(50)) cuts.push(c);
    assert.deepEqual(parseChunks(msg, cuts), r);
  }
});
