/**
 * A small throughput check of the message parser (not a test, not run by the suite):
 *   node dist/src/mail/throughput.js
 * Parses a few MB of generated mixed messages (plain, alternative QP+HTML, base64 attachment)
 * in 64 KiB chunks, then one 50 MB attachment, and prints MB/s and messages/s.
 */
import { MessageParser } from './parse.js';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));

function sampleMessages(): Buffer[] {
  const att = Buffer.alloc(200000);
  for (let i = 0; i < att.length; i++) att[i] = (i * 31 + 7) & 255;
  const b64 = att.toString('base64').replace(/.{76}/g, '$&\r\n');
  const simple = crlf([
    'Return-Path: <someone@example.com>',
    'Received: from mx.example.com by imap.example.com; Mon, 7 Feb 1994 21:52:25 -0800',
    'From: Someone <someone@example.com>',
    'To: a@b.example, "X Y" <x@y.example>',
    'Subject: =?utf-8?q?hello_w=C3=B6rld?=',
    'Date: Mon, 7 Feb 1994 21:52:25 -0800',
    'Message-ID: <abc@def>',
    'Content-Type: text/plain; charset=utf-8',
    '',
    ...Array<string>(30).fill('The quick brown fox jumps over the lazy dog. Lorem ipsum dolor sit amet.'),
    '',
  ]);
  const alt = crlf([
    'From: a@b.example',
    'Subject: html',
    'Content-Type: multipart/alternative; boundary=zz',
    '',
    '--zz',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    ...Array<string>(60).fill('Gr=C3=BC=C3=9Fe text line with some words in it and more words here=20'),
    '--zz',
    'Content-Type: text/html',
    '',
    ...Array<string>(60).fill('<p>Some <b>html</b> &amp; text in a paragraph with words</p>'),
    '--zz--',
    '',
  ]);
  const attach = crlf([
    'From: a@b.example',
    'Subject: attach',
    'Content-Type: multipart/mixed; boundary=qq',
    '',
    '--qq',
    'Content-Type: text/plain',
    '',
    'see attached',
    '--qq',
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64',
    '',
    b64,
    '--qq--',
    '',
  ]);
  const out: Buffer[] = [];
  let total = 0;
  while (total < 8e6) {
    for (const m of [simple, simple, alt, simple, attach]) {
      out.push(m);
      total += m.length;
    }
  }
  return out;
}

function parseAll(msgs: Buffer[], chunk: number): number {
  const t = process.hrtime.bigint();
  for (const m of msgs) {
    const p = new MessageParser();
    for (let o = 0; o < m.length; o += chunk) p.write(m.subarray(o, o + chunk));
    p.end();
  }
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const msgs = sampleMessages();
const bytes = msgs.reduce((a, m) => a + m.length, 0);
parseAll(msgs, 65536); // warm up
const s = parseAll(msgs, 65536);
console.log(
  `mixed: ${msgs.length} messages, ${(bytes / 1e6).toFixed(1)} MB: ${(bytes / 1e6 / s).toFixed(0)} MB/s, ${(msgs.length / s).toFixed(0)} msg/s`,
);
const small = msgs.filter((m) => m.length < 20000);
const many: Buffer[] = [];
for (let k = 0; k < 30; k++) many.push(...small);
const ss = parseAll(many, 65536);
const sb = many.reduce((a, m) => a + m.length, 0);
console.log(
  `small (${small[0].length}-${small[2].length} B): ${(many.length / ss).toFixed(0)} msg/s, ${(sb / 1e6 / ss).toFixed(0)} MB/s`,
);

const line = Buffer.from('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n');
const block = Buffer.concat(Array<Buffer>(840).fill(line));
const p = new MessageParser();
const rss0 = process.memoryUsage().rss;
const t0 = process.hrtime.bigint();
p.write(
  crlf([
    'From: a@b.example',
    'Content-Type: multipart/mixed; boundary=qq',
    '',
    '--qq',
    'Content-Type: application/pdf',
    'Content-Transfer-Encoding: base64',
    '',
    '',
  ]),
);
for (let i = 0; i < Math.ceil(50e6 / block.length); i++) p.write(block);
p.write(Buffer.from('\r\n--qq--\r\n'));
const r = p.end();
const s2 = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(
  `one ${(r.size / 1e6).toFixed(0)} MB attachment: ${(r.size / 1e6 / s2).toFixed(0)} MB/s, rss grew ${((process.memoryUsage().rss - rss0) / 1e6).toFixed(0)} MB`,
);
