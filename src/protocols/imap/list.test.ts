import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestImapd, type TestImapd } from './test-helpers.js';

let srv: TestImapd;
let c: RawClient;
before(async () => {
  srv = await startTestImapd({ fred: 'secret' });
  c = await RawClient.connect(srv.port);
  await c.login();
  for (const m of [
    'Sent (USE (\\Sent))',
    'Trash (USE (\\Trash))',
    'Lists',
    'Lists/ietf',
    'Lists/ietf/imap',
    'Lists/other',
    '"Caf&AOk-"',
  ]) {
    assert.equal((await c.cmd(`CREATE ${m}`)).tagged, 'OK Completed', m);
  }
  await c.cmd('SUBSCRIBE INBOX');
  await c.cmd('SUBSCRIBE Lists/ietf/imap');
  await c.cmd('SUBSCRIBE Sent');
});
after(async () => {
  c.close();
  await srv.stop();
});

test('special-use attributes in LIST; CREATE USE with an unknown attribute', async () => {
  const l = await c.cmd('LIST "" "*"');
  assert.ok(l.lines.includes('* LIST (\\HasNoChildren \\Sent) "/" Sent'), l.lines.join('\n'));
  assert.ok(l.lines.includes('* LIST (\\HasNoChildren \\Trash) "/" Trash'));
  const su = await c.cmd('LIST (SPECIAL-USE) "" "*"');
  assert.deepEqual(su.lines.sort(), [
    '* LIST (\\HasNoChildren \\Sent) "/" Sent',
    '* LIST (\\HasNoChildren \\Trash) "/" Trash',
  ]);
  assert.equal(
    (await c.cmd('CREATE Junk2 (USE (\\Bogus))')).tagged,
    'NO [USEATTR] Unsupported special-use attribute',
  );
});

test('% and * wildcards, reference names, several patterns', async () => {
  const pct = await c.cmd('LIST "Lists/" "%"');
  assert.deepEqual(pct.lines, [
    '* LIST (\\HasChildren) "/" Lists/ietf',
    '* LIST (\\HasNoChildren) "/" Lists/other',
  ]);
  const star = await c.cmd('LIST "" "Lists/*"');
  assert.deepEqual(star.lines, [
    '* LIST (\\HasChildren) "/" Lists/ietf',
    '* LIST (\\HasNoChildren) "/" Lists/ietf/imap',
    '* LIST (\\HasNoChildren) "/" Lists/other',
  ]);
  const multi = await c.cmd('LIST "" ("Sent" "Trash")');
  assert.equal(multi.lines.length, 2);
  assert.match((await c.cmd('LIST "" "inbox"')).lines[0]!, /"\/" INBOX$/);
});

test('LSUB and LIST (SUBSCRIBED), RECURSIVEMATCH with CHILDINFO, RETURN (SUBSCRIBED)', async () => {
  const ls = await c.cmd('LSUB "" "*"');
  assert.deepEqual(ls.lines.sort(), [
    '* LSUB () "/" INBOX',
    '* LSUB () "/" Lists/ietf/imap',
    '* LSUB () "/" Sent',
  ]);
  const lsp = await c.cmd('LSUB "" "%"');
  assert.ok(lsp.lines.includes('* LSUB (\\Noselect) "/" Lists'), lsp.lines.join('\n'));
  const sub = await c.cmd('LIST (SUBSCRIBED) "" "*"');
  assert.ok(
    sub.lines.includes('* LIST (\\HasNoChildren \\Subscribed) "/" Lists/ietf/imap'),
    sub.lines.join('\n'),
  );
  assert.ok(!sub.lines.some((l) => l.endsWith(' Trash')));
  const rec = await c.cmd('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"');
  assert.ok(
    rec.lines.includes('* LIST (\\HasChildren) "/" Lists ("CHILDINFO" ("SUBSCRIBED"))'),
    rec.lines.join('\n'),
  );
  const rs = await c.cmd('LIST "" "%" RETURN (SUBSCRIBED)');
  assert.ok(rs.lines.includes('* LIST (\\HasNoChildren \\Subscribed \\Sent) "/" Sent'), rs.lines.join('\n'));
  assert.ok(rs.lines.includes('* LIST (\\HasNoChildren \\Trash) "/" Trash'));
  assert.equal((await c.cmd('LIST (RECURSIVEMATCH) "" "*"')).tagged.slice(0, 3), 'BAD');
});

test('LIST-STATUS: RETURN (STATUS (...)) follows each selectable mailbox', async () => {
  const r = await c.cmd('LIST "" "Lists/ietf*" RETURN (STATUS (MESSAGES UIDNEXT))');
  assert.deepEqual(r.lines, [
    '* LIST (\\HasChildren) "/" Lists/ietf',
    '* STATUS Lists/ietf (MESSAGES 0 UIDNEXT 1)',
    '* LIST (\\HasNoChildren) "/" Lists/ietf/imap',
    '* STATUS Lists/ietf/imap (MESSAGES 0 UIDNEXT 1)',
  ]);
});

test('modified UTF-7 mailbox names on the wire', async () => {
  const l = await c.cmd('LIST "" "Caf*"');
  assert.deepEqual(l.lines, ['* LIST (\\HasNoChildren) "/" Caf&AOk-']);
  assert.equal((await c.cmd('SELECT Caf&AOk-')).tagged, 'OK [READ-WRITE] Completed');
  assert.match((await c.cmd('STATUS Caf&AOk- (MESSAGES)')).lines[0]!, /^\* STATUS Caf&AOk- \(MESSAGES 0\)$/);
  assert.equal((await c.cmd('UNSELECT')).tagged, 'OK Completed');
});

test('SEARCHRES: RETURN (SAVE) then $ in FETCH, STORE and UID SEARCH', async () => {
  await c.cmd('CREATE Res');
  for (const s of ['one', 'two', 'three']) {
    const m = `Subject: ${s}\r\n\r\nx\r\n`;
    c.write(`a APPEND Res {${m.length}+}\r\n${m}\r\n`);
    await c.until('a');
  }
  await c.cmd('SELECT Res');
  assert.deepEqual((await c.cmd('SEARCH RETURN (SAVE) SUBJECT t')).lines, []);
  assert.deepEqual((await c.cmd('FETCH $ (UID)')).lines, ['* 2 FETCH (UID 2)', '* 3 FETCH (UID 3)']);
  assert.deepEqual((await c.cmd('UID SEARCH UID $ NOT SUBJECT three')).lines, ['* SEARCH 2']);
  const min = await c.cmd('SEARCH RETURN (SAVE MIN) ALL');
  assert.equal(min.lines.length, 1);
  assert.match(min.lines[0]!, /^\* ESEARCH \(TAG "t\d+"\) MIN 1$/);
  assert.deepEqual((await c.cmd('FETCH $ (UID)')).lines, ['* 1 FETCH (UID 1)']);
  await c.cmd('CLOSE');
});

test('LIST-MYRIGHTS: RETURN (MYRIGHTS) follows each mailbox with the rights of the user', async () => {
  const r = await c.cmd('LIST "" "Sent" RETURN (MYRIGHTS)');
  assert.equal(r.lines[0], '* LIST (\\HasNoChildren \\Sent) "/" Sent');
  assert.match(r.lines[1]!, /^\* MYRIGHTS Sent [a-z0-9]*l[a-z0-9]*r[a-z0-9]*$/);
});
