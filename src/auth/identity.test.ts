import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonUser, isAdmin, mayAuthorize, splitUser } from './identity.js';
import { testConf } from './test-conf.js';

test('virtdomains off: lower-cases, strips only loginrealms realms', () => {
  const conf = testConf({ loginrealms: 'Example.ORG' });
  assert.equal(canonUser(conf, 'Fred'), 'fred');
  assert.equal(canonUser(conf, 'fred@example.org'), 'fred');
  assert.equal(canonUser(conf, 'fred@EXAMPLE.org'), 'fred');
  assert.equal(canonUser(conf, 'fred@other.org'), null);
  assert.equal(canonUser(conf, '@example.org'), null);
});

test('username_tolower off keeps case', () => {
  assert.equal(canonUser(testConf({ username_tolower: 'no' }), 'Fred'), 'Fred');
});

test('virtdomains userid: default domain dropped, % is a separator, domain lower-cased', () => {
  const conf = testConf({ virtdomains: 'userid', defaultdomain: 'example.com', username_tolower: 'no' });
  assert.equal(canonUser(conf, 'fred@example.com'), 'fred');
  assert.equal(canonUser(conf, 'fred@EXAMPLE.com'), 'fred');
  assert.equal(canonUser(conf, 'Fred%Other.NET'), 'Fred@other.net');
  assert.equal(canonUser(conf, 'fred'), 'fred');
  assert.equal(canonUser(conf, 'a@b@c.com'), null);
  assert.equal(canonUser(conf, 'fred@bad_domain!'), null);
});

test('bad userids are refused', () => {
  const conf = testConf();
  assert.equal(canonUser(conf, ''), null);
  assert.equal(canonUser(conf, 'a b'), null);
  assert.equal(canonUser(conf, 'a\r\nb'), null);
  assert.equal(canonUser(conf, 'x'.repeat(256)), null);
  assert.equal(canonUser(conf, 'x'.repeat(255)), 'x'.repeat(255));
});

test('admins, service-specific admins and authorisation', () => {
  const conf = testConf({ admins: 'Cyrus root', lmtp_admins: 'postman', proxyservers: 'proxy' });
  assert.equal(isAdmin(conf, 'cyrus'), true);
  assert.equal(isAdmin(conf, 'fred'), false);
  assert.equal(isAdmin(conf, 'postman'), false);
  assert.equal(isAdmin(conf.forService('lmtp'), 'postman'), true);
  assert.equal(isAdmin(conf.forService('lmtp'), 'cyrus'), false);
  assert.equal(mayAuthorize(conf, 'fred', ''), true);
  assert.equal(mayAuthorize(conf, 'fred', 'fred'), true);
  assert.equal(mayAuthorize(conf, 'fred', 'joe'), false);
  assert.equal(mayAuthorize(conf, 'cyrus', 'joe'), true);
  assert.equal(mayAuthorize(conf, 'proxy', 'joe'), true);
  assert.deepEqual(splitUser('a@b.c'), { local: 'a', domain: 'b.c' });
});

test('saslprep maps spaces, drops soft hyphens, refuses controls', async () => {
  const { saslprep } = await import('./secrets.js');
  assert.equal(saslprep('I\u00ADX'), 'IX');
  assert.equal(saslprep('user'), 'user');
  assert.equal(saslprep('USER'), 'USER');
  assert.equal(saslprep('\u00AA'), 'a');
  assert.equal(saslprep('\u2168'), 'IX');
  assert.equal(saslprep('a\u00A0b'), 'a b');
  assert.throws(() => saslprep('\u0007'));
});
