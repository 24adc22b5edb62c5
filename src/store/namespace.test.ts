import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Namespace } from './namespace.js';
import { MailError } from './api.js';
import { tempSite } from './test-helpers.js';
import { checkInternalName, ownerOf } from './names.js';

function ns(extra: Record<string, string | boolean>): Namespace {
  const site = tempSite(extra);
  try {
    return new Namespace(site.conf);
  } finally {
    site.cleanup();
  }
}

const isBadName = (e: unknown): boolean => e instanceof MailError && e.kind === 'badName';

test('standard namespace, "." separator (altnamespace no, unixhierarchysep no)', () => {
  const n = ns({ altnamespace: false, unixhierarchysep: false });
  assert.equal(n.separator, '.');
  assert.deepEqual([n.personal, n.otherUsers, n.shared], ['INBOX.', 'user.', '']);
  assert.equal(n.toInternal('INBOX', 'fred'), 'user.fred');
  assert.equal(n.toInternal('inbox', 'fred'), 'user.fred');
  assert.equal(n.toInternal('Inbox.Sent', 'fred'), 'user.fred.Sent');
  assert.equal(n.toInternal('user.bob.Drafts', 'fred'), 'user.bob.Drafts');
  assert.equal(n.toInternal('shared.news', 'fred'), 'shared.news');
  assert.equal(n.toExternal('user.fred', 'fred'), 'INBOX');
  assert.equal(n.toExternal('user.fred.Sent', 'fred'), 'INBOX.Sent');
  assert.equal(n.toExternal('user.bob.Drafts', 'fred'), 'user.bob.Drafts');
  assert.equal(n.toExternal('shared.news', 'fred'), 'shared.news');
});

test('standard namespace, "/" separator: dots in names are stored as ^', () => {
  const n = ns({ altnamespace: false, unixhierarchysep: true });
  assert.deepEqual([n.personal, n.otherUsers, n.shared], ['INBOX/', 'user/', '']);
  assert.equal(n.toInternal('INBOX/a.b', 'fred'), 'user.fred.a^b');
  assert.equal(n.toExternal('user.fred.a^b', 'fred'), 'INBOX/a.b');
  assert.equal(n.toInternal('user/john.doe/Sent', 'fred'), 'user.john^doe.Sent');
  assert.equal(n.toExternal('user.john^doe.Sent', 'fred'), 'user/john.doe/Sent');
  assert.equal(n.inbox('john.doe'), 'user.john^doe');
  assert.equal(n.toInternal('INBOX', 'john.doe'), 'user.john^doe');
  assert.equal(n.toExternal('user.john^doe', 'john.doe'), 'INBOX');
});

test('alternate namespace, "." separator', () => {
  const n = ns({ altnamespace: true, unixhierarchysep: false });
  assert.deepEqual([n.personal, n.otherUsers, n.shared], ['', 'Other Users.', 'Shared Folders.']);
  assert.equal(n.toInternal('Sent', 'fred'), 'user.fred.Sent');
  assert.equal(n.toInternal('INBOX', 'fred'), 'user.fred');
  assert.equal(n.toInternal('Other Users.bob.Sent', 'fred'), 'user.bob.Sent');
  assert.equal(n.toInternal('Shared Folders.news', 'fred'), 'news');
  assert.equal(n.toExternal('user.fred.Sent', 'fred'), 'Sent');
  assert.equal(n.toExternal('user.bob', 'fred'), 'Other Users.bob');
  assert.equal(n.toExternal('news', 'fred'), 'Shared Folders.news');
});

test('alternate namespace, "/" separator with custom prefixes', () => {
  const n = ns({ altnamespace: true, unixhierarchysep: true, userprefix: 'People', sharedprefix: 'Public' });
  assert.deepEqual([n.personal, n.otherUsers, n.shared], ['', 'People/', 'Public/']);
  assert.equal(n.toInternal('Work/2026.Q1', 'fred'), 'user.fred.Work.2026^Q1');
  assert.equal(n.toExternal('user.fred.Work.2026^Q1', 'fred'), 'Work/2026.Q1');
  assert.equal(n.toInternal('People/bob', 'fred'), 'user.bob');
  assert.equal(n.toInternal('Public/a/b', 'fred'), 'a.b');
  assert.equal(n.toExternal('a.b', 'fred'), 'Public/a/b');
  for (const bad of ['People', 'People/', 'Public'])
    assert.throws(() => n.toInternal(bad, 'fred'), isBadName, bad);
});

test('administrators never get the alternate namespace (as Cyrus: cyradm works with user/fred)', () => {
  const site = tempSite({ altnamespace: true, unixhierarchysep: true });
  try {
    const user = new Namespace(site.conf);
    const admin = new Namespace(site.conf, { admin: true });
    assert.equal(user.toExternal('user.fred', 'bob'), 'Other Users/fred');
    assert.equal(admin.toExternal('user.fred', 'admin'), 'user/fred');
    assert.equal(admin.toInternal('user/fred/Sent', 'admin'), 'user.fred.Sent');
    assert.deepEqual([admin.personal, admin.otherUsers, admin.shared], ['INBOX/', 'user/', '']);
  } finally {
    site.cleanup();
  }
});

test('virtual domains: users of a domain see their domain only', () => {
  const n = ns({
    altnamespace: false,
    unixhierarchysep: true,
    virtdomains: 'userid',
    defaultdomain: 'main.org',
  });
  assert.equal(n.inbox('fred@example.com'), 'example.com!user.fred');
  assert.equal(n.inbox('fred@main.org'), 'user.fred');
  assert.equal(n.inbox('fred'), 'user.fred');
  assert.equal(n.toInternal('INBOX/Sent', 'fred@example.com'), 'example.com!user.fred.Sent');
  assert.equal(n.toInternal('user/bob', 'fred@example.com'), 'example.com!user.bob');
  assert.equal(n.toInternal('shared', 'fred@example.com'), 'example.com!shared');
  assert.equal(n.toExternal('example.com!user.bob', 'fred@example.com'), 'user/bob');
  assert.equal(n.toExternal('other.net!user.bob', 'fred@example.com'), null);
  assert.equal(n.toExternal('user.bob', 'fred@example.com'), null);
  assert.equal(n.toExternal('example.com!user.fred', 'fred@example.com'), 'INBOX');
});

test('names that could escape the partition or break the protocol are refused', () => {
  const n = ns({ altnamespace: false, unixhierarchysep: true });
  const bad = [
    '',
    'INBOX/../x',
    'INBOX/./x',
    'a//b',
    'a/',
    '/a',
    'INBOX/a\u0000b',
    'x\r\ny',
    'x\u007f',
    'a/' + 'b'.repeat(500),
  ];
  for (const b of bad) assert.throws(() => n.toInternal(b, 'fred'), isBadName, JSON.stringify(b));
  for (const b of ['user..x', '.a', 'a.', 'a/b', 'x!y!z', 'a.\u0001'])
    assert.throws(() => checkInternalName(b), isBadName, b);
  assert.doesNotThrow(() => checkInternalName('user.fred.Sent'));
  assert.doesNotThrow(() => checkInternalName('example.com!user.fred'));
  assert.doesNotThrow(() => checkInternalName('a'.repeat(490)));
  assert.throws(() => checkInternalName('a'.repeat(491)), isBadName);
});

test('owner of internal names', () => {
  assert.equal(ownerOf('user.fred.Sent'), 'fred');
  assert.equal(ownerOf('user.john^doe'), 'john.doe');
  assert.equal(ownerOf('example.com!user.fred'), 'fred@example.com');
  assert.equal(ownerOf('DELETED.user.fred.Old.65AB'), 'fred');
  assert.equal(ownerOf('shared.x'), null);
  assert.equal(ownerOf('user'), null);
});
