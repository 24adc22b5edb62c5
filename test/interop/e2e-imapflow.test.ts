/**
 * End to end with ImapFlow (npm dev dependency) against the suite under cyr_master: connect
 * (plain, STARTTLS, implicit TLS), list, append, fetch, search, flags, move — each result read
 * back through Python's imaplib — and IDLE woken by an APPEND from a second connection and by an
 * LMTP delivery (lmtpd runs in another worker process). The wake-up latency is measured and
 * reported as a test diagnostic; it must stay under 1 s.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { startSuite, type Suite } from './lib/suite.js';
import { imapList, imapMailbox, lmtpDeliver, message } from './lib/clients.js';

const USER = 'flo';
const PASS = 'fl0w-pass';
let suite: Suite;

before(async () => {
  suite = await startSuite({ services: ['imap', 'imaps', 'lmtpunix'] });
  await suite.addUser(USER, PASS);
});
after(async () => {
  await suite.stop();
});

type FlowOptions = ConstructorParameters<typeof ImapFlow>[0];
function client(extra: Partial<FlowOptions> = {}): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: suite.ports.imap!,
    secure: false,
    doSTARTTLS: false,
    auth: { user: USER, pass: PASS },
    logger: false,
    // enter IDLE soon after the mailbox is quiet (default 15 s)
    autoIdleDelay: 100,
    ...extra,
  } as FlowOptions);
}

test('ImapFlow: list, append, fetch, search, flags, move — read back with imaplib', async () => {
  const c = client();
  await c.connect();
  try {
    await c.mailboxCreate('Work');
    const boxes = await c.list();
    assert.deepEqual(boxes.map((b) => b.path).sort(), ['INBOX', 'Work']);
    const a1 = await c.append('INBOX', message('quarterly report', 'numbers inside'), ['\\Flagged']);
    const a2 = await c.append('INBOX', message('lunch?', 'at noon'));
    assert.ok(a1 && a2 && a2.uid === a1.uid! + 1, `APPENDUID: ${a1 && a1.uid} ${a2 && a2.uid}`);

    const lock = await c.getMailboxLock('INBOX');
    try {
      const all = await c.fetchAll('1:*', { uid: true, flags: true, envelope: true, source: true });
      assert.deepEqual(
        all.map((m) => m.envelope!.subject),
        ['quarterly report', 'lunch?'],
      );
      assert.ok(all[0]!.flags!.has('\\Flagged'));
      assert.match(all[1]!.source!.toString(), /\r\n\r\nat noon\r\n/);

      assert.deepEqual(await c.search({ subject: 'lunch' }, { uid: true }), [a2!.uid]);
      assert.deepEqual(await c.search({ flagged: true }, { uid: true }), [a1!.uid]);
      await c.messageFlagsAdd({ uid: String(a2!.uid) }, ['\\Answered', '$Important'], { uid: true });
      const mv = await c.messageMove(String(a1!.uid), 'Work', { uid: true });
      assert.ok(mv && mv.uidMap && mv.uidMap.get(a1!.uid!) === 1, 'COPYUID of the move');
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }

  const inbox = await imapMailbox(suite.ports.imap!, USER, PASS, 'INBOX');
  assert.equal(inbox.length, 1);
  assert.match(inbox[0]!.text, /Subject: lunch\?/);
  assert.ok(
    inbox[0]!.flags.includes('\\Answered') && inbox[0]!.flags.includes('$Important'),
    inbox[0]!.flags.join(' '),
  );
  const work = await imapMailbox(suite.ports.imap!, USER, PASS, 'Work');
  assert.equal(work.length, 1);
  assert.match(work[0]!.text, /Subject: quarterly report/);
  assert.ok(work[0]!.flags.includes('\\Flagged'), 'flags travel with MOVE');
});

test('ImapFlow over STARTTLS and over implicit TLS (imaps) sees the same INBOX', async () => {
  const tls = { rejectUnauthorized: false };
  const starttls = client({ doSTARTTLS: true, tls } as Partial<FlowOptions>);
  const implicit = client({ port: suite.ports.imaps!, secure: true, tls } as Partial<FlowOptions>);
  await starttls.connect();
  await implicit.connect();
  try {
    assert.equal((starttls as unknown as { secureConnection: boolean }).secureConnection, true);
    const a = await starttls.status('INBOX', { messages: true, uidNext: true });
    const b = await implicit.status('INBOX', { messages: true, uidNext: true });
    assert.ok(a && b);
    assert.deepEqual(a, b);
    await implicit.append('INBOX', message('sent over imaps', 'tls body'));
    const after = await starttls.status('INBOX', { messages: true });
    assert.ok(after);
    assert.equal(after.messages, (a.messages ?? 0) + 1);
  } finally {
    await starttls.logout();
    await implicit.logout();
  }
});

/** open INBOX on `watcher`, wait until it is IDLE, run `poke`, return ms until EXISTS arrived */
async function idleWakeUp(poke: () => Promise<void>): Promise<{ ms: number; before: number; after: number }> {
  const watcher = client();
  await watcher.connect();
  try {
    const box = await watcher.mailboxOpen('INBOX');
    const before = box.exists;
    const started = Date.now();
    while (!(watcher as unknown as { idling: boolean }).idling) {
      if (Date.now() - started > 5000) throw new Error('ImapFlow did not enter IDLE');
      await new Promise((r) => setTimeout(r, 20));
    }
    let t0 = 0;
    const woke = new Promise<{ ms: number; count: number }>((resolve) =>
      watcher.on('exists', (d: { count: number }) => resolve({ ms: Date.now() - t0, count: d.count })),
    );
    t0 = Date.now();
    await poke();
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      woke,
      new Promise<never>(
        (_, rej) => (timer = setTimeout(() => rej(new Error('no EXISTS within 3 s')), 3000)),
      ),
    ]);
    clearTimeout(timer);
    return { ms: r.ms, before, after: r.count };
  } finally {
    await watcher.logout();
  }
}

test('IDLE wakes within 1 s when a second connection APPENDs', async (t) => {
  const writer = client();
  await writer.connect();
  try {
    const r = await idleWakeUp(async () => {
      await writer.append('INBOX', message('wake up (append)', 'x'));
    });
    t.diagnostic(`IDLE wake-up after APPEND from a second connection: ${r.ms} ms`);
    assert.equal(r.after, r.before + 1);
    assert.ok(r.ms < 1000, `took ${r.ms} ms`);
  } finally {
    await writer.logout();
  }
});

test('IDLE wakes within 1 s when lmtpd (another process) delivers', async (t) => {
  const r = await idleWakeUp(() => lmtpDeliver(suite.lmtpSocket, USER, message('wake up (lmtp)', 'y')));
  t.diagnostic(`IDLE wake-up after an LMTP delivery: ${r.ms} ms (includes python3 start-up)`);
  assert.equal(r.after, r.before + 1);
  assert.ok(r.ms < 1000, `took ${r.ms} ms`);
});

test('a non-ASCII folder made by ImapFlow is modified UTF-7 on the wire to imaplib, and usable', async () => {
  const c = client();
  await c.connect();
  try {
    await c.mailboxCreate('Entwürfe');
    await c.append('Entwürfe', message('Grüße', 'ein Entwurf'));
    const boxes = await c.list();
    assert.ok(
      boxes.some((b) => b.path === 'Entwürfe'),
      boxes.map((b) => b.path).join(' '),
    );
  } finally {
    await c.logout();
  }
  const list = await imapList(suite.ports.imap!, USER, PASS);
  assert.ok(
    list.some((l) => /"?Entw&APw-rfe"?$/.test(l)),
    `LIST to a client without UTF8=ACCEPT: ${list.join(' | ')}`,
  );
  const msgs = await imapMailbox(suite.ports.imap!, USER, PASS, 'Entw&APw-rfe');
  assert.equal(msgs.length, 1);
  assert.match(msgs[0]!.text, /ein Entwurf/);
});
