import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PopStuffer } from './stuffer.js';

function run(msg: string, top: number | undefined, step: number): string {
  const s = new PopStuffer(top);
  const buf = Buffer.from(msg);
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length && !s.finished; i += step) out.push(...s.push(buf.subarray(i, i + step)));
  out.push(s.end());
  return Buffer.concat(out).toString();
}

const MSG = 'Subject: x\r\n.From: y\r\n\r\n.one\r\ntwo\r\n..three\r\nfour';

test('RETR byte-stuffs and terminates, at every chunk size', () => {
  for (let step = 1; step <= MSG.length; step++) {
    assert.equal(
      run(MSG, undefined, step),
      'Subject: x\r\n..From: y\r\n\r\n..one\r\ntwo\r\n...three\r\nfour\r\n.\r\n',
      `step ${step}`,
    );
  }
  assert.equal(run('A: b\r\n\r\nx\r\n', undefined, 3), 'A: b\r\n\r\nx\r\n.\r\n');
  assert.equal(run('', undefined, 1), '.\r\n');
});

test('TOP sends the header and n body lines', () => {
  for (let step = 1; step <= 9; step++) {
    assert.equal(run(MSG, 0, step), 'Subject: x\r\n..From: y\r\n\r\n.\r\n', `top 0 step ${step}`);
    assert.equal(
      run(MSG, 2, step),
      'Subject: x\r\n..From: y\r\n\r\n..one\r\ntwo\r\n.\r\n',
      `top 2 step ${step}`,
    );
    assert.equal(
      run(MSG, 99, step),
      'Subject: x\r\n..From: y\r\n\r\n..one\r\ntwo\r\n...three\r\nfour\r\n.\r\n',
    );
  }
});
