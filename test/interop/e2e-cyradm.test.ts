/**
 * End to end with Cyrus's administration shell `cyradm` (package cyrus-admin) against the suite
 * under cyr_master, with the effects checked through other services: a quota set by cyradm
 * makes lmtpd refuse deliveries and imapd an APPEND, and an ACL set by cyradm lets
 * another user read a folder through ImapFlow. Cyrus 3 default namespace (altnamespace,
 * unixhierarchysep), so admin names read `user/fred/Shared`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { startSuite, type Suite } from './lib/suite.js';
import { run } from './lib/run.js';
import { imapAppend, imapList, imapMailbox, lmtpDeliver, message } from './lib/clients.js';

let suite: Suite;

before(async () => {
  suite = await startSuite({ services: ['imap', 'lmtpunix'], imapdConf: { admins: 'cyrus' } });
  await suite.addUser('cyrus', 'admin-pw');
  await suite.addUser('fred', 'fred-pw');
  await suite.addUser('alice', 'alice-pw');
  await suite.addUser('bob', 'bob-pw');
  // INBOXes exist after a first login
  for (const [u, p] of [
    ['fred', 'fred-pw'],
    ['alice', 'alice-pw'],
    ['bob', 'bob-pw'],
  ])
    await imapList(suite.ports.imap!, u!, p!);
});
after(async () => {
  await suite.stop();
});

/** cyradm as the admin, one command per line; returns stdout and stderr */
async function cyradm(commands: string[]): Promise<{ out: string; err: string }> {
  const r = await run(
    'cyradm',
    [
      '--norc',
      '--user',
      'cyrus',
      '--password',
      'admin-pw',
      '--port',
      String(suite.ports.imap),
      '--auth',
      'PLAIN',
      '--notls',
      '127.0.0.1',
    ],
    { input: commands.join('\n') + '\n', timeoutMs: 30_000 },
  );
  assert.equal(r.signal, null, `cyradm timed out: ${r.out} ${r.err}`);
  assert.doesNotMatch(r.err, /cannot (connect|authenticate)/, r.err);
  return { out: r.out, err: r.err };
}

test('a quota set with cyradm: lmtpd refuses deliveries once over it, imapd an APPEND that would exceed it', async () => {
  const { out, err } = await cyradm(['sq user/fred STORAGE 10', 'lq user/fred']);
  assert.equal(err, '');
  assert.match(out, /STORAGE 0\/10\b/, out);
  const [status, text] = await imapAppend(
    suite.ports.imap!,
    'fred',
    'fred-pw',
    'INBOX',
    message('too big for IMAP', 'z'.repeat(12_000)),
  ).catch((e: Error) => ['NO', e.message] as [string, string]);
  assert.notEqual(status, 'OK', 'APPEND is checked with the message size');
  assert.match(text, /OVERQUOTA|quota/i);
  await lmtpDeliver(suite.lmtpSocket, 'fred', message('fits', 'x'.repeat(4000)));
  // lmtp_strict_quota is off (the default): a mailbox under quota takes one more message
  await lmtpDeliver(suite.lmtpSocket, 'fred', message('pushes it over', 'y'.repeat(9000)));
  await assert.rejects(
    lmtpDeliver(suite.lmtpSocket, 'fred', message('refused', 'no room')),
    /\b452\b|\b552\b|quota/i,
  );
  const after = await cyradm(['lq user/fred']);
  assert.match(after.out, /STORAGE 1[34]\/10\b/, after.out);
});

test("an ACL set with cyradm lets bob read alice's folder through ImapFlow", async () => {
  const { err } = await cyradm(['cm user/alice/Shared', 'sam user/alice/Shared bob lrs']);
  assert.equal(err, '');
  const [st] = await imapAppend(
    suite.ports.imap!,
    'alice',
    'alice-pw',
    'Shared',
    message('for bob', 'shared text'),
  );
  assert.equal(st, 'OK');
  const bob = new ImapFlow({
    host: '127.0.0.1',
    port: suite.ports.imap!,
    secure: false,
    doSTARTTLS: false,
    auth: { user: 'bob', pass: 'bob-pw' },
    logger: false,
  } as ConstructorParameters<typeof ImapFlow>[0]);
  await bob.connect();
  try {
    const paths = (await bob.list()).map((b) => b.path);
    assert.ok(paths.includes('Other Users/alice/Shared'), paths.join(' | '));
    const lock = await bob.getMailboxLock('Other Users/alice/Shared');
    try {
      const msgs = await bob.fetchAll('1:*', { envelope: true, source: true });
      assert.equal(msgs.length, 1);
      assert.equal(msgs[0]!.envelope!.subject, 'for bob');
      // bob has no t/e rights: ImapFlow reports the refused STORE/EXPUNGE as false
      assert.equal(await bob.messageDelete('1'), false);
    } finally {
      lock.release();
    }
  } finally {
    await bob.logout();
  }
  const left = await imapMailbox(suite.ports.imap!, 'alice', 'alice-pw', 'Shared');
  assert.equal(left.length, 1, 'the message is still there');
  assert.ok(!left[0]!.flags.includes('\\Deleted'));
});
