import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestImapd, type TestImapd } from './test-helpers.js';

let srv: TestImapd;
before(async () => {
  srv = await startTestImapd();
});
after(async () => {
  await srv.stop();
});

const MSG =
  'From: Alice <alice@example.org>\r\nTo: Fred <fred@example.org>\r\nSubject: hello there\r\n' +
  'Date: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\n\r\nbody line one\r\n';

test('greeting carries capabilities; CAPABILITY before and after login', async () => {
  const c = await RawClient.connect(srv.port);
  const g = await c.line();
  assert.match(
    g,
    /^\* OK \[CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL\+ ID ENABLE .*AUTH=PLAIN.* SASL-IR\] imap\.test Cyrus-TS IMAP server ready$/,
  );
  assert.doesNotMatch(g, / NAMESPACE /);
  const r = await c.cmd('CAPABILITY');
  // as Cyrus 3.6: before login CAPABILITY gives the whole list, the greeting the short one
  assert.match(
    r.lines[0]!,
    /^\* CAPABILITY IMAP4rev1 .* NAMESPACE .* AUTH=PLAIN .*SASL-IR .*IDLE APPENDLIMIT=\d+$/,
  );
  assert.equal(r.tagged, 'OK Completed');
  const l = await c.cmd('LOGIN fred secret');
  assert.match(
    l.tagged,
    /^OK \[CAPABILITY IMAP4rev1 .*NAMESPACE.*UIDPLUS.*IDLE APPENDLIMIT=\d+\] User logged in/,
  );
  assert.doesNotMatch(l.tagged, /AUTH=/);
  c.close();
});

test('Cyrus error replies for malformed commands', async () => {
  const c = await RawClient.connect(srv.port);
  await c.line();
  assert.equal((await c.cmd('FOO')).tagged, 'BAD Please login first');
  c.write('a3\r\n');
  assert.equal(await c.line(), '* BAD Invalid tag');
  assert.equal((await c.cmd('LOGIN')).tagged, 'BAD Missing required argument to Login');
  assert.equal((await c.cmd('NOOP extra')).tagged, 'BAD Unexpected extra arguments to Noop');
  assert.equal((await c.cmd('noop')).tagged, 'OK Completed');
  assert.equal((await c.cmd('LOGIN fred secret extra')).tagged, 'BAD Unexpected extra arguments to Login');
  assert.equal(
    (await c.cmd('LOGIN fred wrong')).tagged,
    'NO [AUTHENTICATIONFAILED] Login failed: authentication failure',
  );
  assert.equal((await c.cmd('SELECT INBOX')).tagged, 'BAD Please login first');
  assert.match((await c.cmd('LOGIN fred secret')).tagged, /^OK /);
  assert.equal((await c.cmd('LOGIN fred secret')).tagged, 'BAD Already logged in');
  assert.equal((await c.cmd('FETCH 1 FLAGS')).tagged, 'BAD Please select a mailbox first');
  assert.equal((await c.cmd('SELECT')).tagged, 'BAD Missing required argument to Select');
  assert.equal((await c.cmd('LIST')).tagged, 'BAD Missing required argument to List');
  assert.equal((await c.cmd('STATUS INBOX (BOGUS)')).tagged, 'BAD Invalid Status attributes bogus');
  assert.match((await c.cmd('SELECT nosuchbox')).tagged, /^NO \[NONEXISTENT\] Mailbox does not exist/);
  assert.match((await c.cmd('CREATE INBOX')).tagged, /^NO \[ALREADYEXISTS\]/);
  c.close();
});

test('ten bad commands in a row end the session with BYE', async () => {
  const c = await RawClient.connect(srv.port);
  await c.line();
  for (let i = 0; i < 9; i++) assert.match((await c.cmd('BOGUS')).tagged, /^BAD/);
  const r = await c.cmd('BOGUS').catch(() => null);
  assert.ok(r === null || r.tagged.startsWith('BAD'));
  // BYE then close
  const rest = await c.line().catch(() => 'closed');
  assert.match(rest, /^\* BYE|closed/);
  c.close();
});

test('AUTHENTICATE PLAIN with SASL-IR, with a continuation, and cancelled', async () => {
  const c = await RawClient.connect(srv.port);
  await c.line();
  const cred = Buffer.from('\0fred\0secret').toString('base64');
  c.write('a1 AUTHENTICATE PLAIN\r\n');
  assert.equal(await c.line(), '+ ');
  c.write('*\r\n');
  assert.equal((await c.until('a1')).tagged, 'BAD Client canceled authentication');
  c.write('a2 AUTHENTICATE PLAIN\r\n');
  assert.equal(await c.line(), '+ ');
  c.write(cred + '\r\n');
  assert.match((await c.until('a2')).tagged, /^OK \[CAPABILITY .*\] User logged in/);
  c.close();
  const d = await RawClient.connect(srv.port);
  await d.line();
  assert.match((await d.cmd(`AUTHENTICATE PLAIN ${cred}`)).tagged, /^OK /);
  d.close();
});

test('mailbox life: create, list, status, append, select, fetch, store, search, copy, expunge', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  assert.equal((await c.cmd('CREATE Work')).tagged, 'OK Completed');
  assert.equal((await c.cmd('CREATE Work/Sub')).tagged, 'OK Completed');
  const list = await c.cmd('LIST "" "*"');
  assert.ok(list.lines.includes('* LIST (\\HasChildren) "/" Work'), list.lines.join('\n'));
  assert.ok(list.lines.includes('* LIST (\\HasNoChildren) "/" Work/Sub'));
  assert.ok(list.lines.some((l) => /^\* LIST \(\\Has(No)?Children\) "\/" INBOX$/.test(l)));
  const pct = await c.cmd('LIST "" "%"');
  assert.ok(pct.lines.includes('* LIST (\\HasChildren) "/" Work'));
  assert.ok(!pct.lines.some((l) => l.endsWith('Work/Sub')));
  assert.deepEqual((await c.cmd('LIST "" ""')).lines, ['* LIST (\\Noselect) "/" ""']);

  c.write(`a APPEND Work (\\Flagged) "02-Nov-2026 10:00:00 +0000" {${MSG.length}}\r\n`);
  assert.equal(await c.line(), '+ go ahead');
  c.write(MSG + '\r\n');
  const ap = await c.until('a');
  assert.match(ap.tagged, /^OK \[APPENDUID \d+ 1\] Completed$/);
  c.write(`b APPEND Work {${MSG.length}+}\r\n${MSG}\r\n`);
  assert.match((await c.until('b')).tagged, /^OK \[APPENDUID \d+ 2\]/);

  const st = await c.cmd('STATUS Work (MESSAGES UIDNEXT UNSEEN SIZE)');
  assert.deepEqual(st.lines, [`* STATUS Work (MESSAGES 2 UIDNEXT 3 UNSEEN 2 SIZE ${2 * MSG.length})`]);

  const sel = await c.cmd('SELECT Work');
  assert.ok(sel.lines.includes('* 2 EXISTS'));
  assert.ok(sel.lines.some((l) => /^\* OK \[UIDVALIDITY \d+\]/.test(l)));
  assert.ok(sel.lines.includes('* OK [UIDNEXT 3] Ok'));
  assert.equal(sel.tagged, 'OK [READ-WRITE] Completed');

  const f = await c.cmd('FETCH 1 (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE)');
  assert.equal(f.lines.length, 1);
  assert.match(
    f.lines[0]!,
    /^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\) RFC822\.SIZE \d+ INTERNALDATE " 2-Nov-2026 10:00:00 \+0000" ENVELOPE \("Mon, 2 Nov 2026 10:00:00 \+0000" "hello there" \(\("Alice" NIL "alice" "example\.org"\)\)/,
  );
  assert.match(
    f.lines[0]!,
    /BODYSTRUCTURE \("TEXT" "PLAIN" \("CHARSET" "us-ascii"\) NIL NIL "7BIT" 15 1 NIL NIL NIL NIL\)\)$/i,
  );

  const h = await c.cmd('UID FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject)] BODY.PEEK[TEXT]<5.3>)');
  assert.equal(
    h.lines[0],
    '* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)] {24}\r\nSubject: hello there\r\n\r\n BODY[TEXT]<5> {3}\r\nlin)',
  );

  const whole = await c.cmd('FETCH 2 BODY[]');
  assert.equal(whole.lines[0], `* 2 FETCH (BODY[] {${MSG.length}}\r\n${MSG} FLAGS (\\Seen))`);
  assert.match((await c.cmd('FETCH 2 FLAGS')).lines[0]!, /FLAGS \(\\Seen\)/);

  const s1 = await c.cmd('SEARCH SUBJECT "hello" UNSEEN');
  assert.deepEqual(s1.lines, ['* SEARCH 1']);
  const s2 = await c.cmd('UID SEARCH RETURN (MIN MAX COUNT) ALL');
  assert.match(s2.lines[0]!, /^\* ESEARCH \(TAG "t\d+"\) UID MIN 1 MAX 2 COUNT 2$/);
  assert.deepEqual((await c.cmd('SEARCH OR FLAGGED SEEN NOT BODY nothing')).lines, ['* SEARCH 1 2']);

  const stf = await c.cmd('STORE 1 +FLAGS (\\Deleted)');
  assert.deepEqual(stf.lines, ['* 1 FETCH (FLAGS (\\Flagged \\Deleted))']);
  assert.equal((await c.cmd('STORE 1 +FLAGS (\\Bogus)')).tagged, 'BAD Invalid system flag in Store command');

  assert.match((await c.cmd('COPY 1:2 INBOX')).tagged, /^OK \[COPYUID \d+ 1:2 \d+:\d+\] Completed$/);
  assert.match((await c.cmd('COPY 1 nosuch')).tagged, /^NO \[TRYCREATE\]/);
  const ex = await c.cmd('EXPUNGE');
  assert.deepEqual(ex.lines, ['* 1 EXPUNGE']);
  assert.deepEqual((await c.cmd('UID SEARCH ALL')).lines, ['* SEARCH 2']);
  const mv = await c.cmd('MOVE 1 INBOX');
  assert.match(mv.lines[0]!, /^\* OK \[COPYUID \d+ 2 \d+\]/);
  assert.equal(mv.lines[1], '* 1 EXPUNGE');
  assert.equal((await c.cmd('CLOSE')).tagged, 'OK Completed');
  assert.equal((await c.cmd('DELETE Work/Sub')).tagged, 'OK Completed');
  assert.equal((await c.cmd('RENAME Work Play')).tagged, 'OK Completed');
  const l2 = await c.cmd('LIST "" "*"');
  assert.ok(l2.lines.some((l) => l.endsWith(' Play')));
  assert.ok(!l2.lines.some((l) => l.endsWith(' Work')));
  const lo = await c.cmd('LOGOUT');
  assert.deepEqual(lo.lines, ['* BYE LOGOUT received']);
  assert.equal(lo.tagged, 'OK Completed');
  c.close();
});

test('another session sees EXISTS and EXPUNGE; IDLE wakes on a change from elsewhere', async () => {
  const a = await RawClient.connect(srv.port);
  await a.login('bob', 'bobpw');
  const b = await RawClient.connect(srv.port);
  await b.login('bob', 'bobpw');
  await a.cmd('SELECT INBOX');
  a.write('i IDLE\r\n');
  assert.equal(await a.line(), '+ idling');
  const t0 = Date.now();
  b.write(`x APPEND INBOX {${MSG.length}+}\r\n${MSG}\r\n`);
  await b.until('x');
  assert.equal(await a.line(), '* 1 EXISTS');
  assert.equal(await a.line(), '* 1 RECENT');
  assert.ok(Date.now() - t0 < 1000, `woke after ${Date.now() - t0} ms`);
  a.write('DONE\r\n');
  assert.equal((await a.until('i')).tagged, 'OK Completed');
  await b.cmd('SELECT INBOX');
  await b.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
  await b.cmd('EXPUNGE');
  const n = await a.cmd('NOOP');
  assert.deepEqual(n.lines, ['* 1 EXPUNGE']);
  a.close();
  b.close();
});

test('NAMESPACE, ID, ENABLE, UNSELECT, EXAMINE read-only', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  assert.deepEqual((await c.cmd('NAMESPACE')).lines, [
    '* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Shared Folders/" "/"))',
  ]);
  assert.match((await c.cmd('ID ("name" "test")')).lines[0]!, /^\* ID \("name" "Cyrus-TS IMAPD"/);
  assert.deepEqual((await c.cmd('ENABLE CONDSTORE X-UNKNOWN')).lines, ['* ENABLED CONDSTORE']);
  const ex = await c.cmd('EXAMINE INBOX');
  assert.equal(ex.tagged, 'OK [READ-ONLY] Completed');
  assert.equal((await c.cmd('UNSELECT')).tagged, 'OK Completed');
  assert.equal((await c.cmd('UNSELECT')).tagged, 'BAD Please select a mailbox first');
  c.close();
});

test('literal too big for LOGIN: NO [TOOBIG] for {N}, BYE for {N+}', async () => {
  const c = await RawClient.connect(srv.port);
  await c.line();
  assert.equal(
    (await c.cmd('LOGIN fred {200000}')).tagged,
    'NO [TOOBIG] Literal size exceeds fixed limit in Login',
  );
  c.write('z LOGIN fred {200000+}\r\n');
  assert.equal(await c.line(), '* BYE [TOOBIG] Literal size exceeds fixed limit');
  c.close();
});

test('a 3 MB APPEND is spooled to disk while it arrives and comes back byte for byte', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login('bob', 'bobpw');
  const body = Array.from({ length: 40000 }, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\r\n');
  const msg = `From: big@example.org\r\nSubject: big\r\n\r\n${body}\r\n`;
  await c.cmd('CREATE Big');
  c.write(`a APPEND Big {${msg.length}+}\r\n`);
  // in pieces, as a real client would send it
  for (let i = 0; i < msg.length; i += 100000) c.write(msg.slice(i, i + 100000));
  c.write('\r\n');
  assert.match((await c.until('a', 20000)).tagged, /^OK \[APPENDUID \d+ 1\]/);
  await c.cmd('SELECT Big');
  const r = await c.cmd('FETCH 1 (RFC822.SIZE BODY.PEEK[])', 20000);
  assert.equal(r.lines[0], `* 1 FETCH (RFC822.SIZE ${msg.length} BODY[] {${msg.length}}\r\n${msg})`);
  c.close();
});

test('COMPRESS DEFLATE: both directions compressed after OK; not offered twice', async () => {
  const { createDeflateRaw, createInflateRaw, constants } = await import('node:zlib');
  const c = await RawClient.connect(srv.port);
  await c.login();
  assert.match((await c.cmd('CAPABILITY')).lines[0]!, / COMPRESS=DEFLATE/);
  c.write('z COMPRESS DEFLATE\r\n');
  assert.equal(await c.line(), 'z OK DEFLATE active');
  const sock = c.release();
  const inf = createInflateRaw();
  const def = createDeflateRaw();
  sock.pipe(inf);
  def.on('data', (d: Buffer) => sock.write(d));
  let text = '';
  inf.on('data', (d: Buffer) => (text += d.toString('latin1')));
  const send = async (line: string, tag: string): Promise<string> => {
    text = '';
    def.write(line + '\r\n');
    def.flush(constants.Z_SYNC_FLUSH);
    for (let i = 0; i < 200 && !new RegExp(`^${tag} `, 'm').test(text); i++)
      await new Promise((r) => setTimeout(r, 10));
    return text;
  };
  assert.match(
    await send('c1 CAPABILITY', 'c1'),
    /^\* CAPABILITY (?!.*COMPRESS=DEFLATE).*\r\nc1 OK Completed\r\n$/,
  );
  assert.match(await send('c2 COMPRESS DEFLATE', 'c2'), /^c2 NO \[COMPRESSIONACTIVE\]/);
  assert.match(await send('c3 LIST "" INBOX', 'c3'), /\* LIST \(.*\) "\/" INBOX\r\nc3 OK/);
  sock.destroy();
});

test('ENABLE IMAP4rev2: UTF-8 names, no RECENT, LIST in SELECT, ESEARCH for SEARCH', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  assert.deepEqual((await c.cmd('ENABLE IMAP4rev2')).lines, ['* ENABLED IMAP4rev2']);
  assert.equal((await c.cmd('CREATE "Caf\u00e9/Men\u00fc"')).tagged, 'OK Completed');
  const l = await c.cmd('LIST "" "Caf*"');
  assert.deepEqual(
    l.lines.map((x) => Buffer.from(x, 'latin1').toString('utf8')),
    ['* LIST (\\HasChildren) "/" "Caf\u00e9"', '* LIST (\\HasNoChildren) "/" "Caf\u00e9/Men\u00fc"'],
  );
  const sel = await c.cmd('SELECT "Caf\u00e9/Men\u00fc"');
  assert.ok(!sel.lines.some((x) => / RECENT$/.test(x)), sel.lines.join('\n'));
  assert.ok(
    sel.lines
      .map((x) => Buffer.from(x, 'latin1').toString('utf8'))
      .includes('* LIST () "/" "Caf\u00e9/Men\u00fc"'),
  );
  const s = await c.cmd('UID SEARCH ALL');
  assert.match(s.lines[0]!, /^\* ESEARCH \(TAG "t\d+"\) UID$/);
  c.close();
});

test('an empty mailbox: FETCH/STORE/SEARCH with * match nothing', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login('bob', 'bobpw');
  await c.cmd('CREATE Empty');
  await c.cmd('SELECT Empty');
  assert.deepEqual(await c.cmd('FETCH 1:* (FLAGS)'), { lines: [], tagged: 'OK Completed' });
  assert.deepEqual(await c.cmd('STORE 1:* +FLAGS (\\Seen)'), { lines: [], tagged: 'OK Completed' });
  assert.deepEqual(await c.cmd('SEARCH 1:*'), { lines: ['* SEARCH'], tagged: 'OK Completed' });
  c.close();
});
