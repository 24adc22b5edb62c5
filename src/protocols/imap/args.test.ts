import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSeqSet, normaliseFlag, parseDay, parseSeqSet, resolveSeqSet, seqOutOfRange } from './args.js';

test('sequence sets: grammar, *, $, ranges in either order', () => {
  assert.deepEqual(parseSeqSet('1:3,7,*'), {
    ranges: [
      { from: 1, to: 3 },
      { from: 7, to: 7 },
      { from: Infinity, to: Infinity },
    ],
    saved: false,
  });
  assert.deepEqual(parseSeqSet('5:2'), { ranges: [{ from: 2, to: 5 }], saved: false });
  assert.deepEqual(parseSeqSet('$'), { ranges: [], saved: true });
  for (const bad of ['', '0', '1:0', 'a', '1,,2', '1:', ':2', '1:2:3', '4294967296'])
    assert.equal(parseSeqSet(bad), null, bad);
});

test('resolving against a mailbox: message numbers and UIDs, * and empty mailboxes', () => {
  const uids = Uint32Array.from([3, 5, 9, 10]);
  assert.deepEqual(resolveSeqSet(parseSeqSet('2:*')!, uids, false), [5, 9, 10]);
  assert.deepEqual(resolveSeqSet(parseSeqSet('4:9')!, uids, true), [5, 9]);
  // RFC 3501: "*" is the largest UID, so 20:* means 10:20 here
  assert.deepEqual(resolveSeqSet(parseSeqSet('20:*')!, uids, true), [10]);
  assert.deepEqual(resolveSeqSet(parseSeqSet('1:*')!, new Uint32Array(0), false), []);
  assert.deepEqual(resolveSeqSet(parseSeqSet('*')!, new Uint32Array(0), true), []);
  assert.deepEqual(resolveSeqSet(parseSeqSet('$')!, uids, true, [5, 6, 10]), [5, 10]);
  assert.equal(seqOutOfRange(parseSeqSet('5')!, 4), true);
  assert.equal(seqOutOfRange(parseSeqSet('1:*')!, 4), false);
  assert.equal(formatSeqSet([1, 2, 3, 5, 7, 8]), '1:3,5,7:8');
});

test('flags and dates', () => {
  assert.equal(normaliseFlag('\\SEEN'), '\\Seen');
  assert.equal(normaliseFlag('\\Recent'), null);
  assert.equal(normaliseFlag('\\Recent', true), '\\Recent');
  assert.equal(normaliseFlag('$Junk'), '$Junk');
  assert.equal(normaliseFlag('bad]flag'), null);
  assert.equal(parseDay('1-Feb-2026'), '2026-02-01');
  assert.equal(parseDay('31-dec-1999'), '1999-12-31');
  assert.equal(parseDay('32-Jan-2026'), null);
  assert.equal(parseDay('1-Foo-2026'), null);
});
