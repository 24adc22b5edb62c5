/**
 * Cyrus's administration shell `cyradm` (Debian cyrus-admin, a Perl shell over
 * Cyrus::IMAP::Admin) driving our imapd non-interactively: mailbox create/rename/delete,
 * setacl/listacl/deleteacl, setquota/listquota/listquotaroot, info (METADATA) — the same
 * session Cyrus 3.6 answered in spec/cyrus-observed.md. The server runs with Debian's
 * namespace (altnamespace: no, unixhierarchysep: no) so names read `user.fred.Work`.
 * Needs cyrus-admin (.ci/packages.txt).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestImapd, type TestImapd } from '../../src/protocols/imap/test-helpers.js';
import { run } from './lib/run.js';

let srv: TestImapd;
before(async () => {
  srv = await startTestImapd(
    { cyrus: 'adminpw', fred: 'secret', bob: 'bobpw' },
    { admins: 'cyrus', altnamespace: 'no', unixhierarchysep: 'no' },
  );
  // fred's INBOX exists once he has logged in (autocreate)
  const c = await RawClient.connect(srv.port);
  await c.login('fred', 'secret');
  c.close();
});
after(async () => {
  await srv.stop();
});

/** Run cyradm with one command per line; `outputs[i]` is what command i printed on stdout. */
async function cyradm(
  commands: string[],
  user = 'cyrus',
  pass = 'adminpw',
): Promise<{ outputs: string[]; err: string }> {
  const r = await run(
    'cyradm',
    [
      '--norc',
      '--user',
      user,
      '--password',
      pass,
      '--port',
      String(srv.port),
      '--auth',
      'PLAIN',
      '--notls',
      '127.0.0.1',
    ],
    { input: commands.join('\n') + '\n', timeoutMs: 20_000 },
  );
  assert.equal(r.signal, null, `cyradm timed out: ${r.out} ${r.err}`);
  assert.doesNotMatch(r.err, /cannot (connect|authenticate)/, r.err);
  // the shell prints a prompt before reading each command (and echoes the line it read)
  const segments = r.out.split('127.0.0.1> ').slice(1);
  const outputs = commands.map((cmd, i) => {
    const s = segments[i] ?? '';
    return s.startsWith(cmd) ? s.slice(cmd.length).replace(/^\r?\n/, '') : s;
  });
  return { outputs, err: r.err };
}

/** `lm` prints "name (attrs)" in columns */
function mailboxes(out: string): string[] {
  return [...out.matchAll(/(\S+) \([^)]*\)/g)].map((m) => m[1]!).sort();
}

/** `lam` prints "identifier rights" lines, in hash order */
function acl(out: string): string[] {
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
}

test('createmailbox, listmailbox, renamemailbox, deletemailbox', async () => {
  const { outputs, err } = await cyradm([
    'cm user.fred.Work',
    'cm user.fred.Work',
    'lm user.fred*',
    'renm user.fred.Work user.fred.Play',
    'lm user.fred*',
    'dm user.fred.Play',
    'dm user.nosuch',
    'lm user.fred*',
  ]);
  assert.deepEqual(mailboxes(outputs[2]!), ['user.fred', 'user.fred.Work']);
  assert.deepEqual(mailboxes(outputs[4]!), ['user.fred', 'user.fred.Play']);
  assert.deepEqual(mailboxes(outputs[7]!), ['user.fred']);
  assert.match(err, /^createmailbox: (\[ALREADYEXISTS\] )?Mailbox already exists$/m);
  assert.match(err, /^deletemailbox: (\[NONEXISTENT\] )?Mailbox does not exist$/m);
});

test('setaclmailbox, listaclmailbox, deleteaclmailbox (with cyradm rights aliases)', async () => {
  const { outputs, err } = await cyradm([
    'cm user.fred.Shared',
    'sam user.fred.Shared bob lrs',
    'sam user.fred.Shared anyone read',
    'lam user.fred.Shared',
    'sam user.fred.Shared bob all',
    'lam user.fred.Shared',
    'dam user.fred.Shared bob',
    'lam user.fred.Shared',
    'sam user.fred.Shared bob lrQ',
    'lam user.fred*',
  ]);
  assert.deepEqual(acl(outputs[3]!), ['anyone lrs', 'bob lrs', 'fred lrswipkxtecdan']);
  // "all" is lrswipkxtea; the server shows the legacy c and d it implies
  assert.deepEqual(acl(outputs[5]!), ['anyone lrs', 'bob lrswipkxtecda', 'fred lrswipkxtecdan']);
  assert.deepEqual(acl(outputs[7]!), ['anyone lrs', 'fred lrswipkxtecdan']);
  assert.match(err, /setaclmailbox: bob: lrQ: Invalid rights/);
  // a pattern lists each mailbox's ACL under its name
  assert.match(outputs[9]!, /^user\.fred\.Shared:\n( {2}\S+ \S+\n)* {2}anyone lrs\n/m);
  // what cyradm did is what a client now sees
  const c = await RawClient.connect(srv.port);
  await c.login('bob', 'bobpw');
  assert.deepEqual((await c.cmd('MYRIGHTS user.fred.Shared')).lines, ['* MYRIGHTS user.fred.Shared lrs']);
  c.close();
});

test('setquota, listquota, listquotaroot as Cyrus prints them', async () => {
  const { outputs, err } = await cyradm([
    'cm user.fred.Quota',
    'sq user.fred 300',
    'lq user.fred',
    'lqr user.fred.Quota',
    'sq user.fred STORAGE 1000 MESSAGE 50',
  ]);
  assert.equal(err, '');
  assert.equal(outputs[2], ' STORAGE 0/300 (0%)\n');
  assert.equal(outputs[3], 'user.fred STORAGE 0/300 (0%)\n');
  // cyradm sends several resources as "(MESSAGE 50STORAGE 1000 )"; its listquota cannot parse a
  // QUOTA response with two resources (it waits forever), so a raw client checks the result
  const c = await RawClient.connect(srv.port);
  await c.login('fred', 'secret');
  assert.deepEqual((await c.cmd('GETQUOTAROOT INBOX')).lines, [
    '* QUOTAROOT INBOX INBOX',
    '* QUOTA INBOX (STORAGE 0 1000 MESSAGE 0 50)',
  ]);
  c.close();
});

test('a user who is not an administrator may not set quotas', async () => {
  const { err } = await cyradm(['sq user.fred 10'], 'fred', 'secret');
  assert.match(err, /^setquota: (\[NOPERM\] )?Permission denied$/m);
});

test("info shows a mailbox's annotations through GETMETADATA", async () => {
  const { outputs, err } = await cyradm(['mboxcfg user.fred comment "hello there"', 'info user.fred']);
  assert.equal(err, '');
  assert.match(outputs[1]!, /^\{user\.fred\}:\n/);
  assert.match(outputs[1]!, /^ {4}comment: hello there$/m);
  assert.match(outputs[1]!, /^ {4}partition: default$/m);
});

test('createmailbox with a partition', async () => {
  const { outputs, err } = await cyradm(['cm user.fred.Part default', 'lm user.fred.Part']);
  assert.equal(err, '');
  assert.deepEqual(mailboxes(outputs[1]!), ['user.fred.Part']);
});
