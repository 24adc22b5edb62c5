import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatImapDate,
  formatImapDateTime,
  parseImapDate,
  parseImapDateTime,
  parseRfc5322Date,
} from './date.js';

test('RFC 5322 dates, obsolete and broken forms', () => {
  const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number =>
    Date.UTC(y, mo - 1, d, h, mi, s);
  const cases: [string, number | null][] = [
    ['Fri, 21 Nov 1997 09:55:06 -0600', utc(1997, 11, 21, 15, 55, 6)],
    ['21 Nov 1997 09:55:06 -0600', utc(1997, 11, 21, 15, 55, 6)],
    ['Thu, 13 Feb 1969 23:32:54 -0330', utc(1969, 2, 14, 3, 2, 54)],
    ['Mon, 7 Feb 1994 21:52:25 -0800 (PST)', utc(1994, 2, 8, 5, 52, 25)],
    ['Tue, 1 Jul 2003 10:52:37 +0200', utc(2003, 7, 1, 8, 52, 37)],
    ['1 Jul 03 10:52 GMT', utc(2003, 7, 1, 10, 52)],
    ['1 Jul 99 10:52 EDT', utc(1999, 7, 1, 14, 52)],
    ['Tue,  1 Jul 2003 10:52:37 PST', utc(2003, 7, 1, 18, 52, 37)],
    ['Tue, 01 Jul 2003 10:52:37', utc(2003, 7, 1, 10, 52, 37)],
    ['Tue Jul  1 10:52:37 2003', utc(2003, 7, 1, 10, 52, 37)],
    ['Tuesday, 1 July 2003 10:52:37 +0000', utc(2003, 7, 1, 10, 52, 37)],
    ['1 Jul 2003 10:52:37 GMT+0200', utc(2003, 7, 1, 8, 52, 37)],
    ['1-Jul-2003 10:52:37 +0100', utc(2003, 7, 1, 9, 52, 37)],
    ['2003-07-01T10:52:37Z', utc(2003, 7, 1, 10, 52, 37)],
    ['2003-07-01T10:52:37+02:00', utc(2003, 7, 1, 8, 52, 37)],
    ['Tue, 1 Jul 2003 10:52:37 +0200 (CEST) junk', utc(2003, 7, 1, 8, 52, 37)],
    ['31 Feb 2003 10:00:00 +0000', null],
    ['not a date', null],
    ['', null],
  ];
  for (const [s, want] of cases) assert.equal(parseRfc5322Date(s), want, s);
  assert.equal(parseRfc5322Date(null), null);
});

test('IMAP date-time format and parse', () => {
  const t = Date.UTC(2024, 0, 5, 3, 4, 5);
  assert.equal(formatImapDateTime(t), ' 5-Jan-2024 03:04:05 +0000');
  assert.equal(formatImapDateTime(t, 120), ' 5-Jan-2024 05:04:05 +0200');
  assert.equal(formatImapDateTime(t, -330), ' 4-Jan-2024 21:34:05 -0530');
  assert.equal(formatImapDateTime(Date.UTC(1999, 11, 31, 23, 59, 59)), '31-Dec-1999 23:59:59 +0000');
  assert.equal(parseImapDateTime(' 5-Jan-2024 05:04:05 +0200'), t);
  assert.equal(parseImapDateTime('05-Jan-2024 05:04:05 +0200'), t);
  assert.equal(parseImapDateTime('"17-Jul-1996 02:44:25 -0700"'), Date.UTC(1996, 6, 17, 9, 44, 25));
  for (const bad of [
    '5-Jan-2024 05:04:05',
    '32-Jan-2024 00:00:00 +0000',
    '1-Foo-2024 00:00:00 +0000',
    '1-Jan-2024 24:00:00 +0000',
    '',
  ]) {
    assert.equal(parseImapDateTime(bad), null, bad);
  }
  for (const z of [0, 60, -480, 345]) {
    const s = formatImapDateTime(t, z);
    assert.equal(parseImapDateTime(s), t, s);
  }
});

test('IMAP search dates', () => {
  assert.equal(parseImapDate('1-Feb-1994'), Date.UTC(1994, 1, 1));
  assert.equal(parseImapDate('01-feb-1994'), Date.UTC(1994, 1, 1));
  assert.equal(parseImapDate('"29-Feb-2024"'), Date.UTC(2024, 1, 29));
  assert.equal(parseImapDate('29-Feb-2023'), null);
  assert.equal(parseImapDate('1-Feb-94'), null);
  assert.equal(formatImapDate(Date.UTC(1994, 1, 1, 13)), '1-Feb-1994');
});
