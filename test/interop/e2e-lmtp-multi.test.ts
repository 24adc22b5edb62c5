/**
 * End to end with swaks (package swaks) over lmtpd's unix socket under cyr_master: one LMTP
 * transaction for several recipients (RFC 2033: a reply per recipient after DATA), one with a
 * +detail naming a folder. Each user then reads their copy over
 * IMAP (Python's imaplib) and POP3 (poplib).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSuite, type Suite } from './lib/suite.js';
import { run, python } from './lib/run.js';
import { imapList, imapMailbox, popList } from './lib/clients.js';

let suite: Suite;

before(async () => {
  suite = await startSuite({ services: ['imap', 'pop3', 'lmtpunix'] });
  for (const u of ['ann', 'ben']) {
    await suite.addUser(u, `${u}-pw`);
    await imapList(suite.ports.imap!, u, `${u}-pw`);
  }
  // ann has a folder "lists" for ann+lists, and lets the poster (anyone) post to it
  await python(
    String.raw`
import imaplib, sys
M = imaplib.IMAP4('127.0.0.1', int(sys.argv[1])); M.login('ann', 'ann-pw')
a = M.create('lists')[0]; b = M.setacl('lists', 'anyone', 'p')[0]; M.logout()
print('"' + a + b + '"')
`,
    [suite.ports.imap!],
  );
});
after(async () => {
  await suite.stop();
});

test('one LMTP transaction to ann, ann+lists and ben: a reply each, a copy each', async () => {
  const r = await run('swaks', [
    '--protocol',
    'LMTP',
    '--socket',
    suite.lmtpSocket,
    '--from',
    'list@example.org',
    '--to',
    'ann,ann+lists,ben',
    '--header',
    'Subject: to many',
    '--body',
    'one body for all',
  ]);
  const t = r.out + r.err;
  assert.equal(r.code, 0, t);
  // after the final dot: one reply per recipient (three), then QUIT
  const afterData = t.slice(t.search(/-> \.\r?\n/), t.indexOf('-> QUIT'));
  assert.equal((afterData.match(/<- {2}250 /g) ?? []).length, 3, afterData);

  const annInbox = await imapMailbox(suite.ports.imap!, 'ann', 'ann-pw', 'INBOX');
  const annLists = await imapMailbox(suite.ports.imap!, 'ann', 'ann-pw', 'lists');
  const benInbox = await imapMailbox(suite.ports.imap!, 'ben', 'ben-pw', 'INBOX');
  assert.equal(annInbox.length, 1);
  assert.equal(annLists.length, 1, '+lists went to the folder');
  assert.equal(benInbox.length, 1);
  for (const m of [annInbox[0]!, annLists[0]!, benInbox[0]!]) {
    assert.match(m.text, /Subject: to many/);
    assert.match(m.text, /one body for all/);
  }
  const benPop = await popList(suite.ports.pop3!, 'ben', 'ben-pw');
  assert.equal(benPop.length, 1);
  assert.match(benPop[0]!, /one body for all/);
});
