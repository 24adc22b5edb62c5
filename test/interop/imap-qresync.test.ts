/**
 * imapd's CONDSTORE/QRESYNC (RFC 7162) driven by a real client: ImapFlow with `qresync: true`
 * enables QRESYNC, reopens a mailbox with its last UIDVALIDITY and HIGHESTMODSEQ, and learns
 * from VANISHED (EARLIER) and FETCH what another client changed meanwhile; then it asks for the
 * flags changed since a modseq (FETCH CHANGEDSINCE) and watches VANISHED while the mailbox is open.
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

function client(qresync: boolean): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: srv.port,
    secure: false,
    auth: { user: 'fred', pass: 'secret' },
    logger: false,
    doSTARTTLS: false,
    qresync,
  } as ConstructorParameters<typeof ImapFlow>[0]);
}

test('ImapFlow (qresync): resynchronise a mailbox after another client changed it', async () => {
  // first session: five messages, remember the mailbox state
  const a = client(true);
  await a.connect();
  for (let i = 1; i <= 5; i++)
    await a.append('INBOX', `From: x@example.org\r\nSubject: m${i}\r\n\r\nbody ${i}\r\n`);
  const box = await a.mailboxOpen('INBOX');
  assert.ok(a.enabled.has('QRESYNC'), 'QRESYNC enabled');
  const uidValidity = box.uidValidity;
  const modseq = box.highestModseq;
  assert.ok(modseq && modseq > 0n, String(modseq));
  await a.logout();

  // another client: flags on 2 and 3, 4 expunged
  const b = client(false);
  await b.connect();
  await b.mailboxOpen('INBOX');
  await b.messageFlagsAdd('2', ['\\Flagged'], { uid: true });
  await b.messageFlagsAdd('3', ['\\Seen'], { uid: true });
  await b.messageDelete('4', { uid: true });
  await b.logout();

  // back again with the remembered state
  const c = client(true);
  const flags = new Map<number, string[]>();
  const gone: { uid: number; earlier: boolean }[] = [];
  c.on('flags', (e: { uid?: number; flags: Set<string> }) => {
    if (e.uid) flags.set(e.uid, [...e.flags].sort());
  });
  c.on('expunge', (e: { uid?: number; earlier?: boolean; vanished: boolean }) => {
    if (e.vanished && e.uid) gone.push({ uid: e.uid, earlier: !!e.earlier });
  });
  await c.connect();
  try {
    const re = await c.mailboxOpen('INBOX', { uidValidity, changedSince: modseq } as never);
    assert.equal((re as { qresync?: boolean }).qresync, true, 'QRESYNC SELECT accepted');
    assert.deepEqual(gone, [{ uid: 4, earlier: true }]);
    assert.deepEqual([...flags.keys()].sort(), [2, 3]);
    assert.deepEqual(flags.get(2), ['\\Flagged']);
    assert.deepEqual(flags.get(3), ['\\Seen']);
    assert.ok(re.highestModseq! > modseq!);

    // FETCH (CHANGEDSINCE): only the two changed messages, with their modseqs
    const changed = await c.fetchAll('1:*', { flags: true }, { uid: true, changedSince: modseq } as never);
    assert.deepEqual(
      changed.map((m) => m.uid),
      [2, 3],
    );
    assert.ok(changed.every((m) => m.modseq! > modseq!));

    // while open: an expunge shows as a plain VANISHED (not EARLIER)
    gone.length = 0;
    await c.messageDelete('5', { uid: true });
    assert.deepEqual(gone, [{ uid: 5, earlier: false }]);
    const st = await c.status('INBOX', { highestModseq: true, messages: true });
    assert.ok(st);
    assert.equal(st.messages, 3);
    assert.ok(st.highestModseq! >= re.highestModseq!);
  } finally {
    await c.logout();
  }
});
