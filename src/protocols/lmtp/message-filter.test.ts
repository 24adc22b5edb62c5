import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageFilter, type FilterOptions } from './message-filter.js';

const base: FilterOptions = { maxSize: 0, munge8bit: true, reject8bit: false };

function run(input: Buffer | string, opts: FilterOptions = base, step = 0) {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1');
  const f = new MessageFilter(opts);
  const out: Buffer[] = [];
  if (step <= 0) out.push(...f.push(buf));
  else for (let i = 0; i < buf.length; i += step) out.push(...f.push(buf.subarray(i, i + step)));
  const end = f.end();
  out.push(...end.out);
  return { text: Buffer.concat(out).toString('latin1'), ...end.verdict };
}

test('captures Message-ID, normalises bare LF, counts bytes, at any split', () => {
  const msg = 'From: a@b\nMessage-ID:\r\n <id-1@x>\nSubject: hi\n\nbody\nline\r\n';
  const want = 'From: a@b\r\nMessage-ID:\r\n <id-1@x>\r\nSubject: hi\r\n\r\nbody\r\nline\r\n';
  for (const step of [0, 1, 2, 3, 5, 7]) {
    const r = run(msg, base, step);
    assert.equal(r.text, want, `step ${step}`);
    assert.equal(r.messageId, '<id-1@x>');
    assert.equal(r.size, want.length);
    assert.equal(r.problem, null);
  }
});

test('invalid header, NUL, 8-bit header munged or rejected', () => {
  assert.equal(run('just text without header\r\n').problem, 'invalidHeader');
  assert.equal(run(' continuation first\r\n\r\n').problem, 'invalidHeader');
  assert.equal(run('A: b\r\n\r\nx\0y\r\n').problem, 'nul');
  const munged = run(
    Buffer.concat([
      Buffer.from('Subject: caf'),
      Buffer.from([0xc3, 0xa9]),
      Buffer.from('\r\n\r\nb\xe9\r\n', 'latin1'),
    ]),
  );
  assert.equal(munged.text, 'Subject: cafXX\r\n\r\nb\xe9\r\n');
  assert.equal(run('Subject: caf\xe9\r\n\r\n', { ...base, reject8bit: true }).problem, 'eightBitHeader');
});

test('size limit: exactly at the limit passes, one byte over fails', () => {
  const msg = 'A: b\r\n\r\n1234';
  assert.equal(run(msg, { ...base, maxSize: msg.length }).problem, null);
  const over = run(msg, { ...base, maxSize: msg.length - 1 }, 1);
  assert.equal(over.problem, 'tooBig');
  assert.ok(over.text.length <= msg.length - 1, 'nothing past the limit is written');
  assert.equal(over.size, msg.length, 'input is still counted to the end');
});
