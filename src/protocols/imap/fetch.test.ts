import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { filterHeader, parseFetchItems } from './fetch-items.js';
import { RawClient, startTestImapd, type TestImapd } from './test-helpers.js';

let srv: TestImapd;
let c: RawClient;

const MIME = [
  'From: Alice <a@example.org>',
  'Subject: nested',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="XX"',
  '',
  'preamble',
  '--XX',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'caf=C3=A9',
  '--XX',
  'Content-Type: message/rfc822',
  '',
  'From: b@example.org',
  'Subject: inner',
  '',
  'inner body',
  '--XX',
  'Content-Type: application/octet-stream; name="x.bin"',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename="x.bin"',
  '',
  'AAECAwQF',
  '--XX--',
  '',
].join('\r\n');

before(async () => {
  srv = await startTestImapd({ fred: 'secret' });
  c = await RawClient.connect(srv.port);
  await c.login();
  c.write(`a APPEND INBOX {${MIME.length}+}\r\n${MIME}\r\n`);
  assert.match((await c.until('a')).tagged, /^OK/);
  await c.cmd('SELECT INBOX');
});
after(async () => {
  c.close();
  await srv.stop();
});

async function fetch1(items: string): Promise<string> {
  const r = await c.cmd(`FETCH 1 (${items})`);
  assert.equal(r.tagged, 'OK Completed', r.tagged);
  assert.equal(r.lines.length, 1, r.lines.join('\n'));
  return r.lines[0]!;
}

test('fetch attribute grammar: macros, sections, partials, errors', () => {
  const atom = (v: string) => ({ t: 'atom' as const, v });
  assert.deepEqual(
    parseFetchItems(atom('FAST'), 'Fetch').map((i) => (i.k === 'simple' ? i.name : '')),
    ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  );
  const [s] = parseFetchItems(atom('body.peek[1.2.header.fields.not (x-a "X-B")]<10.20>'), 'Fetch');
  assert.ok(s && s.k === 'section');
  assert.deepEqual(
    [s.label, s.peek, s.path, s.text, s.fields, s.partial],
    [
      'BODY[1.2.HEADER.FIELDS.NOT (X-A X-B)]',
      true,
      [1, 2],
      'HEADER.FIELDS.NOT',
      ['X-A', 'X-B'],
      { start: 10, count: 20 },
    ],
  );
  assert.throws(() => parseFetchItems(atom('BODY[MIME]'), 'Fetch'), /section/);
  assert.throws(() => parseFetchItems(atom('BINARY[1.TEXT]'), 'Fetch'), /section/);
  assert.throws(() => parseFetchItems(atom('BOGUS'), 'Fetch'), /Invalid Fetch attribute BOGUS/);
});

test('filterHeader keeps continuation lines and ends with the blank line', () => {
  const h = Buffer.from('From: a\r\nSubject: one\r\n two\r\nTo: b\r\n\r\n');
  assert.equal(filterHeader(h, ['SUBJECT'], false).toString(), 'Subject: one\r\n two\r\n\r\n');
  assert.equal(filterHeader(h, ['SUBJECT'], true).toString(), 'From: a\r\nTo: b\r\n\r\n');
});

test('BODYSTRUCTURE of a multipart with an encapsulated message', async () => {
  const l = await fetch1('BODYSTRUCTURE');
  assert.match(
    l,
    /^\* 1 FETCH \(BODYSTRUCTURE \(\("TEXT" "PLAIN" \("CHARSET" "utf-8"\) NIL NIL "QUOTED-PRINTABLE" 9 \d+ /,
  );
  assert.match(
    l,
    /\("MESSAGE" "RFC822" NIL NIL NIL "7BIT" \d+ \(NIL "inner" \(\(NIL NIL "b" "example\.org"\)\)/,
  );
  assert.match(
    l,
    /\("APPLICATION" "OCTET-STREAM" \("NAME" "x\.bin"\) NIL NIL "BASE64" 8 NIL \("ATTACHMENT" \("FILENAME" "x\.bin"\)\) NIL NIL\) "MIXED" \("BOUNDARY" "XX"\) NIL NIL NIL\)\)$/,
  );
});

test('part sections: BODY[n], n.MIME, n.HEADER, n.TEXT of a message/rfc822, missing part', async () => {
  assert.equal(await fetch1('BODY.PEEK[1]'), '* 1 FETCH (BODY[1] {9}\r\ncaf=C3=A9)');
  assert.equal(
    await fetch1('BODY.PEEK[1.MIME]'),
    '* 1 FETCH (BODY[1.MIME] {88}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n)',
  );
  assert.equal(
    await fetch1('BODY.PEEK[2.HEADER]'),
    '* 1 FETCH (BODY[2.HEADER] {39}\r\nFrom: b@example.org\r\nSubject: inner\r\n\r\n)',
  );
  assert.equal(await fetch1('BODY.PEEK[2.TEXT]'), '* 1 FETCH (BODY[2.TEXT] {10}\r\ninner body)');
  assert.equal(await fetch1('BODY.PEEK[2.1]'), '* 1 FETCH (BODY[2.1] {10}\r\ninner body)');
  assert.equal(await fetch1('BODY.PEEK[9]'), '* 1 FETCH (BODY[9] "")');
  assert.equal(
    await fetch1('BODY.PEEK[HEADER.FIELDS (SUBJECT)]'),
    '* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {19}\r\nSubject: nested\r\n\r\n)',
  );
});

test('partial fetches: <start.count> clipped to the data', async () => {
  assert.equal(await fetch1('BODY.PEEK[]<0.4>'), '* 1 FETCH (BODY[]<0> {4}\r\nFrom)');
  assert.equal(await fetch1('BODY.PEEK[1]<4.100>'), '* 1 FETCH (BODY[1]<4> {5}\r\nC3=A9)');
  assert.equal(await fetch1('BODY.PEEK[1]<100.5>'), '* 1 FETCH (BODY[1]<100> {0}\r\n)');
});

test('BINARY decodes the transfer encoding while streaming; BINARY.SIZE', async () => {
  assert.equal(await fetch1('BINARY.PEEK[1]'), '* 1 FETCH (BINARY[1] ~{5}\r\ncaf\u00c3\u00a9)');
  assert.equal(
    await fetch1('BINARY.SIZE[1] BINARY.SIZE[3]'),
    '* 1 FETCH (BINARY.SIZE[1] 5 BINARY.SIZE[3] 6)',
  );
  assert.equal(await fetch1('BINARY.PEEK[3]'), '* 1 FETCH (BINARY[3] ~{6}\r\n\x00\x01\x02\x03\x04\x05)');
  assert.equal(await fetch1('BINARY.PEEK[3]<2.2>'), '* 1 FETCH (BINARY[3]<2> ~{2}\r\n\x02\x03)');
});

test('RFC822.HEADER is a peek; BODY[TEXT] sets \\Seen and reports FLAGS', async () => {
  const h = await fetch1('RFC822.HEADER');
  assert.match(h, /^\* 1 FETCH \(RFC822\.HEADER \{\d+\}\r\nFrom: Alice/);
  assert.doesNotMatch(h, /FLAGS/);
  assert.equal(await fetch1('FLAGS'), '* 1 FETCH (FLAGS ())');
  const t = await fetch1('BODY[TEXT]<0.8>');
  assert.equal(t, '* 1 FETCH (BODY[TEXT]<0> {8}\r\npreamble FLAGS (\\Seen))');
  assert.equal(await fetch1('FLAGS'), '* 1 FETCH (FLAGS (\\Seen))');
});

test('UID FETCH adds UID; FETCH of a number beyond the mailbox is NO, UID FETCH is OK', async () => {
  const r = await c.cmd('UID FETCH 1 RFC822.SIZE');
  assert.equal(r.lines[0], `* 1 FETCH (UID 1 RFC822.SIZE ${MIME.length})`);
  assert.equal((await c.cmd('FETCH 99 FLAGS')).tagged, 'NO No matching messages');
  assert.equal((await c.cmd('UID FETCH 99 FLAGS')).tagged, 'OK Completed');
  assert.equal((await c.cmd('FETCH x FLAGS')).tagged, 'BAD Invalid sequence in Fetch');
  assert.equal((await c.cmd('FETCH 1 (FLAGS')).tagged, 'BAD Missing close parenthesis in Fetch');
  assert.equal((await c.cmd('FETCH 1 BOGUS')).tagged, 'BAD Invalid Fetch attribute BOGUS');
  assert.equal(
    (await c.cmd('UID FETCH 1:* (FLAGS) junk')).tagged,
    'BAD Missing required open parenthesis in UID Fetch modifiers',
  );
});

test('CONDSTORE: MODSEQ, CHANGEDSINCE, UNCHANGEDSINCE', async () => {
  const m = await fetch1('MODSEQ');
  const ms = Number(/MODSEQ \((\d+)\)/.exec(m)![1]);
  assert.ok(ms > 0);
  const none = await c.cmd(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${ms})`);
  assert.deepEqual(none.lines, []);
  const st = await c.cmd(`STORE 1 (UNCHANGEDSINCE ${ms - 1}) +FLAGS (\\Flagged)`);
  assert.equal(st.tagged, 'OK [MODIFIED 1] Conditional STORE failed');
  const ok = await c.cmd(`STORE 1 (UNCHANGEDSINCE ${ms}) +FLAGS (\\Flagged)`);
  assert.match(ok.lines[0]!, /^\* 1 FETCH \(FLAGS \((\\Seen \\Flagged|\\Flagged \\Seen)\) MODSEQ \(\d+\)\)$/);
  const some = await c.cmd(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${ms})`);
  assert.match(
    some.lines[0]!,
    /^\* 1 FETCH \(FLAGS \((\\Seen \\Flagged|\\Flagged \\Seen)\) MODSEQ \(\d+\)\)$/,
  );
  const s = await c.cmd(`SEARCH MODSEQ ${ms}`);
  assert.match(s.lines[0]!, /^\* SEARCH 1 \(MODSEQ \d+\)$/);
});

test('QRESYNC: ENABLE, SELECT with known state, VANISHED on expunge and in UID FETCH', async () => {
  const q = await RawClient.connect(srv.port);
  await q.login();
  await q.cmd('CREATE Q');
  for (const s of ['a', 'b', 'c']) {
    const m = `Subject: ${s}\r\n\r\nx\r\n`;
    q.write(`a APPEND Q {${m.length}+}\r\n${m}\r\n`);
    await q.until('a');
  }
  assert.equal((await q.cmd('SELECT Q (QRESYNC (1 1))')).tagged, 'BAD QRESYNC not enabled');
  assert.deepEqual((await q.cmd('ENABLE QRESYNC')).lines, ['* ENABLED CONDSTORE QRESYNC']);
  const sel = await q.cmd('SELECT Q');
  const uv = Number(/UIDVALIDITY (\d+)/.exec(sel.lines.join('\n'))![1]);
  const hm = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.lines.join('\n'))![1]);
  const st = await q.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
  assert.match(st.lines[0] ?? '', /^\* 1 FETCH \(UID 1 MODSEQ \(\d+\)\)$/);
  assert.deepEqual((await q.cmd('EXPUNGE')).lines, ['* VANISHED 1']);
  await q.cmd('STORE 2 +FLAGS (\\Flagged)');
  await q.cmd('UNSELECT');
  const re = await q.cmd(`SELECT Q (QRESYNC (${uv} ${hm} 1:3))`);
  assert.ok(re.lines.includes('* VANISHED (EARLIER) 1'), re.lines.join('\n'));
  assert.ok(
    re.lines.some((l) => /^\* 2 FETCH \(UID 3 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/.test(l)),
    re.lines.join('\n'),
  );
  const f = await q.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${hm} VANISHED)`);
  assert.equal(f.lines[0], '* VANISHED (EARLIER) 1');
  assert.match(f.lines[1]!, /^\* 2 FETCH \(UID 3 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/);
  q.close();
});

test('BINARY of a part in an unknown transfer encoding is NO [UNKNOWN-CTE]', async () => {
  const m = 'Subject: odd\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-martian\r\n\r\nzzz\r\n';
  c.write(`u APPEND INBOX {${m.length}+}\r\n${m}\r\n`);
  const uid = Number(/APPENDUID \d+ (\d+)/.exec((await c.until('u')).tagged)![1]);
  await c.cmd('NOOP');
  const r = await c.cmd(`UID FETCH ${uid} (BINARY.PEEK[1])`);
  assert.equal(r.tagged, 'NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding');
  assert.deepEqual(r.lines, []);
  // BODY[1] still works: the raw bytes
  assert.match((await c.cmd(`UID FETCH ${uid} (BODY.PEEK[1])`)).lines[0]!, /BODY\[1\] \{5\}\r\nzzz\r\n\)$/);
});
