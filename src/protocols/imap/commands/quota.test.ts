// QUOTA (RFC 9208) over the wire: SETQUOTA by an administrator, GETQUOTA/GETQUOTAROOT by the
// owner, and APPEND/COPY refused with [OVERQUOTA] once a STORAGE or MESSAGE limit is reached.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestImapd, type TestImapd } from '../test-helpers.js';

let srv: TestImapd;
before(async () => {
  srv = await startTestImapd(
    { fred: 'secret', bob: 'bobpw', cyrus: 'adminpw', carol: 'carolpw' },
    { admins: 'cyrus' },
  );
});
const clients: RawClient[] = [];
after(async () => {
  for (const c of clients) c.close(); // also those a failed assertion left open
  await srv.stop();
});

async function login(user: string, pass: string): Promise<RawClient> {
  const c = await RawClient.connect(srv.port);
  clients.push(c);
  await c.login(user, pass);
  return c;
}

function message(n: number, bodyBytes = 100): string {
  return `From: a@example.org\r\nTo: fred@example.org\r\nSubject: m${n}\r\n\r\n${'x'.repeat(bodyBytes)}\r\n`;
}

function append(c: RawClient, mailbox: string, msg: string): ReturnType<RawClient['cmd']> {
  return c.cmd(`APPEND ${mailbox} {${Buffer.byteLength(msg)}+}\r\n${msg}`);
}

test('CAPABILITY after login lists QUOTA, QUOTA=RES-STORAGE, QUOTA=RES-MESSAGE and QUOTASET', async () => {
  const c = await login('fred', 'secret');
  const caps = (await c.cmd('CAPABILITY')).lines[0]!.split(' ');
  for (const w of ['QUOTA', 'QUOTA=RES-STORAGE', 'QUOTA=RES-MESSAGE', 'QUOTASET'])
    assert.ok(caps.includes(w), w);
  c.close();
});

test('autocreated INBOX is a quota root without limits', async () => {
  const c = await login('bob', 'bobpw');
  const r = await c.cmd('GETQUOTAROOT INBOX');
  assert.deepEqual(r.lines, ['* QUOTAROOT INBOX INBOX', '* QUOTA INBOX ()']);
  assert.equal(r.tagged, 'OK Completed');
  assert.deepEqual((await c.cmd('GETQUOTA INBOX')).lines, ['* QUOTA INBOX ()']);
  c.close();
});

test('only administrators may SETQUOTA; the owner then sees the limits (RFC 9208 §4.3 example)', async () => {
  const fred = await login('fred', 'secret');
  assert.match((await fred.cmd('SETQUOTA INBOX (STORAGE 512)')).tagged, /^NO \[NOPERM\]/);
  const admin = await login('cyrus', 'adminpw');
  const s = await admin.cmd('SETQUOTA "user/fred" (STORAGE 512)');
  assert.deepEqual(s.lines, ['* QUOTA user/fred (STORAGE 0 512)']);
  assert.equal(s.tagged, 'OK Completed');
  assert.deepEqual((await admin.cmd('GETQUOTA "user/fred"')).lines, ['* QUOTA user/fred (STORAGE 0 512)']);

  assert.match((await fred.cmd('CREATE sub')).tagged, /^OK/);
  const r = await fred.cmd('GETQUOTAROOT sub');
  assert.deepEqual(r.lines, ['* QUOTAROOT sub INBOX', '* QUOTA INBOX (STORAGE 0 512)']);
  assert.deepEqual((await fred.cmd('GETQUOTA INBOX')).lines, ['* QUOTA INBOX (STORAGE 0 512)']);

  // another user may neither read the quota nor see the mailbox
  const bob = await login('bob', 'bobpw');
  assert.match((await bob.cmd('GETQUOTA "Other Users/fred"')).tagged, /^NO \[NOPERM\]/);
  assert.match((await bob.cmd('GETQUOTAROOT "Other Users/fred"')).tagged, /^NO \[NONEXISTENT\]/);
  fred.close();
  admin.close();
  bob.close();
});

test('MESSAGE and STORAGE limits refuse APPEND and COPY with [OVERQUOTA]; removing limits lifts them', async () => {
  const admin = await login('cyrus', 'adminpw');
  const carol = await login('carol', 'carolpw');
  assert.match((await carol.cmd('CREATE other')).tagged, /^OK/);
  // a resource left out of SETQUOTA loses its limit
  assert.deepEqual((await admin.cmd('SETQUOTA "user/carol" (STORAGE 100 MESSAGE 2)')).lines, [
    '* QUOTA user/carol (STORAGE 0 100 MESSAGE 0 2)',
  ]);
  assert.match((await append(carol, 'INBOX', message(1))).tagged, /^OK/);
  assert.match((await append(carol, 'INBOX', message(2))).tagged, /^OK/);
  assert.match((await append(carol, 'INBOX', message(3))).tagged, /^NO \[OVERQUOTA\]/);
  assert.match((await carol.cmd('SELECT INBOX')).tagged, /^OK/);
  assert.match((await carol.cmd('COPY 1 other')).tagged, /^NO \[OVERQUOTA\]/);
  const q = await carol.cmd('GETQUOTAROOT INBOX');
  assert.deepEqual(q.lines, ['* QUOTAROOT INBOX INBOX', '* QUOTA INBOX (STORAGE 0 100 MESSAGE 2 2)']);

  // storage only: 2 KiB limit, a 3 KiB message does not fit
  assert.deepEqual((await admin.cmd('SETQUOTA "user/carol" (STORAGE 2)')).lines, [
    '* QUOTA user/carol (STORAGE 0 2)',
  ]);
  assert.match((await carol.cmd('COPY 1 other')).tagged, /^OK/);
  assert.match((await append(carol, 'INBOX', message(4, 3000))).tagged, /^NO \[OVERQUOTA\]/);

  // "()" removes every limit (and -1 is accepted as "no limit")
  assert.deepEqual((await admin.cmd('SETQUOTA "user/carol" ()')).lines, ['* QUOTA user/carol ()']);
  assert.deepEqual((await admin.cmd('SETQUOTA "user/carol" (MESSAGE -1)')).lines, ['* QUOTA user/carol ()']);
  assert.match((await append(carol, 'INBOX', message(5, 3000))).tagged, /^OK/);
  admin.close();
  carol.close();
});

test('SETQUOTA grammar errors', async () => {
  const admin = await login('cyrus', 'adminpw');
  assert.match((await admin.cmd('SETQUOTA "user/bob" (STORAGE x)')).tagged, /^BAD Invalid quota limit/);
  assert.match((await admin.cmd('SETQUOTA "user/bob" (STORAGE)')).tagged, /^BAD /);
  assert.match((await admin.cmd('SETQUOTA "user/bob" STORAGE 5')).tagged, /^BAD /);
  // what cyradm sends for "setquota user.bob STORAGE 1000 MESSAGE 50" (no space after a limit)
  assert.deepEqual((await admin.cmd('SETQUOTA "user/bob" (MESSAGE 50STORAGE 1000 )')).lines, [
    '* QUOTA user/bob (STORAGE 0 1000 MESSAGE 0 50)',
  ]);
  assert.match((await admin.cmd('SETQUOTA "user/bob" (STORAGE 5x)')).tagged, /^BAD Invalid quota/);
  assert.match(
    (await admin.cmd('SETQUOTA "user/bob" (FROBS 5)')).tagged,
    /^NO \[CANNOT\] Unsupported quota resource/,
  );
  assert.match((await admin.cmd('SETQUOTA "user/nosuch" (STORAGE 5)')).tagged, /^NO \[NONEXISTENT\]/);
  assert.match((await admin.cmd('GETQUOTA "user/nosuch"')).tagged, /^NO \[NONEXISTENT\]/);
  admin.close();
});
