import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMailboxName, encodeMailboxName } from './utf7.js';

test('RFC 3501 5.1.3 example and common names', () => {
  // the RFC's example: "~peter/mail/台北/日本語"
  assert.equal(
    encodeMailboxName('~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e'),
    '~peter/mail/&U,BTFw-/&ZeVnLIqe-',
  );
  assert.equal(decodeMailboxName('~peter/mail/&U,BTFw-/&ZeVnLIqe-'), '~peter/mail/台北/日本語');
  assert.equal(encodeMailboxName('&'), '&-');
  assert.equal(decodeMailboxName('Tom &- Jerry'), 'Tom & Jerry');
  assert.equal(encodeMailboxName('Entwürfe'), 'Entw&APw-rfe');
  assert.equal(decodeMailboxName('Entw&APw-rfe'), 'Entwürfe');
  assert.equal(encodeMailboxName('INBOX'), 'INBOX');
  // astral plane: a surrogate pair
  assert.equal(decodeMailboxName(encodeMailboxName('mail 😀 box')), 'mail 😀 box');
  assert.equal(encodeMailboxName('😀'), '&2D3eAA-');
});

test('round trips', () => {
  const names = [
    '',
    'a',
    'Привет мир',
    'ä',
    'ää',
    'x&y',
    '&&',
    'Sent Items',
    '日本語/テスト',
    '\u00e9\u0301',
    'tab\there',
  ];
  for (const n of names) assert.equal(decodeMailboxName(encodeMailboxName(n)), n, n);
  for (let c = 0x80; c < 0x3000; c += 37) {
    const s = `a${String.fromCharCode(c)}b${String.fromCharCode(c, c + 1)}`;
    assert.equal(decodeMailboxName(encodeMailboxName(s)), s);
  }
});

test('invalid modified UTF-7 is rejected', () => {
  const bad = [
    '&', // unterminated
    '&U,BTFw', // unterminated
    '&Jjo!-', // bad base64 char
    '&AGE-', // encodes printable ASCII 'a'
    '&ZeVnLIqe-&ZeVnLIqe-', // adjacent encoded runs
    '&2D0-', // lone high surrogate
    '&U,BTF-', // leftover bits not zero / incomplete
    'caf\u00e9', // raw 8-bit
    '&ZeVnLIq/-', // '/' is not the modified alphabet
  ];
  for (const b of bad) assert.throws(() => decodeMailboxName(b), Error, b);
});
