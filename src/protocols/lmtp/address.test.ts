import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePath, parseRecipient } from './address.js';

const opts = { downcase: true, virtdomains: false, postuser: '' };

test('MAIL FROM with parameters', () => {
  assert.deepEqual(parsePath('FROM:<a@b.c> SIZE=100 BODY=8BITMIME', 'FROM'), {
    ok: true,
    address: 'a@b.c',
    params: { SIZE: '100', BODY: '8BITMIME' },
  });
  assert.deepEqual(parsePath('from: <>', 'FROM'), { ok: true, address: '', params: {} });
});

test('RCPT TO syntax errors and bare keywords', () => {
  assert.equal(parsePath('TO:<bad user>', 'TO').ok, false);
  assert.equal(parsePath('TO:bad', 'TO').ok, false);
  assert.equal(parsePath('TO:<a', 'TO').ok, false);
  assert.deepEqual(parsePath('TO:<u> IGNOREQUOTA', 'TO'), {
    ok: true,
    address: 'u',
    params: { IGNOREQUOTA: null },
  });
  assert.deepEqual(parsePath('TO:<"a b"@x>', 'TO'), { ok: true, address: '"a b"@x', params: {} });
  assert.deepEqual(parsePath('TO:<@relay:u@x>', 'TO'), { ok: true, address: 'u@x', params: {} });
  assert.deepEqual(parsePath('TO:<u> =bad', 'TO'), { ok: false, reason: 'params' });
});

test('recipient forms as Cyrus reads them', () => {
  assert.deepEqual(parseRecipient('USER11', opts), {
    ok: true,
    rcpt: { kind: 'user', user: 'user11', detail: null, domain: null },
  });
  assert.deepEqual(parseRecipient('Fred+Work.Sub@example.org', opts), {
    ok: true,
    rcpt: { kind: 'user', user: 'fred', detail: 'Work.Sub', domain: null },
  });
  assert.deepEqual(parseRecipient('fred@example.org', { ...opts, virtdomains: true }), {
    ok: true,
    rcpt: { kind: 'user', user: 'fred', detail: null, domain: 'example.org' },
  });
  assert.deepEqual(parseRecipient('user1@', opts), {
    ok: true,
    rcpt: { kind: 'user', user: 'user1', detail: null, domain: null },
  });
  assert.deepEqual(parseRecipient('user14+', opts), {
    ok: true,
    rcpt: { kind: 'user', user: 'user14', detail: '', domain: null },
  });
  assert.deepEqual(parseRecipient('+shared.folder', opts), {
    ok: true,
    rcpt: { kind: 'shared', folder: 'shared.folder' },
  });
  assert.deepEqual(parseRecipient('bb+shared.folder', { ...opts, postuser: 'bb' }), {
    ok: true,
    rcpt: { kind: 'shared', folder: 'shared.folder' },
  });
  assert.deepEqual(parseRecipient('MiXed', { ...opts, downcase: false }), {
    ok: true,
    rcpt: { kind: 'user', user: 'MiXed', detail: null, domain: null },
  });
  assert.deepEqual(parseRecipient('', opts), { ok: false, reason: 'empty' });
  assert.deepEqual(parseRecipient('"user 15"', opts), { ok: false, reason: 'badName' });
});
