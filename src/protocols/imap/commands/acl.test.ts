// ACL (RFC 4314) over the wire: GETACL/SETACL/DELETEACL/LISTRIGHTS/MYRIGHTS against a real
// imapd, with the RFC's examples adapted to our users (fred owns INBOX, bob is another user,
// cyrus is an administrator). Cyrus 3 defaults: altnamespace and unixhierarchysep, so fred's
// folders are top-level names and others see them under "Other Users/fred/".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestImapd, type TestImapd } from '../test-helpers.js';

let srv: TestImapd;
before(async () => {
  srv = await startTestImapd({ fred: 'secret', bob: 'bobpw', cyrus: 'adminpw' }, { admins: 'cyrus' });
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

const DIGITS = '0 1 2 3 4 5 6 7 8 9';

test('CAPABILITY after login lists ACL and RIGHTS=kxten', async () => {
  const c = await login('fred', 'secret');
  const r = await c.cmd('CAPABILITY');
  assert.match(r.lines[0]!, / ACL /);
  assert.match(r.lines[0]!, / RIGHTS=kxten( |$)/);
  c.close();
});

test('owner sees the full ACL and rights of a new mailbox', async () => {
  const c = await login('fred', 'secret');
  assert.match((await c.cmd('CREATE acl1')).tagged, /^OK/);
  const g = await c.cmd('GETACL acl1');
  assert.deepEqual(g.lines, ['* ACL acl1 fred lrswipkxtecdan']);
  assert.equal(g.tagged, 'OK Completed');
  const m = await c.cmd('MYRIGHTS acl1');
  assert.deepEqual(m.lines, ['* MYRIGHTS acl1 lrswipkxtecdan']);
  c.close();
});

test('SETACL grants, adds and removes rights; the grantee sees them with MYRIGHTS', async () => {
  const fred = await login('fred', 'secret');
  const bob = await login('bob', 'bobpw');
  assert.match((await fred.cmd('CREATE shared1')).tagged, /^OK/);
  assert.match((await bob.cmd('MYRIGHTS "Other Users/fred/shared1"')).tagged, /^NO \[NONEXISTENT\]/);

  assert.equal((await fred.cmd('SETACL shared1 bob lrs')).tagged, 'OK Completed');
  assert.deepEqual((await bob.cmd('MYRIGHTS "Other Users/fred/shared1"')).lines, [
    '* MYRIGHTS "Other Users/fred/shared1" lrs',
  ]);
  assert.equal((await fred.cmd('SETACL shared1 bob +wi')).tagged, 'OK Completed');
  assert.equal((await fred.cmd('SETACL shared1 bob -s')).tagged, 'OK Completed');
  const g = await fred.cmd('GETACL shared1');
  assert.deepEqual(g.lines, ['* ACL shared1 fred lrswipkxtecdan bob lrwi']);
  assert.deepEqual((await bob.cmd('MYRIGHTS "Other Users/fred/shared1"')).lines, [
    '* MYRIGHTS "Other Users/fred/shared1" lrwi',
  ]);

  // bob may now use the mailbox as his rights allow, but not administer it
  assert.match((await bob.cmd('SELECT "Other Users/fred/shared1"')).tagged, /^OK/);
  assert.match((await bob.cmd('GETACL "Other Users/fred/shared1"')).tagged, /^NO \[NOPERM\]/);
  assert.match((await bob.cmd('SETACL "Other Users/fred/shared1" bob lrswipkxtea')).tagged, /^NO \[NOPERM\]/);
  assert.match((await bob.cmd('LISTRIGHTS "Other Users/fred/shared1" bob')).tagged, /^NO \[NOPERM\]/);

  // DELETEACL removes the entry: the mailbox disappears from bob's view again
  assert.equal((await fred.cmd('DELETEACL shared1 bob')).tagged, 'OK Completed');
  assert.deepEqual((await fred.cmd('GETACL shared1')).lines, ['* ACL shared1 fred lrswipkxtecdan']);
  assert.match((await bob.cmd('MYRIGHTS "Other Users/fred/shared1"')).tagged, /^NO \[NONEXISTENT\]/);
  fred.close();
  bob.close();
});

test('RFC 4314 §3.1: unknown or upper-case rights are BAD', async () => {
  const c = await login('fred', 'secret');
  assert.match((await c.cmd('SETACL INBOX bob lrQswicda')).tagged, /^BAD /);
  assert.match((await c.cmd('SETACL INBOX bob lrqswicda')).tagged, /^BAD /);
  assert.match((await c.cmd('SETACL INBOX bob')).tagged, /^BAD Missing required argument/);
  assert.match((await c.cmd('GETACL INBOX extra')).tagged, /^BAD Unexpected extra arguments/);
  assert.deepEqual((await c.cmd('GETACL INBOX')).lines, ['* ACL INBOX fred lrswipkxtecdan']);
  c.close();
});

test('negative rights and "anyone" (RFC 4314 §2)', async () => {
  const fred = await login('fred', 'secret');
  const bob = await login('bob', 'bobpw');
  assert.match((await fred.cmd('CREATE pub')).tagged, /^OK/);
  assert.equal((await fred.cmd('SETACL pub anyone lr')).tagged, 'OK Completed');
  assert.deepEqual((await bob.cmd('MYRIGHTS "Other Users/fred/pub"')).lines, [
    '* MYRIGHTS "Other Users/fred/pub" lr',
  ]);
  assert.equal((await fred.cmd('SETACL pub -bob r')).tagged, 'OK Completed');
  assert.deepEqual((await bob.cmd('MYRIGHTS "Other Users/fred/pub"')).lines, [
    '* MYRIGHTS "Other Users/fred/pub" l',
  ]);
  // only 'l': visible, not readable
  assert.match((await bob.cmd('SELECT "Other Users/fred/pub"')).tagged, /^NO \[NOPERM\]/);
  assert.deepEqual((await fred.cmd('GETACL pub')).lines, ['* ACL pub fred lrswipkxtecdan anyone lr -bob r']);
  fred.close();
  bob.close();
});

test('LISTRIGHTS: the owner keeps implicit rights, others may get any right (RFC 4314 §3.7)', async () => {
  const c = await login('fred', 'secret');
  const other = await c.cmd('LISTRIGHTS INBOX bob');
  assert.deepEqual(other.lines, [`* LISTRIGHTS INBOX bob "" l r s w i p k x t e c d a n ${DIGITS}`]);
  const owner = await c.cmd('LISTRIGHTS INBOX fred');
  assert.deepEqual(owner.lines, [`* LISTRIGHTS INBOX fred lkxan r s w i p t e c d ${DIGITS}`]);
  c.close();
});

test('unknown mailboxes read as nonexistent', async () => {
  const c = await login('fred', 'secret');
  for (const cmd of [
    'GETACL nosuch',
    'MYRIGHTS nosuch',
    'SETACL nosuch bob lr',
    'DELETEACL nosuch bob',
    'LISTRIGHTS nosuch bob',
  ]) {
    assert.match((await c.cmd(cmd)).tagged, /^NO \[NONEXISTENT\] Mailbox does not exist/, cmd);
  }
  c.close();
});

test('an administrator reads and changes any ACL', async () => {
  const admin = await login('cyrus', 'adminpw');
  const g = await admin.cmd('GETACL user/fred');
  assert.deepEqual(g.lines, ['* ACL user/fred fred lrswipkxtecdan']);
  assert.equal((await admin.cmd('SETACL user/fred cyrus lrswipkxtea')).tagged, 'OK Completed');
  assert.deepEqual((await admin.cmd('GETACL user/fred')).lines, [
    '* ACL user/fred fred lrswipkxtecdan cyrus lrswipkxtecda',
  ]);
  assert.equal((await admin.cmd('DELETEACL user/fred cyrus')).tagged, 'OK Completed');
  assert.deepEqual((await admin.cmd('GETACL user/fred')).lines, ['* ACL user/fred fred lrswipkxtecdan']);
  admin.close();
});

test('ACL commands work in the selected state too', async () => {
  const c = await login('fred', 'secret');
  assert.match((await c.cmd('SELECT INBOX')).tagged, /^OK/);
  assert.deepEqual((await c.cmd('MYRIGHTS INBOX')).lines, ['* MYRIGHTS INBOX lrswipkxtecdan']);
  c.close();
});
