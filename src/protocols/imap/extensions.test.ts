import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestImapd, type TestImapd } from './test-helpers.js';

let srv: TestImapd;
let c: RawClient;

const msg = (from: string, subject: string, date: string, body: string): string =>
  `From: ${from}\r\nTo: fred@example.org\r\nSubject: ${subject}\r\nDate: ${date}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@x>\r\n` +
  `Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${body}\r\n`;

before(async () => {
  srv = await startTestImapd({ fred: 'secret' }, { failedloginpause: '1' });
  c = await RawClient.connect(srv.port);
  await c.login();
  await c.cmd('CREATE Ext');
  // MULTIAPPEND: three messages in one command, one APPENDUID range back
  const m1 = msg('Zed <z@example.org>', 'banana', 'Tue, 3 Nov 2026 10:00:00 +0000', 'plain words here');
  const m2 = msg('Amy <a@example.org>', 'apple', 'Wed, 4 Nov 2026 10:00:00 +0000', 'caf\u00e9 au lait');
  const m3 = msg('Bob <b@example.org>', 'cherry', 'Mon, 2 Nov 2026 10:00:00 +0000', 'x'.repeat(2000));
  c.write(
    Buffer.concat([
      Buffer.from(
        `m APPEND Ext (\\Seen) {${m1.length}+}\r\n${m1} (\\Flagged) "05-Nov-2026 09:00:00 +0000" {${Buffer.byteLength(m2, 'latin1')}+}\r\n`,
      ),
      Buffer.from(m2, 'latin1'),
      Buffer.from(` {${m3.length}+}\r\n${m3}\r\n`),
    ]),
  );
  const r = await c.until('m');
  assert.match(r.tagged, /^OK \[APPENDUID \d+ 1:3\] Completed$/);
  await c.cmd('SELECT Ext');
});
after(async () => {
  c.close();
  await srv.stop();
});

test('SORT by subject, reverse date, from, size', async () => {
  assert.deepEqual((await c.cmd('SORT (SUBJECT) UTF-8 ALL')).lines, ['* SORT 2 1 3']);
  assert.deepEqual((await c.cmd('SORT (REVERSE DATE) UTF-8 ALL')).lines, ['* SORT 2 1 3']);
  assert.deepEqual((await c.cmd('SORT (FROM) UTF-8 ALL')).lines, ['* SORT 2 3 1']);
  assert.deepEqual((await c.cmd('UID SORT (REVERSE SIZE) UTF-8 UNSEEN')).lines, ['* SORT 3 2']);
  assert.equal((await c.cmd('SORT (BOGUS) UTF-8 ALL')).tagged, 'BAD Invalid Sort criteria');
});

test('SEARCH with CHARSET: UTF-8 and a legacy charset literal; unknown charset is BADCHARSET', async () => {
  c.write('s1 SEARCH CHARSET UTF-8 BODY {5}\r\n');
  assert.equal(await c.line(), '+ go ahead');
  c.write(Buffer.concat([Buffer.from('caf\u00e9', 'utf8'), Buffer.from('\r\n')]));
  assert.deepEqual((await c.until('s1')).lines, ['* SEARCH 2']);
  c.write('s2 SEARCH CHARSET ISO-8859-1 BODY {4}\r\n');
  assert.equal(await c.line(), '+ go ahead');
  c.write(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a]));
  assert.deepEqual((await c.until('s2')).lines, ['* SEARCH 2']);
  assert.match((await c.cmd('SEARCH CHARSET X-NOPE BODY x')).tagged, /^NO \[BADCHARSET/);
});

test('search keys: dates, sizes, flags, WITHIN, header, NOT/OR nesting', async () => {
  const s = async (q: string): Promise<string> => (await c.cmd(`SEARCH ${q}`)).lines[0] ?? '';
  assert.equal(await s('SENTBEFORE 3-Nov-2026'), '* SEARCH 3');
  assert.equal(await s('SENTSINCE 4-Nov-2026'), '* SEARCH 2');
  assert.equal(await s('ON 5-Nov-2026'), '* SEARCH 2');
  assert.equal(await s('LARGER 1000'), '* SEARCH 3');
  assert.equal(await s('SEEN'), '* SEARCH 1');
  assert.equal(await s('YOUNGER 3600'), '* SEARCH 1 3');
  assert.equal(await s('HEADER Message-ID cherry'), '* SEARCH 3');
  assert.equal(await s('NOT (OR SEEN FLAGGED)'), '* SEARCH 3');
  assert.equal(await s('1:2 UNFLAGGED'), '* SEARCH 1');
  assert.equal((await c.cmd('SEARCH BEFORE notadate')).tagged, 'BAD Invalid date in Search');
  assert.equal((await c.cmd('SEARCH BOGUS')).tagged, 'BAD Invalid Search criteria');
});

test('FETCH of PREVIEW, SAVEDATE, EMAILID, THREADID', async () => {
  const l = (await c.cmd('FETCH 1 (PREVIEW SAVEDATE EMAILID THREADID)')).lines[0]!;
  assert.match(
    l,
    /^\* 1 FETCH \(PREVIEW "plain words here" SAVEDATE "[ \d]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}" EMAILID \([\w-]+\) THREADID (\([\w-]+\)|NIL)\)$/,
  );
});

test('STATUS with every item', async () => {
  const r = await c.cmd(
    'STATUS Ext (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE DELETED HIGHESTMODSEQ MAILBOXID)',
  );
  assert.match(
    r.lines[0]!,
    /^\* STATUS Ext \(MESSAGES 3 RECENT \d+ UIDNEXT 4 UIDVALIDITY \d+ UNSEEN 2 SIZE \d+ DELETED 0 HIGHESTMODSEQ \d+ MAILBOXID \([\w-]+\)\)$/,
  );
});

test('UID EXPUNGE removes only the named \\Deleted messages', async () => {
  await c.cmd('STORE 1:2 +FLAGS.SILENT (\\Deleted)');
  assert.deepEqual((await c.cmd('UID EXPUNGE 2')).lines, ['* 2 EXPUNGE']);
  assert.deepEqual((await c.cmd('UID SEARCH DELETED')).lines, ['* SEARCH 1']);
});

test('a failed LOGIN is answered only after failedloginpause', async () => {
  const d = await RawClient.connect(srv.port);
  await d.line();
  const t0 = Date.now();
  assert.match((await d.cmd('LOGIN fred nope')).tagged, /^NO /);
  assert.ok(Date.now() - t0 >= 950, `answered after ${Date.now() - t0} ms`);
  d.close();
});

test('UTF8=ACCEPT: only offered without munge8bit/reject8bit; UTF-8 names, APPEND UTF8 (~{n}), UTF-8 envelope', async () => {
  assert.deepEqual((await c.cmd('ENABLE UTF8=ACCEPT')).lines, ['* ENABLED']);
  const u = await startTestImapd({ fred: 'secret' }, { munge8bit: 'no', reject8bit: 'no' });
  try {
    const d = await RawClient.connect(u.port);
    await d.login();
    assert.match((await d.cmd('CAPABILITY')).lines[0]!, / UTF8=ACCEPT /);
    assert.equal(
      (await d.cmd(`APPEND INBOX UTF8 (~{3+}\r\nabc)`)).tagged,
      'BAD UTF8 APPEND requires ENABLE UTF8=ACCEPT',
    );
    assert.deepEqual((await d.cmd('ENABLE UTF8=ACCEPT')).lines, ['* ENABLED UTF8=ACCEPT']);
    const name = Buffer.from('Grüße', 'utf8');
    d.write(Buffer.concat([Buffer.from('c CREATE "'), name, Buffer.from('"\r\n')]));
    assert.equal((await d.until('c')).tagged, 'OK Completed');
    const m = Buffer.from('From: a@example.org\r\nSubject: Grüße aus Köln\r\n\r\nhallo\r\n', 'utf8');
    d.write(
      Buffer.concat([
        Buffer.from('a APPEND "'),
        name,
        Buffer.from(`" UTF8 (~{${m.length}+}\r\n`),
        m,
        Buffer.from(')\r\n'),
      ]),
    );
    assert.match((await d.until('a')).tagged, /^OK \[APPENDUID \d+ 1\]/);
    const l = await d.cmd('LIST "" "Gr*"');
    assert.equal(Buffer.from(l.lines[0]!, 'latin1').toString('utf8'), '* LIST (\\HasNoChildren) "/" "Grüße"');
    d.write(Buffer.concat([Buffer.from('s SELECT "'), name, Buffer.from('"\r\n')]));
    await d.until('s');
    const f = await d.cmd('FETCH 1 ENVELOPE');
    assert.match(Buffer.from(f.lines[0]!, 'latin1').toString('utf8'), /ENVELOPE \(NIL "Grüße aus Köln" /);
    d.close();
  } finally {
    await u.stop();
  }
});

test('SORT=DISPLAY: DISPLAYFROM sorts by display name', async () => {
  // remaining messages: uid 1 (Zed) and uid 3 (Bob)
  assert.deepEqual((await c.cmd('UID SORT (DISPLAYFROM) UTF-8 ALL')).lines, ['* SORT 3 1']);
  assert.deepEqual((await c.cmd('UID SORT (REVERSE DISPLAYFROM) UTF-8 ALL')).lines, ['* SORT 1 3']);
});

test('CATENATE: new header text + the body of a stored message by URL; a bad URL is NO [BADURL]', async () => {
  const st = await c.cmd('STATUS Ext (UIDVALIDITY)');
  const uv = /UIDVALIDITY (\d+)/.exec(st.lines[0]!)![1];
  const head = 'From: me@example.org\r\nSubject: forwarded\r\n\r\n';
  c.write(
    `k APPEND Ext CATENATE (TEXT {${head.length}+}\r\n${head} URL "/Ext;UIDVALIDITY=${uv}/;UID=3/;SECTION=TEXT" URL "/Ext/;UID=1/;SECTION=TEXT/;PARTIAL=0.5")\r\n`,
  );
  const r = await c.until('k');
  assert.match(r.tagged, /^OK \[APPENDUID \d+ (\d+)\]/);
  const uid = /APPENDUID \d+ (\d+)/.exec(r.tagged)![1];
  const f = await c.cmd(`UID FETCH ${uid} BODY.PEEK[]`);
  assert.equal(f.lines.length, 1);
  assert.ok(
    f.lines[0]!.includes(`{${head.length + 2002 + 5}}\r\n${head}${'x'.repeat(2000)}\r\nplain)`),
    f.lines[0]!.slice(0, 200),
  );
  const bad = await c.cmd('APPEND Ext CATENATE (URL "/Ext/;UID=999")');
  assert.equal(bad.tagged, 'NO [BADURL "/Ext/;UID=999"] Bad URL');
  const badUv = await c.cmd('APPEND Ext CATENATE (URL "/Ext;UIDVALIDITY=1/;UID=1")');
  assert.match(badUv.tagged, /^NO \[BADURL/);
});

test('MULTIAPPEND is all or nothing: a failing second message takes back the first', async () => {
  await c.cmd('CREATE Multi');
  const m = 'Subject: first of two\r\n\r\nx\r\n';
  c.write(`j APPEND Multi {${m.length}+}\r\n${m} CATENATE (URL "/Multi/;UID=999")\r\n`);
  assert.match((await c.until('j')).tagged, /^NO \[BADURL/);
  assert.deepEqual((await c.cmd('STATUS Multi (MESSAGES)')).lines, ['* STATUS Multi (MESSAGES 0)']);
});
