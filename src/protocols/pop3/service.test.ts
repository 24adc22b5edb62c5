/**
 * pop3d end to end over real sockets with a real store and sasldb in a temp dir (issue #7):
 * greeting/CAPA, USER/PASS, APOP, AUTH PLAIN, STAT/LIST/UIDL/RETR/TOP/DELE/RSET/QUIT, the
 * maildrop lock, UIDL stability, expunge only at QUIT, pipelining.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SasldbStore } from '../../auth/sasldb.js';
import { serveForTest, type TestServer } from '../../services/harness.js';
import { openStore } from '../../store/index.js';
import type { Store } from '../../store/api.js';
import pop3d from './service.js';
import { LineClient, mail, makeSite, trackClients, type Site } from '../lmtp/test-kit.js';

const admin = { userid: 'cyrus', isAdmin: true, groups: [] };

async function setup(extra: Record<string, string | number | boolean> = {}): Promise<{
  site: Site;
  store: Store;
  srv: TestServer;
  done: () => Promise<void>;
}> {
  const site = makeSite({ allowplaintext: true, ...extra });
  const db = new SasldbStore(join(site.dir, 'sasldb2'));
  await db.setPassword('fred', 'secret', { keepCleartext: true });
  await db.setPassword('bob', 'bobpw');
  db.close();
  const store = openStore(site.conf('pop3'));
  store.ensureInbox('fred');
  store.ensureInbox('bob');
  store.createMailbox(admin, 'user.fred.lists');
  await store.append(admin, 'user.fred', Buffer.from(mail('one', '.starts with dot\r\nline2\r\nline3\r\n')));
  await store.append(admin, 'user.fred', Buffer.from(mail('two')));
  await store.append(admin, 'user.fred', Buffer.from(mail('three')));
  await store.append(admin, 'user.fred.lists', Buffer.from(mail('list1')));
  const clients = trackClients();
  const srv = await serveForTest(pop3d, { config: site.conf('pop3') });
  return {
    site,
    store,
    srv,
    done: async () => {
      clients.destroyAll();
      await srv.stop();
      store.close();
      site.cleanup();
    },
  };
}

async function login(port: number, user = 'fred', pass = 'secret'): Promise<LineClient> {
  const c = await LineClient.open({ port });
  await c.line();
  c.send(`USER ${user}\r\nPASS ${pass}\r\n`);
  assert.equal(await c.line(), '+OK Name is a valid mailbox\r\n');
  assert.match(await c.line(), /^\+OK Mailbox locked and ready SESSIONID=<[^>]+>\r\n$/);
  return c;
}

test('greeting with APOP timestamp and CAPA before and after login', async () => {
  const t = await setup();
  try {
    const c = await LineClient.open({ port: t.srv.port });
    assert.match(
      await c.line(),
      /^\+OK test\.example Cyrus POP3 cyrus-ts-\S+ server ready <[^>]+@test\.example>\r\n$/,
    );
    c.send('CAPA\r\n');
    const before = await c.multi();
    for (const cap of [
      'TOP',
      'UIDL',
      'USER',
      'PIPELINING',
      'RESP-CODES',
      'AUTH-RESP-CODE',
      'EXPIRE NEVER',
      'LOGIN-DELAY 0',
    ])
      assert.ok(before.includes(`\r\n${cap}\r\n`), `${cap} in ${before}`);
    assert.match(before, /\r\nSASL [^\r]*PLAIN/);
    assert.match(before, /\r\nIMPLEMENTATION Cyrus POP3 /);
    c.send('USER fred\r\nPASS secret\r\nCAPA\r\n');
    await c.line();
    await c.line();
    const after = await c.multi();
    assert.ok(!after.includes('\r\nUSER\r\n') && !after.includes('SASL'), after);
    assert.ok(after.includes('\r\nTOP\r\n'));
    c.send('QUIT\r\n');
    assert.equal(await c.line(), '+OK\r\n');
    await c.close();
  } finally {
    await t.done();
  }
});

test('STAT, LIST, UIDL, RETR (byte-stuffed), TOP, errors; pipelined', async () => {
  const t = await setup();
  try {
    const c = await login(t.srv.port);
    const uv = t.store.lookup('user.fred')!.uidValidity;
    c.send(
      'STAT\r\nLIST\r\nLIST 2\r\nLIST 9\r\nUIDL\r\nUIDL 3\r\nRETR 1\r\nTOP 1 1\r\nTOP 1 0\r\nRETR x\r\nNOOP\r\nBOGUS\r\n',
    );
    const stat = await c.line();
    const m = /^\+OK 3 (\d+)\r\n$/.exec(stat);
    assert.ok(m, stat);
    const list = await c.multi();
    const sizes = [...list.matchAll(/^(\d) (\d+)\r$/gm)].map((x) => Number(x[2]));
    assert.equal(sizes.length, 3);
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      Number(m[1]),
    );
    assert.equal(await c.line(), `+OK 2 ${sizes[1]}\r\n`);
    assert.equal(await c.line(), '-ERR No such message\r\n');
    assert.equal(
      await c.multi(),
      `+OK Unique-ID listing follows\r\n1 ${uv}.1\r\n2 ${uv}.2\r\n3 ${uv}.3\r\n.\r\n`,
    );
    assert.equal(await c.line(), `+OK 3 ${uv}.3\r\n`);
    const retr = await c.multi();
    assert.ok(retr.startsWith('+OK'), retr);
    assert.ok(retr.includes('\r\n\r\n..starts with dot\r\nline2\r\nline3\r\n.\r\n'), retr);
    assert.equal(
      Buffer.byteLength(retr.slice(retr.indexOf('\r\n') + 2, -3)) - 1,
      sizes[0],
      'size = octets before stuffing',
    );
    const top1 = await c.multi();
    assert.ok(top1.endsWith('\r\n\r\n..starts with dot\r\n.\r\n'), top1);
    const top0 = await c.multi();
    assert.ok(top0.endsWith('\r\n\r\n.\r\n') && !top0.includes('starts with'), top0);
    assert.equal(await c.line(), '-ERR No such message\r\n');
    assert.equal(await c.line(), '+OK\r\n');
    assert.equal(await c.line(), '-ERR Unrecognized command\r\n');
    c.send('QUIT\r\n');
    await c.line();
    await c.close();
  } finally {
    await t.done();
  }
});

test('maildrop lock: a second session gets [IN-USE]; DELE/RSET; expunge only at QUIT; UIDL stable', async () => {
  const t = await setup();
  try {
    const uv = t.store.lookup('user.fred')!.uidValidity;
    const a = await login(t.srv.port);
    const b = await LineClient.open({ port: t.srv.port });
    await b.line();
    b.send('USER fred\r\nPASS secret\r\n');
    await b.line();
    assert.equal(await b.line(), '-ERR [IN-USE] Unable to lock maildrop\r\n');
    await b.close();
    a.send('DELE 1\r\nDELE 1\r\nRETR 1\r\nSTAT\r\nRSET\r\nSTAT\r\nDELE 2\r\n');
    assert.equal(await a.line(), '+OK message deleted\r\n');
    assert.equal(await a.line(), '-ERR No such message\r\n');
    assert.equal(await a.line(), '-ERR No such message\r\n');
    assert.match(await a.line(), /^\+OK 2 /);
    assert.match(await a.line(), /^\+OK maildrop has 3 messages/);
    assert.match(await a.line(), /^\+OK 3 /);
    assert.equal(await a.line(), '+OK message deleted\r\n');
    // the connection drops without QUIT: nothing is expunged, the lock is released
    a.sock.destroy();
    // the server notices the closed connection and releases the maildrop lock
    const lockFile = join(
      t.site.dir,
      'conf',
      'lock',
      'pop3',
      `${Buffer.from('user.fred').toString('hex')}.lock`,
    );
    for (let i = 0; i < 100 && existsSync(lockFile); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!existsSync(lockFile), 'lock released');
    assert.equal(t.store.status(admin, 'user.fred').messages, 3);
    const c = await login(t.srv.port);
    c.send('DELE 2\r\nQUIT\r\n');
    await c.line();
    assert.equal(await c.line(), '+OK\r\n');
    await c.close();
    assert.equal(t.store.status(admin, 'user.fred').messages, 2);
    const d = await login(t.srv.port);
    d.send('UIDL\r\nQUIT\r\n');
    assert.equal(await d.multi(), `+OK Unique-ID listing follows\r\n1 ${uv}.1\r\n2 ${uv}.3\r\n.\r\n`);
    await d.line();
    await d.close();
  } finally {
    await t.done();
  }
});

test('bad password delayed and refused; APOP; AUTH PLAIN with initial response; popsubfolders', async () => {
  const t = await setup({ popsubfolders: true });
  try {
    const c = await LineClient.open({ port: t.srv.port });
    const greeting = await c.line();
    c.send('USER fred\r\nPASS wrong\r\n');
    await c.line();
    assert.equal(await c.line(), '-ERR [AUTH] Invalid login\r\n');
    c.send('PASS secret\r\n');
    assert.equal(await c.line(), '-ERR Must give USER command\r\n');
    const banner = /(<[^>]+>)\r\n$/.exec(greeting)![1]!;
    const digest = createHash('md5')
      .update(banner + 'secret')
      .digest('hex');
    c.send(`APOP fred ${digest}\r\nSTAT\r\nQUIT\r\n`);
    assert.match(await c.line(), /^\+OK Mailbox locked and ready/);
    assert.match(await c.line(), /^\+OK 3 /);
    await c.line();
    await c.close();
    const d = await LineClient.open({ port: t.srv.port });
    await d.line();
    d.send(`AUTH PLAIN ${Buffer.from('\0fred\0secret').toString('base64')}\r\nSTAT\r\nQUIT\r\n`);
    assert.match(await d.line(), /^\+OK Mailbox locked and ready/);
    assert.match(await d.line(), /^\+OK 3 /);
    await d.line();
    await d.close();
    const f = await LineClient.open({ port: t.srv.port });
    await f.line();
    f.send('USER fred+lists\r\nPASS secret\r\nSTAT\r\nQUIT\r\n');
    await f.line();
    assert.match(await f.line(), /^\+OK Mailbox locked and ready/);
    assert.match(await f.line(), /^\+OK 1 /, 'fred+lists opened INBOX.lists');
    await f.line();
    await f.close();
    const e = await LineClient.open({ port: t.srv.port });
    await e.line();
    e.send('AUTH PLAIN\r\n');
    assert.equal(await e.line(), '+ \r\n');
    e.send('*\r\n');
    assert.match(await e.line(), /^-ERR \[AUTH\]/);
    await e.close();
  } finally {
    await t.done();
  }
});

test('USER is refused without TLS when allowplaintext is off', async () => {
  const t = await setup({ allowplaintext: false });
  try {
    const c = await LineClient.open({ port: t.srv.port });
    await c.line();
    c.send('CAPA\r\nUSER fred\r\n');
    const capa = await c.multi();
    assert.ok(!capa.includes('\r\nUSER\r\n'));
    assert.match(await c.line(), /^-ERR \[AUTH\]/);
    await c.close();
  } finally {
    await t.done();
  }
});

test('popminpoll: LOGIN-DELAY advertised and enforced between logins', async () => {
  const t = await setup({ popminpoll: 1 });
  try {
    const c = await LineClient.open({ port: t.srv.port });
    await c.line();
    c.send('CAPA\r\n');
    assert.match(await c.multi(), /\r\nLOGIN-DELAY 60\r\n/);
    c.send('USER fred\r\nPASS secret\r\nQUIT\r\n');
    await c.line();
    assert.match(await c.line(), /^\+OK Mailbox locked/);
    await c.line();
    await c.close();
    const d = await LineClient.open({ port: t.srv.port });
    await d.line();
    d.send('USER fred\r\nPASS secret\r\n');
    await d.line();
    assert.equal(await d.line(), '-ERR [LOGIN-DELAY] Logins must be at least 1 minute apart\r\n');
    await d.close();
  } finally {
    await t.done();
  }
});

test('the maildrop lock holds across processes, and a dead holder does not block', async () => {
  const t = await setup();
  const lockDir = join(t.site.dir, 'conf', 'lock');
  const lockJs = new URL('./lock.js', import.meta.url).href;
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { PopLock } = await import(${JSON.stringify(lockJs)});` +
        `console.log(PopLock.acquire(${JSON.stringify(lockDir)}, 'user.fred') ? 'held' : 'busy');` +
        'setInterval(() => {}, 1000);',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const first = await new Promise<string>((r) =>
      child.stdout!.once('data', (d: Buffer) => r(d.toString().trim())),
    );
    assert.equal(first, 'held');
    const c = await LineClient.open({ port: t.srv.port });
    await c.line();
    c.send('USER fred\r\nPASS secret\r\n');
    await c.line();
    assert.equal(await c.line(), '-ERR [IN-USE] Unable to lock maildrop\r\n');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    c.send('USER fred\r\nPASS secret\r\n');
    await c.line();
    assert.match(await c.line(), /^\+OK Mailbox locked and ready/, 'stale lock of a dead process taken over');
    await c.close();
  } finally {
    child.kill('SIGKILL');
    await t.done();
  }
});

test('msg/shutdown refuses new sessions with its first line', async () => {
  const t = await setup();
  try {
    mkdirSync(join(t.site.dir, 'conf', 'msg'), { recursive: true });
    writeFileSync(join(t.site.dir, 'conf', 'msg', 'shutdown'), 'Down for maintenance\nsecond line\n');
    const c = await LineClient.open({ port: t.srv.port });
    assert.equal(await c.line(), '-ERR [SYS/TEMP] Down for maintenance\r\n');
    await c.close();
  } finally {
    await t.done();
  }
});

test('a message expunged elsewhere during the session: RETR answers, the session goes on', async () => {
  const t = await setup({ expunge_mode: 'immediate' });
  try {
    const c = await login(t.srv.port);
    const v = t.store.open(admin, 'user.fred', { readOnly: false });
    v.storeFlags([1], 'add', ['\\Deleted']);
    v.expunge([1]);
    v.close();
    c.send('RETR 1\r\nNOOP\r\nRETR 2\r\n');
    const first = await c.multi();
    assert.ok(/^-ERR /.test(first) || first.includes('Subject: one'), first);
    assert.equal(await c.line(), '+OK\r\n');
    assert.match(await c.multi(), /^\+OK[^]*Message-ID: <two@example\.org>/);
    await c.close();
  } finally {
    await t.done();
  }
});

test('popuseimapflags: \\Deleted messages are hidden, RETR sets \\Seen (TOP does not)', async () => {
  const t = await setup({ popuseimapflags: true });
  try {
    const v = t.store.open(admin, 'user.fred', { readOnly: false });
    v.storeFlags([2], 'add', ['\\Deleted']);
    v.close();
    const c = await login(t.srv.port);
    c.send('STAT\r\nTOP 1 0\r\nRETR 2\r\nQUIT\r\n');
    assert.match(await c.line(), /^\+OK 2 /);
    await c.multi();
    assert.match(await c.multi(), /Message-ID: <three@example\.org>/, 'message 2 of the drop is uid 3');
    await c.line();
    await c.close();
    // \Seen is per user (Cyrus seen state): read it as fred
    const seen = t.store.open({ userid: 'fred', isAdmin: false, groups: [] }, 'user.fred', {
      readOnly: true,
    });
    const flags = seen.records(seen.uids()).map((r) => r.flags.includes('\\Seen'));
    seen.close();
    assert.deepEqual(flags, [false, false, true]);
  } finally {
    await t.done();
  }
});

test('popuseacl: without it the ACL of the own INBOX is ignored; with it, no r means no maildrop', async () => {
  for (const useAcl of [false, true]) {
    const t = await setup({ popuseacl: useAcl });
    try {
      t.store.setAcl(admin, 'user.fred', 'fred', null); // only the implicit owner rights (no 'r') remain
      const c = await LineClient.open({ port: t.srv.port });
      await c.line();
      c.send('USER fred\r\nPASS secret\r\n');
      await c.line();
      if (useAcl) assert.match(await c.line(), /^-ERR \[SYS\/PERM\]/);
      else assert.match(await c.line(), /^\+OK Mailbox locked and ready/);
      await c.close();
    } finally {
      await t.done();
    }
  }
});
