/**
 * lmtpd end to end over real sockets with a real store in a temp dir (issue #7): LHLO
 * capabilities, recipients, one reply per recipient, pipelining, limits, quota, duplicates,
 * authentication required on TCP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { serveForTest, type TestServer } from '../../services/harness.js';
import { openStore } from '../../store/index.js';
import type { Store } from '../../store/api.js';
import lmtpd, { lmtpDeps } from './service.js';
import { LmtpSession } from './session.js';
import { memoryLogger } from '../../log/logger.js';
import { Duplex, PassThrough } from 'node:stream';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { LineClient, mail, makeSite, messageTexts, trackClients, type Site } from './test-kit.js';

const admin = { userid: 'cyrus', isAdmin: true, groups: [] };

async function setup(extra: Record<string, string | number | boolean> = {}): Promise<{
  site: Site;
  store: Store;
  unix: TestServer;
  tcp: TestServer;
  done: () => Promise<void>;
}> {
  const site = makeSite(extra);
  const store = openStore(site.conf('lmtp'));
  for (const u of ['fred', 'bob', 'quota']) store.ensureInbox(u);
  store.createMailbox(admin, 'user.bob.work');
  store.setAcl(admin, 'user.bob.work', 'anyone', 'p');
  store.createMailbox(admin, 'user.bob.private');
  store.createMailbox(admin, 'shared');
  store.createMailbox(admin, 'shared.lists');
  store.setAcl(admin, 'shared.lists', 'anyone', 'lrsp');
  const unix = await serveForTest(lmtpd, {
    config: site.conf('lmtpunix'),
    path: join(site.dir, 'lmtp.sock'),
  });
  const clients = trackClients();
  const tcp = await serveForTest(lmtpd, { config: site.conf('lmtp') });
  return {
    site,
    store,
    unix,
    tcp,
    done: async () => {
      clients.destroyAll();
      await unix.stop();
      await tcp.stop();
      store.close();
      site.cleanup();
    },
  };
}

function count(store: Store, box: string): number {
  return store.status(admin, box).messages;
}

test('LHLO advertises the extensions; RCPT forms; one reply per recipient after DATA', async () => {
  const t = await setup({ maxmessagesize: 100000 });
  try {
    const c = await LineClient.open({ path: t.unix.path! });
    assert.match(await c.reply(), /^220 test\.example Cyrus LMTP cyrus-ts-\S+ server ready\r\n$/);
    c.send('LHLO client.example\r\n');
    const lhlo = await c.reply();
    for (const ext of [
      '8BITMIME',
      'ENHANCEDSTATUSCODES',
      'PIPELINING',
      'SIZE 100000',
      'IGNOREQUOTA',
      'AUTH EXTERNAL',
    ]) {
      assert.ok(lhlo.includes(`250-${ext}\r\n`), `${ext} in ${lhlo}`);
    }
    assert.match(lhlo, /250 Ok SESSIONID=<[^>]+>\r\n$/);
    c.send('MAIL FROM:<sender@example.org> SIZE=200 BODY=8BITMIME\r\n');
    assert.equal(await c.reply(), '250 2.1.0 ok\r\n');
    c.send('RCPT TO:<Fred@example.org>\r\n');
    assert.equal(await c.reply(), '250 2.1.5 ok\r\n');
    c.send('RCPT TO:<ghost>\r\n');
    assert.match(await c.reply(), /^550-Mailbox unknown[^]*550 5\.1\.1 User unknown\r\n$/);
    c.send('RCPT TO:<bob+work>\r\n');
    assert.equal(await c.reply(), '250 2.1.5 ok\r\n');
    c.send('RCPT TO:<bob+private>\r\n'); // no 'p' for anyone: INBOX instead
    assert.equal(await c.reply(), '250 2.1.5 ok\r\n');
    c.send('RCPT TO:<+shared.lists>\r\n');
    assert.equal(await c.reply(), '250 2.1.5 ok\r\n');
    c.send('RCPT TO:<+shared>\r\n'); // exists, but no 'p'
    assert.match(await c.reply(), /550 5\.1\.1/);
    c.send('RCPT TO:<bad user>\r\n');
    assert.equal(await c.reply(), '501 5.5.4 Syntax error in parameters\r\n');
    c.send(Buffer.from('RCPT TO:<fr\xe9d>\r\n', 'latin1')); // lmtp_strict_rfc2821 (default on)
    assert.equal(await c.reply(), '501 5.5.4 Syntax error in parameters\r\n');
    c.send('DATA\r\n');
    assert.equal(await c.reply(), '354 go ahead\r\n');
    c.send(mail('m1', '..dot line\r\nbody\r\n') + '.\r\n');
    for (let i = 0; i < 4; i++) assert.match(await c.reply(), /^250 2\.1\.5 ok SESSIONID=<[^>]+>\r\n$/);
    c.send(`AUTH EXTERNAL =\r\n`); // the unix peer confirms its postman identity
    assert.equal(await c.reply(), '235 Authenticated!\r\n');
    c.send('QUIT\r\n');
    assert.equal(await c.reply(), '221 2.0.0 bye\r\n');
    await c.close();
    assert.equal(count(t.store, 'user.fred'), 1);
    assert.equal(count(t.store, 'user.bob.work'), 1);
    assert.equal(count(t.store, 'user.bob'), 1);
    assert.equal(count(t.store, 'shared.lists'), 1);
    const view = t.store.open(admin, 'user.fred', { readOnly: true });
    const chunks: Buffer[] = [];
    for await (const ch of view.open(view.uids()[0]!)) chunks.push(ch as Buffer);
    view.close();
    const text = Buffer.concat(chunks).toString();
    assert.match(
      text,
      /^Return-Path: <sender@example\.org>\r\nReceived: from client\.example \(unix\)\r\n\tby test\.example/,
    );
    assert.ok(text.endsWith('\r\n\r\n.dot line\r\nbody\r\n'), 'dot-unstuffed body stored');
  } finally {
    await t.done();
  }
});

test('pipelined transaction in one write; errors keep the session usable', async () => {
  const t = await setup();
  try {
    const c = await LineClient.open({ path: t.unix.path! });
    await c.reply();
    c.send(
      'HELO x\r\nMAIL FROM:<a@b>\r\nLHLO x\r\nRCPT TO:<fred>\r\nMAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\nRCPT TO:<fred>\r\n' +
        'RCPT TO:<bob>\r\nDATA\r\n' +
        mail('p1') +
        '.\r\nNOOP\r\nVRFY fred\r\nDATA\r\nRSET\r\nQUIT\r\n',
    );
    const want = [
      /^500 5\.5\.2 Syntax error/,
      /^503 5\.5\.1 Need LHLO command/,
      /^250-test\.example[^]*250 Ok SESSIONID/,
      /^503 5\.5\.1 Need MAIL command/,
      /^250 2\.1\.0/,
      /^503 5\.5\.1 Nested MAIL command/,
      /^250 2\.1\.5 ok/,
      /^250 2\.1\.5 ok/,
      /^354/,
      /^250 2\.1\.5 ok SESSIONID/,
      /^250 2\.1\.5 ok SESSIONID/,
      /^250 2\.0\.0 ok/,
      /^252 2\.3\.3/,
      /^503 5\.5\.1 Need MAIL command/,
      /^250 2\.0\.0 ok/,
      /^221 2\.0\.0 bye/,
    ];
    for (const re of want) assert.match(await c.reply(), re);
    await c.close();
    assert.equal(count(t.store, 'user.fred'), 1);
    assert.equal(count(t.store, 'user.bob'), 1);
  } finally {
    await t.done();
  }
});

test('message limits: SIZE too big, over maxmessagesize after the dot, invalid header, NUL', async () => {
  const t = await setup({ maxmessagesize: 500 });
  try {
    const c = await LineClient.open({ path: t.unix.path! });
    await c.reply();
    c.send('LHLO x\r\n');
    await c.reply();
    c.send('MAIL FROM:<a@b> SIZE=501\r\n');
    assert.equal(await c.reply(), '552 5.3.4 Message size exceeds fixed maximum message size\r\n');
    const cases: [string, RegExp][] = [
      [mail('big', 'x'.repeat(600) + '\r\n'), /^552 5\.3\.4/],
      ['no header here\r\n', /^554 5\.6\.0 Message contains invalid header/],
      [mail('nul', 'a\0b\r\n'), /^554 5\.6\.0 Message contains NUL characters/],
      // the stored copy carries trace headers too (about 150 bytes), which the store counts
      [mail('fits', 'x'.repeat(50) + '\r\n'), /^250 2\.1\.5/],
    ];
    for (const [msg, re] of cases) {
      c.send('MAIL FROM:<a@b>\r\nRCPT TO:<fred>\r\nRCPT TO:<bob>\r\nDATA\r\n' + msg + '.\r\n');
      assert.match(await c.reply(), /^250/);
      assert.match(await c.reply(), /^250/);
      assert.match(await c.reply(), /^250/);
      assert.match(await c.reply(), /^354/);
      assert.match(await c.reply(), re, 'first recipient');
      assert.match(await c.reply(), re, 'second recipient');
    }
    c.send('NOOP\r\n');
    assert.equal(await c.reply(), '250 2.0.0 ok\r\n');
    await c.close();
    assert.equal(count(t.store, 'user.fred'), 1);
  } finally {
    await t.done();
  }
});

test('over quota: 452 4.2.2 once usage exceeds the limit; IGNOREQUOTA delivers; perm failure option', async () => {
  for (const perm of [false, true]) {
    const t = await setup({ lmtp_over_quota_perm_failure: perm });
    try {
      t.store.setQuota(admin, 'user.quota', { storage: 1 }); // 1 KiB
      const c = await LineClient.open({ path: t.unix.path! });
      await c.reply();
      c.send('LHLO x\r\n');
      await c.reply();
      const big = mail('q', 'y'.repeat(2000) + '\r\n');
      c.send('MAIL FROM:<a@b>\r\nRCPT TO:<quota>\r\nDATA\r\n' + big + '.\r\n');
      for (const re of [/^250/, /^250/, /^354/, /^250 2\.1\.5/]) assert.match(await c.reply(), re);
      c.send('MAIL FROM:<a@b>\r\n');
      await c.reply();
      c.send('RCPT TO:<quota>\r\n');
      assert.match(await c.reply(), perm ? /^552 5\.2\.2 Over quota/ : /^452 4\.2\.2 Over quota/);
      c.send('RCPT TO:<quota> IGNOREQUOTA\r\nRCPT TO:<fred>\r\nDATA\r\n' + mail('q2') + '.\r\n');
      for (const re of [/^250 2\.1\.5/, /^250 2\.1\.5/, /^354/, /^250 2\.1\.5/, /^250 2\.1\.5/])
        assert.match(await c.reply(), re);
      await c.close();
      assert.equal(count(t.store, 'user.quota'), 2);
    } finally {
      await t.done();
    }
  }
});

test('duplicate suppression: same Message-ID to the same mailbox is stored once', async () => {
  const t = await setup();
  try {
    const c = await LineClient.open({ path: t.unix.path! });
    await c.reply();
    c.send('LHLO x\r\n');
    await c.reply();
    for (let i = 0; i < 2; i++) {
      c.send(
        'MAIL FROM:<a@b>\r\nRCPT TO:<fred>\r\nRCPT TO:<fred+nosuch>\r\nDATA\r\n' + mail('dup-1') + '.\r\n',
      );
      for (const re of [/^250/, /^250/, /^250/, /^354/, /^250 2\.1\.5/, /^250 2\.1\.5/])
        assert.match(await c.reply(), re);
    }
    c.send('MAIL FROM:<a@b>\r\nRCPT TO:<fred>\r\nRCPT TO:<bob>\r\nDATA\r\n' + mail('DUP-1') + '.\r\n');
    for (const re of [/^250/, /^250/, /^250/, /^354/, /^250 2\.1\.5/, /^250 2\.1\.5/])
      assert.match(await c.reply(), re);
    await c.close();
    assert.equal(count(t.store, 'user.fred'), 2, 'dup-1 once, DUP-1 (case differs) once');
    assert.equal(count(t.store, 'user.bob'), 1);
  } finally {
    await t.done();
  }
});

test('TCP peers must authenticate (430 with soft_noauth); -a pre-authorises', async () => {
  const t = await setup();
  try {
    const c = await LineClient.open({ port: t.tcp.port });
    await c.reply();
    c.send('LHLO x\r\n');
    const lhlo = await c.reply();
    assert.ok(!lhlo.includes('AUTH EXTERNAL'));
    c.send('MAIL FROM:<a@b>\r\n');
    assert.match(await c.reply(), /^430 /);
    c.send('AUTH BOGUS\r\n');
    assert.match(await c.reply(), /^504 /);
    await c.close();
    const pre = await serveForTest(lmtpd, { config: t.site.conf('lmtp'), argv: ['-a'] });
    try {
      const d = await LineClient.open({ port: pre.port });
      await d.reply();
      d.send('LHLO x\r\nMAIL FROM:<a@b>\r\n');
      await d.reply();
      assert.match(await d.reply(), /^250 2\.1\.0/);
      await d.close();
    } finally {
      await pre.stop();
    }
  } finally {
    await t.done();
  }
});

test('autocreate_post creates the INBOX of an unknown user', async () => {
  const t = await setup({ autocreate_post: true });
  try {
    const c = await LineClient.open({ path: t.unix.path! });
    await c.reply();
    c.send('LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<newbie>\r\nDATA\r\n' + mail('n1') + '.\r\n');
    for (const re of [/^250-/, /^250/, /^250 2\.1\.5/, /^354/, /^250 2\.1\.5/])
      assert.match(await c.reply(), re);
    await c.close();
    assert.equal(count(t.store, 'user.newbie'), 1);
  } finally {
    await t.done();
  }
});

test('CHUNKING: BDAT chunks, LAST gives one reply per recipient; refused chunks are still consumed', async () => {
  const t = await setup();
  try {
    const c = await LineClient.open({ path: t.unix.path! });
    await c.reply();
    c.send('LHLO x\r\n');
    assert.match(await c.reply(), /250-CHUNKING\r\n/);
    const msg = mail('bdat-1', '.no stuffing here\r\nend\r\n');
    const cut = 30;
    c.send(`BDAT 5\r\nhello`); // no transaction: 503 after the 5 octets
    assert.match(await c.reply(), /^503 5\.5\.1 Need MAIL/);
    c.send('MAIL FROM:<a@b>\r\nRCPT TO:<fred>\r\nRCPT TO:<bob>\r\n');
    for (let i = 0; i < 3; i++) assert.match(await c.reply(), /^250/);
    c.send(`BDAT ${cut}\r\n${msg.slice(0, cut)}BDAT ${msg.length - cut} LAST\r\n${msg.slice(cut)}NOOP\r\n`);
    assert.equal(await c.reply(), `250 2.0.0 ${cut} octets received\r\n`);
    assert.match(await c.reply(), /^250 2\.1\.5 ok SESSIONID/);
    assert.match(await c.reply(), /^250 2\.1\.5 ok SESSIONID/);
    assert.equal(await c.reply(), '250 2.0.0 ok\r\n');
    // a chunked transaction abandoned by RSET leaves no spool behind; DATA after BDAT is refused
    c.send('MAIL FROM:<a@b>\r\nRCPT TO:<fred>\r\nBDAT 3\r\nabcDATA\r\nRSET\r\n');
    for (const re of [
      /^250/,
      /^250/,
      /^250 2\.0\.0 3 octets/,
      /^503 5\.5\.1 DATA not allowed after BDAT/,
      /^250 2\.0\.0 ok/,
    ])
      assert.match(await c.reply(), re);
    await c.close();
    const texts = messageTexts(t.store, 'user.fred');
    assert.equal(texts.length, 1);
    assert.ok(texts[0]!.endsWith('\r\n\r\n.no stuffing here\r\nend\r\n'), texts[0]);
    assert.equal(count(t.store, 'user.bob'), 1);
    const spools = (): string[] => readdirSync(t.site.dir).filter((f) => /^lmtp\.\d+\./.test(f));
    for (let i = 0; i < 40 && spools().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(spools(), [], 'no spool files left');
  } finally {
    await t.done();
  }
});

test('virtdomains keep the domain; lmtp_catchall_mailbox takes unknown users', async () => {
  const t = await setup({ virtdomains: 'userid', lmtp_catchall_mailbox: 'bob' });
  try {
    t.store.ensureInbox('fred@example.com');
    const c = await LineClient.open({ path: t.unix.path! });
    await c.reply();
    c.send(
      'LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<Fred@Example.COM>\r\nRCPT TO:<nobody@example.net>\r\nDATA\r\n' +
        mail('v1') +
        '.\r\n',
    );
    for (const re of [
      /^250-/,
      /^250/,
      /^250 2\.1\.5/,
      /^250 2\.1\.5/,
      /^354/,
      /^250 2\.1\.5/,
      /^250 2\.1\.5/,
    ])
      assert.match(await c.reply(), re);
    await c.close();
    assert.equal(count(t.store, 'example.com!user.fred'), 1);
    assert.equal(count(t.store, 'user.fred'), 0);
    assert.equal(count(t.store, 'user.bob'), 1, 'catch-all');
  } finally {
    await t.done();
  }
});

test('lmtp_fuzzy_mailbox_match: case- and space-insensitive +detail, then the nearest parent', async () => {
  for (const fuzzy of [true, false]) {
    const t = await setup({ lmtp_fuzzy_mailbox_match: fuzzy, unixhierarchysep: false });
    try {
      t.store.createMailbox(admin, 'user.bob.My Lists');
      t.store.setAcl(admin, 'user.bob.My Lists', 'anyone', 'p');
      const c = await LineClient.open({ path: t.unix.path! });
      await c.reply();
      c.send('LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<bob+mylists>\r\nDATA\r\n' + mail('f1') + '.\r\n');
      c.send('MAIL FROM:<a@b>\r\nRCPT TO:<bob+MYLISTS.missing>\r\nDATA\r\n' + mail('f2') + '.\r\n');
      for (let i = 0; i < 2; i++)
        for (const re of [/^250/, /^250/, /^250 2\.1\.5/, /^354/, /^250 2\.1\.5/].slice(i === 0 ? 0 : 1))
          assert.match(await c.reply(), re);
      await c.close();
      assert.equal(count(t.store, 'user.bob.My Lists'), fuzzy ? 2 : 0, `fuzzy ${fuzzy}`);
      assert.equal(count(t.store, 'user.bob'), fuzzy ? 0 : 2, `fuzzy ${fuzzy}`);
    } finally {
      await t.done();
    }
  }
});

test('lmtp_strict_quota: a message that would exceed the quota is refused at RCPT (SIZE) and at delivery', async () => {
  const t = await setup({ lmtp_strict_quota: true });
  try {
    t.store.setQuota(admin, 'user.quota', { storage: 2 }); // 2 KiB, nothing used yet
    const c = await LineClient.open({ path: t.unix.path! });
    await c.reply();
    c.send('LHLO x\r\nMAIL FROM:<a@b> SIZE=5000\r\nRCPT TO:<quota>\r\nRSET\r\n');
    for (const re of [/^250-/, /^250 2\.1\.0/, /^452 4\.2\.2 Over quota/, /^250 2\.0\.0/])
      assert.match(await c.reply(), re);
    // no SIZE announced: accepted at RCPT, refused when the append would pass the limit
    c.send(
      'MAIL FROM:<a@b>\r\nRCPT TO:<quota>\r\nDATA\r\n' + mail('s1', 'z'.repeat(5000) + '\r\n') + '.\r\n',
    );
    for (const re of [/^250/, /^250 2\.1\.5/, /^354/, /^452 4\.2\.2 Over quota/])
      assert.match(await c.reply(), re);
    await c.close();
    assert.equal(count(t.store, 'user.quota'), 0);
  } finally {
    await t.done();
  }
});

test('singleinstancestore: one message to several mailboxes is one file, hard-linked; off: separate copies', async () => {
  for (const single of [true, false]) {
    const t = await setup({ singleinstancestore: single });
    try {
      const c = await LineClient.open({ path: t.unix.path! });
      await c.reply();
      c.send('LHLO x\r\n');
      await c.reply();
      c.send(
        'MAIL FROM:<a@b>\r\nRCPT TO:<fred>\r\nRCPT TO:<bob>\r\nRCPT TO:<bob+work>\r\nDATA\r\n' +
          mail('sis-1', 'one body for three mailboxes\r\n') +
          '.\r\n',
      );
      for (const re of [
        /^250/,
        /^250/,
        /^250/,
        /^250/,
        /^354/,
        /^250 2\.1\.5/,
        /^250 2\.1\.5/,
        /^250 2\.1\.5/,
      ])
        assert.match(await c.reply(), re);
      await c.close();
      const paths = ['user.fred', 'user.bob', 'user.bob.work'].map((box) => {
        const v = t.store.open(admin, box, { readOnly: true });
        try {
          const uids = [...v.uids()];
          assert.equal(uids.length, 1, box);
          return v.path(uids[0]!);
        } finally {
          v.close();
        }
      });
      const inodes = new Set(paths.map((p) => statSync(p).ino));
      assert.equal(inodes.size, single ? 1 : 3);
      assert.equal(statSync(paths[0]!).nlink, single ? 3 : 1, 'the staged file itself is gone');
      for (const p of paths) assert.match(readFileSync(p, 'latin1'), /one body for three mailboxes/);
      // nothing left in the stage directory but the one spool file prepared ahead
      const stage = join(t.site.dir, 'spool', 'stage.');
      const left = readdirSync(stage).filter((f) => statSync(join(stage, f)).size > 0);
      assert.deepEqual(left, []);
    } finally {
      await t.done();
    }
  }
});

test('a message past the memory spool goes straight into the store stage: delivered whole, no temp file', async () => {
  const t = await setup();
  try {
    const line = 'x'.repeat(76) + '\r\n';
    const body = line.repeat(8000) + 'the end\r\n'; // ~620 KB
    const c = await LineClient.open({ path: t.unix.path! });
    await c.reply();
    c.send('LHLO x\r\n');
    await c.reply();
    c.send('MAIL FROM:<a@b>\r\nRCPT TO:<fred>\r\nDATA\r\n');
    for (const re of [/^250/, /^250/, /^354/]) assert.match(await c.reply(), re);
    c.send(mail('big-1', body));
    c.send('.\r\n');
    assert.match(await c.reply(), /^250 2\.1\.5/);
    c.send('MAIL FROM:<a@b>\r\nRCPT TO:<fred>\r\nRCPT TO:<bob>\r\nDATA\r\n');
    for (const re of [/^250/, /^250/, /^250/, /^354/]) assert.match(await c.reply(), re);
    c.send(mail('big-2', body));
    c.send('.\r\n');
    for (const re of [/^250 2\.1\.5/, /^250 2\.1\.5/]) assert.match(await c.reply(), re);
    await c.close();
    const texts = messageTexts(t.store, 'user.fred');
    assert.equal(texts.length, 2);
    for (const m of texts) {
      assert.ok(m.endsWith(body), 'the whole body arrived');
      assert.match(m, /^Return-Path: <a@b>\r\nReceived: /);
    }
    assert.equal(messageTexts(t.store, 'user.bob')[0], texts[1]);
    assert.deepEqual(
      readdirSync(t.site.dir).filter((f) => /^lmtp\.\d+\./.test(f)),
      [],
      'no temp spool file',
    );
    const stage = join(t.site.dir, 'spool', 'stage.');
    assert.deepEqual(
      readdirSync(stage).filter((f) => statSync(join(stage, f)).size > 0),
      [],
      'staged file released',
    );
  } finally {
    await t.done();
  }
});

test('the replies to a pipelined MAIL/RCPT/DATA go out in one write with the 354; the final reply in another', async () => {
  const site = makeSite();
  const store = openStore(site.conf('lmtp'));
  store.ensureInbox('fred');
  const ctx = {
    service: 'lmtp',
    argv: [],
    config: site.conf('lmtp'),
    log: memoryLogger('lmtp'),
    signal: new AbortController().signal,
  };
  // every write the session makes reaches the peer as one chunk (a socket's write(2))
  const writes: string[] = [];
  const input = new PassThrough();
  const stream = new Duplex({
    read() {},
    writev(chunks, cb) {
      writes.push(chunks.map((c) => Buffer.from(c.chunk as Buffer).toString('latin1')).join(''));
      cb();
    },
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk.toString('latin1'));
      cb();
    },
  });
  input.on('data', (d: Buffer) => stream.push(d));
  input.on('end', () => stream.push(null));
  const session = new LmtpSession(lmtpDeps(ctx, store, null), {
    stream,
    preauth: true,
    secure: false,
    remote: 'unix',
    sessionId: 'test-1',
  });
  const ran = session.run();
  const next = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && writes.length < n; i++) await new Promise((r) => setTimeout(r, 5));
  };
  try {
    await next(1);
    input.write('LHLO x\r\n');
    await next(2);
    writes.length = 0;
    input.write('MAIL FROM:<a@b>\r\nRCPT TO:<fred>\r\nDATA\r\n');
    await next(1);
    assert.equal(writes.length, 1, 'MAIL, RCPT and DATA replies in one write');
    assert.match(writes[0]!, /^250 2\.1\.0 [^\r]*\r\n250 2\.1\.5 [^\r]*\r\n354 [^\r]*\r\n$/);
    input.write(mail('corked') + '.\r\n');
    await next(2);
    assert.equal(writes.length, 2);
    assert.match(writes[1]!, /^250 2\.1\.5 ok SESSIONID/);
    // a command sent alone is answered at once
    input.write('NOOP\r\n');
    await next(3);
    assert.match(writes[2]!, /^250 2\.0\.0 ok\r\n$/);
    input.end('QUIT\r\n');
    await ran;
    assert.equal(count(store, 'user.fred'), 1);
  } finally {
    store.close();
    site.cleanup();
  }
});
