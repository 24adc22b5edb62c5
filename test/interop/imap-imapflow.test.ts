/**
 * imapd against ImapFlow (npm, dev dependency): connect, list, append, fetch (envelope,
 * bodystructure, source, BINARY part download), search, flags, move, and an IDLE wake-up when
 * another connection appends (issue #5).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { startTestImapd, type TestImapd } from '../../src/protocols/imap/test-helpers.js';

let srv: TestImapd;
before(async () => {
  srv = await startTestImapd({ fred: 'secret' });
});
after(async () => {
  await srv.stop();
});

function client(): ImapFlow {
  // autoIdleDelay: enter IDLE soon after the mailbox is quiet (default 15 s)
  return new ImapFlow({
    host: '127.0.0.1',
    port: srv.port,
    secure: false,
    auth: { user: 'fred', pass: 'secret' },
    logger: false,
    doSTARTTLS: false,
    autoIdleDelay: 200,
  } as ConstructorParameters<typeof ImapFlow>[0]);
}

const MIXED =
  'From: Alice <alice@example.org>\r\nTo: Fred <fred@example.org>\r\nSubject: with attachment\r\n' +
  'Message-ID: <att1@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n' +
  '--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n' +
  '--b1\r\nContent-Type: application/octet-stream; name="x.bin"\r\nContent-Transfer-Encoding: base64\r\n' +
  'Content-Disposition: attachment; filename="x.bin"\r\n\r\nAAECAwQF\r\n--b1--\r\n';

test('ImapFlow: list, append, fetch, search, flags, move', async () => {
  const c = client();
  await c.connect();
  try {
    await c.mailboxCreate('Archive');
    const boxes = await c.list();
    assert.ok(boxes.some((b) => b.path === 'INBOX'));
    assert.ok(boxes.some((b) => b.path === 'Archive'));
    const ap = await c.append('INBOX', Buffer.from(MIXED), ['\\Flagged']);
    assert.ok(ap && ap.uid === 1, String(ap && ap.uid));
    await c.append('INBOX', 'From: b@example.org\r\nSubject: plain one\r\n\r\nhello\r\n');
    const lock = await c.getMailboxLock('INBOX');
    try {
      const msgs = await c.fetchAll('1:*', {
        uid: true,
        flags: true,
        envelope: true,
        bodyStructure: true,
        size: true,
      });
      assert.equal(msgs.length, 2);
      assert.equal(msgs[0]!.envelope!.subject, 'with attachment');
      assert.equal(msgs[0]!.envelope!.from![0]!.address, 'alice@example.org');
      assert.ok(msgs[0]!.flags!.has('\\Flagged'));
      assert.equal(msgs[0]!.bodyStructure!.type, 'multipart/mixed');
      assert.equal(msgs[0]!.bodyStructure!.childNodes![1]!.type, 'application/octet-stream');
      assert.equal(msgs[0]!.size, Buffer.byteLength(MIXED));

      const one = await c.fetchOne('1', { source: true });
      assert.ok(one);
      assert.equal(one.source!.toString(), MIXED);
      // BINARY: the attachment decoded by the server
      const dl = await c.download('1', '2', { uid: false });
      const parts: Buffer[] = [];
      for await (const ch of dl.content!) parts.push(ch as Buffer);
      assert.deepEqual(Buffer.concat(parts), Buffer.from([0, 1, 2, 3, 4, 5]));

      const found = await c.search({ subject: 'plain' }, { uid: true });
      assert.deepEqual(found, [2]);
      assert.deepEqual(await c.search({ flagged: true }), [1]);
      await c.messageFlagsAdd('2', ['\\Seen', 'custom']);
      const f2 = await c.fetchOne('2', { flags: true });
      assert.ok(f2 && f2.flags!.has('\\Seen') && f2.flags!.has('custom'));
      const mv = await c.messageMove('1', 'Archive');
      assert.ok(mv && mv.uidMap && mv.uidMap.get(1) === 1, String(mv && mv.uidMap && [...mv.uidMap]));
      const left = await c.fetchAll('1:*', { uid: true });
      assert.deepEqual(
        left.map((m) => m.uid),
        [2],
      );
    } finally {
      lock.release();
    }
    const st = await c.status('Archive', { messages: true, uidNext: true });
    assert.ok(st);
    assert.equal(st.messages, 1);
    assert.equal(st.uidNext, 2);
  } finally {
    await c.logout();
  }
});

test('ImapFlow: IDLE wakes up within a second when another connection appends', async () => {
  const watcher = client();
  const writer = client();
  await watcher.connect();
  await writer.connect();
  try {
    await watcher.mailboxOpen('INBOX');
    const before = watcher.mailbox ? (watcher.mailbox as { exists: number }).exists : 0;
    const woke = new Promise<number>((resolve) => {
      watcher.on('exists', (d: { count: number }) => resolve(d.count));
    });
    // ImapFlow enters IDLE by itself when it has nothing to do
    await new Promise((r) => setTimeout(r, 600));
    const t0 = Date.now();
    await writer.append('INBOX', 'From: c@example.org\r\nSubject: wake up\r\n\r\nx\r\n');
    const count = await Promise.race([
      woke,
      new Promise<number>((_, rej) => setTimeout(() => rej(new Error('no EXISTS within 2 s')), 2000)),
    ]);
    assert.equal(count, before + 1);
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
  } finally {
    await watcher.logout();
    await writer.logout();
  }
});
