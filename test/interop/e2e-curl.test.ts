/**
 * End to end with curl (package curl) against the suite under cyr_master: imap:// LIST and
 * FETCH, imaps:// (implicit TLS, -k for the self-signed certificate), imap:// with --ssl-reqd
 * (STARTTLS), pop3:// LIST and RETR, pop3s://. Messages are put in place by Python's imaplib /
 * smtplib.LMTP and what curl changes (APPEND by upload) is read back with imaplib.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSuite, type Suite } from './lib/suite.js';
import { run } from './lib/run.js';
import { imapAppend, imapList, imapMailbox, lmtpDeliver, message } from './lib/clients.js';

const USER = 'curly';
const PASS = 'curl pw 1';
let suite: Suite;

before(async () => {
  suite = await startSuite({ services: ['imap', 'imaps', 'pop3', 'pop3s', 'lmtpunix'] });
  await suite.addUser(USER, PASS);
  // two messages in INBOX: one by LMTP, one by APPEND
  await lmtpDeliver(suite.lmtpSocket, USER, message('first by lmtp', 'body of the first'));
  await imapAppend(suite.ports.imap!, USER, PASS, 'INBOX', message('second by append', 'body of the second'));
});
after(async () => {
  await suite.stop();
});

const curl = (args: string[]): ReturnType<typeof run> =>
  run('curl', ['-sS', '--max-time', '20', '-u', `${USER}:${PASS}`, ...args], { timeoutMs: 30_000 });

test('curl imap:// lists the mailboxes', async () => {
  const r = await curl([`imap://127.0.0.1:${suite.ports.imap}/`]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^\* LIST \([^)]*\) "[./]" "?INBOX"?\r?$/m, r.out);
});

test('curl imap:// fetches a message by UID and one by sequence number (MAILINDEX)', async () => {
  const byUid = await curl([`imap://127.0.0.1:${suite.ports.imap}/INBOX;UID=1`]);
  assert.equal(byUid.code, 0, byUid.err);
  assert.match(byUid.out, /Subject: first by lmtp/);
  assert.match(byUid.out, /body of the first/);
  const bySeq = await curl([`imap://127.0.0.1:${suite.ports.imap}/INBOX;MAILINDEX=2`]);
  assert.equal(bySeq.code, 0, bySeq.err);
  assert.match(bySeq.out, /Subject: second by append/);
});

test('curl imap:// SEARCH through -X', async () => {
  const r = await curl([`imap://127.0.0.1:${suite.ports.imap}/INBOX`, '-X', 'SEARCH SUBJECT "second"']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^\* SEARCH 2\r?$/m, r.out);
});

test('curl imaps:// (implicit TLS) fetches a message', async () => {
  const r = await curl(['-k', `imaps://127.0.0.1:${suite.ports.imaps}/INBOX;UID=2`]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Subject: second by append/);
});

test('curl imaps:// verifies our certificate when given it as CA (--cacert)', async () => {
  const r = await curl(['--cacert', suite.certFile, `imaps://localhost:${suite.ports.imaps}/INBOX;UID=1`]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Subject: first by lmtp/);
});

test('curl imap:// --ssl-reqd upgrades with STARTTLS, then fetches', async () => {
  const r = await curl(['-k', '--ssl-reqd', '-v', `imap://127.0.0.1:${suite.ports.imap}/INBOX;UID=1`]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /STARTTLS/, 'curl sent STARTTLS');
  assert.match(r.err, /SSL connection using|TLS/, 'the session was encrypted');
  assert.match(r.out, /Subject: first by lmtp/);
});

test('curl imap:// CREATE by -X, then upload (APPEND) a message that imaplib then reads', async () => {
  const file = join(suite.dir, 'upload.eml');
  writeFileSync(file, message('uploaded by curl', 'curl upload body'));
  const c = await curl([`imap://127.0.0.1:${suite.ports.imap}/`, '-X', 'CREATE Drafts']);
  assert.equal(c.code, 0, c.err);
  const r = await curl(['-T', file, `imap://127.0.0.1:${suite.ports.imap}/Drafts`]);
  assert.equal(r.code, 0, r.err);
  const msgs = await imapMailbox(suite.ports.imap!, USER, PASS, 'Drafts');
  assert.equal(msgs.length, 1);
  assert.match(msgs[0]!.text, /Subject: uploaded by curl/);
  assert.match(msgs[0]!.text, /curl upload body/);
  const list = await imapList(suite.ports.imap!, USER, PASS);
  assert.ok(
    list.some((l) => /Drafts/.test(l)),
    list.join('|'),
  );
});

test('curl pop3:// LIST shows every message with its size, RETR returns one', async () => {
  const list = await curl([`pop3://127.0.0.1:${suite.ports.pop3}/`]);
  assert.equal(list.code, 0, list.err);
  const rows = list.out.trim().split(/\r?\n/);
  assert.equal(rows.length, 2, list.out);
  const inbox = await imapMailbox(suite.ports.imap!, USER, PASS, 'INBOX');
  for (const [i, row] of rows.entries()) {
    const [n, size] = row.split(' ').map(Number);
    assert.equal(n, i + 1);
    assert.equal(size, Buffer.byteLength(inbox[i]!.text), `octet count of message ${n}`);
  }
  const retr = await curl([`pop3://127.0.0.1:${suite.ports.pop3}/2`]);
  assert.equal(retr.code, 0, retr.err);
  assert.match(retr.out, /Subject: second by append/);
  assert.match(retr.out, /body of the second/);
});

test('curl pop3s:// (implicit TLS) retrieves a message', async () => {
  const r = await curl(['-k', `pop3s://127.0.0.1:${suite.ports.pop3s}/1`]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Subject: first by lmtp/);
});

test('curl pop3:// --ssl-reqd upgrades with STLS, then retrieves', async () => {
  const r = await curl(['-k', '--ssl-reqd', '-v', `pop3://127.0.0.1:${suite.ports.pop3}/1`]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /STLS/);
  assert.match(r.out, /Subject: first by lmtp/);
});
