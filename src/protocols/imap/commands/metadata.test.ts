// METADATA (RFC 5464) over the wire: the RFC's examples for SETMETADATA/GETMETADATA with
// MAXSIZE and DEPTH, server entries, private/shared separation, Cyrus's computed entries and
// wildcards (what `cyradm info` sends), and the error codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestImapd, type TestImapd } from '../test-helpers.js';
import { validEntry } from './metadata.js';

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

test('entry names (RFC 5464 §3.2.1)', () => {
  for (const ok of ['/private/comment', '/shared/vendor/x/y', '/Shared/Comment'])
    assert.ok(validEntry(ok), ok);
  for (const bad of [
    '/comment',
    'private/comment',
    '/private/',
    '/private//x',
    '/private/a*',
    '/private/a%',
    '/private/caf\u00e9',
    '/private/a b',
    '/private',
  ]) {
    assert.ok(!validEntry(bad), bad);
  }
  for (const ok of ['/private/*', '/shared/%', '/shared', '*']) assert.ok(validEntry(ok, true), ok);
  assert.ok(!validEntry('/private/a*b', true));
});

test('CAPABILITY after login lists METADATA and METADATA-SERVER', async () => {
  const c = await login('fred', 'secret');
  const caps = (await c.cmd('CAPABILITY')).lines[0]!.split(' ');
  assert.ok(caps.includes('METADATA'));
  assert.ok(caps.includes('METADATA-SERVER'));
  c.close();
});

test('RFC 5464 §4.3 examples: set a literal value, read it back, delete with NIL', async () => {
  const c = await login('fred', 'secret');
  const value = 'My new comment across\r\ntwo lines.';
  const s = await c.cmd(`SETMETADATA INBOX (/private/comment {${value.length}+}\r\n${value})`);
  assert.equal(s.tagged, 'OK Completed');
  const g = await c.cmd('GETMETADATA INBOX /private/comment');
  assert.deepEqual(g.lines, [`* METADATA INBOX (/private/comment {${value.length}}\r\n${value})`]);

  assert.equal(
    (await c.cmd('SETMETADATA INBOX (/shared/comment "Shared comment" /private/comment "My own comment")'))
      .tagged,
    'OK Completed',
  );
  const both = await c.cmd('GETMETADATA INBOX (/shared/comment /private/comment)');
  assert.deepEqual(both.lines, [
    '* METADATA INBOX (/shared/comment "Shared comment" /private/comment "My own comment")',
  ]);

  assert.equal((await c.cmd('SETMETADATA INBOX (/private/comment NIL)')).tagged, 'OK Completed');
  assert.deepEqual((await c.cmd('GETMETADATA INBOX (/private/comment)')).lines, [
    '* METADATA INBOX (/private/comment NIL)',
  ]);
  c.close();
});

test('RFC 5464 §4.2.1 MAXSIZE: long values are left out and reported with LONGENTRIES', async () => {
  const c = await login('fred', 'secret');
  const long = 'x'.repeat(2199);
  assert.equal(
    (await c.cmd(`SETMETADATA INBOX (/shared/long {2199+}\r\n${long} /shared/short "tiny")`)).tagged,
    'OK Completed',
  );
  const r = await c.cmd('GETMETADATA (MAXSIZE 1024) INBOX (/shared/long /shared/short)');
  assert.deepEqual(r.lines, ['* METADATA INBOX (/shared/short "tiny")']);
  assert.equal(r.tagged, 'OK [METADATA LONGENTRIES 2199] Completed');
  c.close();
});

test('RFC 5464 §4.2.2 DEPTH 0, 1 and infinity', async () => {
  const c = await login('fred', 'secret');
  const set = await c.cmd(
    'SETMETADATA INBOX (/private/filters/values/small "SMALLER than 10K" /private/filters/values/boss "from:boss@example.com" /private/filters/values/boss/deep "below")',
  );
  assert.equal(set.tagged, 'OK Completed');
  assert.deepEqual((await c.cmd('GETMETADATA (DEPTH 0) INBOX (/private/filters/values)')).lines, [
    '* METADATA INBOX (/private/filters/values NIL)',
  ]);
  const one = await c.cmd('GETMETADATA (DEPTH 1) INBOX (/private/filters/values)');
  assert.equal(one.lines.length, 1);
  assert.match(one.lines[0]!, /^\* METADATA INBOX \(/);
  assert.match(one.lines[0]!, /\/private\/filters\/values\/small "SMALLER than 10K"/);
  assert.match(one.lines[0]!, /\/private\/filters\/values\/boss "from:boss@example.com"/);
  assert.doesNotMatch(one.lines[0]!, /deep/);
  const all = await c.cmd('GETMETADATA (DEPTH infinity MAXSIZE 100) INBOX (/private/filters)');
  assert.match(all.lines[0]!, /\/private\/filters\/values\/boss\/deep "below"/);
  assert.match((await c.cmd('GETMETADATA (DEPTH 2) INBOX (/private/filters)')).tagged, /^BAD /);
  c.close();
});

test('private entries belong to one user, shared ones to everyone with access', async () => {
  const fred = await login('fred', 'secret');
  assert.match((await fred.cmd('CREATE team')).tagged, /^OK/);
  assert.match((await fred.cmd('SETACL team bob lr')).tagged, /^OK/);
  assert.equal(
    (await fred.cmd('SETMETADATA team (/shared/comment "for all" /private/comment "fred only")')).tagged,
    'OK Completed',
  );
  const bob = await login('bob', 'bobpw');
  const r = await bob.cmd('GETMETADATA "Other Users/fred/team" (/shared/comment /private/comment)');
  assert.deepEqual(r.lines, [
    '* METADATA "Other Users/fred/team" (/shared/comment "for all" /private/comment NIL)',
  ]);
  // bob has no 'n': he may write private entries only
  assert.match(
    (await bob.cmd('SETMETADATA "Other Users/fred/team" (/shared/comment "bob was here")')).tagged,
    /^NO \[NOPERM\]/,
  );
  assert.equal(
    (await bob.cmd('SETMETADATA "Other Users/fred/team" (/private/comment "bob note")')).tagged,
    'OK Completed',
  );
  assert.deepEqual((await fred.cmd('GETMETADATA team /private/comment')).lines, [
    '* METADATA team (/private/comment "fred only")',
  ]);
  // no rights at all: the mailbox does not exist for him
  assert.match(
    (await bob.cmd('GETMETADATA "Other Users/fred" /shared/comment')).tagged,
    /^NO \[NONEXISTENT\]/,
  );
  assert.match(
    (await bob.cmd('SETMETADATA "Other Users/fred" (/private/comment "x")')).tagged,
    /^NO \[NONEXISTENT\]/,
  );
  fred.close();
  bob.close();
});

test('METADATA-SERVER: only administrators set server entries, everyone reads them', async () => {
  const fred = await login('fred', 'secret');
  assert.match((await fred.cmd('SETMETADATA "" (/shared/comment "hello")')).tagged, /^NO \[NOPERM\]/);
  const admin = await login('cyrus', 'adminpw');
  assert.equal(
    (
      await admin.cmd(
        'SETMETADATA "" (/shared/comment "Shared comment" /shared/admin "mailto:admin@example.org")',
      )
    ).tagged,
    'OK Completed',
  );
  const r = await fred.cmd('GETMETADATA "" /shared/comment');
  assert.deepEqual(r.lines, ['* METADATA "" (/shared/comment "Shared comment")']);
  const all = await fred.cmd('GETMETADATA (DEPTH 1) "" (/shared)');
  assert.equal(all.lines.length, 1);
  const pairs = [...all.lines[0]!.matchAll(/(\/\S+) "([^"]*)"/g)].map((m) => `${m[1]}=${m[2]}`).sort();
  assert.deepEqual(pairs, ['/shared/admin=mailto:admin@example.org', '/shared/comment=Shared comment']);
  assert.match(all.lines[0]!, /^\* METADATA "" \(/);
  admin.close();
  fred.close();
});

test('Cyrus computed entries and wildcards (what cyradm info asks)', async () => {
  const c = await login('fred', 'secret');
  const r = await c.cmd('GETMETADATA INBOX ("/shared/*")');
  assert.equal(r.lines.length, 1);
  assert.match(r.lines[0]!, /\/shared\/vendor\/cmu\/cyrus-imapd\/partition "default"/);
  assert.match(r.lines[0]!, /\/shared\/vendor\/cmu\/cyrus-imapd\/size "\d+"/);
  assert.match(r.lines[0]!, /\/shared\/vendor\/cmu\/cyrus-imapd\/uniqueid "[^"]+"/);
  assert.doesNotMatch(r.lines[0]!, /\/private\//);
  assert.match(
    (await c.cmd('SETMETADATA INBOX (/shared/vendor/cmu/cyrus-imapd/partition "x")')).tagged,
    /^NO \[NOPERM\]/,
  );
  c.close();
});

test('/private/specialuse is the mailbox special-use attribute (RFC 6154 §5)', async () => {
  const c = await login('fred', 'secret');
  assert.match((await c.cmd('CREATE Sent')).tagged, /^OK/);
  assert.equal((await c.cmd('SETMETADATA Sent (/private/specialuse "\\\\Sent")')).tagged, 'OK Completed');
  assert.deepEqual((await c.cmd('GETMETADATA Sent /private/specialuse')).lines, [
    '* METADATA Sent (/private/specialuse "\\\\Sent")',
  ]);
  const l = await c.cmd('LIST "" Sent');
  assert.match(l.lines[0]!, /\\Sent/);
  c.close();
});

test('errors: bad entries are BAD, big values NO [METADATA MAXSIZE]', async () => {
  const c = await login('fred', 'secret');
  assert.match((await c.cmd('SETMETADATA INBOX (/comment "x")')).tagged, /^BAD Invalid entry name/);
  assert.match((await c.cmd('SETMETADATA INBOX (/private/a* "x")')).tagged, /^BAD Invalid entry name/);
  assert.match((await c.cmd('SETMETADATA INBOX (/private/a)')).tagged, /^BAD /);
  assert.match((await c.cmd('SETMETADATA INBOX /private/a "x"')).tagged, /^BAD /);
  assert.match((await c.cmd('GETMETADATA INBOX')).tagged, /^BAD Missing required argument/);
  assert.match((await c.cmd('GETMETADATA (FOO 1) INBOX /private/a')).tagged, /^BAD /);
  const big = 'y'.repeat(70000);
  assert.match(
    (await c.cmd(`SETMETADATA INBOX (/private/big {${big.length}+}\r\n${big})`)).tagged,
    /^NO \[METADATA MAXSIZE 65536\]/,
  );
  assert.match((await c.cmd('GETMETADATA nosuch /private/comment')).tagged, /^NO \[NONEXISTENT\]/);
  c.close();
});
