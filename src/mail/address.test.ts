import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EnvelopeAddress } from './api.js';
import { parseAddressList } from './address.js';

const a = (
  name: string | null,
  mailbox: string | null,
  host: string | null,
  adl: string | null = null,
): EnvelopeAddress => ({
  name,
  adl,
  mailbox,
  host,
});
const END = a(null, null, null);

test('RFC 5322 appendix A address forms', () => {
  assert.deepEqual(parseAddressList('John Doe <jdoe@machine.example>'), [
    a('John Doe', 'jdoe', 'machine.example'),
  ]);
  assert.deepEqual(parseAddressList('"Joe Q. Public" <john.q.public@example.com>'), [
    a('Joe Q. Public', 'john.q.public', 'example.com'),
  ]);
  assert.deepEqual(parseAddressList('Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>'), [
    a('Mary Smith', 'mary', 'x.test'),
    a(null, 'jdoe', 'example.org'),
    a('Who?', 'one', 'y.test'),
  ]);
  assert.deepEqual(parseAddressList('<boss@nil.test>, "Giant; \\"Big\\" Box" <sysservices@example.net>'), [
    a(null, 'boss', 'nil.test'),
    a('Giant; "Big" Box', 'sysservices', 'example.net'),
  ]);
  assert.deepEqual(parseAddressList('A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;'), [
    a(null, 'A Group', null),
    a('Ed Jones', 'c', 'a.test'),
    a(null, 'joe', 'where.test'),
    a('John', 'jdoe', 'one.test'),
    END,
  ]);
  assert.deepEqual(parseAddressList('Undisclosed recipients:;'), [
    a(null, 'Undisclosed recipients', null),
    END,
  ]);
  // obsolete forms (RFC 5322 A.6): comments, folding, routes, dots with blanks
  assert.deepEqual(parseAddressList('Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>'), [
    a('Pete', 'pete', 'silly.test'),
  ]);
  assert.deepEqual(parseAddressList('Joe Q. Public <john . q . public @ example . com>'), [
    a('Joe Q. Public', 'john.q.public', 'example.com'),
  ]);
  assert.deepEqual(parseAddressList('<@node.test,@other.test:user@host.test>'), [
    a(null, 'user', 'host.test', '@node.test,@other.test'),
  ]);
});

test('comments as names, quoted local parts, encoded names kept raw', () => {
  assert.deepEqual(parseAddressList('jdoe@example.org (John Doe)'), [a('John Doe', 'jdoe', 'example.org')]);
  assert.deepEqual(parseAddressList('"odd local"@example.org'), [a(null, '"odd local"', 'example.org')]);
  assert.deepEqual(parseAddressList('=?utf-8?q?J=C3=B6rg?= <j@x.test>'), [
    a('=?utf-8?q?J=C3=B6rg?=', 'j', 'x.test'),
  ]);
  assert.deepEqual(parseAddressList('<user@[192.0.2.1]>'), [a(null, 'user', '[192.0.2.1]')]);
});

test('broken input as IMAP servers do', () => {
  assert.equal(parseAddressList(''), null);
  assert.equal(parseAddressList('   '), null);
  assert.equal(parseAddressList(null), null);
  assert.deepEqual(parseAddressList('just-a-name'), [a(null, 'just-a-name', 'unspecified-domain')]);
  assert.deepEqual(parseAddressList('<>'), [a(null, '', '')]);
  assert.deepEqual(parseAddressList('Name <user@>'), [a('Name', 'user', 'unspecified-domain')]);
  assert.deepEqual(parseAddressList('Unterminated <a@b.test'), [a('Unterminated', 'a', 'b.test')]);
  assert.deepEqual(parseAddressList('Group: a@b.test'), [
    a(null, 'Group', null),
    a(null, 'a', 'b.test'),
    END,
  ]);
  assert.deepEqual(parseAddressList(',,a@b.test,,'), [a(null, 'a', 'b.test')]);
  assert.deepEqual(parseAddressList('"unterminated <a@b.test>'), [
    a(null, '"unterminated <a@b.test>"', 'unspecified-domain'),
  ]);
  assert.deepEqual(parseAddressList('john@doe.test <john@doe.test>'), [
    a('john@doe.test', 'john', 'doe.test'),
  ]);
  // never throws on junk
  for (const junk of ['<<>>', '@@', ':;:;', '"', '(', '\\', 'a@b@c', '<a@b> <c@d>', ')(', ';']) {
    assert.doesNotThrow(() => parseAddressList(junk), junk);
  }
});
