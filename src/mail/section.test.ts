import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from './parse.js';
import { findPart, sectionRange, type SectionSpec } from './section.js';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

// The RFC 3501 6.4.5 example structure, shortened
const msg = crlf([
  'Subject: top',
  'Content-Type: MULTIPART/MIXED; boundary=o',
  '',
  '--o',
  'Content-Type: TEXT/PLAIN',
  '',
  'part one',
  '--o',
  'Content-Type: APPLICATION/OCTET-STREAM',
  '',
  'part two',
  '--o',
  'Content-Type: MESSAGE/RFC822',
  '',
  'Subject: inner',
  'Content-Type: MULTIPART/MIXED; boundary=i',
  '',
  '--i',
  'Content-Type: TEXT/PLAIN',
  '',
  'part three one',
  '--i',
  'Content-Type: IMAGE/GIF',
  '',
  'part three two',
  '--i--',
  '--o',
  'Content-Type: MULTIPART/MIXED; boundary=m',
  '',
  '--m',
  'Content-Type: IMAGE/JPEG',
  '',
  'part four one',
  '--m',
  'Content-Type: MESSAGE/RFC822',
  '',
  'Subject: deep',
  '',
  'part four two body',
  '--m--',
  '--o--',
]);

test('section numbers resolve to the right bytes (RFC 3501 6.4.5 shape)', async () => {
  const r = await parseMessage(msg);
  const get = (path: number[], spec: SectionSpec = ''): string | null => {
    const range = sectionRange(r.body, r.size, path, spec);
    return range ? msg.subarray(range.start, range.end).toString() : null;
  };
  assert.equal(get([]), msg.toString());
  assert.ok(get([], 'HEADER')!.startsWith('Subject: top\r\n') && get([], 'HEADER')!.endsWith('\r\n\r\n'));
  assert.ok(get([], 'TEXT')!.startsWith('--o\r\n'));
  assert.equal(get([1]), 'part one');
  assert.equal(get([1], 'MIME'), 'Content-Type: TEXT/PLAIN\r\n\r\n');
  assert.equal(get([2]), 'part two');
  assert.equal(get([3], 'HEADER'), 'Subject: inner\r\nContent-Type: MULTIPART/MIXED; boundary=i\r\n\r\n');
  assert.ok(get([3], 'TEXT')!.startsWith('--i\r\n') && get([3], 'TEXT')!.endsWith('--i--'));
  assert.ok(get([3])!.startsWith('Subject: inner'));
  assert.equal(get([3, 1]), 'part three one');
  assert.equal(get([3, 2]), 'part three two');
  assert.equal(get([3, 2], 'MIME'), 'Content-Type: IMAGE/GIF\r\n\r\n');
  assert.equal(get([4, 1]), 'part four one');
  assert.equal(get([4, 2], 'HEADER'), 'Subject: deep\r\n\r\n');
  assert.equal(get([4, 2], 'TEXT'), 'part four two body');
  // a non-multipart encapsulated message: 4.2.1 is its body
  assert.equal(get([4, 2, 1]), 'part four two body');
  // errors
  assert.equal(get([5]), null);
  assert.equal(get([1, 1]), null);
  assert.equal(get([1], 'HEADER'), null);
  assert.equal(get([1], 'TEXT'), null);
  assert.equal(get([], 'MIME'), null);
  assert.equal(get([0]), null);
  assert.equal(findPart(r.body, [3])?.type, 'message');
});

test('a single-part message: part 1 is the body', async () => {
  const m = crlf(['Subject: s', '', 'only body']);
  const r = await parseMessage(m);
  const range = sectionRange(r.body, r.size, [1], '')!;
  assert.equal(m.subarray(range.start, range.end).toString(), 'only body');
  assert.equal(sectionRange(r.body, r.size, [2], ''), null);
});
