/**
 * REPLACE (RFC 8508) over raw IMAP, following the RFC's §3 examples: the draft is replaced in
 * the selected mailbox and into another one, with EXPUNGE, or VANISHED once QRESYNC is on, and
 * a failed append leaves the old message alone.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestImapd, type TestImapd } from '../test-helpers.js';

let srv: TestImapd;

before(async () => {
  srv = await startTestImapd({ fred: 'secret' });
});
after(async () => {
  await srv.stop();
});

const draft = (n: number): string => `From: fred@example.org\r\nSubject: draft ${n}\r\n\r\nversion ${n}\r\n`;

async function appendTo(c: RawClient, box: string, msg: string): Promise<number> {
  c.write(`a APPEND ${box} (\\Seen \\Draft) {${msg.length}+}\r\n${msg}\r\n`);
  const r = await c.until('a');
  return Number(/APPENDUID \d+ (\d+)/.exec(r.tagged)![1]);
}

/** send REPLACE with a synchronising literal, as the RFC's examples do */
async function replace(c: RawClient, tag: string, cmd: string, msg: string) {
  c.write(`${tag} ${cmd} {${msg.length}}\r\n`);
  const go = await c.line();
  assert.match(go, /^\+ /);
  c.write(`${msg}\r\n`);
  return c.until(tag);
}

test('REPLACE is advertised', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  assert.ok((await c.cmd('CAPABILITY')).lines[0]!.split(' ').includes('REPLACE'));
  c.close();
});

test('RFC 8508 §3: REPLACE in the selected mailbox: APPENDUID, EXPUNGE, EXISTS', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  await c.cmd('CREATE Drafts');
  await appendTo(c, 'Drafts', draft(0));
  const first = await appendTo(c, 'Drafts', draft(1));
  const sel = await c.cmd('SELECT Drafts');
  const uv = /UIDVALIDITY (\d+)/.exec(sel.lines.join('\n'))![1];
  const r = await replace(c, 'A003', 'REPLACE 2 Drafts (\\Seen \\Draft)', draft(2));
  assert.equal(r.tagged, 'OK Replace completed');
  assert.deepEqual(r.lines, [
    `* OK [APPENDUID ${uv} ${first + 1}] Replacement Message ready`,
    '* 2 EXPUNGE',
    '* 2 EXISTS',
    '* 2 RECENT',
  ]);
  const f = await c.cmd('UID FETCH 1:* (FLAGS BODY.PEEK[TEXT])');
  assert.equal(f.lines.length, 2);
  assert.match(f.lines[1]!, new RegExp(`UID ${first + 1} FLAGS \\(\\\\Seen \\\\Draft\\)`));
  assert.match(f.lines[1]!, /version 2/);
  // message numbers beyond the mailbox are BAD, nothing changes
  const bad = await replace(c, 'A004', 'REPLACE 9 Drafts', draft(3));
  assert.match(bad.tagged, /^BAD/);
  assert.deepEqual(bad.lines, []);
  c.close();
});

test('RFC 8508 §3: UID REPLACE into another mailbox, VANISHED with QRESYNC', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  await c.cmd('CREATE Work');
  await c.cmd('CREATE Sent');
  const old = await appendTo(c, 'Work', draft(10));
  await appendTo(c, 'Work', draft(11));
  await c.cmd('ENABLE QRESYNC');
  await c.cmd('SELECT Work');
  const r = await replace(c, 'B004', `UID REPLACE ${old} Sent`, draft(12));
  assert.equal(r.tagged, 'OK Replace completed');
  assert.equal(r.lines.length, 2, r.lines.join('\n'));
  assert.match(r.lines[0]!, /^\* OK \[APPENDUID \d+ 1\] Replacement Message ready$/);
  assert.equal(r.lines[1], `* VANISHED ${old}`);
  const st = await c.cmd('STATUS Sent (MESSAGES)');
  assert.deepEqual(st.lines, ['* STATUS Sent (MESSAGES 1)']);
  // a uid that is not there: NO, and the append did not happen
  const gone = await replace(c, 'B005', `UID REPLACE ${old} Sent`, draft(13));
  assert.match(gone.tagged, /^NO/);
  assert.deepEqual((await c.cmd('STATUS Sent (MESSAGES)')).lines, ['* STATUS Sent (MESSAGES 1)']);
  c.close();
});

test('RFC 8508 §3.3: a failed append keeps the old message ([TRYCREATE], read-only)', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  await c.cmd('CREATE Keep');
  await appendTo(c, 'Keep', draft(20));
  await c.cmd('SELECT Keep');
  const r = await replace(c, 'C1', 'REPLACE 1 NoSuchBox', draft(21));
  assert.equal(r.tagged, 'NO [TRYCREATE] Mailbox does not exist');
  assert.deepEqual(r.lines, []);
  await c.cmd('EXAMINE Keep');
  const ro = await replace(c, 'C2', 'REPLACE 1 Keep', draft(22));
  assert.match(ro.tagged, /^NO \[READ-ONLY\]/);
  const f = await c.cmd('FETCH 1:* (FLAGS BODY.PEEK[TEXT])');
  assert.equal(f.lines.length, 1);
  assert.match(f.lines[0]!, /version 20/);
  assert.doesNotMatch(f.lines[0]!, /\\Deleted/);
  // other \Deleted messages are not expunged with the replaced one
  await c.cmd('SELECT Keep');
  await appendTo(c, 'Keep', draft(23));
  await c.cmd('NOOP');
  await c.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
  const r2 = await replace(c, 'C3', 'REPLACE 2 Keep', draft(24));
  assert.equal(r2.tagged, 'OK Replace completed');
  assert.deepEqual((await c.cmd('SEARCH DELETED')).lines, ['* SEARCH 1']);
  c.close();
});

test('RFC 8508 §3: REPLACE with CATENATE (RFC 4469) builds the new message from parts', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  await c.cmd('CREATE Cat');
  const old = await appendTo(c, 'Cat', draft(30));
  const sel = await c.cmd('SELECT Cat');
  const uv = /UIDVALIDITY (\d+)/.exec(sel.lines.join('\n'))![1];
  const head = 'From: fred@example.org\r\nSubject: rebuilt\r\n\r\n';
  c.write(
    `D1 UID REPLACE ${old} Cat CATENATE (TEXT {${head.length}+}\r\n${head} URL "/Cat;UIDVALIDITY=${uv}/;UID=${old}/;SECTION=TEXT")\r\n`,
  );
  const r = await c.until('D1');
  assert.equal(r.tagged, 'OK Replace completed');
  assert.match(r.lines[0]!, /^\* OK \[APPENDUID \d+ \d+\] Replacement Message ready$/);
  assert.equal(r.lines[1], '* 1 EXPUNGE');
  const f = await c.cmd('FETCH 1 (BODY.PEEK[])');
  assert.match(f.lines[0]!, /Subject: rebuilt\r\n\r\nversion 30\r\n\)$/);
  c.close();
});

test('a REPLACE message larger than maxliteral is taken like an APPEND message (maxmessagesize applies)', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  await c.cmd('CREATE Big');
  await appendTo(c, 'Big', draft(0));
  await c.cmd('SELECT Big');
  // maxliteral defaults to 128 KiB; the message is 300 KiB
  const body = 'x'.repeat(998) + '\r\n';
  const big = `From: fred@example.org\r\nSubject: big\r\n\r\n${body.repeat(300)}`;
  const r = await replace(c, 'R1', 'REPLACE 1 Big', big);
  assert.equal(r.tagged, 'OK Replace completed');
  const f = await c.cmd('FETCH 1 (RFC822.SIZE)');
  assert.match(f.lines[0]!, new RegExp(`RFC822\\.SIZE ${big.length}\\)`));
  c.close();
});
