/**
 * End to end under load: many clients at once against the suite under cyr_master — 20 ImapFlow
 * connections appending into one mailbox while lmtpd delivers into it over 10 parallel LMTP
 * sessions, then 10 POP3 readers. Every message arrives exactly once with a unique UID, and the
 * mailbox as Python's imaplib sees it matches what was sent.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { startSuite, type Suite } from './lib/suite.js';
import { imapMailbox, lmtpDeliver, message, popList } from './lib/clients.js';

const USER = 'busy';
const PASS = 'busy-pw';
let suite: Suite;

before(async () => {
  suite = await startSuite({ services: ['imap', 'pop3', 'lmtp'] });
  await suite.addUser(USER, PASS);
});
after(async () => {
  await suite.stop();
});

test('20 IMAP appenders and 10 LMTP deliveries at once: every message once, unique UIDs', async (t) => {
  const started = Date.now();
  const appenders = Array.from({ length: 20 }, async (_, i) => {
    const c = new ImapFlow({
      host: '127.0.0.1',
      port: suite.ports.imap!,
      secure: false,
      doSTARTTLS: false,
      auth: { user: USER, pass: PASS },
      logger: false,
    } as ConstructorParameters<typeof ImapFlow>[0]);
    await c.connect();
    try {
      const uids: number[] = [];
      for (let k = 0; k < 3; k++) {
        const r = await c.append('INBOX', message(`imap ${i}-${k}`, `from appender ${i}`));
        assert.ok(r && r.uid, 'APPENDUID');
        uids.push(r.uid!);
      }
      return uids;
    } finally {
      await c.logout();
    }
  });
  const deliveries = Array.from({ length: 10 }, (_, i) =>
    lmtpDeliver(suite.ports.lmtp!, USER, message(`lmtp ${i}`, `delivery ${i}`)),
  );
  const [uidLists] = await Promise.all([Promise.all(appenders), Promise.all(deliveries)]);
  t.diagnostic(`60 APPENDs on 20 connections + 10 LMTP deliveries: ${Date.now() - started} ms`);

  const appended = uidLists.flat();
  assert.equal(new Set(appended).size, 60, 'APPENDUIDs are unique');
  const box = await imapMailbox(suite.ports.imap!, USER, PASS);
  assert.equal(box.length, 70);
  assert.equal(new Set(box.map((m) => m.uid)).size, 70, 'UIDs unique');
  const uids = box.map((m) => m.uid);
  assert.deepEqual(
    uids,
    [...uids].sort((a, b) => a - b),
    'UIDs ascend with sequence numbers',
  );
  for (const u of appended) assert.ok(uids.includes(u), `APPENDUID ${u} is in the mailbox`);
  const subjects = new Set(box.map((m) => /^Subject: (.*)$/m.exec(m.text)?.[1]?.trim()));
  for (let i = 0; i < 20; i++) for (let k = 0; k < 3; k++) assert.ok(subjects.has(`imap ${i}-${k}`));
  for (let i = 0; i < 10; i++) assert.ok(subjects.has(`lmtp ${i}`));

  // POP3 readers in parallel (one holds the maildrop lock at a time; the others must not see a
  // broken maildrop: each either reads all 70 or is refused at PASS)
  const readers = await Promise.allSettled(
    Array.from({ length: 10 }, () => popList(suite.ports.pop3!, USER, PASS)),
  );
  const ok = readers.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<string[]>[];
  assert.ok(ok.length >= 1, 'at least one POP3 reader got in');
  for (const r of ok) assert.equal(r.value.length, 70);
  for (const r of readers)
    if (r.status === 'rejected')
      assert.match(String(r.reason), /-ERR/, 'a refused reader gets -ERR, not a broken session');
});
